"""The `pgparity` console script: the same tasks as `invoke db.*`, without a tasks.py."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from invoke import Collection, Program
from invoke.exceptions import Exit, ParseError

from pgparity import __version__
from pgparity.cli.shell import ERROR_EXIT, error_line, quiet_broken_pipe
from pgparity.cli.tasks import db


@contextmanager
def command_line() -> Iterator[None]:
    """The command line's own mistakes (unknown task or flag, missing argument, a value of the wrong type)
    as one `pgparity:` line and exit 2, like every other error, never invoke's exit 1, which means drift."""
    try:
        yield
    except ParseError as error:
        task = error.context.name if error.context is not None else None
        hint = f"`pgparity --help {task}` shows its arguments" if task else "`pgparity --list` lists the tasks"
        raise Exit(error_line(f"{str(error).rstrip('!')}; {hint}"), code=ERROR_EXIT) from None
    except ValueError as error:  # a flag's value that its type cannot take
        raise Exit(error_line(f"a flag's value is not of its type ({error}); see `pgparity --help`"),
                   code=ERROR_EXIT) from None


def help_first(argv: list[str]) -> list[str]:
    """`db.restore --help` as `--help db.restore`: invoke hands a task's missing positional argument the next
    word, so `--help` after a task that takes one would become its FILE or NAME instead of showing its help."""
    tasks = [index for index, word in enumerate(argv) if word.removeprefix("db.") in db.task_names]
    if not tasks:
        return argv
    task = argv[tasks[0]]
    # invoke gives a parameter the short flag of its first letter; get_arguments() would consume the task's help
    short = {name[0] for name in inspect.signature(db[task.removeprefix("db.")].body).parameters}
    asked = [word for word in argv[tasks[0] + 1:] if word == "--help" or (word == "-h" and "h" not in short)]
    return [*argv[:tasks[0]], "--help", task] if asked else argv


class PgParityProgram(Program):
    """invoke's Program, with the command line's errors turned into pgparity's one line and exit 2."""

    def parse_core(self, argv: list[str] | None) -> None:
        with command_line():
            super().parse_core(help_first(sys.argv if argv is None else argv))

    def parse_tasks(self) -> None:
        with command_line():
            super().parse_tasks()

    def parse_cleanup(self) -> None:
        with command_line():
            super().parse_cleanup()


program = PgParityProgram(version=__version__, namespace=Collection(db), name="pgparity", binary="pgparity",
                          binary_names=["pgparity"])


def main() -> None:
    with quiet_broken_pipe():
        program.run()
