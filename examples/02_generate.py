"""Generate two songs from a description and save them: the README's main demo.

The quickstart's submit-then-poll loop (step 5) is one call, `client.sonic.generate`,
which returns once the task has finished; every generation yields two clips, and
`client.download` saves each one's audio into a folder. Run it with

    python examples/02_generate.py [--prompt TEXT] [--out DIR]

With `MUSICAPI_KEY` set it uses the real API (and spends credits); without, a local
sandbox that synthesises real, playable audio files. Any API error ends the script with
a one-line message and exit status 1.
"""

from __future__ import annotations

import argparse
import sys

from _common import client

from musicapi import MusicAPIError

DEFAULT_PROMPT = "uplifting synthwave with female vocals"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="what the song should be like")
    parser.add_argument(
        "--out", default="songs", help="the folder to save the audio in (default: %(default)s)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with client() as api:
        try:
            print(f"generating: {args.prompt!r}")
            result = api.sonic.generate(
                custom_mode=False, mv="sonic-v5", gpt_description_prompt=args.prompt
            )
            print(f"task {result.task_id} finished with {len(result.clips)} songs")
            for clip in result.clips:
                path = api.download(clip, args.out)
                seconds = f"{clip.duration:.1f} s" if clip.duration is not None else "? s"
                print(f"{clip.title}  ({seconds})  saved to {path}")
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
