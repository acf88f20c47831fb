"""Inspect: a database's schema read from the system catalogs into a comparable Snapshot."""

from pgparity.catalog.introspect import inspect
from pgparity.catalog.model import Snapshot
from pgparity.catalog.serialize import dump_snapshot, load_snapshot

__all__ = ["Snapshot", "dump_snapshot", "inspect", "load_snapshot"]
