"""Receive MusicAPI's webhooks in a WSGI app (Flask, Django, ...) with `WebhookReceiver.handle()`.

The `WebhookReceiver` that mounts as an ASGI app also has a plain, synchronous entry
point for WSGI frameworks: `handle(body, headers)` verifies the delivery's signature
over the raw body, drops duplicates, runs the `@receiver.on_event` functions in the
calling thread and returns the status and JSON body to answer with. This example
serves the smallest WSGI app there is (standard library only, `wsgiref`); in Flask the
view is three lines:

    @app.post("/webhooks/musicapi")
    def musicapi_webhook():
        status, answer = receiver.handle(request.get_data(), request.headers)
        return answer, status, {"Content-Type": "application/json"}

The script serves the app on a free loopback port, shows a forged delivery refused,
creates two generations whose `webhook_url` is the app, prints each verified delivery
as it arrives (no polling loop), then asks the API once per task to confirm: a webhook
is a wake-up call, the task itself is the record. Run it with

    python examples/08_webhook_receiver_wsgi.py

Without `MUSICAPI_KEY` the API is a sandbox served on loopback, which posts signed
webhooks to the app like the real platform. With `MUSICAPI_KEY` set (real credits),
set `PUBLIC_URL` to a public address that forwards to the app's `--port` (a tunnel)
and `MUSICAPI_WEBHOOK_SECRET` to your secret.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import secrets
import sys
import threading
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
from _common import on_sandbox

from musicapi import MusicAPI, MusicAPIError
from musicapi.sandbox import Sandbox
from musicapi.webhooks import WebhookEvent, WebhookReceiver

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

WEBHOOK_PATH = "/webhooks/musicapi"
PROMPTS = ("lofi hip hop for studying", "acoustic folk ballad about the sea")
SANDBOX_TASK_SECONDS = 1.0
"""How long a generation takes on the demo's sandbox (real seconds)."""


def make_wsgi_app(
    receiver: WebhookReceiver,
) -> Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]]:
    """Return a WSGI app that hands `POST /webhooks/musicapi` to `receiver.handle()`."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def answer(status: int, body: bytes = b"", *extra: tuple[str, str]) -> list[bytes]:
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response(f"{status} {HTTPStatus(status).phrase}", [*headers, *extra])
            return [body]

        if environ.get("PATH_INFO") != WEBHOOK_PATH:
            return answer(404, b'{"error":"not found"}')
        if environ.get("REQUEST_METHOD") != "POST":
            return answer(405, b'{"error":"only POST is allowed"}', ("Allow", "POST"))
        length = str(environ.get("CONTENT_LENGTH") or "0")
        if not length.isdigit():
            return answer(400, b'{"error":"malformed Content-Length header"}')
        if int(length) > receiver.max_body:  # refuse before reading
            return answer(413, b'{"error":"the body is too large"}')
        body: bytes = environ["wsgi.input"].read(int(length))  # the raw bytes: never re-encode
        # WSGI renames headers (X-Webhook-Id -> HTTP_X_WEBHOOK_ID); handle() ignores case.
        headers = {
            key[5:].replace("_", "-"): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["Content-Type"] = str(environ.get("CONTENT_TYPE", ""))
        status, reply = receiver.handle(body, headers)
        return answer(status, reply)

    return app


class QuietHandler(WSGIRequestHandler):
    """`wsgiref`'s handler without its access log on stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing."""


@contextlib.contextmanager
def serve(
    app: Callable[[WSGIEnvironment, StartResponse], Iterable[bytes]], port: int
) -> Generator[str, None, None]:
    """Serve `app` on loopback in a thread until the block ends; yield its base URL."""
    server: WSGIServer = make_server("127.0.0.1", port, app, handler_class=QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="wsgi", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def forged_delivery(app_url: str) -> None:
    """POST a delivery signed with the wrong secret, as an attacker would."""
    body = b'{"code":200,"data":[],"task_id":"forged"}'
    headers = {
        "X-Webhook-Id": "evt_forged",
        "X-Webhook-Event": "song.completed",
        "X-Webhook-Timestamp": "1700000000",
        "X-Webhook-Signature": "sha256=" + "0" * 64,
    }
    response = httpx.post(f"{app_url}{WEBHOOK_PATH}", content=body, headers=headers)
    print(f"a forged delivery: {response.status_code} {response.json()['error']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--port", type=int, default=0, help="the app's loopback port (default: a free one)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    secret = os.environ.get("MUSICAPI_WEBHOOK_SECRET") or secrets.token_hex(16)
    receiver = WebhookReceiver(secret)
    events: queue.Queue[WebhookEvent] = queue.Queue()

    @receiver.on_event
    def song_ready(event: WebhookEvent) -> None:  # runs in the WSGI request's thread
        titles = ", ".join(clip.title or "?" for clip in event.clips)
        print(f"verified: {event.type} for task {event.task_id}, {event.state}: {titles}")
        events.put(event)

    with contextlib.ExitStack() as stack:
        app_url = stack.enter_context(serve(make_wsgi_app(receiver), args.port))
        if on_sandbox():
            print("using the sandbox (no MUSICAPI_KEY set)")
            api_url = stack.enter_context(
                Sandbox(task_seconds=SANDBOX_TASK_SECONDS).serve_in_thread()
            )
            api = stack.enter_context(MusicAPI("sandbox-key", base_url=api_url))
            public_url, patience = app_url, 30.0
        else:
            public_url, patience = os.environ.get("PUBLIC_URL", ""), 900.0
            if not public_url:
                print("error: set PUBLIC_URL: MusicAPI cannot reach loopback", file=sys.stderr)
                return 2
            api = stack.enter_context(MusicAPI())
        webhook_url = f"{public_url.rstrip('/')}{WEBHOOK_PATH}"
        print(f"the WSGI app listens on {app_url}; its webhook URL is {webhook_url}")
        forged_delivery(app_url)

        try:
            pending = {
                api.sonic.create(
                    gpt_description_prompt=prompt, webhook_url=webhook_url, webhook_secret=secret
                ).task_id
                for prompt in PROMPTS
            }
            print(f"created {len(pending)} tasks; waiting for their webhooks")
            done: list[str] = []
            while pending:
                try:
                    event = events.get(timeout=patience)
                except queue.Empty:
                    print(f"no webhook within {patience:g} s; the tasks are: {sorted(pending)}")
                    return 1
                if event.is_final and event.task_id in pending:
                    pending.remove(event.task_id)
                    done.append(event.task_id)
            for task_id in done:  # the record: one request per task, no polling loop
                task = api.sonic.get(task_id)
                print(f"the API confirms: task {task_id} {task.state}, {len(task.clips)} clips")
        except MusicAPIError as exc:
            print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
