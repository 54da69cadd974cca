"""Use cases: syndication (connected social accounts; posting plans and the scheduler come next)."""
