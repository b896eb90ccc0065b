"""Helpers every layer may use: atomic writes, bounded reading of untrusted files."""
