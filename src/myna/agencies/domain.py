"""Item schemas and replica rules of the agencies (pure)."""
