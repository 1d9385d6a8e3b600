"""`python -m aggregator` is the `sipande` command."""

import sys

from aggregator.cli import main

sys.exit(main())
