"""``python -m limelight.cli``: the ``limelight`` command without the installed script."""

import sys

from limelight.cli import main

sys.exit(main())
