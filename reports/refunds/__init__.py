"""Refunds, disputes and billing confusion by channel (issue 12, item 8)."""
