"""Use cases: tracking."""
