"""The project store: one database (SQLite or PostgreSQL) for calls, transcripts, scorecards, reviews and
the rest (`database`), its schema kept current by Alembic migrations (`schema`, `migrations/`), and the
claims that let many workers share one run (`workers`, `claimed_work`). Nothing is imported here, so that
`import qa_pipeline` stays light: import from the modules."""
