"""The pre-push check: dev vs the migrations (local drift), production vs the migrations it applied.

Both "expected" schemas come from replays through the template cache, so an unchanged tree costs a
lookup, not a replay.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .catalog import Snapshot
from .diff import Difference, compare
from .migrations import Migration, Plan

LOCAL, PRODUCTION, DIFF = "local", "production", "diff"


@dataclass(frozen=True)
class Finding:
    """A difference in a scope, and whether the project accepted it in its ignore list."""

    scope: str
    difference: Difference
    ignored: bool

    def to_json(self) -> dict[str, object]:
        return {"scope": self.scope, **self.difference.to_json(), "ignored": self.ignored}


@dataclass(frozen=True)
class Verdict:
    """Everything verify (or diff) found; drift when any finding is not ignored."""

    findings: tuple[Finding, ...]
    pending_in_production: tuple[str, ...]

    @property
    def drift(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.ignored)

    @property
    def status(self) -> str:
        return "drift" if self.drift else "parity"

    def to_json(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for finding in self.drift:
            counts[finding.scope] = counts.get(finding.scope, 0) + 1
        return {
            "status": self.status,
            "differences": [finding.to_json() for finding in self.findings],
            "summary": {
                "differences": len(self.drift),
                "ignored": len(self.findings) - len(self.drift),
                "by_scope": counts,
                "pending_in_production": list(self.pending_in_production),
            },
        }


def pattern_of(difference: Difference) -> str:
    """How an ignore entry names a difference: `kind:object.name.attribute` (empty parts left out)."""
    parts = [difference.object] + [part for part in (difference.name, difference.attribute) if part]
    return f"{difference.kind}:" + ".".join(parts)


def scoped(scope: str, differences: Sequence[Difference], ignore: Sequence[str]) -> list[Finding]:
    return [
        Finding(scope, d, any(fnmatch.fnmatchcase(pattern_of(d), pattern) for pattern in ignore))
        for d in differences
    ]


def applied_in_production(plan: Plan, profile: Snapshot) -> tuple[list[Migration], list[str]]:
    """The migrations production's ledger lists, and the ones still pending for it.

    A production without pgparity's ledger is taken to have applied every migration: there is
    nothing better to compare it with, and its differences are then all drift.
    """
    if not profile.migrations:
        return list(plan.migrations), []
    done = {(m.version, m.name) for m in profile.migrations}
    applied = [m for m in plan.migrations if (m.version, m.name) in done]
    pending = [f"{m.version} {m.name}" for m in plan.migrations if (m.version, m.name) not in done]
    return applied, pending


def without_ledger(snapshot: Snapshot) -> Snapshot:
    return replace(snapshot, migrations=())


def production_drift(built: Snapshot, profile: Snapshot) -> tuple[Difference, ...]:
    """Production vs a replay of what it applied; the ledger compared only when production keeps one."""
    if not profile.migrations:
        built = without_ledger(built)
    return compare(built, profile)


def verdict(local: Sequence[Difference], production: Sequence[Difference], pending: Sequence[str],
            ignore: Sequence[str]) -> Verdict:
    return Verdict(tuple(scoped(LOCAL, local, ignore) + scoped(PRODUCTION, production, ignore)), tuple(pending))


def diff_verdict(source: Snapshot, target: Snapshot, ignore: Sequence[str]) -> Verdict:
    """Any two schemas; ledgers are compared only when both sides keep one."""
    if not source.migrations or not target.migrations:
        source, target = without_ledger(source), without_ledger(target)
    return Verdict(tuple(scoped(DIFF, compare(source, target), ignore)), ())
