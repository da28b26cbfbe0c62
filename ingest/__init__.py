"""ingest stage (DESIGN §2)."""
