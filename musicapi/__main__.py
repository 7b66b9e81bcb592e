"""`python -m musicapi`: the `musicapi` command, for when the console script is not on PATH."""

from __future__ import annotations

import sys

from musicapi._cli import main

if __name__ == "__main__":
    sys.exit(main())
