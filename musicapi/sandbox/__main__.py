"""`python -m musicapi.sandbox`: serve a sandbox on a loopback port until Ctrl-C.

It prints one line, the base URL, as soon as it listens (with `--port 0`, the port
actually picked), so that a parent process can read where to connect. `--faults`
sets fault knobs from the start (the same JSON object `POST /_sandbox/faults` takes,
e.g. `{"webhook_drop_next": 1}`); `--default-webhook-secret` sets the secret that
signs the webhooks of tasks created without one, so that a receiver in another
process can verify them; `--legacy-nuro` serves the withdrawn Nuro routes as they
were documented instead of 410 Gone.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, cast

import anyio

from musicapi.sandbox._sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m musicapi.sandbox", description="Serve a local MusicAPI."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8000, help="port to bind; 0 picks a free one (default: 8000)"
    )
    parser.add_argument("--api-key", help="the only API key accepted (default: any non-empty key)")
    parser.add_argument(
        "--task-seconds", type=float, default=3.0, help="how long a generation takes (default: 3)"
    )
    parser.add_argument(
        "--credits", type=int, default=5000, help="starting credits (default: 5000)"
    )
    parser.add_argument(
        "--fail-rate", type=float, default=0.0, help="share of tasks that fail (default: 0)"
    )
    parser.add_argument(
        "--rate-limit", type=float, help="requests per second per key (default: unlimited)"
    )
    parser.add_argument(
        "--max-concurrent-jobs", type=int, help="running tasks per key (default: unlimited)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed for durations, failures and ids (default: fresh random ids in every run)",
    )
    parser.add_argument(
        "--default-webhook-secret",
        help="the secret that signs webhooks of tasks created without one "
        "(default: derived from the seed)",
    )
    parser.add_argument(
        "--webhook-timeout",
        type=float,
        default=5.0,
        help="seconds a webhook delivery may take before it is retried (default: 5)",
    )
    parser.add_argument(
        "--legacy-nuro",
        action="store_true",
        help="serve the withdrawn Nuro routes as documented instead of 410 Gone",
    )
    parser.add_argument(
        "--faults",
        metavar="JSON",
        help="fault knobs to start with: the JSON object POST /_sandbox/faults takes",
    )
    return parser


def _knobs(text: str) -> dict[str, Any]:
    """Return the fault knobs of `--faults`.

    Raises:
        ValueError: `text` is not a JSON object.
    """
    try:
        knobs = json.loads(text)
    except ValueError:
        knobs = None
    if not isinstance(knobs, dict):
        raise ValueError("--faults: must be a JSON object")
    return cast("dict[str, Any]", knobs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    try:
        sandbox = Sandbox(
            api_key=args.api_key,
            task_seconds=args.task_seconds,
            credits=args.credits,
            fail_rate=args.fail_rate,
            seed=args.seed,
            rate_limit=args.rate_limit,
            max_concurrent_jobs=args.max_concurrent_jobs,
            default_webhook_secret=args.default_webhook_secret,
            webhook_timeout=args.webhook_timeout,
            legacy_nuro=args.legacy_nuro,
        )
        if args.faults is not None:
            sandbox.faults.update(_knobs(args.faults))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the command's output
        return 2

    async def serve() -> None:
        async with sandbox.serve(args.host, args.port) as base_url:
            print(base_url, flush=True)  # noqa: T201 - the command's output
            await anyio.sleep_forever()

    try:
        anyio.run(serve)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
