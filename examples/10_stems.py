"""Split a song into stems and save each one as its own audio file.

`client.sonic.stems_basic(clip_id)` starts a two-track split (vocals and
instrumental); `stems_full` a multi-track one. Both return a submission that
`client.sonic.wait` turns into a result whose clips are the stems, each with its own
`audio_url` and `stem_type`. Run it with

    python examples/10_stems.py [--full] [--out DIR]

Without `MUSICAPI_KEY` it runs against the local sandbox, whose stems are real WAV
files that add up, sample by sample, to the song.
"""

from __future__ import annotations

import argparse
import sys

from _common import client

from musicapi import MusicAPIError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--full", action="store_true", help="split into every track, not two")
    parser.add_argument("--out", default="stems", help="where to save (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with client() as api:
        try:
            song = api.sonic.generate(gpt_description_prompt="driving lofi beat for studying")
            source = song.clips[0]
            print(f"splitting {source.title!r} ({source.clip_id})")
            split = api.sonic.stems_full if args.full else api.sonic.stems_basic
            stems = api.sonic.wait(split(source.clip_id))
            for stem in stems.clips:
                path = api.download(stem, args.out)
                print(f"{stem.stem_type or stem.title}: saved to {path}")
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
