"""``python -m himo`` is the ``himo`` command."""

import sys

from himo.cli import main

sys.exit(main())
