"""Counters of what the sandbox saw and answered, for tests to assert on."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Stats"]


@attrs.define(kw_only=True)
class Stats:
    """What the sandbox has read and answered so far.

    Control routes (`/_sandbox/...`) are not counted, so reading the stats over
    loopback does not change them.

    Attributes:
        requests: Route name -> requests read (`credits`, `create`, `task`, `file`).
        creates: Create requests read, whatever became of them.
        rate_limited: 429 answers sent.
        dropped: Requests read and then left without an answer (`drop_next`,
            `drop_after_commit_next`).
        by_status: HTTP status -> answers sent.
        webhooks_delivered: Webhook delivery attempts a receiver acknowledged with
            a 2xx.
        webhooks_failed: Webhook delivery attempts that failed: a non-2xx answer, a
            refused or broken connection, a timeout, a URL that cannot be reached,
            anything else.
        webhooks_retried: Webhook delivery attempts that were retries (the second
            attempt at an event or later), whatever their outcome.
        webhooks_dropped: Webhook events never delivered on purpose
            (`Faults.webhook_drop_next`).
        webhooks_given_up: Webhook events abandoned after failing for the whole
            retry window.
    """

    requests: dict[str, int] = attrs.field(factory=dict[str, int])
    creates: int = 0
    rate_limited: int = 0
    dropped: int = 0
    by_status: dict[int, int] = attrs.field(factory=dict[int, int])
    webhooks_delivered: int = 0
    webhooks_failed: int = 0
    webhooks_retried: int = 0
    webhooks_dropped: int = 0
    webhooks_given_up: int = 0

    def count_request(self, route: str) -> None:
        """Count one request read on `route`."""
        self.requests[route] = self.requests.get(route, 0) + 1
        if route == "create":
            self.creates += 1

    def count_answer(self, status: int) -> None:
        """Count one answer sent with `status`."""
        self.by_status[status] = self.by_status.get(status, 0) + 1
        if status == 429:
            self.rate_limited += 1

    def as_dict(self) -> dict[str, Any]:
        """Return the counters as a plain, JSON-ready dict (status codes become strings in JSON)."""
        return attrs.asdict(self)
