"""Reading a migrations directory into the plan a replay follows, with everything lint says about it.

Nothing is left out silently: duplicate numbers, gaps, orphaned rollbacks, files in another language,
settings naming absent files and a baseline that misses objects are all findings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from pgparity.errors import MigrationError, counted, shown
from pgparity.lazy import later
from pgparity.migrations import content, formats
from pgparity.migrations.content import Content, Lines, Note, part
from pgparity.migrations.formats import Format
from pgparity.migrations.formats.pgparity import FORWARD
from pgparity.migrations.lexer import Statement, streamed
from pgparity.migrations.lint import changes_schema, lint_chunks
from pgparity.migrations.model import Finding, Migration, MigrationPolicy, Plan, Version
from pgparity.migrations.naming import DATE_LIKE, File, ignored

effects = later("pgparity.migrations.effects")  # parses SQL (pglast): only to check a baseline

if TYPE_CHECKING:
    from pgparity.migrations.lintcache import LintCache


def discover(directory: Path, policy: MigrationPolicy = MigrationPolicy(), cache: LintCache | None = None) -> Plan:
    """Read and lint a migrations directory into the ordered plan a replay would follow.

    Nothing is left out silently: every file is replayed, paired as a rollback, skipped,
    covered by the baseline, or listed in a finding. With a `cache`, files whose content was
    linted before are not linted again.
    """
    if not directory.is_dir():
        raise MigrationError(f"{shown(directory)}: migrations directory not found")
    baseline = policy.baseline
    baseline_path = directory / baseline.file if baseline else None
    fmt, files, contents = _layout(directory, policy, baseline_path)
    skipped = [file for file in files if file.name in policy.skip]
    kept = [file for file in files if file.name not in policy.skip]
    forward = [file for file in kept if file.kind == "forward"]
    covered = [file for file in forward if baseline and not file.repeatable and file.version <= baseline.version]
    replayed = [file for file in forward if file not in covered]
    rank = {name: index for index, name in enumerate(policy.order)}
    replayed.sort(key=lambda file: (file.repeatable, file.version, rank.get(file.name, -1), file.name))
    rollbacks, rollback_findings = _pair_rollbacks(files, kept)
    claimed = {file.path: other for file in kept if file.kind == "other" and not file.folder  # another layout's
               if (other := formats.claimant(fmt, file.name, _notes(contents, file.path)))}

    findings = [
        *_policy_findings(directory, policy, baseline_path, {file.name for file in files}),
        *(Finding("info", file.path, None, "skipped (listed in `skip`); not replayed") for file in skipped),
        *_foreign_findings(kept), *_mixed_findings(fmt, policy, kept, claimed),
        *_unmatched_findings(directory, fmt, kept, contents, claimed), *rollback_findings,
        *_duplicate_findings(replayed, policy.order),
        *_gap_findings(files, baseline.through if baseline else None),
    ]
    sources = [(file, rollbacks.get((file.version, file.description))) for file in replayed]
    if baseline and baseline_path.is_file():
        findings += _covered_findings(baseline_path, covered, baseline.through)
        findings += _baseline_gaps(baseline_path, covered, baseline.through)
        match = FORWARD.fullmatch(baseline_path.name)
        sources.insert(0, (File(baseline_path, baseline_path.name, "forward", baseline.version,
                                match[2] if match else baseline_path.name.removesuffix(".sql")), None))
    migrations = []
    for file, rollback in sources:
        migration, file_findings = _read(fmt, file, rollback, cache, contents.get(file.path), policy.verify)
        migrations += [migration] if migration else []
        findings += file_findings
    if cache is not None:
        try:
            cache.save()
        except OSError as error:
            findings.append(Finding("warning", cache.folder, None,
                                    f"lint cache not saved ({error.strerror}); the next run lints every file again"))
    present = frozenset((str(file.version), file.description) for file in (*skipped, *covered))
    return Plan(directory, tuple(migrations), tuple(findings),
                tuple(file.path for file in skipped), tuple(file.path for file in covered), fmt, present)


def layout(directory: Path, policy: MigrationPolicy = MigrationPolicy()) -> tuple[Format, list[File]]:
    """The directory's layout and its files as that layout names them: what a new migration is numbered after."""
    fmt, files, _ = _layout(directory, policy, None)
    return fmt, files


def _layout(directory: Path, policy: MigrationPolicy,
            baseline_path: Path | None) -> tuple[Format, list[File], dict[Path, Content]]:
    """The layout (set, or detected from every file) and the files as it classifies them, with what reading
    them found (each file is read once)."""
    found = [entry for entry in _entries(directory) if entry[0] != baseline_path]
    contents = {path: content for path, _, content in found if content is not None}
    fmt = formats.named(policy.format) if policy.format else formats.detect(
        [(path.name, _notes(contents, path)) for path, _, _ in found])
    entries = [(path, folder) for path, folder, _ in found if fmt.recursive or path.parent == directory]
    return fmt, _files(directory, fmt, entries, contents), contents


def _notes(contents: dict[Path, Content], path: Path) -> tuple[Note, ...]:
    """The notes of a file read, none for another (a file in a folder is read only when it is replayed)."""
    found = contents.get(path)
    return found.notes if found else ()


def _entries(directory: Path, top: bool = True) -> list[tuple[Path, bool, Content | None]]:
    """Every entry below `directory` (path, is a folder, what reading an SQL file or a plan in `directory`
    itself found), in name order.

    Folders are listed down too, for the layouts that keep migrations in them, but what they hold is read
    only when it is replayed: a folder of seed data beside the migrations costs nothing.
    """
    found = []
    with os.scandir(directory) as scan:  # entries know whether they are folders without a stat each
        listed = sorted(scan, key=lambda entry: entry.name)
    for entry in listed:
        if ignored(entry.name):
            continue
        path = directory / entry.name
        if entry.is_dir():
            found.append((path, True, None))
            found += _entries(path, top=False)
        else:
            found.append((path, False, _content(path) if top and entry.name.endswith((".sql", ".plan")) else None))
    return found


def _content(path: Path) -> Content:
    return content.read(path, formats.MARKS)


def _files(directory: Path, fmt: Format, entries: list[tuple[Path, bool]],
           contents: dict[Path, Content]) -> list[File]:
    """The entries as the layout classifies them; a layout with a plan of its own lists its files from it,
    and its own files and folders are no strays."""
    if fmt.listing is None:
        return [File(path, path.name, "other", folder=True) if folder else fmt.classify(path, _notes(contents, path))
                for path, folder in entries if not (folder and fmt.recursive)]
    top = [File(path, path.name, "other", folder=folder) for path, folder in entries
           if path.parent == directory and path.name not in fmt.own]
    return fmt.listing(directory) + top


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


def _foreign_findings(files: list[File]) -> list[Finding]:
    return [
        Finding("error", file.path, None, "a migration in another language; pgparity replays SQL "
                "only: port it to SQL, or list it in `skip` in pgparity.toml")
        for file in files if file.kind == "foreign"
    ]


def _mixed_findings(fmt: Format, policy: MigrationPolicy, files: list[File],
                    claimed: dict[Path, Format]) -> list[Finding]:
    """Files of another layout than the folder's (`claimed` by it): replaying the folder would leave them out."""
    chosen = f"[migrations] format is {fmt.name}" if policy.format else f"the folder holds {fmt.name} migrations"
    return [Finding("error", file.path, None, f"looks like a {claimed[file.path].name} migration, but {chosen} "
                    f"({fmt.convention}); pgparity replays one layout per folder: move it, rename it "
                    "to the folder's layout, or list it in `skip`")
            for file in files if file.path in claimed]


def _unmatched_findings(directory: Path, fmt: Format, files: list[File], contents: dict[Path, Content],
                        claimed: dict[Path, Format]) -> list[Finding]:
    """Entries that are not migrations nor another layout's: an .sql file that changes the schema is an error
    (it is a migration in all but name); the rest are listed in one warning."""
    strays = [file for file in files if file.kind == "other" and not file.folder and file.path not in claimed]
    schema = [file for file in strays if file.name.endswith(".sql") and file.path in contents
              and changes_schema(contents[file.path].chunks())]
    findings = [Finding("error", file.path, None, f"changes the schema but is not named as a migration, so it is "
                        f"never replayed; rename it ({fmt.convention}), or list it in `skip` in pgparity.toml")
                for file in schema]
    names = [shown_name(directory, file) for file in files if file.kind == "other"
             and (file.folder or file in strays and file not in schema)]
    if names:
        findings.append(Finding("warning", directory, None, f"not migrations, never replayed: {', '.join(names)} "
                                f"(expected {fmt.convention})"))
    return findings


def shown_name(directory: Path, file: File) -> str:
    name = file.path.relative_to(directory).as_posix() if file.path.is_relative_to(directory) else file.name
    return name + ("/" if file.folder else "")


def _pair_rollbacks(
    files: list[File], kept: list[File],
) -> tuple[dict[tuple[Version | None, str], Path], list[Finding]]:
    """Match rollbacks to migrations (skipped ones too) by number and description.

    A typo in either name must not leave a rollback silently orphaned.
    """
    known = {(file.version, file.description) for file in files if file.kind == "forward"}
    paired: dict[tuple[Version | None, str], Path] = {}
    findings = []
    for file in (file for file in kept if file.kind == "rollback"):
        key = (file.version, file.description)
        if key not in known:
            findings.append(Finding("warning", file.path, None, "rollback without a migration: no migration "
                                    f"{file.number} {file.description} in the directory"))
        elif key in paired:
            findings.append(Finding("warning", file.path, None,
                                    f"second rollback for the same migration; {paired[key].name} is used"))
        else:
            paired[key] = file.path
    return paired, findings


def _duplicate_findings(files: list[File], order: tuple[str, ...]) -> list[Finding]:
    """Two files with one version (or two repeatables with one description) replay in an arbitrary order
    unless `order` settles it."""
    by_version: dict[object, list[File]] = {}
    for file in files:
        by_version.setdefault(file.description if file.repeatable else file.version, []).append(file)
    findings = []
    for version, group in by_version.items():
        names = [file.name for file in group]
        if len(names) > 1 and not set(names) <= set(order):
            copies = len({_content(file.path).checksum for file in group}) == 1
            advice = ("they have the same content: a rename that left the old file behind? delete the copy "
                      "that is not the name the ledger records" if copies else
                      "list them in `order` in pgparity.toml to replay them in that order")
            used = f"repeatable {version}" if group[0].repeatable else f"version {version}"
            findings.append(Finding("error", group[-1].path, None, f"{used} is used by {', '.join(names)}; {advice}"))
    return findings


def _gap_findings(files: list[File], through: int | None) -> list[Finding]:
    """A hole in sequential numbering is often a migration lost in a merge.

    Skipped and foreign files count as present: their numbers are taken, not missing. Only whole-number
    versions below dates can have holes.
    """
    numbered = [file for file in files if file.kind in ("forward", "foreign") and file.version is not None
                and file.version.number is not None and (through is None or file.version.number > through)]
    first: dict[int, Path] = {}
    for file in sorted(numbered, key=lambda f: (f.version, f.name)):
        first.setdefault(file.version.number, file.path)
    versions = ([] if through is None else [through]) + sorted(first)
    if not versions or versions[-1] >= DATE_LIKE:
        return []
    findings = []
    for low, high in zip(versions, versions[1:]):
        if high - low > 1:
            missing = f"version {low + 1}" if high - low == 2 else f"versions {low + 1}-{high - 1}"
            findings.append(Finding("warning", first[high], None, f"{missing} missing before this file"))
    return findings


def _covered_findings(baseline_path: Path, covered: list[File], through: int) -> list[Finding]:
    if not covered:
        return []
    names = sorted(covered, key=lambda f: (f.version, f.name))
    span = names[0].name if len(names) == 1 else f"{names[0].name} ... {names[-1].name}"
    return [Finding("info", baseline_path, None, f"stands for {counted(len(covered), 'migration')} through "
                    f"version {through} ({span}); they are covered by the baseline, not replayed")]


def _baseline_gaps(baseline_path: Path, covered: list[File], through: int) -> list[Finding]:
    """Objects the covered files leave behind that the baseline does not create: a baseline is checked, not trusted."""
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


def as_of(fmt: Format, migration: Migration, text: str) -> Migration:
    """The migration as its file read when it held `text` (an earlier content, from git's history): its forward
    part and the checksums of it, as `_read` takes them."""
    file = File(migration.path, migration.path.name, "forward", migration.version, migration.name,
                repeatable=migration.repeatable)
    held = Content.of(text, migration.path, formats.MARKS)
    up = fmt.sections(file, held.notes).up
    checksum, raw = _checksums(held, up)
    return replace(migration, content=held, up=up, checksum=checksum, raw_checksum=raw,
                   tool_checksum=fmt.checksum(held.chunks()) if fmt.checksum else "")


def _checksums(read: Content, up: Lines | None) -> tuple[str, str]:
    """`checksum` and `raw_checksum` of the part that runs: the file's own when that is the whole file."""
    return (read.checksum, read.raw) if up is None else content.checksums(part(read.chunks(), up))


def _read(fmt: Format, file: File, rollback: Path | None, cache: LintCache | None, read: Content | None,
          verify: bool = False) -> tuple[Migration | None, list[Finding]]:
    """The file's forward part as a migration (with its verify script, when asked), with its lint findings; no
    migration if it is not UTF-8. `read` is what `_layout` found in the file, if it read it."""
    read = _content(file.path) if read is None else read
    if read.invalid:
        byte, line = read.invalid
        return None, [Finding("error", file.path, line, f"not valid UTF-8 (byte {byte}); save the file as UTF-8")]
    parts = fmt.sections(file, read.notes)
    checksum, raw = _checksums(read, parts.up)  # lint reads the exact bytes, so its cache is keyed by raw (`as_of`)
    layout = (parts.no_transaction, fmt.own_transactions, parts.one_by_one)  # what the layout says beside the text
    key = f"{raw}:{''.join(str(int(flag)) for flag in layout)}" if any(layout) else raw
    linted = cache.get(key) if cache else None
    if linted is None:
        linted = lint_chunks(file.path, part(read.chunks(), parts.up), *layout)
        if cache:
            cache.put(key, linted)
    down = parts.down if parts.down is not None and _holds_statement(part(read.chunks(), parts.down)) else None
    migration = Migration(file.version, file.description, file.path, read, checksum,
                          linted.no_transaction, rollback or (file.path if down is not None else None),
                          linted.controls_transaction, linted.in_production, raw, file.repeatable, down,
                          fmt.checksum(read.chunks()) if fmt.checksum else "", parts.one_by_one, up=parts.up)
    if verify and file.check is not None:
        migration = replace(migration, check=file.check, check_sql=_content(file.check).text())
    return migration, linted.at(file.path)


def _holds_statement(chunks: Iterable[str]) -> bool:
    """Whether a part holds a statement: an empty undo undoes nothing, so the file has no rollback."""
    return any(isinstance(piece, Statement) for piece in streamed(chunks))
