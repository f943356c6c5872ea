"""Pure rules of notices (no I/O)."""
