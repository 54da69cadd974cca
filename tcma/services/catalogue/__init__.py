"""Use cases: catalogue."""
