"""Ask for a webhook when the song is ready, and keep `wait` as the source of truth (step 7).

Pass `webhook_url` (and a `webhook_secret` to sign the delivery with) to `create`, and
the API POSTs the finished task to your URL: no polling loop on your side. This example
creates such a task, then waits for it with `client.sonic.wait(task_id)` anyway.
Webhooks can be late, duplicated or lost (your server was down, a proxy dropped it), so
a robust app treats the delivery as a wake-up call and the task itself as the truth:
`wait` (or one `get`) returns the same result whether or not the webhook arrived.

On the local sandbox (no `MUSICAPI_KEY`), running in-process, nothing is posted: the
sandbox delivers webhooks only when it is served over loopback
(`python -m musicapi.sandbox --port 8000`) to a URL it can reach. The example URL below
is a placeholder; on the real API, use an https endpoint of your own app.

Run it with `python examples/04_webhook.py`.
"""

from __future__ import annotations

import sys

from _common import client

from musicapi import MusicAPIError

WEBHOOK_URL = "https://your-app.example.com/webhooks/musicapi"
WEBHOOK_SECRET = "your-shared-secret"  # in a real app, read it from your secrets store


def main() -> int:
    with client() as api:
        try:
            submission = api.sonic.create(
                custom_mode=False,
                mv="sonic-v5",
                gpt_description_prompt="lofi hip hop for studying",
                webhook_url=WEBHOOK_URL,
                webhook_secret=WEBHOOK_SECRET,
            )
            print(f"created task {submission.task_id}; the API will POST it to {WEBHOOK_URL}")
            # Your webhook handler would start work here. Waiting confirms the outcome:
            task = api.sonic.get(submission.task_id)
            print(f"right after creating, the task is {task.state}")
            result = api.sonic.wait(submission.task_id, timeout=600)
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    for clip in result.clips:
        print(f"ready: {clip.title}  {clip.audio_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
