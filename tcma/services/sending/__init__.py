"""Use cases: sending mail (and, next, campaign emails on partners' behalf)."""
