"""Every fault knob, in-process."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from musicapi.sandbox import Faults, Sandbox
from musicapi.testing import FakeClock

ClientFactory = Callable[[Sandbox], AbstractAsyncContextManager[httpx.AsyncClient]]


def test_faults_are_off_by_default() -> None:
    faults = Faults()
    assert not any(
        (
            faults.error_rate,
            faults.fail_next,
            faults.rate_limit_next,
            faults.drop_next,
            faults.drop_after_commit_next,
            faults.refuse_next,
            faults.delay,
            faults.malformed_next,
            faults.fail_next_tasks,
            faults.duration_as_string,
            faults.webhook_duplicate_next,
            faults.webhook_out_of_order_next,
            faults.webhook_delay,
            faults.webhook_drop_next,
            faults.webhook_bad_signature_next,
        )
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nope": 1}, "nope: not a fault knob"),
        ({"fail_next": {"everything": 1}}, "fail_next: must map route names"),
        ({"error_rate": {"create": 2}}, "error_rate: must map route names"),
        ({"error_status": 200}, "error_status: must be a known 4xx or 5xx"),
        ({"malformed_kind": "weird"}, "malformed_kind: must be one of"),
        ({"fail_type": "exploded"}, "fail_type: must be one of"),
        ({"rate_limit_next": -1}, "rate_limit_next: must be a count"),
        ({"error_status": 500.0}, "error_status: must be a known 4xx or 5xx"),
        ({"error_status": True}, "error_status: must be a known 4xx or 5xx"),
        ({"retry_after": "1\r\nx-injected: 1"}, "retry_after: must be seconds"),
        ({"delay": {"credits": float("inf")}}, "delay: must map route names"),
        ({"duration_as_string": 1}, "duration_as_string: must be a boolean"),
        ({"webhook_duplicate_next": -1}, "webhook_duplicate_next: must be a count"),
        ({"webhook_out_of_order_next": 1.0}, "webhook_out_of_order_next: must be a count"),
        ({"webhook_delay": float("nan")}, "webhook_delay: must be seconds"),
        ({"webhook_delay": -0.5}, "webhook_delay: must be seconds"),
        ({"webhook_drop_next": False}, "webhook_drop_next: must be a count"),
        ({"webhook_bad_signature_next": "2"}, "webhook_bad_signature_next: must be a count"),
    ],
)
def test_update_rejects_bad_knobs_and_changes_nothing(
    changes: dict[str, object], message: str
) -> None:
    faults = Faults()
    with pytest.raises(ValueError, match=message):
        faults.update({"rate_limit_next": 3, **changes})
    assert faults == Faults()


async def test_fail_next_answers_error_status_n_times(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.fail_next["credits"] = 2
    sandbox.faults.error_status = 503
    first = await client.get("/get-credits")
    assert (first.status_code, first.json()) == (503, {"error": "service unavailable"})
    statuses = [(await client.get("/get-credits")).status_code for _ in range(2)]
    assert statuses == [503, 200]
    assert sandbox.faults.fail_next == {"credits": 0}


async def test_star_means_any_api_route_but_not_files(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.fail_next["*"] = 2
    assert (await client.get("/files/x.wav")).status_code == 404
    assert (await client.get("/sonic/task/x")).status_code == 500
    response = await client.get("/get-credits")
    assert (response.status_code, response.json()) == (500, {"error": "internal server error"})
    assert (await client.get("/get-credits")).status_code == 200


async def test_error_rate_is_seeded(clock: FakeClock, client_for: ClientFactory) -> None:
    async def statuses() -> list[int]:
        sb = Sandbox(clock=clock, seed=3)
        sb.faults.error_rate["credits"] = 0.5
        async with client_for(sb) as http:
            return [(await http.get("/get-credits")).status_code for _ in range(40)]

    first = await statuses()
    assert first == await statuses()
    assert 5 < first.count(500) < 35


@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(2, "2"), (0.25, "0.25"), ("Wed, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 GMT")],
)
async def test_rate_limit_next(
    client: httpx.AsyncClient, sandbox: Sandbox, retry_after: float | str, header: str
) -> None:
    sandbox.faults.rate_limit_next = 1
    sandbox.faults.retry_after = retry_after
    limited = await client.get("/sonic/task/x")
    assert (limited.status_code, limited.json()) == (429, {"error": "rate limited"})
    assert limited.headers["retry-after"] == header
    assert (await client.get("/get-credits")).status_code == 200
    assert sandbox.stats.rate_limited == 1


async def test_rate_limit_next_without_retry_after(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.rate_limit_next = 1
    limited = await client.get("/get-credits")
    assert limited.status_code == 429
    assert "retry-after" not in limited.headers


async def test_drop_next_create_reads_but_does_not_create(
    client: httpx.AsyncClient, sandbox: Sandbox, description_body: dict[str, object]
) -> None:
    sandbox.faults.drop_next["create"] = 1
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        await client.post("/sonic/create", json=description_body)
    assert sandbox.tasks == {}
    assert sandbox.credits == 5000
    assert (sandbox.stats.creates, sandbox.stats.dropped, sandbox.stats.by_status) == (1, 1, {})
    assert (await client.post("/sonic/create", json=description_body)).status_code == 200


async def test_drop_after_commit_creates_and_charges(
    client: httpx.AsyncClient, sandbox: Sandbox, description_body: dict[str, object]
) -> None:
    sandbox.faults.drop_after_commit_next["create"] = 1
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/sonic/create", json=description_body)
    assert len(sandbox.tasks) == 1
    assert sandbox.credits == 4985
    assert sandbox.stats.dropped == 1


async def test_refuse_next_is_a_connect_error_the_app_never_sees(
    client: httpx.AsyncClient, sandbox: Sandbox, description_body: dict[str, object]
) -> None:
    sandbox.faults.refuse_next["create"] = 1
    with pytest.raises(httpx.ConnectError):
        await client.post("/sonic/create", json=description_body)
    assert (sandbox.stats.creates, sandbox.stats.requests) == (0, {})
    assert (await client.post("/sonic/create", json=description_body)).status_code == 200


async def test_delay_waits_on_the_clock(client_for: ClientFactory) -> None:
    clock = FakeClock()  # autojump: the delayed answer comes as soon as all else is idle
    sb = Sandbox(clock=clock)
    sb.faults.delay["credits"] = 30.0
    async with client_for(sb) as http:
        response = await http.get("/get-credits")
        assert response.status_code == 200
        assert clock.now() == 30.0
        await http.get("/sonic/task/x")
        assert clock.now() == 30.0


@pytest.mark.parametrize(
    ("route", "method", "path", "shape"),
    [
        ("credits", "GET", "/get-credits", {"credits": "lots"}),
        ("create", "POST", "/sonic/create", {"message": "success"}),
        ("task", "GET", "/sonic/task/x", {"code": 200, "data": "oops"}),
    ],
)
@pytest.mark.parametrize("kind", ["not_json", "wrong_shape"])
async def test_malformed_next(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    description_body: dict[str, object],
    route: str,
    method: str,
    path: str,
    shape: dict[str, object],
    kind: str,
) -> None:
    sandbox.faults.malformed_next[route] = 1
    sandbox.faults.malformed_kind = kind
    response = await client.request(method, path, json=description_body)
    assert response.status_code == 200
    if kind == "not_json":
        assert response.text.startswith("<html>")
    else:
        assert response.json() == shape
    assert (await client.request(method, path, json=description_body)).json() != shape


@pytest.mark.parametrize("fail_type", ["failed", "timeout", "forbidden", "api_error"])
async def test_fail_types(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
    fail_type: str,
) -> None:
    sandbox.faults.update({"fail_next_tasks": 1, "fail_type": fail_type})
    task_id = (await client.post("/sonic/create", json=description_body)).json()["task_id"]
    clock.advance(3)
    body = (await client.get(f"/sonic/task/{task_id}")).json()
    assert body["type"] == fail_type
    assert body["error"]


async def test_faults_can_be_replaced_whole(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults = Faults(fail_next={"credits": 1})
    assert (await client.get("/get-credits")).status_code == 500


async def test_duration_as_string_on_the_task_endpoint(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    task_id = (await client.post("/sonic/create", json=description_body)).json()["task_id"]
    clock.advance(3)
    documented = (await client.get(f"/sonic/task/{task_id}")).json()["data"]
    assert all(isinstance(clip["duration"], float) for clip in documented)
    sandbox.faults.duration_as_string = True
    odd = (await client.get(f"/sonic/task/{task_id}")).json()["data"]
    assert [clip["duration"] for clip in odd] == [f"{clip['duration']:.2f}" for clip in documented]
