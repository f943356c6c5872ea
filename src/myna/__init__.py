"""Myna: an open, runnable implementation of Japan's Mynaportal platform."""

__version__ = "0.1.0"
