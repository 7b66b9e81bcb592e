"""The sandbox's webhook signer, pinned by the shared vectors; and the SDK's verifier on it.

`tests/vectors/webhook_signatures.json` was computed with OpenSSL, apart from both the
sandbox's signer and `musicapi.webhooks.verify`: the two sides agree because each
matches the vectors, not because they share code (the sandbox imports nothing of
`musicapi.webhooks`, which a test below checks). The last tests let the two meet:
what the sandbox sends, the SDK's verifier accepts (importing the verifier is fine in
a test, just not in the sandbox).
"""

from __future__ import annotations

import ast
import json
import pathlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import musicapi.sandbox
from musicapi import WebhookVerificationError
from musicapi.sandbox._deliveries import delivery_body, sign, signed_headers
from musicapi.sandbox._state import TaskRecord
from musicapi.webhooks import verify

if TYPE_CHECKING:
    from musicapi.sandbox import Sandbox
    from musicapi.testing import FakeClock

_FILE = pathlib.Path(__file__).parents[1] / "vectors" / "webhook_signatures.json"
VECTORS: list[dict[str, Any]] = json.loads(_FILE.read_text(encoding="utf-8"))["vectors"]
HOOK = "https://hooks.test/in"


def _vector(name: str) -> dict[str, Any]:
    return next(vector for vector in VECTORS if vector["name"] == name)


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 8
    assert len({vector["name"] for vector in VECTORS}) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_the_signer_reproduces_every_vector(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    assert sign(vector["secret"], vector["timestamp"], body) == vector["signature"]
    headers = signed_headers("evt_1", "succeeded", vector["secret"], vector["timestamp"], body)
    assert headers["x-webhook-timestamp"] == str(vector["timestamp"])
    assert headers["x-webhook-signature"] == vector["signature"]


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_any_change_breaks_the_signature(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    assert sign(vector["secret"] + "x", vector["timestamp"], body) != vector["signature"]
    assert sign(vector["secret"], vector["timestamp"] + 1, body) != vector["signature"]
    assert sign(vector["secret"], vector["timestamp"], body + b" ") != vector["signature"]


def test_a_sandbox_failure_body_is_the_vector_byte_for_byte() -> None:
    vector = _vector("sandbox-style-failure")
    record = TaskRecord(
        task_id="4f1c2d3e-0000-4000-8000-000000000002",
        task_type="create_music",
        payload={"webhook_url": HOOK},
        owner="test",
        started=0.0,
        ends=0.0,
        created_unix=0.0,
        outcome="failed",
        charged=(0, 0),
        state="failed",
    )
    body = delivery_body(record, "failed", "http://localhost/files")
    assert body == vector["body"].encode("utf-8")
    assert sign(vector["secret"], vector["timestamp"], body) == vector["signature"]


def test_the_sandbox_imports_nothing_of_the_sdks_webhooks() -> None:
    banned = ("musicapi.webhooks", "musicapi._webhooks")
    package = pathlib.Path(musicapi.sandbox.__file__).parent
    files = sorted(package.rglob("*.py"))
    assert files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for name in names:
                assert not name.startswith(banned), f"{path.name} imports {name}"


# -- the SDK's verifier on real sandbox deliveries ------------------------------------


class _Recorder:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses = statuses or []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 204)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


def _verify(request: httpx.Request, secret: str | list[str]) -> Any:
    now = float(request.headers["x-webhook-timestamp"])
    return verify(request.content, request.headers, secret, now=now)


async def test_the_sdk_verifies_every_kind_of_sandbox_delivery(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    body = {**description_body, "webhook_url": HOOK}
    own = (await client.post("/sonic/create", json={**body, "webhook_secret": "s3"})).json()
    sandbox.faults.fail_next_tasks = 1
    failing = (await client.post("/sonic/create", json=body)).json()
    recorder = _Recorder()
    async with recorder.client() as receiver:
        clock.advance(2.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
        clock.advance(0.5)
        assert await sandbox.deliver_due_webhooks(receiver) == 2
    streaming, *finals = recorder.requests
    succeeded, failed = sorted(finals, key=lambda request: request.headers["x-webhook-event"])
    both = ["s3", sandbox.default_webhook_secret]
    seen = []
    for request, secret in ((streaming, "s3"), (succeeded, "s3"), (failed, both)):
        event = _verify(request, secret)
        assert event.id == request.headers["x-webhook-id"]
        assert event.type == request.headers["x-webhook-event"]
        seen.append((event.task_id, event.state, len(event.clips)))
    assert seen == [
        (own["task_id"], "streaming", 2),
        (own["task_id"], "succeeded", 2),
        (failing["task_id"], "failed", 0),
    ]
    assert _verify(failed, sandbox.default_webhook_secret).reason == (
        "failed: generation failed upstream"
    )
    with pytest.raises(WebhookVerificationError):
        _verify(succeeded, sandbox.default_webhook_secret)  # not the task's secret


async def test_the_sdk_refuses_a_wrongly_signed_delivery_and_takes_its_retry(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    clock: FakeClock,
    description_body: dict[str, object],
) -> None:
    sandbox.faults.webhook_bad_signature_next = 1
    body = {**description_body, "webhook_url": HOOK, "webhook_secret": "s3"}
    task_id = (await client.post("/sonic/create", json=body)).json()["task_id"]
    clock.advance(3)
    recorder = _Recorder(statuses=[401])
    async with recorder.client() as receiver:
        assert await sandbox.deliver_due_webhooks(receiver) == 0
        clock.advance(1)
        assert await sandbox.deliver_due_webhooks(receiver) == 1
    forged, retry = recorder.requests
    with pytest.raises(WebhookVerificationError):
        _verify(forged, "s3")
    event = _verify(retry, "s3")
    assert (event.id, event.task_id, event.state) == (
        forged.headers["x-webhook-id"],
        task_id,
        "succeeded",
    )
