"""Server-side limits: a request rate per key and running jobs per key."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import httpx

from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from musicapi.testing import FakeClock

ClientFactory = Callable[[Sandbox], AbstractAsyncContextManager[httpx.AsyncClient]]


async def test_rate_limit_is_a_token_bucket_on_the_clock(
    clock: FakeClock, client_for: ClientFactory
) -> None:
    sb = Sandbox(clock=clock, rate_limit=8)  # burst of 2
    async with client_for(sb) as http:
        statuses = [(await http.get("/get-credits")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = await http.get("/get-credits")
        assert limited.json() == {"error": "rate limited"}
        assert limited.headers["retry-after"] == "0.13"  # 1/8 s, rounded up
        other_key = await http.get("/get-credits", headers={"Authorization": "Bearer other"})
        assert other_key.status_code == 200
        clock.advance(0.125)
        assert (await http.get("/get-credits")).status_code == 200
    assert sb.stats.rate_limited == 2


async def test_max_concurrent_jobs(
    clock: FakeClock, client_for: ClientFactory, description_body: dict[str, object]
) -> None:
    sb = Sandbox(clock=clock, max_concurrent_jobs=2, task_seconds=3)
    async with client_for(sb) as http:
        assert (await http.post("/sonic/create", json=description_body)).status_code == 200
        clock.advance(1.04)
        assert (await http.post("/sonic/create", json=description_body)).status_code == 200
        busy = await http.post("/sonic/create", json=description_body)
        assert (busy.status_code, busy.json()) == (429, {"error": "too many concurrent jobs"})
        assert busy.headers["retry-after"] == "2"  # 1.96 s until the first ends, rounded up
        assert sb.credits == 5000 - 30
        clock.advance(1.96)
        assert (await http.post("/sonic/create", json=description_body)).status_code == 200
