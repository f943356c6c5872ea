"""RFC 9162 Merkle tree hashing and proofs (pure)."""
