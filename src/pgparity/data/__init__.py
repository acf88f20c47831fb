"""Rows: sanitize rules, extraction from production, the dump archive and its restore."""
