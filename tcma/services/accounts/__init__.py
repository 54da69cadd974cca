"""Use cases: accounts."""
