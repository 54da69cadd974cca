"""Use cases: launch."""
