"""`python -m emu`: the same as the `emu` command."""

import sys

from emu.cli import main

sys.exit(main())
