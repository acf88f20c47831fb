"""`python -m pgparity db.up` is the same as the `pgparity` console script."""

from .cli import main

main()
