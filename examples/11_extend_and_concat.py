"""Extend a song, then join the extension to the original into one whole song.

An `extend_music` task continues a clip from `continue_at` seconds and returns only the
new part; a `concat_music` task on the extended clip returns the whole song
(api-reference §4.1). Both are `client.sonic.generate` with a `task_type`. Run it with

    python examples/11_extend_and_concat.py [--out DIR]

Without `MUSICAPI_KEY` it runs against the local sandbox.
"""

from __future__ import annotations

import argparse
import sys

from _common import client

from musicapi import MusicAPIError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", default="songs", help="where to save (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with client() as api:
        try:
            first = api.sonic.generate(gpt_description_prompt="warm acoustic folk morning").clips[0]
            print(f"song: {first.title} ({first.duration} s)")
            continue_at = (first.duration or 0.0) / 2
            extension = api.sonic.generate(
                task_type="extend_music",
                continue_clip_id=first.clip_id,
                continue_at=continue_at,
                custom_mode=True,
                prompt="[Bridge]\nAnd the morning sings along",
            ).clips[0]
            print(f"extended from {continue_at:.2f} s: {extension.clip_id}")
            whole = api.sonic.generate(
                task_type="concat_music", continue_clip_id=extension.clip_id
            ).clips[0]
            path = api.download(whole, args.out)
            print(f"whole song: {whole.title} saved to {path}")
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
