"""Modules imported on first use, so that a command pays only for what its work touches.

Before any work, a command's time is mostly imports: docker (with requests) and psycopg take about 0.2 s each,
pglast, rich and the schema model less. `db.lint` needs none of them, and a warm `db.sync` no Docker. Where a
module is only sometimes needed, its importer holds a `later()` handle instead of importing it: the module is
imported at the first attribute read, and every read after that goes to the module itself (so a test that
patches the module is seen through the handle).

The heavy third-party packages have their handles here, once; the shell names its library modules the same way.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any


class Later(ModuleType):
    """A module's stand-in that imports it when one of its attributes is first read."""

    def __getattr__(self, name: str) -> Any:
        return getattr(importlib.import_module(self.__name__), name)


def later(name: str) -> Any:
    """The module `name`, imported when first used; already imported, the module itself."""
    return sys.modules.get(name) or Later(name)


def loaded(name: str) -> ModuleType | None:
    """The module if something imported it already; an error of a package never imported cannot be its error."""
    return sys.modules.get(name)


docker = later("docker")
psycopg = later("psycopg")
pglast = later("pglast")
