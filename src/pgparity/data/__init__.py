"""Rows: sanitize rules, extraction from production, the dump archive and its restore."""

import os

# Parts of the work done at once, dump and restore alike: at least two, and no more than the cores or four.
DEFAULT_JOBS = max(2, min(4, os.cpu_count() or 1))
