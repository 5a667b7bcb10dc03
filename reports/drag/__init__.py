"""Operational drag per day (issue 12, item 7)."""
