"""`python -m seekwise` runs the command-line interface."""

from seekwise.cli import main

raise SystemExit(main())
