"""`python -m dateline`: the same as the `dateline` command."""

from dateline.flows.cli import main

main()
