"""`python -m bot ...` is `quotebot ...`."""

import sys

from bot.cli import main

sys.exit(main())
