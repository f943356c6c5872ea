"""portal context."""
