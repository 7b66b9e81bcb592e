"""Make background music with the Producer models and save it.

`client.producer.generate(...)` creates an instrumental and waits for it, on the same
task engine as Sonic songs. The API ignores `make_instrumental` for Producer; its
guide says to describe the sound and leave `lyrics` out (api-reference §4.2). Run it with

    python examples/12_instrumental.py [--sound TEXT] [--length SECONDS] [--out DIR]

Without `MUSICAPI_KEY` it runs against the local sandbox.
"""

from __future__ import annotations

import argparse
import sys

from _common import client

from musicapi import MusicAPIError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sound", default="calm piano, soft strings, instrumental, no vocals")
    parser.add_argument("--length", type=float, default=60.0, help="seconds (1 to 240)")
    parser.add_argument("--out", default="songs", help="where to save (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with client() as api:
        try:
            result = api.producer.generate(sound=args.sound, title="Background", length=args.length)
            for clip in result.clips:
                path = api.download(clip, args.out)
                print(f"{clip.title}: saved to {path}")
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
