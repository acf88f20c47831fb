"""Migration files: discovery, header options, checksums and lint, all without a database.

A directory holds `NNN_description.sql` files replayed in numeric order. Lint catches what would
otherwise fail halfway through a replay: psql-only commands, statements that refuse to run in a
transaction block, duplicate numbers, files that silently would not be replayed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pgparity.errors import LintError, MigrationError

if TYPE_CHECKING:
    from pgparity.migrations.lintcache import LintCache

Level = Literal["error", "warning", "info"]

NO_TRANSACTION = "no-transaction"
# Production already has this file's effects (a hot fix codified by db.fix): it counts as applied there,
# and its statements are no-ops where their objects exist.
IN_PRODUCTION = "in-production"
OPTIONS = frozenset({NO_TRANSACTION, IN_PRODUCTION})

_FORWARD = re.compile(r"(\d+)_(.+)\.sql")
_ROLLBACKS = (re.compile(r"(\d+)_(.+)\.down\.sql"), re.compile(r"(\d+)_(.+)_rollback\.sql"))
_FOREIGN = re.compile(r"(\d+).*\.(py|rb|js|mjs|cjs|ts|go|sh|bash|java|kt|php|pl|exs)")
_HEADER_OPTION = re.compile(r"--\s*pgparity\s*:(.*)", re.IGNORECASE)
# Eight or more digits are dates or timestamps (20240131...), whose numbering has gaps by design.
_DATE_LIKE = 10_000_000


@dataclass(frozen=True)
class Migration:
    """One file to replay; the checksum lets the ledger notice a file edited after it was applied."""

    version: int
    name: str
    path: Path
    sql: str
    checksum: str
    no_transaction: bool
    rollback: Path | None
    controls_transaction: bool = False  # has BEGIN, COMMIT...: sent in a message of its own, as written
    in_production: bool = False  # says production already has its effects (`-- pgparity: in-production`)


@dataclass(frozen=True)
class Baseline:
    """A schema file standing for every migration up to and including `through`.

    `file` is read relative to the migrations directory, so a bare name is a file inside it; an
    absolute path (a schema-only dump kept elsewhere) is used as it is.
    """

    file: str
    through: int


@dataclass(frozen=True)
class MigrationPolicy:
    """Decisions from pgparity.toml about files the numbering alone cannot settle."""

    skip: frozenset[str] = frozenset()
    order: tuple[str, ...] = ()
    baseline: Baseline | None = None


def shown(path: Path) -> str:
    """A path as a person in the project folder would type it: relative to the working directory."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Finding:
    """One lint result, printed the way compilers print them so editors can jump to it."""

    level: Level
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        path = shown(self.path)
        where = path if self.line is None else f"{path}:{self.line}"
        return f"{where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class Linted:
    """What lint found in one file's content: its findings without a path, so a result can be kept by content."""

    no_transaction: bool
    controls_transaction: bool
    findings: tuple[tuple[Level, int | None, str], ...]
    in_production: bool = False

    def at(self, path: Path) -> list[Finding]:
        return [Finding(level, path, line, message) for level, line, message in self.findings]


@dataclass(frozen=True)
class Plan:
    """What a replay would do, and everything lint had to say about the directory."""

    directory: Path
    migrations: tuple[Migration, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Path, ...]
    covered: tuple[Path, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.level == "error")

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def moved(self, directory: Path) -> "Plan":
        """The same plan with every path under `directory` instead: a tree read from a commit, named as in the
        working tree."""
        def move(path: Path) -> Path:
            return directory / path.relative_to(self.directory) if path.is_relative_to(self.directory) else path
        return Plan(directory,
                    tuple(replace(m, path=move(m.path), rollback=m.rollback and move(m.rollback)) for m in self.migrations),
                    tuple(replace(f, path=move(f.path)) for f in self.findings),
                    tuple(map(move, self.skipped)), tuple(map(move, self.covered)))

    def raise_for_errors(self) -> None:
        """Refuse to replay a directory that lint rejects; one line, as the shell prints it."""
        errors = self.errors
        if errors:
            count = f"{len(errors)} lint error" + ("s" if len(errors) > 1 else "")
            raise LintError(f"{shown(self.directory)}/: {count}; first: {errors[0]}")


# --- lexer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One statement of a script, for inspection only: replay always sends whole files.

    `words` are the bare keywords and identifiers, upper-cased, without comments, literals and
    quoted identifiers, so a command can be recognised without being fooled by function bodies.
    """

    line: int
    text: str
    words: tuple[str, ...]


# kind ("word", "literal", "comment", "meta", ";", "(", ")" or "other"), start, end. A plain tuple:
# lint makes one per token of every file on every sync.
_Token = tuple[str, int, int]


_COMMENT_MARK = re.compile(r"/\*|\*/")
# One alternation for every token but whitespace, which a search skips; an unterminated literal
# runs to the end of the script. Block comments nest, which no regular expression follows: only their
# opening is matched here.
_TOKEN = re.compile(r"""
    (?P<word>(?![Ee]')[^\W\d][\w$]*)
  | (?P<punctuation>[;()])
  | (?P<comment>--[^\n]*)
  | (?P<block>/\*)
  | (?P<literal>
        [Ee]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*(?:'|.*)
      | '[^']*(?:''[^']*)*(?:'|.*)
      | "[^"]*(?:""[^"]*)*(?:"|.*)
      | \$(?P<tag>(?:[^\W\d]\w*)?)\$(?:.*?\$(?P=tag)\$|.*)
    )
  | (?P<meta>\\[^\n]*)
  | (?P<other>\d+|\S)
""", re.VERBOSE | re.DOTALL)


def statements(sql: str) -> list[Statement]:
    """Split a script into statements the way psql does, each with the line it starts on.

    Semicolons inside literals, comments, parentheses and BEGIN ATOMIC bodies do not split.
    psql meta-commands end a statement and are left out (lint reports them).
    """
    return _statements(sql, list(_tokens(sql)))


def _statements(sql: str, tokens: list[_Token]) -> list[Statement]:
    """Group tokens into statements; comments before a statement belong to none, after it to no text."""
    found: list[Statement] = []
    words: list[str] = []
    start = end = counted = parens = atomic = 0
    line = 1
    for kind, token_start, token_end in tokens:
        if kind == "meta" or (kind == ";" and parens == atomic == 0):
            if end > start:
                line += sql.count("\n", counted, start)
                counted = start
                found.append(Statement(line, sql[start:end], tuple(words)))
            words, start, end, parens, atomic = [], token_end, token_end, 0, 0
            continue
        if kind == "comment":
            continue
        if end == start:
            start = token_start
        end = token_end
        if kind == "word":
            word = sql[token_start:token_end].upper()
            atomic = _atomic_depth(atomic, words[-1] if words else "", word)
            words.append(word)
        elif kind == "(":
            parens += 1
        elif kind == ")":
            parens = max(parens - 1, 0)
    if end > start:
        found.append(Statement(line + sql.count("\n", counted, start), sql[start:end], tuple(words)))
    return found


def _line(sql: str, position: int) -> int:
    return sql.count("\n", 0, position) + 1


def _atomic_depth(depth: int, previous: str, word: str) -> int:
    """Track BEGIN ATOMIC ... END (SQL-standard function bodies), whose semicolons do not split."""
    if previous == "BEGIN" and word == "ATOMIC":
        return depth + 1
    if depth and word == "CASE":
        return depth + 1
    if depth and word == "END":
        return depth - 1
    return depth


def _tokens(sql: str) -> Iterator[_Token]:
    """The script's tokens without whitespace. Lint tokenises every file on every sync: a hot path."""
    position = 0
    while True:
        for found in _TOKEN.finditer(sql, position):
            kind, start = found.lastgroup, found.start()
            if kind == "block":
                position = _comment_end(sql, start)
                yield "comment", start, position
                break
            yield sql[start] if kind == "punctuation" else kind, start, found.end()
        else:
            return


def _comment_end(sql: str, position: int) -> int:
    """PostgreSQL block comments nest, unlike C's."""
    depth = 0
    for mark in _COMMENT_MARK.finditer(sql, position):
        depth += 1 if mark.group() == "/*" else -1
        if depth == 0:
            return mark.end()
    return len(sql)


# --- per-file lint -------------------------------------------------------------------------

_TRANSACTION_CONTROL = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"}
_NEVER_IN_TRANSACTION = {
    ("ALTER", "SYSTEM"), ("CREATE", "DATABASE"), ("DROP", "DATABASE"),
    ("CREATE", "TABLESPACE"), ("DROP", "TABLESPACE"),
}
_CONCURRENT_INDEX = (
    ("CREATE", "INDEX", "CONCURRENTLY"), ("CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"),
    ("DROP", "INDEX", "CONCURRENTLY"),
)
_REINDEX_TARGETS = ("INDEX", "TABLE", "SCHEMA", "DATABASE", "SYSTEM")


def _non_transactional(words: tuple[str, ...]) -> str | None:
    """The command's name if PostgreSQL refuses to run it inside a transaction block."""
    if words[:1] == ("VACUUM",):
        return "VACUUM"
    if words[:2] in _NEVER_IN_TRANSACTION:
        return " ".join(words[:2])
    for pattern in _CONCURRENT_INDEX:
        if words[:len(pattern)] == pattern:
            return f"{pattern[0]} INDEX CONCURRENTLY"
    if words[:2] == ("ALTER", "TABLE") and "DETACH" in words and "CONCURRENTLY" in words:
        return "DETACH PARTITION CONCURRENTLY"
    if words[:1] == ("REINDEX",):
        return _reindex(words)
    return None


def _reindex(words: tuple[str, ...]) -> str | None:
    """REINDEX ... CONCURRENTLY and REINDEX of a whole schema, database or system commit as they go."""
    if "CONCURRENTLY" in words:
        return "REINDEX CONCURRENTLY"
    target = next((word for word in words[1:] if word in _REINDEX_TARGETS), None)
    return f"REINDEX {target}" if target in ("SCHEMA", "DATABASE", "SYSTEM") else None


def _lint_sql(path: Path, sql: str) -> Linted:
    """Whether the file asks for no transaction, whether it controls transactions itself, and what
    would make it fail on the server."""
    options, findings = _header_options(path, sql)
    no_transaction = NO_TRANSACTION in options
    tokens = list(_tokens(sql))  # tokenised once: lint runs over every file on every sync
    parsed = _statements(sql, tokens)
    if sql.startswith("\ufeff"):
        findings.append(Finding("error", path, 1, "starts with a byte-order mark, which PostgreSQL "
                                "reads as part of the first word; save the file as UTF-8 without BOM"))
    if not parsed:
        findings.append(Finding("error", path, None, "no SQL statements (empty, or only whitespace "
                                "and comments)"))
    findings += _meta_command_findings(path, sql, tokens)
    findings += _transaction_findings(path, parsed, no_transaction)
    control = _transaction_control_findings(path, parsed, no_transaction)
    return Linted(no_transaction, bool(control), tuple((f.level, f.line, f.message) for f in findings + control),
                  IN_PRODUCTION in options)


def _transaction_control_findings(path: Path, parsed: list[Statement], no_transaction: bool) -> list[Finding]:
    """BEGIN/COMMIT inside a file that pgparity already runs as one transaction would split it."""
    if no_transaction:
        return []
    return [
        Finding("warning", path, statement.line,
                f"{statement.words[0]} controls the transaction, but pgparity already runs the file and its "
                "ledger row as one; a failure after it would leave a partial migration (remove it)")
        for statement in parsed if statement.words and statement.words[0] in _TRANSACTION_CONTROL
    ]


def _header_options(path: Path, sql: str) -> tuple[set[str], list[Finding]]:
    """`-- pgparity: option` lines among the comment lines that open the file."""
    options: set[str] = set()
    findings: list[Finding] = []
    for number, line in enumerate(sql.split("\n"), 1):
        text = line.strip()
        if text and not text.startswith("--"):
            break
        match = _HEADER_OPTION.fullmatch(text)
        for option in match.group(1).replace(",", " ").split() if match else ():
            if option in OPTIONS:
                options.add(option)
            else:
                known = ", ".join(sorted(OPTIONS))
                findings.append(Finding("error", path, number,
                                        f"unknown pgparity option {option!r} (known: {known})"))
    return options, findings


def _meta_command_findings(path: Path, sql: str, tokens: list[_Token]) -> list[Finding]:
    return [
        Finding("error", path, _line(sql, start),
                f"psql meta-command {sql[start:end].split()[0]} is not SQL; the server "
                "cannot run it (pgparity sends each file to PostgreSQL, not to psql)")
        for kind, start, end in tokens if kind == "meta"
    ]


def _transaction_findings(path: Path, parsed: list[Statement], no_transaction: bool) -> list[Finding]:
    """Such a statement runs only alone in a no-transaction file: a multi-statement string is
    itself one implicit transaction on the server."""
    if no_transaction and len(parsed) == 1:
        return []
    findings = []
    for statement in parsed:
        command = _non_transactional(statement.words)
        if command is None:
            continue
        if no_transaction:
            message = (f"{command} shares a no-transaction file with {len(parsed) - 1} other "
                       "statement(s); PostgreSQL runs a multi-statement file as one implicit "
                       "transaction, so each such statement needs a file of its own")
        else:
            message = (f"{command} cannot run inside a transaction block; move it to a file of its "
                       f"own that starts with `-- pgparity: {NO_TRANSACTION}`")
        findings.append(Finding("error", path, statement.line, message))
    return findings


# --- directory discovery -------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    path: Path
    name: str  # path.name, read once: discovery looks at names many times per file
    kind: Literal["forward", "rollback", "foreign", "other"]
    version: int | None = None
    description: str = ""
    folder: bool = False


def discover(directory: Path, policy: MigrationPolicy = MigrationPolicy(), cache: LintCache | None = None) -> Plan:
    """Read and lint a migrations directory into the ordered plan a replay would follow.

    Nothing is left out silently: every file is replayed, paired as a rollback, skipped,
    covered by the baseline, or listed in a warning. With a `cache`, files whose content was
    linted before are not linted again.
    """
    if not directory.is_dir():
        raise MigrationError(f"{directory}: migrations directory not found")
    baseline = policy.baseline
    baseline_path = directory / baseline.file if baseline else None
    with os.scandir(directory) as scan:  # entries know whether they are folders without a stat each
        entries = sorted(scan, key=lambda entry: entry.name)
    files = [_classify(path, entry.is_dir()) for entry in entries if not _ignored(entry.name)
             if (path := directory / entry.name) != baseline_path]
    skipped = [file for file in files if file.name in policy.skip]
    kept = [file for file in files if file.name not in policy.skip]
    forward = [file for file in kept if file.kind == "forward"]
    covered = [file for file in forward if baseline and file.version <= baseline.through]
    replayed = [file for file in forward if file not in covered]
    rank = {name: index for index, name in enumerate(policy.order)}
    replayed.sort(key=lambda file: (file.version, rank.get(file.name, -1), file.name))
    rollbacks, rollback_findings = _pair_rollbacks(files, kept)

    findings = [
        *_policy_findings(directory, policy, baseline_path, {file.name for file in files}),
        *(Finding("info", file.path, None, "skipped (listed in `skip`); not replayed") for file in skipped),
        *_foreign_findings(kept), *_unmatched_findings(directory, kept), *rollback_findings,
        *_duplicate_findings(replayed, policy.order),
        *_gap_findings(files, baseline.through if baseline else None),
    ]
    sources = [(file, rollbacks.get((file.version, file.description))) for file in replayed]
    if baseline and baseline_path.is_file():
        findings += _covered_findings(baseline_path, covered, baseline.through)
        findings += _baseline_gaps(baseline_path, covered, baseline.through)
        sources.insert(0, (_baseline_file(baseline_path, baseline.through), None))
    migrations = []
    for file, rollback in sources:
        migration, file_findings = _read(file, rollback, cache)
        migrations += [migration] if migration else []
        findings += file_findings
    if cache is not None:
        try:
            cache.save()
        except OSError as error:
            findings.append(Finding("warning", cache.folder, None,
                                    f"lint cache not saved ({error.strerror}); the next run lints every file again"))
    return Plan(directory, tuple(migrations), tuple(findings),
                tuple(file.path for file in skipped), tuple(file.path for file in covered))


def next_number(directory: Path) -> str:
    """The version a new migration takes: after the highest, zero-padded as wide (001 in an empty folder)."""
    numbers = [match[1] for path in directory.iterdir() if (match := _FORWARD.fullmatch(path.name))]
    if not numbers:
        return "001"
    highest = max(numbers, key=int)
    return str(int(highest) + 1).zfill(len(highest))


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.upper().startswith("README")


def _classify(path: Path, folder: bool = False) -> _File:
    name = path.name
    if folder:
        return _File(path, name, "other", folder=True)
    for pattern in _ROLLBACKS:
        if match := pattern.fullmatch(name):
            return _File(path, name, "rollback", int(match[1]), match[2])
    if match := _FORWARD.fullmatch(name):
        return _File(path, name, "forward", int(match[1]), match[2])
    if match := _FOREIGN.fullmatch(name):
        return _File(path, name, "foreign", int(match[1]))
    return _File(path, name, "other")


def _baseline_file(path: Path, through: int) -> _File:
    """The baseline replays as version `through`, whatever number its own name carries."""
    match = _FORWARD.fullmatch(path.name)
    return _File(path, path.name, "forward", through, match[2] if match else path.name.removesuffix(".sql"))


def _policy_findings(directory: Path, policy: MigrationPolicy, baseline_path: Path | None,
                     names: set[str]) -> list[Finding]:
    """Settings in pgparity.toml that name files which are not there."""
    findings = []
    if baseline_path and not baseline_path.is_file():
        findings.append(Finding("error", baseline_path, None, "baseline file not found"))
    findings += [Finding("error", directory, None, f"`order` names {name}, which is not in the directory")
                 for name in policy.order if name not in names]
    findings += [Finding("warning", directory, None, f"`skip` names {name}, which is not in the directory")
                 for name in sorted(policy.skip - names)]
    return findings


def _foreign_findings(files: list[_File]) -> list[Finding]:
    return [
        Finding("error", file.path, None, "a migration in another language; pgparity replays SQL "
                "only: port it to SQL, or list it in `skip` in pgparity.toml")
        for file in files if file.kind == "foreign"
    ]


def _unmatched_findings(directory: Path, files: list[_File]) -> list[Finding]:
    names = [file.name + ("/" if file.folder else "") for file in files if file.kind == "other"]
    if not names:
        return []
    return [Finding("warning", directory, None, f"not migrations, never replayed: {', '.join(names)} "
                    "(expected NNN_description.sql, NNN_description.down.sql or "
                    "NNN_description_rollback.sql)")]


def _pair_rollbacks(
    files: list[_File], kept: list[_File],
) -> tuple[dict[tuple[int, str], Path], list[Finding]]:
    """Match rollbacks to migrations (skipped ones too) by number and description.

    A typo in either name must not leave a rollback silently orphaned.
    """
    known = {(file.version, file.description) for file in files if file.kind == "forward"}
    paired: dict[tuple[int, str], Path] = {}
    findings = []
    for file in (file for file in kept if file.kind == "rollback"):
        key = (file.version, file.description)
        if key not in known:
            number = re.match(r"\d+", file.name).group()
            findings.append(Finding("warning", file.path, None, "rollback without a migration: no "
                                    f"{number}_{file.description}.sql in the directory"))
        elif key in paired:
            findings.append(Finding("warning", file.path, None,
                                    f"second rollback for the same migration; {paired[key].name} is used"))
        else:
            paired[key] = file.path
    return paired, findings


def _duplicate_findings(files: list[_File], order: tuple[str, ...]) -> list[Finding]:
    """Two files with one number replay in an arbitrary order unless `order` settles it."""
    by_version: dict[int, list[_File]] = {}
    for file in files:
        by_version.setdefault(file.version, []).append(file)
    findings = []
    for version, group in sorted(by_version.items()):
        names = [file.name for file in group]
        if len(names) > 1 and not set(names) <= set(order):
            findings.append(Finding("error", group[-1].path, None, f"version {version} is used by "
                                    f"{', '.join(names)}; list them in `order` in pgparity.toml to "
                                    "replay them in that order"))
    return findings


def _gap_findings(files: list[_File], through: int | None) -> list[Finding]:
    """A hole in sequential numbering is often a migration lost in a merge.

    Skipped and foreign files count as present: their numbers are taken, not missing.
    """
    numbered = [file for file in files if file.kind in ("forward", "foreign")
                and (through is None or file.version > through)]
    first: dict[int, Path] = {}
    for file in sorted(numbered, key=lambda f: (f.version, f.name)):
        first.setdefault(file.version, file.path)
    versions = ([] if through is None else [through]) + sorted(first)
    if not versions or versions[-1] >= _DATE_LIKE:
        return []
    findings = []
    for low, high in zip(versions, versions[1:]):
        if high - low > 1:
            missing = f"version {low + 1}" if high - low == 2 else f"versions {low + 1}-{high - 1}"
            findings.append(Finding("warning", first[high], None, f"{missing} missing before this file"))
    return findings


def _covered_findings(baseline_path: Path, covered: list[_File], through: int) -> list[Finding]:
    if not covered:
        return []
    names = sorted(covered, key=lambda f: (f.version, f.name))
    span = names[0].name if len(names) == 1 else f"{names[0].name} ... {names[-1].name}"
    return [Finding("info", baseline_path, None, f"stands for {len(covered)} migration(s) through "
                    f"version {through} ({span}); they are covered by the baseline, not replayed")]


def _baseline_gaps(baseline_path: Path, covered: list[_File], through: int) -> list[Finding]:
    """Objects the covered files leave behind that the baseline does not create: a baseline is checked, not trusted."""
    from pgparity.migrations import effects

    def state_of(paths: list[Path]) -> dict[effects.Key, Path]:
        """The objects left after the files, each with the file that last made it."""
        state: set[effects.Key] = set()
        origin: dict[effects.Key, Path] = {}
        for path in paths:
            added = effects.applied(state, effects.of_sql(path.read_text(encoding="utf-8", errors="replace")))
            origin.update(dict.fromkeys(added, path))
        return {key: origin[key] for key in state}

    expected = state_of([file.path for file in sorted(covered, key=lambda f: (f.version, f.name))])
    present = state_of([baseline_path])
    return [Finding("error", baseline_path, None, f"lacks {effects.shown(key)}, which {path.name} creates; add it "
                    f"to the baseline, or lower `through` ({through}) below that file's version")
            for key, path in sorted(expected.items()) if key not in present]


def _read(file: _File, rollback: Path | None, cache: LintCache | None) -> tuple[Migration | None, list[Finding]]:
    """The file as a migration, with its lint findings; no migration if it is not UTF-8."""
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        raise MigrationError(f"{file.path}: cannot read: {exc.strerror}") from None
    try:
        sql = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [Finding("error", file.path, line, f"not valid UTF-8 (byte {exc.start}); "
                              "save the file as UTF-8")]
    checksum = hashlib.sha256(data).hexdigest()
    linted = cache.get(checksum) if cache else None
    if linted is None:
        linted = _lint_sql(file.path, sql)
        if cache:
            cache.put(checksum, linted)
    migration = Migration(file.version, file.description, file.path, sql, checksum, linted.no_transaction,
                          rollback, linted.controls_transaction, linted.in_production)
    return migration, linted.at(file.path)
