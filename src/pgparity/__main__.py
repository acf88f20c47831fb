"""`python -m pgparity db.up` is the same as the `pgparity` console script."""

from pgparity.cli.program import main

main()
