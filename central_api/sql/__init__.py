"""The parts of `central_api.sql_store.SqlStore`, one concern each, over one shared `Database`."""
