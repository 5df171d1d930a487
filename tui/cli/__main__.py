"""`python -m tui.cli`: the `hotline` command."""

import sys

from tui.cli import main

sys.exit(main())
