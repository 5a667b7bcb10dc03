"""Failure reasons per channel: the top reason codes, their time cost and the leader sentence."""
