"""invoke's entry point for this example: pgparity's `db` tasks."""

from invoke import Collection

from pgparity.tasks import db

ns = Collection(db)
