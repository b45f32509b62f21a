"""Persistence: transcripts, assessments and the log of model calls (SQLite by default, any SQLAlchemy URL)."""
