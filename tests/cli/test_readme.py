"""README's tasks table is the reference a person reads: each task and each flag as `--help` shows them."""

import copy
import re
from pathlib import Path

import pytest

from pgparity.cli.tasks import db
from pgparity.schema.diff import KINDS

README = Path(__file__).parents[2] / "README.md"


def documented() -> dict[str, str]:
    """Each task's usage cell of README's tasks table, by task name."""
    section = README.read_text(encoding="utf-8").split("\n## Tasks\n", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cell = line.split(" | ", 1)[0].removeprefix("| ")
        for usage in re.findall(r"`(db\.[a-z_]+[^`]*)`", cell):
            rows.setdefault(usage.split()[0].removeprefix("db."), usage)
    return rows


def spelled(task) -> set[str]:
    """Flags and positional arguments as `pgparity db.<task> --help` names them."""
    words = set()
    for argument in copy.deepcopy(task).get_arguments():  # which consumes the task's help texts
        name = max(argument.names, key=len).replace("_", "-")
        if argument.positional:
            words.add(name.upper())
        elif argument.kind is bool and argument.default is True:
            words.add(f"--no-{name}")
        else:
            words.add(f"--{name}")
    return words


@pytest.mark.parametrize("name", sorted(db.task_names))
def test_every_task_and_flag_is_in_the_readme_as_help_spells_it(name):
    rows = documented()
    assert name in rows, f"README's tasks table has no row for db.{name}"
    task = db[name]
    written = set(re.findall(r"--[a-z][a-z-]*|\b[A-Z]{2,}\b", rows[name]))
    assert spelled(task) <= written, f"db.{name}: README lacks {spelled(task) - written}"
    flags = {word for word in written if word.startswith("--")}
    assert flags <= spelled(task), f"db.{name}: README names flags --help lacks: {flags - spelled(task)}"


def test_the_kinds_readme_lists_are_the_kinds_diff_reports():
    """README's table of kinds: the first cell of each row names them as code spans."""
    section = README.read_text(encoding="utf-8").split("| kind | what is compared |", 1)[1].split("\n\n", 1)[0]
    listed = [kind for row in section.splitlines()[2:] for kind in re.findall(r"`([a-z_]+)`", row.split(" | ")[0])]
    assert sorted(listed) == sorted(KINDS)
