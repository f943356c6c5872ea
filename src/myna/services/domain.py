"""Pure rules of services (no I/O)."""
