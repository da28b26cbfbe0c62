"""simulators stage (DESIGN §2)."""
