"""What a project's tasks.py imports (`from pgparity.tasks import db`): one stable name for the `db` tasks,
whatever the layout of the packages behind it."""

from pgparity.cli.tasks import db

__all__ = ["db"]
