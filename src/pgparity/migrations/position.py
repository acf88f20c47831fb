"""Where production stands among the migrations: from its ledger, from pgparity.toml, or inferred.

Production is only ever read, and no tool writes pgparity's ledger there, so the position comes, in
this order, from the ledger production keeps (any tool's, see `ledgers`), the project's explicit
`[production] applied_through`, or the files' own effects looked up in production's schema. The
migrations after it are pending in production: deployed later, not drift.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pgparity.config import ProductionPolicy
from pgparity.migrations import effects
from pgparity.migrations import ledger as own_ledger
from pgparity.migrations.model import Migration
from pgparity.migrations.naming import RECORDED
from pgparity.schema.diff import DIFFERENT, ONLY_IN_TARGET, Difference
from pgparity.schema.model import Ledger, LedgerEntry, Snapshot

SHOWN = 3  # objects named in one piece of evidence


@dataclass(frozen=True)
class Position:
    """The migrations production has applied and those still pending for it, and how pgparity knows.

    `differences` are the ledger's own disagreements with the files (a row with no file, a checksum
    that differs), reported as production drift; `notes` are what a person must know besides.
    """

    source: str
    evidence: str
    applied: tuple[Migration, ...]
    pending: tuple[Migration, ...]
    differences: tuple[Difference, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def remarks(self) -> tuple[str, ...]:
        """The notes, and the ledger's disagreements with the files, as sentences."""
        return self.notes + tuple(disagreement(d) for d in self.differences)

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "evidence": self.evidence, "notes": list(self.notes),
                "applied": [label(m) for m in self.applied], "pending": [label(m) for m in self.pending]}


def disagreement(d: Difference) -> str:
    if d.status == ONLY_IN_TARGET:
        return f"{d.object} records {d.name}, which no migration file is"
    return f"{d.object} records another {d.name} than the file (checksum {str(d.target)[:12]})"


def label(migration: Migration) -> str:
    return f"{migration.version} {migration.name}"


def locate(migrations: Sequence[Migration], profile: Snapshot, policy: ProductionPolicy) -> Position:
    """Production's position: its ledger first, then `applied_through`, then inference from its schema."""
    if profile.ledger is not None:
        position = from_ledger(migrations, profile.ledger)
        if policy.applied_through is not None:
            position = noted(position, f"[production] applied_through = {policy.applied_through} is not used: "
                                       f"production keeps a ledger ({profile.ledger.table})")
        return position
    if policy.applied_through is not None:
        return through(migrations, policy.applied_through)
    return inferred(migrations, profile)


def noted(position: Position, note: str) -> Position:
    return replace(position, notes=position.notes + (note,))


def split(migrations: Sequence[Migration], done: set[int]) -> tuple[tuple[Migration, ...], tuple[Migration, ...]]:
    """The migrations at indexes `done`, plus those that say production already has their effects, and the rest."""
    applied = tuple(m for i, m in enumerate(migrations) if i in done or m.in_production)
    return applied, tuple(m for i, m in enumerate(migrations) if not (i in done or m.in_production))


def reach(applied: Sequence[Migration]) -> str:
    """`001–006` (or `none`): the span of files applied, as a person reads it."""
    if not applied:
        return "none of the migrations"
    first, last = applied[0].path.name, applied[-1].path.name
    return first if first == last else f"{first} … {last}"


# --- from a ledger ------------------------------------------------------------------------------


def from_ledger(migrations: Sequence[Migration], ledger: Ledger) -> Position:
    done: set[int] = set()
    differences: list[Difference] = []
    notes: list[str] = []
    order: list[int] = []
    for entry in ledger.entries:
        if entry.failed and not entry.through:
            notes.append(f"{entry_label(entry)} failed in production ({ledger.table}); it counts as not applied")
            continue
        if entry.through:
            version = number(entry)
            done |= {i for i, m in enumerate(migrations)
                     if version is not None and (m.version < version or m.version == version and not entry.failed)}
            if entry.failed:
                notes.append(f"production's ledger {ledger.table} is DIRTY at version {entry.version}: that migration "
                             "started and did not finish, so production is half-way through it; repair production "
                             "and reset the ledger's version before the next deploy")
            continue
        matched = matches(entry, migrations, ledger.kind)
        if matched is None:
            differences.append(Difference("migration", ledger.table, entry_label(entry), None, None,
                                          entry.checksum or "applied", ONLY_IN_TARGET))
            continue
        index, migration = matched
        done.add(index)
        order.append(index)
        if ledger.kind == "pgparity" and not own_ledger.matches(entry.checksum, migration):
            differences.append(Difference("migration", ledger.table, entry_label(entry), "checksum",
                                          migration.checksum, entry.checksum, DIFFERENT))
    notes += out_of_order(migrations, done, order)
    applied, pending = split(migrations, done)
    evidence = f"production has applied {reach(applied)} ({ledger.kind} ledger {ledger.table})"
    return Position(f"{ledger.kind} ledger {ledger.table}", evidence, applied, pending, tuple(differences), tuple(notes))


def entry_label(entry: LedgerEntry) -> str:
    return " ".join(part for part in (entry.version, entry.name) if part)


def number(entry: LedgerEntry) -> int | None:
    """The entry's version as a number: "7", "007", or the number its file name or stem starts with.

    None for a version no numbered file carries ("1.2") and for a ledger of names (Sqitch).
    """
    if entry.version.isdigit():
        return int(entry.version)
    for text in (entry.version, entry.name):
        if found := RECORDED.fullmatch(text.rsplit("/", 1)[-1]):
            return int(found.group(1))
    return None


def stem(text: str) -> str:
    """A description as files spell it: `Add users` and `V3__add_users.sql` both give `add_users`."""
    found = RECORDED.fullmatch(text.rsplit("/", 1)[-1])
    rest = found.group(2) if found else text.removesuffix(".sql")
    return re.sub(r"\W+", "_", rest).strip("_").lower()


def matches(entry: LedgerEntry, migrations: Sequence[Migration], kind: str) -> tuple[int, Migration] | None:
    """The file an entry records: by version and name in pgparity's ledger; by version (the name settling
    duplicates) in the others; by name where the ledger keeps none (Sqitch)."""
    version = number(entry)
    if kind == "pgparity":
        found = [(i, m) for i, m in enumerate(migrations) if own_ledger.key(m) == (entry.version, entry.name)]
    elif version is not None:
        found = [(i, m) for i, m in enumerate(migrations) if m.version == version]
        if len(found) > 1 and entry.name:
            found = [(i, m) for i, m in found if m.name.lower() == stem(entry.name)] or found[:1]
    else:
        wanted = stem(entry.name or entry.version)
        found = [(i, m) for i, m in enumerate(migrations) if m.name.lower() == wanted]
    return found[0] if found else None


def out_of_order(migrations: Sequence[Migration], done: set[int], order: list[int]) -> list[str]:
    """Files the ledger applied after a later one, and files not applied although later ones are."""
    notes = [f"{migrations[later].path.name} was applied in production before {migrations[index].path.name}"
             for later, index in zip(order, order[1:]) if index < later and migrations[index].version < migrations[later].version]
    last = max(done, default=-1)
    notes += [f"{m.path.name} is not applied in production although later migrations are (out of order)"
              for i, m in enumerate(migrations[:last]) if i not in done and not m.in_production]
    return notes


# --- from pgparity.toml -------------------------------------------------------------------------


def through(migrations: Sequence[Migration], version: int) -> Position:
    applied, pending = split(migrations, {i for i, m in enumerate(migrations) if m.version <= version})
    return Position("[production] applied_through in pgparity.toml",
                    f"production has applied {reach(applied)} (applied_through = {version})",
                    applied, pending)


# --- inferred from production's schema ------------------------------------------------------------


def inferred(migrations: Sequence[Migration], profile: Snapshot) -> Position:
    """The longest run of files whose named objects best match production's, with its evidence.

    Each position p (the first p files applied) expects the objects those files leave; the objects any file
    names that production has are compared with that, and the p with the fewest mismatches wins. Among
    equals the shortest run wins: a file with nothing to look up is taken as not applied, and said so.
    """
    walked = [(i, m) for i, m in enumerate(migrations) if not m.in_production]
    read = [effects.of_sql(m.sql) for _, m in walked]
    states: list[set[effects.Key]] = [set()]
    for file_effects in read:
        state = set(states[-1])
        effects.applied(state, file_effects)
        states.append(state)
    named = set().union(*states)
    observed = effects.present(profile) & named
    mismatches = [len(state ^ observed) for state in states]
    best = min(mismatches)
    at = mismatches.index(best)
    done = {i for i, _ in walked[:at]}
    applied, pending = split(migrations, done)
    notes = unread(walked, read) + undecided(walked, mismatches, at)
    evidence = f"production matches {reach(applied)}"
    if at < len(walked):
        evidence += "; " + missing(walked[at][1], states[at], states[at + 1], observed)
    if best:
        notes.append(partial(states[at], observed))
    return Position("inferred from production's schema (it keeps no ledger)", evidence, applied, pending,
                    notes=tuple(notes))


def missing(migration: Migration, before: set[effects.Key], after: set[effects.Key], observed: set[effects.Key]) -> str:
    """Why the first pending file is taken as not applied: what it makes that production lacks, or keeps that
    production dropped."""
    absent = sorted(after - before - observed)
    kept = sorted((before - after) & observed)
    reasons = [f"{effects.shown(key)} absent" for key in absent[:SHOWN]]
    reasons += [f"{effects.shown(key)} still present" for key in kept[:SHOWN - len(reasons)]]
    why = f" ({', '.join(reasons)})" if reasons else " (it changes no object pgparity can look up)"
    return f"{migration.path.name} is not applied{why}"


def unread(walked: Sequence[tuple[int, Migration]], read: Sequence[effects.Effects]) -> list[str]:
    return [f"{m.path.name} could not be parsed; its objects were not looked up in production"
            for (_, m), file_effects in zip(walked, read) if not file_effects.readable]


def undecided(walked: Sequence[tuple[int, Migration]], mismatches: Sequence[int], at: int) -> list[str]:
    """Files after the position that would match production just as well: nothing tells whether they ran."""
    tied = [walked[p - 1][1] for p in range(at + 1, len(mismatches)) if mismatches[p] == mismatches[at]]
    if not tied:
        return []
    names = ", ".join(m.path.name for m in tied)
    return [f"ambiguous: production would match as well with {names} applied (they change no object pgparity "
            f"can look up); taken as pending; if production ran them, record it with `invoke db.stamp "
            f"{tied[-1].version}`"]


def partial(state: set[effects.Key], observed: set[effects.Key]) -> str:
    """The objects that keep the match from being exact: hand edits in production, or files applied in part."""
    absent = [effects.shown(key) for key in sorted(state - observed)]
    extra = [effects.shown(key) for key in sorted(observed - state)]
    parts = ([f"expected but absent in production: {', '.join(absent[:SHOWN * 2])}"] if absent else []) + \
            ([f"present in production but only made by later files: {', '.join(extra[:SHOWN * 2])}"] if extra else [])
    return "partial match: " + "; ".join(parts)
