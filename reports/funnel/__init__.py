"""The step-gap funnel over the post-acquisition journey (issue 12, item 5)."""
