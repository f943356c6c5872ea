"""jpki context."""
