"""The one boundary where exceptions become a single line and an exit code.

Exit 1 means drift and nothing else; every error, whatever raised it, is one `pgparity:` line and exit 2.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import docker.errors
import psycopg
from invoke.exceptions import Exit

from pgparity import config
from pgparity.errors import PgParityError

ERROR_EXIT = 2
BROKEN_PIPE_EXIT = 128 + signal.SIGPIPE  # what a shell reports for a program ended by a closed pipe
REPORT_BUGS = "README.md, section 'Reporting a bug'"


def debugging() -> bool:
    """`--debug` (or INVOKE_DEBUG=1) shows tracebacks instead of one line."""
    return logging.getLogger().isEnabledFor(logging.DEBUG) or bool(os.environ.get("INVOKE_DEBUG"))


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def error_line(text: str) -> str:
    """What a person reads: `pgparity: <text>` on one line, every configured secret and URL password masked."""
    return "pgparity: " + config.mask(" ".join(text.split()), config.secrets())


def describe(error: Exception) -> str:
    """pgparity's own errors as they are; the engine's, the driver's and the OS's with their type; anything
    else is a bug in pgparity and says so."""
    if isinstance(error, PgParityError):
        return one_line(error)
    if isinstance(error, (docker.errors.DockerException, psycopg.Error, OSError)):
        return f"{type(error).__name__}: {one_line(error)}"
    return (f"this is a bug in pgparity ({type(error).__name__}: {one_line(error)}); "
            f"rerun with --debug and report it with that output ({REPORT_BUGS})")


def silence_stdout() -> None:
    """The reader of our output has gone (`pgparity --list | head`): drop what is left instead of failing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@contextmanager
def quiet_broken_pipe() -> Iterator[None]:
    """Exit quietly when stdout's reader closes the pipe; the status still says the output was cut."""
    try:
        try:
            yield
        finally:  # also on the way out of sys.exit, before the interpreter's own flush would complain
            sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        sys.exit(BROKEN_PIPE_EXIT)


def guarded(body: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task body; turn any exception into `pgparity: <line>` and exit 2 (tracebacks only with --debug)."""

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return body(*args, **kwargs)
        except Exit:
            raise
        except KeyboardInterrupt:
            raise Exit("pgparity: interrupted", code=130) from None
        except BrokenPipeError:
            silence_stdout()
            raise Exit(code=BROKEN_PIPE_EXIT) from None
        except Exception as error:
            if debugging():
                raise
            code = error.exit_code if isinstance(error, PgParityError) else ERROR_EXIT
            raise Exit(error_line(describe(error)), code=code) from None

    return run
