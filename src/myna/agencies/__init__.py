"""Agencies' intermediate servers (中間サーバー): replica stores and item schemas."""
