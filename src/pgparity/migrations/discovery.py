"""Reading a migrations directory into the plan a replay follows, with everything lint says about it.

Nothing is left out silently: duplicate numbers, gaps, orphaned rollbacks, files in another language,
settings naming absent files and a baseline that misses objects are all findings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pgparity.errors import MigrationError, counted, shown
from pgparity.migrations import effects, ledger
from pgparity.migrations.lint import lint_sql
from pgparity.migrations.model import Finding, Migration, MigrationPolicy, Plan
from pgparity.migrations.naming import CONVENTION, File, baseline_file, classify, ignored

if TYPE_CHECKING:
    from pgparity.migrations.lintcache import LintCache

# Eight or more digits are dates or timestamps (20240131...), whose numbering has gaps by design.
_DATE_LIKE = 10_000_000


def discover(directory: Path, policy: MigrationPolicy = MigrationPolicy(), cache: LintCache | None = None) -> Plan:
    """Read and lint a migrations directory into the ordered plan a replay would follow.

    Nothing is left out silently: every file is replayed, paired as a rollback, skipped,
    covered by the baseline, or listed in a warning. With a `cache`, files whose content was
    linted before are not linted again.
    """
    if not directory.is_dir():
        raise MigrationError(f"{shown(directory)}: migrations directory not found")
    baseline = policy.baseline
    baseline_path = directory / baseline.file if baseline else None
    with os.scandir(directory) as scan:  # entries know whether they are folders without a stat each
        entries = sorted(scan, key=lambda entry: entry.name)
    files = [classify(path, entry.is_dir()) for entry in entries if not ignored(entry.name)
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
        sources.insert(0, (baseline_file(baseline_path, baseline.through), None))
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


def _unmatched_findings(directory: Path, files: list[File]) -> list[Finding]:
    names = [file.name + ("/" if file.folder else "") for file in files if file.kind == "other"]
    if not names:
        return []
    return [Finding("warning", directory, None, f"not migrations, never replayed: {', '.join(names)} "
                    f"(expected {CONVENTION})")]


def _pair_rollbacks(
    files: list[File], kept: list[File],
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
            findings.append(Finding("warning", file.path, None, "rollback without a migration: no "
                                    f"{file.number}_{file.description}.sql in the directory"))
        elif key in paired:
            findings.append(Finding("warning", file.path, None,
                                    f"second rollback for the same migration; {paired[key].name} is used"))
        else:
            paired[key] = file.path
    return paired, findings


def _duplicate_findings(files: list[File], order: tuple[str, ...]) -> list[Finding]:
    """Two files with one number replay in an arbitrary order unless `order` settles it."""
    by_version: dict[int, list[File]] = {}
    for file in files:
        by_version.setdefault(file.version, []).append(file)
    findings = []
    for version, group in sorted(by_version.items()):
        names = [file.name for file in group]
        if len(names) > 1 and not set(names) <= set(order):
            copies = len({ledger.checksum(file.path.read_bytes()) for file in group}) == 1
            advice = ("they have the same content: a rename that left the old file behind? delete the copy "
                      "that is not the name the ledger records" if copies else
                      "list them in `order` in pgparity.toml to replay them in that order")
            findings.append(Finding("error", group[-1].path, None, f"version {version} is used by "
                                    f"{', '.join(names)}; {advice}"))
    return findings


def _gap_findings(files: list[File], through: int | None) -> list[Finding]:
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


def _read(file: File, rollback: Path | None, cache: LintCache | None) -> tuple[Migration | None, list[Finding]]:
    """The file as a migration, with its lint findings; no migration if it is not UTF-8."""
    try:
        data = file.path.read_bytes()
    except OSError as exc:
        raise MigrationError(f"{shown(file.path)}: cannot read: {exc.strerror}") from None
    try:
        sql = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, [Finding("error", file.path, line, f"not valid UTF-8 (byte {exc.start}); "
                              "save the file as UTF-8")]
    raw = ledger.raw_checksum(data)  # lint reads the exact bytes, so its cache is keyed by them
    linted = cache.get(raw) if cache else None
    if linted is None:
        linted = lint_sql(file.path, sql)
        if cache:
            cache.put(raw, linted)
    migration = Migration(file.version, file.description, file.path, sql, ledger.checksum(data),
                          linted.no_transaction, rollback, linted.controls_transaction, linted.in_production, raw)
    return migration, linted.at(file.path)
