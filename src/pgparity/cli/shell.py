"""The one boundary where exceptions become a single line and an exit code."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any

import docker.errors
import psycopg
from invoke.exceptions import Exit

from pgparity.errors import PgParityError

ERROR_EXIT = 2


def debugging() -> bool:
    """`invoke --debug` (or INVOKE_DEBUG=1) shows tracebacks instead of one line."""
    return logging.getLogger().isEnabledFor(logging.DEBUG) or bool(os.environ.get("INVOKE_DEBUG"))


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def guarded(body: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task body; turn pgparity, Docker and PostgreSQL errors into `pgparity: <line>` and exit 2."""

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except Exit:
            raise
        except PgParityError as error:
            if debugging():
                raise
            raise Exit(f"pgparity: {one_line(error)}", code=error.exit_code) from None
        except (docker.errors.DockerException, psycopg.Error) as error:
            if debugging():
                raise
            raise Exit(f"pgparity: {type(error).__name__}: {one_line(error)}", code=ERROR_EXIT) from None
        except KeyboardInterrupt:
            raise Exit("pgparity: interrupted", code=130) from None

    return run
