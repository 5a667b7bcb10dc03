"""Helpers shared by the test modules: written once here, imported where needed."""
