"""Webhook wake-ups for the task engine: which wait a verified delivery is for.

A client given a `WebhookReceiver` (or an event bus) holds one subscription to its
verified deliveries. The `WakeRouter` hands each delivery to every wait watching that
task; the scheduler of that wait then polls at once, and one GET confirms the result.
Polling stays the source of truth: jobs a webhook will wake keep a slow fallback poll
(`WEBHOOK_FALLBACK_POLICY`), so a lost delivery never loses a job.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

import anyio

from musicapi._wait import PollPolicy

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["EARLY_DELIVERIES", "WEBHOOK_FALLBACK_POLICY", "WakeRouter", "Wakeups"]


class _Delivery(Protocol):
    @property
    def task_id(self) -> str | None: ...


class Wakeups(Protocol):
    """A source of verified webhook deliveries (a `musicapi.webhooks` subscription)."""

    async def receive(self) -> _Delivery:
        """Wait for the next delivery."""
        ...


WEBHOOK_FALLBACK_POLICY = PollPolicy(min_interval=15.0, max_interval=25.0)
"""How a job that a webhook will wake polls meanwhile: the 15 to 25 s the API's docs
recommend, so that a lost delivery never loses a job and costs few requests."""
EARLY_DELIVERIES = 1024
"""Deliveries kept for task ids nobody waits for yet (a delivery can beat the create's answer)."""


class WakeRouter:
    """Hands each webhook delivery to the scheduler waiting for its task.

    Every scheduler round of the client listens on the one subscription while it runs;
    whichever round receives a delivery routes it to every wait watching that task, so
    concurrent waits (even two on one task) never steal each other's wake-ups.
    Deliveries that arrive while no round runs stay buffered in the subscription;
    deliveries for a task nobody waits for yet are remembered briefly.

    Args:
        source: The client's subscription to verified deliveries.
    """

    def __init__(self, source: Wakeups) -> None:
        self._source = source
        self._waiting: dict[str, list[Callable[[str], None]]] = {}
        self._early: OrderedDict[str, None] = OrderedDict()

    def watch(self, task_id: str, wake: Callable[[str], None]) -> None:
        """Call `wake(task_id)` when a delivery for `task_id` arrives (at once if one did)."""
        self._waiting.setdefault(task_id, []).append(wake)
        if self._early.pop(task_id, 0) is None:
            wake(task_id)

    def unwatch(self, task_id: str, wake: Callable[[str], None]) -> None:
        """Stop calling `wake` for `task_id` (other waits on the task keep theirs)."""
        wakes = self._waiting.get(task_id)
        if wakes is not None and wake in wakes:
            wakes.remove(wake)
            if not wakes:
                del self._waiting[task_id]

    async def listen(self) -> None:
        """Receive deliveries and route them, until cancelled or the subscription closes.

        A closed subscription (the client is closing) ends the listening, not the wait:
        polling goes on as the source of truth.
        """
        while True:
            try:
                delivery = await self._source.receive()
            except (anyio.ClosedResourceError, anyio.EndOfStream):
                return
            task_id = delivery.task_id
            if not isinstance(task_id, str):  # pyright: ignore[reportUnnecessaryIsInstance]
                continue
            wakes = self._waiting.get(task_id)
            if wakes:
                for wake in list(wakes):
                    wake(task_id)
            else:
                self._early[task_id] = None
                if len(self._early) > EARLY_DELIVERIES:
                    self._early.popitem(last=False)
