"""``python -m ckm_research.cli ARGS``: the ``ckm`` command (as the ``ckm`` script runs it)."""

import sys

from ckm_research.cli import main

sys.exit(main())
