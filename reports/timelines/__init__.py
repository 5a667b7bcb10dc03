"""Account timelines for the gate meeting (issue 12)."""
