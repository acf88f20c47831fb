"""Fix: the next migration, bringing the database it runs on (the source) to the target's schema.

`plan.plan_fix` turns each diff Change into a Fix: the statements that make the source match the target
and the statements that undo them. Both directions come from the same per-kind handler (`handlers`)
called with the sides swapped, so a rollback is never a second, hand-kept copy of the logic. Every
statement carries a `phases.Phase` (a statement class: drop triggers, ..., add columns, ..., grant);
sorting by phase gives a dependency-safe order, drops running dependents first.

Nothing is guessed or lost silently: renames are only suggested, statements that may lose data
are written commented out unless allowed, and statements that would fail on the source's rows
are counted first by `narrowing.check_narrowing`, so that `write.write_fix` can refuse before anything runs.
"""
