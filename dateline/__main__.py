"""`python -m dateline`: the same as the `dateline` command."""

from dateline.flows.cli import main

if __name__ == "__main__":  # a spawned worker that imports this module must not start a command
    main()
