"""The street's gazetteer on the client: what a caller says of where (`address_forms`), the index
that finds a place by type-ahead or from a whole address and says who covers it (`index`), and a
request's place for the dispatch dialog (`coverage`). Pure (no Textual, no IO)."""
