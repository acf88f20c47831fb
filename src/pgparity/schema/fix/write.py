"""Writing: the migration and its rollback as files, refused when they would run nothing or fail."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pgparity.errors import FixError, counted
from pgparity.folders import write_whole
from pgparity.migrations.naming import next_files
from pgparity.schema.fix.narrowing import NarrowingCheck
from pgparity.schema.fix.plan import FixPlan
from pgparity.schema.fix.render import live, render, render_rollback, rows_text


def write_fix(
    directory: Path, plan: FixPlan, checks: Sequence[NarrowingCheck] = (), *,
    allow_destructive: bool = False, force: bool = False, name: str = "fix_local_drift", in_production: bool = False,
) -> tuple[Path, Path]:
    """Writes `NNN_<name>.sql` and its `NNN_<name>.down.sql`, numbered after the highest migration."""
    refuse_unsafe(plan, checks, allow_destructive, force)
    directory.mkdir(parents=True, exist_ok=True)
    forward, down = next_files(directory, name)
    # The rollback first: a forward file is replayed as soon as it exists, its rollback must be there whole.
    write_whole(down, render_rollback(plan, allow_destructive))
    write_whole(forward, render(plan, checks, allow_destructive, in_production))
    return forward, down


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
