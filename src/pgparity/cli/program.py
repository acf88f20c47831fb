"""The `pgparity` console script: the same tasks as `invoke db.*`, without a tasks.py."""

from invoke import Collection, Program

from pgparity import __version__
from pgparity.cli.tasks import db

program = Program(version=__version__, namespace=Collection(db), name="pgparity", binary="pgparity")


def main() -> None:
    program.run()
