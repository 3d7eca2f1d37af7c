"""``python -m prevalence``: see :mod:`prevalence.workflow.cli`."""

import sys

from prevalence.workflow.cli import main

sys.exit(main())
