"""Tests for tracked links, events, bots, flushing and stats."""
