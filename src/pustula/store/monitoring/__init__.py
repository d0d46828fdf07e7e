"""Monitoring: edit checks, queries, captions, and the checks every save runs (locks)."""
