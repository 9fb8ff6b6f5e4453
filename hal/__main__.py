"""``python -m hal pinout | selftest | doctor`` (see hal.cli)."""

import sys

from hal.cli import main

sys.exit(main())
