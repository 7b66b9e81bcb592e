"""The control API under /_sandbox/ (here in-process; the loopback tests use it too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from musicapi.testing import FakeClock


@pytest.fixture
async def control(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    base_url = "http://localhost/_sandbox"
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=base_url) as http:
        yield http


async def test_set_read_and_reset_faults(
    control: httpx.AsyncClient, client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    changed = await control.post("/faults", json={"fail_next": {"credits": 1}})
    assert changed.status_code == 200
    assert changed.json()["fail_next"] == {"credits": 1}
    assert sandbox.faults.fail_next == {"credits": 1}
    assert (await control.get("/faults")).json()["fail_next"] == {"credits": 1}
    assert (await client.get("/get-credits")).status_code == 500
    sandbox.faults.rate_limit_next = 5
    reset = await control.delete("/faults")
    assert reset.json()["rate_limit_next"] == 0
    assert sandbox.faults.rate_limit_next == 0


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b'{"fail_next": {"nowhere": 1}}', "fail_next: must map route names"),
        (b'{"bogus": true}', "bogus: not a fault knob"),
        (b"[]", "body: must be a JSON object"),
    ],
)
async def test_bad_fault_updates_are_400(
    control: httpx.AsyncClient, content: bytes, error: str
) -> None:
    response = await control.post("/faults", content=content)
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)


async def test_stats_are_not_counting_control_requests(
    control: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    await client.get("/get-credits")
    stats = (await control.get("/stats")).json()
    assert (await control.get("/stats")).json() == stats
    assert stats["requests"] == {"credits": 1}
    assert stats["by_status"] == {"200": 1}


async def test_advance_the_fake_clock(
    control: httpx.AsyncClient,
    client: httpx.AsyncClient,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    task_id = (await client.post("/sonic/create", json=description_body)).json()["task_id"]
    assert (await control.post("/clock", json={"advance": -1})).status_code == 400
    advanced = await control.post("/clock", json={"advance": 3})
    assert advanced.json() == {"now": 3.0}
    assert clock.now() == 3.0
    assert (await client.get(f"/sonic/task/{task_id}")).status_code == 200


async def test_the_real_clock_cannot_be_advanced() -> None:
    sandbox = Sandbox()
    async with httpx.AsyncClient(transport=sandbox.transport()) as http:
        response = await http.post("http://localhost/_sandbox/clock", json={"advance": 1})
    assert response.status_code == 400
    assert response.json()["error"].startswith("clock: ")


async def test_unknown_control_routes(control: httpx.AsyncClient) -> None:
    assert (await control.get("/nope")).status_code == 404
    assert (await control.get("/clock")).status_code == 405
