"""The typed client of the hotline central API, and the wire contract it shares with the server."""
