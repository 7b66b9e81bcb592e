"""Write lyrics from a short description, then sing them in a custom-mode song.

`client.sonic.lyrics(description)` answers at once with two candidates, each a title
and lyrics; the first one feeds `client.sonic.generate` in custom mode, where `prompt`
is the lyrics. Run it with

    python examples/13_lyrics_to_song.py [--about TEXT] [--tags TEXT]

Without `MUSICAPI_KEY` it runs against the local sandbox.
"""

from __future__ import annotations

import argparse
import sys

from _common import client

from musicapi import MusicAPIError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--about", default="a lighthouse keeper who waits for the spring")
    parser.add_argument("--tags", default="indie folk, female vocals")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with client() as api:
        try:
            written = api.sonic.lyrics(args.about)
            choice = written.candidates[0]
            lyrics = choice.lyrics or ""
            print(f"lyrics: {choice.title!r}, {len(lyrics.splitlines())} lines")
            song = api.sonic.generate(
                custom_mode=True, title=choice.title, tags=args.tags, prompt=lyrics
            )
            for clip in song.clips:
                print(f"{clip.title}  {clip.duration} s  {clip.audio_url}")
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
