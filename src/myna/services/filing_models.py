"""Tables of the municipality filing API: API clients and their access tokens."""

from __future__ import annotations
