"""What the app works on, without Textual: the queues, clustering, surges, the report, search,
the session, settings and the words of both languages."""
