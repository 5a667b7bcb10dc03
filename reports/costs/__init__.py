"""The cost model (issue 12, item 4): inputs ops leads edit, and cost per channel."""
