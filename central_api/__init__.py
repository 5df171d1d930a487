"""The reference central API: FastAPI over SQLAlchemy Core (SQLite by default)."""
