"""The ranked constraint list (issue 12): reason codes by cost = accounts hit x handling
minutes x risk weight. ``rules`` holds the formula (once), ``selectors`` computes the rows."""
