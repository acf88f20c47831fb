"""Writing: the migration and its rollback as files, refused when they would run nothing or fail."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pgparity.errors import FixError, counted
from pgparity.migrations import formats
from pgparity.migrations.discovery import layout
from pgparity.migrations.hazards import Context, Hazard, analyse
from pgparity.migrations.model import MigrationPolicy
from pgparity.schema.fix.narrowing import NarrowingCheck
from pgparity.schema.fix.plan import FixPlan
from pgparity.schema.fix.render import TIMEOUTS, live, ordered, render, render_rollback, rows_text


def write_fix(
    directory: Path, plan: FixPlan, checks: Sequence[NarrowingCheck] = (), *,
    allow_destructive: bool = False, force: bool = False, name: str = "fix_local_drift", in_production: bool = False,
    policy: MigrationPolicy = MigrationPolicy(), context: Context | None = None,
) -> tuple[Path, ...]:
    """Writes the fix and its rollback as the next migration in the directory's layout (`NNN_<name>.sql` and
    `NNN_<name>.down.sql` in pgparity's): the files written, the one replayed first. `context`: the schema the fix
    changes and production's sizes, for the hazards its header lists."""
    refuse_unsafe(plan, checks, allow_destructive, force)
    directory.mkdir(parents=True, exist_ok=True)
    fmt, files = layout(directory, policy)
    found = deploy_hazards(plan, allow_destructive, context) if context else ()
    outputs = fmt.new(directory, files, name, render(plan, checks, allow_destructive, in_production, found),
                      render_rollback(plan, allow_destructive))
    return tuple(reversed(formats.write(outputs)))


def deploy_hazards(plan: FixPlan, allow_destructive: bool, context: Context) -> tuple[Hazard, ...]:
    """The hazards of the statements the fix runs, in its order, after its timeouts."""
    statements = [*TIMEOUTS, *(s.sql + ";" for _, action, s in ordered(plan, "forward")
                               if not action.destructive or allow_destructive)]
    return analyse("\n".join(statements), context)


def refuse_unsafe(plan: FixPlan, checks: Sequence[NarrowingCheck], allow_destructive: bool, force: bool) -> None:
    """A fix that runs nothing would fail lint; one that would fail on the data helps nobody."""
    if not plan.fixes:
        raise FixError(f"nothing to apply: {plan.words.source} already matches {plan.words.target}")
    fixes = [fix for fix in plan.fixes if live(fix.forward, allow_destructive)]
    if not fixes:
        skipped = sum(1 for fix in plan.fixes if fix.forward.destructive and fix.forward.steps)
        raise FixError(f"nothing to apply: {counted(len(plan.fixes), 'change')}, of which {skipped} destructive "
                       "(--allow-destructive writes those) and the rest not fixable by a migration")
    if force:
        return
    results = {check.narrowing: check for check in checks}
    for narrowing in (n for fix in fixes for n in fix.forward.narrowing if n.query is not None):
        check = results.get(narrowing)
        if check is None:
            raise FixError(f"{narrowing.target}: rows {narrowing.condition} were not counted; run "
                           "check_narrowing on the target database first, or force")
        if check.rows:
            raise FixError(f"{narrowing.target}: {rows_text(check.rows)} {narrowing.condition}, so the fix "
                           "would fail there; fix those rows, or force")
