"""The gates in the console: the gates list and ramp pages, review and decision pages, cycles."""

from gates.admin import cycles, plans, reviews  # noqa: F401  (registers the pages)
