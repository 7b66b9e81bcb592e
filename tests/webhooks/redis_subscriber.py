"""Process B of `test_redis.py`: subscribe through a `RedisBus`, print what arrives.

Usage: python redis_subscriber.py REDIS_URL CHANNEL BACKEND COUNT

Prints `ready` once Redis confirmed the subscription, then one JSON line per event
(COUNT of them), consumed on BACKEND (`asyncio` or `trio`), then exits 0.
"""

from __future__ import annotations

import json
import sys

import anyio

from musicapi.webhooks import RedisBus


def main() -> None:
    url, channel, backend, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with RedisBus(url, channel) as bus:
        subscription = bus.subscribe()
        bus.start()
        print("ready", flush=True)

        async def consume() -> None:
            with anyio.fail_after(30):
                for _ in range(count):
                    event = await subscription.receive()
                    line = {
                        "id": event.id,
                        "type": event.type,
                        "task_id": event.task_id,
                        "state": event.state,
                        "reason": event.reason,
                        "timestamp": event.timestamp,
                        "clips": [[clip.clip_id, clip.duration] for clip in event.clips],
                        "raw": dict(event.raw),
                    }
                    print(json.dumps(line), flush=True)

        anyio.run(consume, backend=backend)


if __name__ == "__main__":
    main()
