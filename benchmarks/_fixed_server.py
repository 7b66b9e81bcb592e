"""A minimal fixed-body HTTP/1.1 server for bench_get.py (not a benchmark on its own).

    python benchmarks/_fixed_server.py [--port 0]

Prints its base URL (`http://127.0.0.1:PORT/api/v1`) on one line once it listens, then
serves until killed. It answers `GET /api/v1/sonic/task/<id>` with a fixed body:

  id starting with `done`  200 `{"code":200,"message":"success","data":[clip, clip]}`,
                           two clips of the documented `SonicSong` shape
  any other id             202 `{"type":"not_ready"}`

and anything else with 404. Keep-alive, no parsing beyond the request line and
`Content-Length`, no auth, no logging, no clock: per request it costs a few
microseconds, so the client's CPU ratio is not blurred by the server's own work (the
sandbox's request handling is much heavier, and it shares the machine's CPUs).
Stdlib only (asyncio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

API_PREFIX = b"/api/v1"
TASK_PREFIX = API_PREFIX + b"/sonic/task/"


def _clip(n: int) -> dict[str, object]:
    clip_id = f"0ba9e8ff-1d5a-45aa-9317-33bdd88499f{n}"
    return {
        "clip_id": clip_id,
        "state": "succeeded",
        "title": "Night Drive",
        "tags": "synthwave, retro, energetic",
        "lyrics": "[Verse]\nCity lights, neon dreams\nEngines hum in the midnight stream\n"
        "[Chorus]\nDrive on, drive on\nTill the night is gone",
        "image_url": f"https://cdn.musicapi.ai/image/{clip_id}.jpeg",
        "audio_url": f"https://cdn.musicapi.ai/audio/{clip_id}.mp3",
        "video_url": f"https://cdn.musicapi.ai/video/{clip_id}.mp4",
        "created_at": "2025-06-01T12:34:56.789Z",
        "gpt_description_prompt": "uplifting synthwave with female vocals",
        "duration": 163.28 + n,
        "negative_tags": None,
        "style_weight": None,
        "weirdness_constraint": None,
        "mv": "chirp-v5",
    }


def _answer(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\n"
        b"content-type: application/json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


FINISHED_BODY = json.dumps(
    {"code": 200, "message": "success", "data": [_clip(0), _clip(1)]}, separators=(",", ":")
).encode()
NOT_READY_BODY = b'{"type":"not_ready"}'
FINISHED = _answer(b"200 OK", FINISHED_BODY)
NOT_READY = _answer(b"202 Accepted", NOT_READY_BODY)
NOT_FOUND = _answer(b"404 Not Found", b'{"error":"not found"}')


class FixedProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                line_end = lower.find(b"\r\n", at + 2)
                value = lower[at + 17 : line_end if line_end >= 0 else len(lower)]
                length = int(value.strip() or b"0")
            if len(self.buffer) < end + 4 + length:
                return  # the body is not all here yet
            self.buffer = self.buffer[end + 4 + length :]
            parts = head.split(b"\r\n", 1)[0].split(b" ")
            target = parts[1] if len(parts) == 3 else b""
            assert self.transport is not None
            if parts[0] == b"GET" and target.startswith(TASK_PREFIX):
                done = target[len(TASK_PREFIX) :].startswith(b"done")
                self.transport.write(FINISHED if done else NOT_READY)
            else:
                self.transport.write(NOT_FOUND)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FixedProtocol, "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    print(f"http://127.0.0.1:{bound}{API_PREFIX.decode()}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
