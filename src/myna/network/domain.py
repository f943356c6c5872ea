"""Pure rules of the hub: link codes, authorization, signed messages (no I/O)."""
