"""Use cases: partners."""
