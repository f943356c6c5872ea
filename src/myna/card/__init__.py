"""card context."""
