"""``python -m hspy_unmix.cli``: the ``hspy-unmix`` command."""

import sys

from .main import main

sys.exit(main())
