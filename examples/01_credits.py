"""Check your credit balance: the one-call sanity check that the key works (quickstart step 4).

Run it with `python examples/01_credits.py`. With `MUSICAPI_KEY` set it asks the real
API; without, a local sandbox.
"""

from __future__ import annotations

import sys

from _common import client

from musicapi import MusicAPIError


def main() -> int:
    with client() as api:
        try:
            balance = api.get_credits()
        except MusicAPIError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(f"credits: {balance.credits:g}, extra credits: {balance.extra_credits:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
