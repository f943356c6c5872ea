"""Tables of moves (転出届・転入予約・転出証明書情報)."""

from __future__ import annotations
