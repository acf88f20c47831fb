"""The report's formats: Markdown and JUnit XML from a fixed verdict (golden files), ASCII tables in CI,
full values in JSON, progress lines without a terminal, and when the JSON report file is written."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
from conftest import Project
from markdown_it import MarkdownIt
from report_cases import LONG, fixed_verdict, snapshot_file
from rich.console import Console

from pgparity.cli import report
from pgparity.errors import counted
from pgparity.migrations.content import Content
from pgparity.migrations.hazards import Context, review
from pgparity.migrations.model import Migration, Version
from pgparity.schema.diff import Difference
from pgparity.schema.serialize import load_snapshot
from pgparity.schema.verify import Verdict, verdict

GOLDEN = Path(__file__).with_name("golden")
BOX_DRAWING = re.compile("[\u2500-\u257f]")


def test_markdown_matches_its_golden_file():
    assert report.markdown(fixed_verdict()) == (GOLDEN / "verdict.md").read_text(encoding="utf-8")


def test_junit_matches_its_golden_file():
    assert report.junit(fixed_verdict()) == (GOLDEN / "verdict.xml").read_text(encoding="utf-8")


def test_markdown_tables_keep_their_cells_and_values_whatever_the_values_hold():
    rows: list[list] = []
    for token in MarkdownIt("commonmark").enable("table").parse(report.markdown(fixed_verdict())):
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and token.level == 4:  # a cell's content: table > thead/tbody > tr > th/td
            rows[-1].append(token)
    assert len(rows) == 1 + 2 + 1 + 4 and all(len(row) == 6 for row in rows), rows  # headers, then the findings
    codes = [child.content for row in rows for cell in row for child in cell.children if child.type == "code_inline"]
    for value in ("flags|`odd`", "CHECK ((flags | 1) > 0)", "CHECK (((note)::text <> '`|`'::text))",
                  'a <b> & "c"\x01 *not emphasis*'):
        assert value in codes
    rendered = MarkdownIt("commonmark").enable("table").render(report.markdown(fixed_verdict()))
    assert "<td><code>a\\|b</code></td>" in rendered  # a backslash before a pipe, kept
    assert "<em>" not in rendered and "<h2>pgparity: drift</h2>" in rendered


def test_junit_is_valid_xml_whose_counts_match_its_cases():
    root = ET.fromstring(report.junit(fixed_verdict()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["local drift", "production drift", "server version"]
    for element in (root, *suites):
        cases = list(element.iter("testcase"))
        assert int(element.get("tests")) == len(cases)
        assert int(element.get("failures")) == sum(1 for case in cases if case.find("failure") is not None)
        assert int(element.get("skipped")) == sum(1 for case in cases if case.find("skipped") is not None)
        assert element.get("errors") == "0" and element.get("time") == "0"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "4", "3")
    for case in root.iter("testcase"):
        assert case.get("classname").startswith("pgparity.") and case.get("name")
    failures = {case.get("name"): case.find("failure") for case in root.iter("testcase")}
    comment = failures["comment (text)"]
    assert comment.get("type") == "drift" and 'a <b> & "c"\\x01 *not emphasis*' in comment.text
    assert "fix: `invoke db.fix`" in comment.text


def test_a_check_without_differences_is_one_passing_case():
    verdict = report.junit(Verdict((), checked=("local",)))
    (suite,) = ET.fromstring(verdict).findall("testsuite")
    (case,) = suite.findall("testcase")
    assert (suite.get("name"), suite.get("failures"), case.get("name")) == ("local drift", "0", "no differences")
    assert report.markdown(Verdict((), checked=("local",))) == (
        "## pgparity: parity\n\nparity: no differences\n")


def test_each_format_is_one_registry_entry():
    assert list(report.VERDICT_FORMATS) == ["table", "json", "markdown", "junit"]


def test_tables_have_ascii_borders_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "1")
    monkeypatch.setattr(report, "out", Console(file=StringIO(), width=160))
    report.verdict(fixed_verdict())
    printed = report.out.file.getvalue()
    assert not BOX_DRAWING.search(printed), printed
    assert "+----" in printed and "| Column" in printed


def test_json_carries_whole_values_the_table_shortens(monkeypatch):
    document = report.verdict_json(fixed_verdict())
    audit = next(d for d in document["differences"] if d["object"] == "public.audit")
    assert audit["local"] == LONG and "…" not in json.dumps(document, ensure_ascii=False)
    monkeypatch.setattr(report, "out", Console(file=StringIO(), width=400))
    report.verdict(fixed_verdict())
    assert LONG not in report.out.file.getvalue() and "column…" in report.out.file.getvalue()


def test_counts_are_written_with_their_plurals():
    assert (counted(1, "migration"), counted(2, "migration"), counted(0, "entry", "entries"), counted(12000, "row")) \
        == ("1 migration", "2 migrations", "0 entries", "12,000 rows")
    line = report.summary_line(fixed_verdict())
    assert "4 differences" in line and "1 migration pending in production" in line
    one = Verdict(fixed_verdict().findings[1:2], checked=("local",))
    assert report.summary_line(one) == "drift: 1 difference (local 1)"


def test_the_server_sentence_names_postgresql_once():
    assert report.server_sentence(fixed_verdict().server) == "production runs PostgreSQL 15.20, dev runs 15.18"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_are_throttled_and_end_with_a_last_line(monkeypatch):
    monkeypatch.setattr(report, "err", Console(file=StringIO(), width=160))
    clock = Clock()
    lines = report.MigrationLines(clock)
    lines.start(40)
    for number in range(40):
        lines.step(f"migrations/{number:03d}_m.sql")
        clock.now += 0.5
        lines.done(None)
    lines.close()
    printed = report.err.file.getvalue().splitlines()
    assert len(printed) == 40 * 0.5 // report.LINE_SECONDS + 1, printed  # one every 5 s of 20 s, and the last
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d migrations: .+ \(\d+s\)", line) for line in printed)
    assert printed[-1].endswith("migrations: 40 of 40 applied (20s)")


def test_progress_is_drawn_as_bars_on_a_terminal_as_lines_in_ci_and_not_at_all_for_json(monkeypatch):
    monkeypatch.setenv("CI", "1")
    with report.bar(report.MigrationBar) as migrations, report.bar(report.DumpBar) as tables:
        assert (type(migrations), type(tables)) == (report.MigrationLines, report.DumpLines)
    with report.bar(report.MigrationBar, enabled=False) as nothing:
        assert nothing is None


def test_dump_lines_count_rows_and_tables(monkeypatch):
    monkeypatch.setattr(report, "err", Console(file=StringIO(), width=160))
    clock = Clock()
    lines = report.DumpLines(clock)
    lines.start(3)
    clock.now += 6
    lines.advance("public.users", 120000, 6.0)
    lines.close()
    printed = [line.split(" ", 1)[1] for line in report.err.file.getvalue().splitlines()]
    assert printed == ["public.users: 120,000 rows; 0 of 3 tables done (6s)", "0 of 3 tables done (6s)"]


def test_quick_work_prints_no_progress_line(monkeypatch):
    monkeypatch.setattr(report, "err", Console(file=StringIO(), width=160))
    clock = Clock()
    lines = report.DumpLines(clock)
    lines.start(2)
    lines.advance("public.users", 10, 1.0)
    clock.now += 1
    lines.close()
    assert report.err.file.getvalue() == ""


# --- the report file and the formats through the command line (no Docker: two snapshot files) ---------


@pytest.fixture
def folder(tmp_path) -> Project:
    """A project folder outside CI, with two snapshot files that differ by one column."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PGPARITY_", "GITHUB_"))}
    env.update(PGPARITY_PROJECT="reports", CI="")
    snapshot_file(tmp_path / "a.json", "id")
    snapshot_file(tmp_path / "b.json", "id", "email")
    return Project("reports", tmp_path, env)


def diff(folder: Project, *args: str, **extra: str):
    return folder.run("db.diff", "--source", "a.json", "--target", "b.json", *args, extra=extra)


def test_the_report_file_is_written_only_in_ci_or_when_asked(folder):
    assert diff(folder).returncode == 1
    assert diff(folder, "--json").returncode == 1
    assert sorted(p.name for p in folder.root.iterdir()) == ["a.json", "b.json"]  # no report outside CI
    assert diff(folder, CI="1").returncode == 1
    assert json.loads((folder.root / "pgparity-report.json").read_text())["status"] == "drift"
    assert diff(folder, PGPARITY_REPORT="named.json").returncode == 1
    assert diff(folder, "--report", "asked.json").returncode == 1
    assert sorted(p.name for p in folder.root.iterdir()) == ["a.json", "asked.json", "b.json", "named.json",
                                                            "pgparity-report.json"]  # and no temporary file


def test_a_report_flag_into_a_missing_folder_is_one_line_naming_the_flag(folder):
    result = diff(folder, "--report", "nowhere/r.json")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "pgparity: --report: cannot write the JSON report to nowhere/r.json (No such file or directory)"]


def test_ci_appends_the_markdown_report_to_the_github_step_summary(folder):
    summary = folder.root / "summary.md"
    summary.write_text("earlier step\n")
    assert diff(folder, "--format", "junit", CI="1", GITHUB_STEP_SUMMARY=str(summary)).returncode == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n## pgparity: drift\n") and "| column | `public.t` | `email` |" in text
    assert diff(folder, GITHUB_STEP_SUMMARY=str(summary)).returncode == 1  # a terminal-less run is CI mode too
    assert summary.read_text().count("## pgparity: drift") == 2


@pytest.mark.parametrize("shape", ["markdown", "junit", "json", "table"])
def test_each_format_prints_its_document_alone_on_stdout(folder, shape):
    result = diff(folder, "--format", shape)
    assert result.returncode == 1, result.stderr
    if shape == "markdown":
        assert result.stdout.startswith("## pgparity: drift\n")
    elif shape == "junit":
        assert ET.fromstring(result.stdout).get("failures") == "1"
    elif shape == "json":
        assert result.stdout == diff(folder, "--json").stdout
    else:
        assert "+--" in result.stdout and not BOX_DRAWING.search(result.stdout)


@pytest.mark.parametrize("args, line", [
    (("--format", "xml"), "pgparity: --format takes table, json, markdown, junit, not 'xml'"),
    (("--json", "--format", "junit"), "pgparity: --json is --format json: pass one of them, not --json with "
                                      "--format junit"),
])
def test_a_wrong_format_is_one_line(folder, args, line):
    for task in ("db.diff", "db.verify"):
        result = folder.run(task, *args)
        assert (result.returncode, result.stdout, result.stderr.strip()) == (2, "", line)


def test_lint_counts_one_migration_in_the_singular(folder):
    (folder.root / "migrations").mkdir()
    (folder.root / "migrations" / "001_users.sql").write_text("CREATE TABLE users (id int);\n")
    result = folder.run("db.lint")
    assert (result.returncode, result.stdout) == (0, "1 migration, 0 findings, no errors\n"), result.stderr


def test_objects_only_a_superuser_can_change_are_named_with_how_to_apply_them(monkeypatch):
    monkeypatch.setattr(report, "out", Console(file=StringIO(), width=400))
    monkeypatch.setattr(report, "err", Console(file=StringIO(), width=400))
    rows = (Difference("event_trigger", "ddl_log", "", None, None, "ON ddl_command_end", "missing_in_local"),
            Difference("column", "public.users", "email", "type", "text", "varchar", "different"))
    result = verdict((), rows, None, ())
    report.verdict(result)
    (line,) = [line for line in report.err.file.getvalue().splitlines() if "superuser" in line]
    assert line.startswith("pgparity: warning: event trigger ddl_log: only a superuser may create, alter or drop it")
    assert "superuser" in report.markdown(result)
    assert report.superuser_hints(verdict((), rows[1:], None, ()).drift) == []


def test_markdown_and_json_carry_the_hazards_of_the_pending_files():
    sql = "ALTER TABLE users ALTER COLUMN email TYPE varchar(100);\n"
    pending = Migration(Version.of(3), "short_emails", Path("migrations/003_short_emails.sql"),
                        Content.of(sql), "", False, None)
    profile = load_snapshot(Path(__file__).parents[2] / "examples" / "seed-drift" / "parity" / "production.json")
    result = dataclasses.replace(fixed_verdict(), hazards=review([pending], Context(profile)))
    rows = [line for line in report.markdown(result).splitlines() if line.startswith("| `migrations/003")]
    assert [row.split(" | ")[1:4] for row in rows] == [["1", "high", "rewrite"], ["1", "medium", "timeout"]]
    assert "250k rows, 50 MB" in rows[0]
    [item] = report.verdict_json(result)["hazards"]
    assert (item["file"], item["hazards"][0]["rows"], item["hazards"][0]["relation"]) == (
        "migrations/003_short_emails.sql", 250000, "public.users")
