"""Where production stands among the migrations: from its ledger, from pgparity.toml, or inferred.

Production is only ever read, and no tool writes pgparity's ledger there, so the position comes, in
this order, from the ledger production keeps (any tool's, see `ledgers`), the project's explicit
`[production] applied_through`, or the files' own effects looked up in production's schema. The
migrations after it are pending in production: deployed later, not drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from pgparity.config import ProductionPolicy
from pgparity.migrations import effects
from pgparity.migrations import ledger as own_ledger
from pgparity.migrations.model import Migration, Version
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
                "applied": [m.label for m in self.applied], "pending": [m.label for m in self.pending]}


def disagreement(d: Difference) -> str:
    if d.status == ONLY_IN_TARGET:
        return f"{d.object} records {d.name}, which no migration file is"
    return f"{d.object} records another {d.name} than the file (checksum {str(d.target)[:12]})"


# The content a file had when production ran it, found by the checksum its ledger records (in git's history).
Earlier = Callable[[Migration, str], Migration | None]


def locate(migrations: Sequence[Migration], profile: Snapshot, policy: ProductionPolicy,
           earlier: Earlier | None = None) -> Position:
    """Production's position: its ledger first, then `applied_through`, then inference from its schema."""
    if profile.ledger is not None:
        position = from_ledger(migrations, profile.ledger, earlier)
        if policy.applied_through is not None:
            position = noted(position, f"[production] applied_through = {policy.applied_through} is not used: "
                                       f"production keeps a ledger ({profile.ledger.table})")
        return position
    if policy.applied_through is not None:
        return through(migrations, policy.applied_through)
    return inferred(migrations, profile)


def noted(position: Position, note: str) -> Position:
    return replace(position, notes=position.notes + (note,))


def split(migrations: Sequence[Migration], done: set[int], ran: dict[int, Migration] | None = None,
          ) -> tuple[tuple[Migration, ...], tuple[Migration, ...]]:
    """The migrations at indexes `done`, plus those that say production already has their effects, and the rest.

    A repeatable file production `ran` in an earlier content counts as applied in that content, and pending
    in its own.
    """
    ran = ran or {}
    applied = tuple(ran.get(i, m) for i, m in enumerate(migrations) if i in done or i in ran or m.in_production)
    return applied, tuple(m for i, m in enumerate(migrations) if i in ran or not (i in done or m.in_production))


def reach(applied: Sequence[Migration]) -> str:
    """`001–006` (or `none`): the span of files applied, as a person reads it."""
    if not applied:
        return "none of the migrations"
    first, last = applied[0].path.name, applied[-1].path.name
    return first if first == last else f"{first} … {last}"


# --- from a ledger ------------------------------------------------------------------------------


def from_ledger(migrations: Sequence[Migration], ledger: Ledger, earlier: Earlier | None = None) -> Position:
    done: set[int] = set()
    ran: dict[int, Migration] = {}
    differences: list[Difference] = []
    notes: list[str] = []
    order: list[int] = []
    for entry in ledger.entries:
        if entry.failed and not entry.through:
            notes.append(f"{entry_label(entry)} failed in production ({ledger.table}); it counts as not applied")
            continue
        if ledger.kind == REPEATABLES and not entry.version:
            notes += repeated(entry, migrations, done, ran, earlier)
            continue
        if entry.through:
            version = number(entry)
            done |= {i for i, m in enumerate(migrations) if version is not None and not m.repeatable
                     and (m.version < version or m.version == version and not entry.failed)}
            if entry.failed:
                notes.append(f"production's ledger {ledger.table} is DIRTY at version {entry.version}: that migration "
                             "started and did not finish, so production is half-way through it; repair production "
                             "and reset the ledger's version before the next deploy")
            continue
        matched = matches(entry, migrations, ledger.kind, done)
        if matched is None:
            differences.append(Difference("migration", ledger.table, entry_label(entry), None, None,
                                          entry.checksum or "applied", ONLY_IN_TARGET))
            continue
        index, migration = matched
        done.add(index)
        order.append(index)
        if edited(entry, migration, ledger.kind):
            differences.append(Difference("migration", ledger.table, entry_label(entry), "checksum",
                                          migration.checksum, entry.checksum, DIFFERENT))
    notes += out_of_order(migrations, done, order)
    applied, pending = split(migrations, done, ran)
    evidence = f"production has applied {reach(applied)} ({ledger.kind} ledger {ledger.table})"
    return Position(f"{ledger.kind} ledger {ledger.table}", evidence, applied, pending, tuple(differences), tuple(notes))


# The ledger whose rows without a version are repeatable migrations, applied again when they change.
REPEATABLES = "flyway"


def edited(entry: LedgerEntry, migration: Migration, kind: str) -> bool:
    """Whether the ledger records other content for the file than it has: pgparity's checksum, or the one
    the file's own tool records (Flyway's CRC-32, Sqitch's SHA-1) in that tool's ledger."""
    if kind == "pgparity":
        return not own_ledger.matches(entry.checksum, migration)
    return bool(entry.checksum and migration.tool_checksum) and entry.checksum != migration.tool_checksum


def repeated(entry: LedgerEntry, migrations: Sequence[Migration], done: set[int], ran: dict[int, Migration],
             earlier: Earlier | None) -> list[str]:
    """A repeatable migration's newest run: applied when the file is as it ran; when the file changed since,
    pending (it runs again at the next deploy) and applied as it was then, found by its checksum in `earlier`
    content, else as it is now. A row whose file is gone marks nothing: its objects stay."""
    script = entry.name.rsplit("/", 1)[-1]
    found = next(((i, m) for i, m in enumerate(migrations) if m.repeatable and m.path.name == script), None)
    if found is None:
        return []
    index, migration = found
    if not edited(entry, migration, REPEATABLES):
        done.add(index)
        return []
    before = earlier(migration, entry.checksum) if earlier else None
    ran[index] = before or migration
    compared = ("production is compared with the file as it was then (from git's history)" if before else
                "that content is not in git's history, so production is compared with the file as it is now")
    return [f"{script} changed since production last applied it (checksum {entry.checksum}, the file's "
            f"{migration.tool_checksum}); it runs again at the next deploy; {compared}"]


def entry_label(entry: LedgerEntry) -> str:
    return " ".join(part for part in (entry.version, entry.name) if part)


def number(entry: LedgerEntry) -> Version | None:
    """The entry's version: "7", "007", "1.2.3", or the version its file name or stem starts with.

    None for a ledger of names (Sqitch).
    """
    if version := Version.parse(entry.version):
        return version
    for text in (entry.version, entry.name):
        if found := RECORDED.fullmatch(text.rsplit("/", 1)[-1]):
            return Version.parse(found.group(1))
    return None


def stem(text: str) -> str:
    """A description as files spell it: `Add users` and `V3__add_users.sql` both give `add_users`."""
    found = RECORDED.fullmatch(text.rsplit("/", 1)[-1])
    return normal(found.group(2) if found else text.removesuffix(".sql"))


def normal(description: str) -> str:
    return re.sub(r"\W+", "_", description).strip("_").lower()


def matches(entry: LedgerEntry, migrations: Sequence[Migration], kind: str,
            done: set[int]) -> tuple[int, Migration] | None:
    """The file an entry records: by version and name in pgparity's ledger; by version (the name settling
    duplicates) in the others; by name where the ledger keeps none (Sqitch), the first file of that name not
    `done` yet (a change reworked later has two)."""
    version = number(entry)
    if kind == "pgparity":
        found = [(i, m) for i, m in enumerate(migrations) if own_ledger.key(m) == (entry.version, entry.name)]
    elif version is not None:
        found = [(i, m) for i, m in enumerate(migrations) if not m.repeatable and m.version == version]
        if len(found) > 1 and entry.name:
            found = [(i, m) for i, m in found if normal(m.name) == stem(entry.name)] or found[:1]
    else:
        wanted = stem(entry.name or entry.version)
        found = [(i, m) for i, m in enumerate(migrations) if normal(m.name) == wanted]
        found = [(i, m) for i, m in found if i not in done] or found
    return found[0] if found else None


def out_of_order(migrations: Sequence[Migration], done: set[int], order: list[int]) -> list[str]:
    """Files the ledger applied after a later one, and files not applied although later ones are."""
    notes = [f"{migrations[later].path.name} was applied in production before {migrations[index].path.name}"
             for later, index in zip(order, order[1:])
             if index < later and not migrations[later].repeatable and migrations[index].version < migrations[later].version]
    last = max((i for i in done if not migrations[i].repeatable), default=-1)
    notes += [f"{m.path.name} is not applied in production although later migrations are (out of order)"
              for i, m in enumerate(migrations[:last]) if i not in done and not m.in_production]
    return notes


# --- from pgparity.toml -------------------------------------------------------------------------


def through(migrations: Sequence[Migration], version: int) -> Position:
    applied, pending = split(migrations, {i for i, m in enumerate(migrations)
                                          if not m.repeatable and m.version <= Version.of(version)})
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
