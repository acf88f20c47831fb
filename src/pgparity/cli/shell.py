"""The one boundary where exceptions become a single line and an exit code.

Exit 1 means drift and nothing else; every error, whatever raised it, is one `pgparity:` line and exit 2.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from invoke.exceptions import Exit

from pgparity import config
from pgparity.errors import PgParityError
from pgparity.lazy import loaded

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
    if isinstance(error, (OSError, *outside_errors())):
        return f"{type(error).__name__}: {one_line(error)}"
    return (f"this is a bug in pgparity ({type(error).__name__}: {one_line(error)}); "
            f"rerun with --debug and report it with that output ({REPORT_BUGS})")


def outside_errors() -> tuple[type[BaseException], ...]:
    """The engine's and the driver's own error classes, of those packages that were imported (and can have raised)."""
    docker, psycopg = loaded("docker.errors"), loaded("psycopg")
    return (docker.DockerException,) * bool(docker) + (psycopg.Error,) * bool(psycopg)


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


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI timeout, `kill`), raised like Ctrl-C so the driver cancels the running statement first:
    psycopg cancels the query in the server on KeyboardInterrupt, instead of leaving it running there."""


def terminate(signum: int, frame: object) -> None:
    raise Terminated()


def guarded(body: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task body; turn any exception into `pgparity: <line>` and exit 2 (tracebacks only with --debug).

    SIGTERM and Ctrl-C cancel the statement the server is running for us, then exit with one line.
    """

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is threading.main_thread():  # where Python runs signal handlers
            signal.signal(signal.SIGTERM, terminate)
        try:
            return body(*args, **kwargs)
        except Exit:
            raise
        except Terminated:
            raise Exit("pgparity: terminated (SIGTERM); the running statement was cancelled",
                       code=128 + signal.SIGTERM) from None
        except KeyboardInterrupt:
            raise Exit("pgparity: interrupted; the running statement was cancelled", code=130) from None
        except BrokenPipeError:
            silence_stdout()
            raise Exit(code=BROKEN_PIPE_EXIT) from None
        except Exception as error:
            if debugging():
                raise
            code = error.exit_code if isinstance(error, PgParityError) else ERROR_EXIT
            raise Exit(error_line(describe(error)), code=code) from None

    return run
