"""``python -m prevalence``: see :mod:`prevalence.cli`."""

import sys

from prevalence.cli import main

sys.exit(main())
