"""alerting stage (DESIGN §2)."""
