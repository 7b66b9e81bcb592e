"""The task lifecycle in-process: create, not ready, done, failed; credits and refunds."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

import httpx
import pytest

from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from musicapi.testing import FakeClock

ClientFactory = Callable[[Sandbox], AbstractAsyncContextManager[httpx.AsyncClient]]
KEY = "sk-test-key"  # the key the `client` fixtures send
_UNAUTHORIZED = {"error": "Unauthorized", "message": "Invalid API key"}

CLIP_FIELDS = {
    "clip_id",
    "state",
    "title",
    "tags",
    "lyrics",
    "image_url",
    "audio_url",
    "video_url",
    "created_at",
    "gpt_description_prompt",
    "duration",
    "negative_tags",
    "style_weight",
    "weirdness_constraint",
    "mv",
}


async def test_credits(client: httpx.AsyncClient) -> None:
    response = await client.get("/get-credits")
    assert response.status_code == 200
    assert response.json() == {"credits": 5000, "extra_credits": 0}
    assert response.headers["x-request-id"].startswith("req_")


async def test_create_not_ready_then_two_clips(
    client: httpx.AsyncClient, sandbox: Sandbox, clock: FakeClock, custom_body: dict[str, object]
) -> None:
    created = await client.post("/sonic/create", json=custom_body)
    assert created.status_code == 200
    body = created.json()
    assert body["message"] == "success"
    task_id = body["task_id"]
    assert uuid.UUID(task_id).version == 4

    running = await client.get(f"/sonic/task/{task_id}")
    assert (running.status_code, running.json()) == (202, {"type": "not_ready"})
    clock.advance(2.99)
    assert (await client.get(f"/sonic/task/{task_id}")).status_code == 202
    clock.advance(0.01)

    done = await client.get(f"/sonic/task/{task_id}")
    assert done.status_code == 200
    result = done.json()
    assert (result["code"], result["message"]) == (200, "success")
    first, second = result["data"]
    for clip in (first, second):
        assert CLIP_FIELDS <= clip.keys()
        assert clip["play_count"] == 0  # a field no client knows
        assert clip["state"] == "succeeded"
        assert clip["title"] == "Night Drive"
        assert clip["tags"] == "synthwave, retro, energetic"
        assert clip["lyrics"] == custom_body["prompt"]
        assert clip["mv"] == "chirp-v5"
        assert clip["audio_url"] == f"http://localhost/files/{clip['clip_id']}.wav"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", clip["created_at"])
    assert first["clip_id"] != second["clip_id"]
    for clip in (first, second):  # a number, as the OpenAPI types it (§2.3)
        assert isinstance(clip["duration"], float)
        assert 2 <= clip["duration"] <= 4
        assert clip["video_url"] is None
        assert clip["image_url"] == f"http://localhost/files/{clip['clip_id']}.jpg"
    assert sandbox.task(task_id).state == "succeeded"
    assert sandbox.task(task_id).payload == custom_body
    assert sandbox.credits == 5000 - 15


async def test_description_mode_derives_title_and_tags(
    client: httpx.AsyncClient, clock: FakeClock, description_body: dict[str, object]
) -> None:
    task_id = (await client.post("/sonic/create", json=description_body)).json()["task_id"]
    clock.advance(3)
    clip = (await client.get(f"/sonic/task/{task_id}")).json()["data"][0]
    assert clip["title"] == "Uplifting Synthwave Female Vocals"
    assert "synthwave" in clip["tags"]
    assert clip["gpt_description_prompt"] == description_body["gpt_description_prompt"]


async def test_failed_task_is_refunded_when_it_fails(
    sandbox: Sandbox,
    client: httpx.AsyncClient,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.fail_next_tasks = 1
    sandbox.faults.fail_type = "timeout"
    task_id = (await client.post("/sonic/create", json=description_body)).json()["task_id"]
    assert (await client.get("/get-credits")).json()["credits"] == 4985
    clock.advance(3)
    failed = await client.get(f"/sonic/task/{task_id}")
    assert failed.status_code == 200
    assert failed.json() == {"type": "timeout", "error": "upstream generation timed out"}
    assert (await client.get("/get-credits")).json()["credits"] == 5000
    assert sandbox.task(task_id).fail_type == "timeout"
    # only the next one fails
    task_id = (await client.post("/sonic/create", json=description_body)).json()["task_id"]
    clock.advance(3)
    assert (await client.get(f"/sonic/task/{task_id}")).json()["code"] == 200


async def test_fail_rate_is_seeded(
    clock: FakeClock, client_for: ClientFactory, description_body: dict[str, object]
) -> None:
    async def outcomes(seed: int) -> list[str]:
        sb = Sandbox(clock=clock, fail_rate=0.5, seed=seed)
        async with client_for(sb) as http:
            ids = [
                (await http.post("/sonic/create", json=description_body)).json()["task_id"]
                for _ in range(40)
            ]
        clock.advance(3)
        return [sb.task(task_id).state for task_id in ids]

    first = await outcomes(7)
    assert first == await outcomes(7)
    assert 5 < first.count("failed") < 35
    assert set(first) == {"succeeded", "failed"}


async def test_task_seconds_spread(
    clock: FakeClock, client_for: ClientFactory, description_body: dict[str, object]
) -> None:
    sb = Sandbox(clock=clock, task_seconds=10, task_seconds_spread=0.5, credits=10_000)
    async with client_for(sb) as http:
        for _ in range(50):
            await http.post("/sonic/create", json=description_body)
    durations = sorted(task.ends - task.started for task in sb.tasks.values())
    assert durations[0] < 8
    assert durations[-1] > 12
    assert 7 < durations[25] < 14


async def test_extra_credits_are_spent_first_and_refunded(
    clock: FakeClock, client_for: ClientFactory, description_body: dict[str, object]
) -> None:
    sb = Sandbox(clock=clock, credits=100, extra_credits=10, fail_rate=1.0)
    async with client_for(sb) as http:
        await http.post("/sonic/create", json=description_body)
        assert (await http.get("/get-credits")).json() == {"credits": 95, "extra_credits": 0}
        clock.advance(3)
        assert (await http.get("/get-credits")).json() == {"credits": 100, "extra_credits": 10}


async def test_insufficient_credits_is_403(
    clock: FakeClock, client_for: ClientFactory, description_body: dict[str, object]
) -> None:
    sb = Sandbox(clock=clock, credits=14)
    async with client_for(sb) as http:
        response = await http.post("/sonic/create", json=description_body)
    assert response.status_code == 403
    assert response.json() == {
        "error": "Insufficient credits",
        "message": "insufficient credits or no active subscription",
    }
    assert sb.tasks == {}
    assert sb.credits == 14


async def test_continue_clip_id_must_be_known_and_concat_costs_2(
    client: httpx.AsyncClient, sandbox: Sandbox, clock: FakeClock, custom_body: dict[str, object]
) -> None:
    unknown = await client.post(
        "/sonic/create", json={"task_type": "concat_music", "continue_clip_id": "nope"}
    )
    assert (unknown.status_code, unknown.json()) == (404, {"error": "clip not found"})
    task_id = (await client.post("/sonic/create", json=custom_body)).json()["task_id"]
    clock.advance(3)
    clip_id = (await client.get(f"/sonic/task/{task_id}")).json()["data"][0]["clip_id"]
    concat = await client.post(
        "/sonic/create", json={"task_type": "concat_music", "continue_clip_id": clip_id}
    )
    assert concat.status_code == 200
    assert sandbox.credits == 5000 - 15 - 2
    clock.advance(3)
    whole = (await client.get(f"/sonic/task/{concat.json()['task_id']}")).json()["data"][0]
    assert (whole["title"], whole["mv"]) == ("Night Drive", "chirp-v5")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}, {"Authorization": KEY}],
)
async def test_missing_or_malformed_key_is_401(sandbox: Sandbox, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as http:
        response = await http.get("/get-credits", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized", "message": "Invalid API key"}
    assert "x-request-id" in response.headers


async def test_only_the_configured_key_is_accepted(
    clock: FakeClock, client_for: ClientFactory
) -> None:
    sb = Sandbox(clock=clock, api_key="the-one-key")
    async with client_for(sb) as http:
        wrong = await http.get("/get-credits")
        right = await http.get("/get-credits", headers={"Authorization": "Bearer the-one-key"})
    assert wrong.status_code == 401
    assert "the-one-key" not in wrong.text
    assert KEY not in wrong.text
    assert right.status_code == 200
    assert "the-one-key" not in repr(sb)


async def test_unknown_task_route_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/sonic/task/does-not-exist")
    assert (missing.status_code, missing.json()) == (404, {"error": "task not found"})
    assert (await client.get("/nothing/here")).status_code == 404
    wrong_method = await client.get("/sonic/create")
    assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "POST")
    wrong_method = await client.delete("/get-credits")
    assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "GET")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nothing/here"),
        ("GET", "/api/v1"),
        ("GET", "/api/v1/"),
        ("POST", "/api/v1/sonic/lyrics"),
        ("GET", "/api/v1/sonic/create"),  # a wrong method on a known path
        ("PUT", "/api/v1/sonic/task/x"),
        ("GET", "/api/v1/sonic/task/x"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic abc"}])
async def test_auth_comes_before_routing_under_the_api_prefix(
    sandbox: Sandbox, method: str, path: str, headers: dict[str, str]
) -> None:
    # Issue 8: an unknown path under /api/v1 without a key was a 404, telling an
    # unauthenticated caller which paths exist; a real gateway checks the key first.
    async with httpx.AsyncClient(transport=sandbox.transport()) as http:
        response = await http.request(method, f"http://localhost{path}", headers=headers)
    assert (response.status_code, response.json()) == (401, _UNAUTHORIZED)


async def test_paths_outside_the_api_need_no_key(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(transport=sandbox.transport()) as http:
        for path in ("/", "/api/v2/get-credits", "/api/v1x", "/files/nope.wav"):
            assert (await http.get(f"http://localhost{path}")).status_code == 404


async def test_ids_are_fresh_uuids_unless_seeded(
    clock: FakeClock, client_for: ClientFactory, description_body: dict[str, object]
) -> None:
    # Issue 8: every sandbox handed out the same ids (seed 0), so two runs, or two test
    # sessions against one shared sandbox, saw identical task and clip ids.
    async def ids(seed: int | None) -> list[str]:
        sb = Sandbox(clock=clock, seed=seed)
        async with client_for(sb) as http:
            task_id = (await http.post("/sonic/create", json=description_body)).json()["task_id"]
            clock.advance(3)
            clips = (await http.get(f"/sonic/task/{task_id}")).json()["data"]
        return [task_id, *(clip["clip_id"] for clip in clips)]

    first, second = await ids(None), await ids(None)
    assert set(first).isdisjoint(second)
    assert all(uuid.UUID(value).version == 4 for value in first + second)
    assert await ids(5) == await ids(5)
    assert await ids(5) != await ids(6)


async def test_request_ids_are_unique(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/get-credits")).headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


async def test_stats_count_what_was_read_and_answered(
    client: httpx.AsyncClient, sandbox: Sandbox, description_body: dict[str, object]
) -> None:
    await client.get("/get-credits")
    task_id = (await client.post("/sonic/create", json=description_body)).json()["task_id"]
    await client.get(f"/sonic/task/{task_id}")
    await client.post("/sonic/create", json={"mv": "nope"})
    assert sandbox.stats.as_dict() == {
        "requests": {"credits": 1, "create": 2, "task": 1},
        "creates": 2,
        "rate_limited": 0,
        "dropped": 0,
        "by_status": {200: 2, 202: 1, 400: 1},
        "webhooks_delivered": 0,
        "webhooks_failed": 0,
        "webhooks_retried": 0,
        "webhooks_dropped": 0,
        "webhooks_given_up": 0,
    }
