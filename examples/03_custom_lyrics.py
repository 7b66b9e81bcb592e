"""Custom mode with the async client: your own lyrics, title and style tags (quickstart step 6).

With `custom_mode=True` the `prompt` field is the lyrics (section markers such as
`[Verse]` and `[Chorus]` shape the song), `title` names it and `tags` set the style.
The request is checked against the documented limits before anything is sent.

The async client, `AsyncMusicAPI`, runs on asyncio or trio through anyio; the same
`generate` call is `await`ed. Run it with `python examples/03_custom_lyrics.py`.
"""

from __future__ import annotations

import sys

import anyio
from _common import async_client

from musicapi import MusicAPIError

LYRICS = """\
[Verse]
City lights, neon dreams
Engines hum in silver streams
[Chorus]
Drive on, drive on
Till the night is gone
"""


async def main() -> int:
    async with async_client() as api:
        try:
            result = await api.sonic.generate(
                custom_mode=True,
                mv="sonic-v5",
                prompt=LYRICS,
                title="Night Drive",
                tags="synthwave, retro, energetic",
            )
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print(f"task {result.task_id}:")
    for clip in result.clips:
        print(f"  {clip.title} [{clip.tags}] {clip.duration or 0:.1f} s  {clip.audio_url}")
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
