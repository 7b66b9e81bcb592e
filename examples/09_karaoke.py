"""Print a song's lyrics line by line in time with its playback, karaoke-style.

`client.sonic.aligned_lyrics(clip_id)` returns every sung word with its start and end
in seconds; `.lines` groups them into the lyric lines. This script generates a short
song from lyrics, then walks a playback clock through it and prints each line as
playback reaches it, with the word being sung in capitals. Run it with

    python examples/09_karaoke.py [--speed 4]

`--speed` plays faster than real time (1 is real time). Without `MUSICAPI_KEY` it runs
against the local sandbox, whose word timings come from the clip's real duration.
"""

from __future__ import annotations

import argparse
import sys
import time

from _common import client

from musicapi import MusicAPIError

LYRICS = """[Verse]
Neon rivers under midnight skies
We drive until the city sighs
[Chorus]
Hold on, hold on, the night is young
Sing it loud with a silver tongue"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--speed", type=float, default=1.0, help="playback speed (default: real time)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with client() as api:
        try:
            result = api.sonic.generate(
                custom_mode=True, title="Neon Rivers", tags="synthwave", prompt=LYRICS
            )
            clip = result.clips[0]
            aligned = api.sonic.aligned_lyrics(clip.clip_id)
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(f"{clip.title}: {len(aligned.lines)} lines, {len(aligned.words)} words")
    started = time.monotonic()
    for line in aligned.lines:
        position = (time.monotonic() - started) * args.speed
        if line.start_s > position:
            time.sleep((line.start_s - position) / args.speed)
        sung = " ".join(
            word.word.strip().upper() if index == 0 else word.word.strip()
            for index, word in enumerate(line.words)
        )
        print(f"[{line.start_s:5.2f}s - {line.end_s:5.2f}s] {sung}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
