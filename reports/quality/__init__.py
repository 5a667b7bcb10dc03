"""The data-quality panel (issue 12): checks counted per day over a range, each with its rows."""
