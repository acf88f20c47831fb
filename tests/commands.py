"""Running pgparity's commands in a project and reading what they leave: exit codes, JSON, error lines."""

from __future__ import annotations

import json

from conftest import Project


def write(project: Project, files: dict[str, str]) -> None:
    directory = project.root / "migrations"
    directory.mkdir(exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text)


def ok(project: Project, *args: str) -> str:
    result = project.run(*args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def run_json(project: Project, *args: str) -> tuple[int, dict]:
    result = project.run(*args, "--json")
    assert result.returncode in (0, 1), (args, result.stdout, result.stderr)
    return result.returncode, json.loads(result.stdout)


def one_error_line(result) -> str:
    """The single line an error leaves on stderr (exit status 2, nothing on stdout)."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pgparity: ")
    return lines[0]
