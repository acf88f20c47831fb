"""Processes: naming this one where it leaves something behind, telling whether a named one still runs,
and workers that end with the process that started them.

A kill -9 runs no cleanup, so what a command leaves (a session, a folder, a container) carries its
`owner()`; the next command removes what belongs to an owner that is gone.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def owner(pid: int | None = None) -> str:
    """This process (or `pid`) on this machine: `<pid>@<host>`."""
    return f"{pid or os.getpid()}@{socket.gethostname()}"


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def gone(name: str) -> bool:
    """Whether the process an `owner()` text names is known to have ended: it was on this machine and runs no
    more. Another machine's process, or text that names none, is never taken for gone."""
    pid, _, _ = name.partition("@")
    return pid.isdigit() and owner(int(pid)) == name and not running(int(pid))


def die_with(parent: int) -> None:
    """Make this process end when `parent` does (Linux: the kernel sends SIGKILL), so a killed command leaves no
    workers; if `parent` has already gone, end now."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
