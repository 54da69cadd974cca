"""Experiments: assignment of partners to variants, results from rollups, decisions and winner feedback."""
