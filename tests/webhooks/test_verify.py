"""`musicapi.webhooks.verify`: the signature, the timestamp, the headers and the body."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import musicapi
from musicapi import webhooks
from musicapi._converter import parse_task
from musicapi.models import Clip
from musicapi.webhooks import WebhookEvent, verify

if TYPE_CHECKING:
    import contextlib

    from conftest import WebhookKit

VECTORS_FILE = Path(__file__).resolve().parent.parent / "vectors" / "webhook_signatures.json"
VECTORS_DOCUMENT: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = VECTORS_DOCUMENT["vectors"]
FIELDS: dict[str, str] = VECTORS_DOCUMENT["fields"]

HEADERS = ["X-Webhook-Id", "X-Webhook-Event", "X-Webhook-Timestamp", "X-Webhook-Signature"]


def _raises(
    match: str,
) -> contextlib.AbstractContextManager[pytest.ExceptionInfo[musicapi.WebhookVerificationError]]:
    return pytest.raises(musicapi.WebhookVerificationError, match=match)


# -- the shared vectors -----------------------------------------------------------------


def test_the_vectors_file_is_well_formed() -> None:
    assert len(VECTORS) >= 6
    assert any(any(ord(ch) > 127 for ch in vector["body"]) for vector in VECTORS)
    assert any(any(ord(ch) > 127 for ch in vector["secret"]) for vector in VECTORS)
    for vector in VECTORS:
        assert set(vector) == set(FIELDS)
        assert vector["signature"].startswith("sha256=")
        assert len(vector["signature"]) == len("sha256=") + 64


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_vectors_verify(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8")
    headers = {
        "X-Webhook-Id": "evt_vector",
        "X-Webhook-Event": "song.completed",
        "X-Webhook-Timestamp": str(vector["timestamp"]),
        "X-Webhook-Signature": vector["signature"],
    }
    expect = vector["expect"]
    if expect is None:  # the signature matched, then the body was refused
        with _raises("not UTF-8 JSON"):
            verify(body, headers, vector["secret"], now=vector["timestamp"])
    else:
        event = verify(body, headers, vector["secret"], now=vector["timestamp"])
        assert (event.task_id, event.state, len(event.clips)) == (
            expect["task_id"],
            expect["state"],
            expect["clips"],
        )
    last = vector["signature"][-1]
    headers["X-Webhook-Signature"] = vector["signature"][:-1] + ("0" if last != "0" else "1")
    with _raises("does not match"):
        verify(body, headers, vector["secret"], now=vector["timestamp"])


# -- a valid delivery -------------------------------------------------------------------


def test_a_valid_delivery_gives_a_typed_event(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    event = verify(body, headers, wh.secret, now=wh.now)
    assert isinstance(event, WebhookEvent)
    assert event.id == "evt_0001"
    assert event.type == "song.completed"
    assert event.task_id == wh.task_id
    assert event.state == "succeeded"
    assert event.is_final
    assert event.reason is None
    assert event.timestamp == wh.now
    assert [clip.clip_id for clip in event.clips] == ["clip-0", "clip-1"]
    assert all(isinstance(clip, Clip) for clip in event.clips)
    assert event.clips[0].duration == 104.88  # sent as the string "104.88"
    assert event.clips[0].raw["play_count"] == 0  # unknown fields kept
    assert event.raw["message"] == "success"


def test_clips_are_the_ones_wait_returns(wh: WebhookKit) -> None:
    payload = wh.success_body()
    body, headers = wh.delivery(payload)
    event = verify(body, headers, wh.secret, now=wh.now)
    polled = parse_task(wh.task_id, 200, payload, retry_after=None)
    assert event.clips == polled.clips
    assert [clip.raw for clip in event.clips] == [clip.raw for clip in polled.clips]


def test_a_failure_delivery(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.failure_body(), event_type="song.failed")
    event = verify(body, headers, wh.secret, now=wh.now)
    assert (event.type, event.state, event.task_id) == ("song.failed", "failed", wh.task_id)
    assert event.reason == "failed: generation failed upstream"
    assert event.clips == ()


@pytest.mark.parametrize(
    "body_type", [bytes, bytearray, memoryview], ids=["bytes", "bytearray", "memoryview"]
)
def test_bytes_like_bodies_verify(wh: WebhookKit, body_type: Any) -> None:
    body, headers = wh.delivery(wh.success_body())
    assert verify(body_type(body), headers, wh.secret, now=wh.now).state == "succeeded"


def test_now_defaults_to_the_clock(wh: WebhookKit) -> None:
    current = int(time.time())
    body, headers = wh.delivery(wh.success_body(), timestamp=current)
    assert verify(body, headers, wh.secret).task_id == wh.task_id
    body, headers = wh.delivery(wh.success_body(), timestamp=current - 3600)
    with _raises("old"):
        verify(body, headers, wh.secret)


# -- signatures and secrets -------------------------------------------------------------


def test_a_tampered_body_is_refused(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    tampered = body.replace(b"104.88", b"999.99")
    assert tampered != body
    with _raises("does not match the body for the secret"):
        verify(tampered, headers, wh.secret, now=wh.now)
    with _raises("does not match"):
        verify(body + b" ", headers, wh.secret, now=wh.now)


def test_a_reserialised_body_is_refused(wh: WebhookKit) -> None:
    # Parsing then dumping the JSON changes the bytes: verify the raw body, not this.
    body, headers = wh.delivery(wh.success_body())
    with _raises("does not match"):
        verify(json.dumps(json.loads(body), indent=1).encode(), headers, wh.secret, now=wh.now)


def test_a_wrong_secret_is_refused(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    with _raises("does not match the body for the secret"):
        verify(body, headers, "another-secret", now=wh.now)


def test_a_re_signed_timestamp_is_refused(wh: WebhookKit) -> None:
    # The timestamp is signed: moving it (to dodge the tolerance) breaks the signature.
    body, headers = wh.delivery(wh.success_body())
    headers["X-Webhook-Timestamp"] = str(wh.now + 1000)
    with _raises("does not match"):
        verify(body, headers, wh.secret, now=wh.now + 1000)


@pytest.mark.parametrize("order", ["new-first", "old-first"])
def test_rotated_secrets_accept_old_and_new(wh: WebhookKit, order: str) -> None:
    secrets = ["new-secret", "old-secret"] if order == "new-first" else ["old-secret", "new-secret"]
    for signer in ("old-secret", "new-secret"):
        body, headers = wh.delivery(wh.success_body(), secret=signer)
        assert verify(body, headers, secrets, now=wh.now).task_id == wh.task_id
        assert verify(body, headers, tuple(secrets), now=wh.now).task_id == wh.task_id
    body, headers = wh.delivery(wh.success_body(), secret="retired-secret")
    with _raises("does not match the body for any of the 2 secrets"):
        verify(body, headers, secrets, now=wh.now)


@pytest.mark.parametrize(
    ("secret", "match"),
    [
        ([], "no webhook secret"),
        ((), "no webhook secret"),
        ("", "secret #1 is empty"),
        ("   ", "secret #1 is empty"),
        (["good-secret", ""], "secret #2 is empty"),
        (b"bytes-secret", "must be a str, not bytes"),
        ([b"bytes-secret"], "secret #1 is a bytes"),
        (None, "must be a str or a sequence"),
        (42, "must be a str or a sequence"),
        ("\ud800", "cannot be encoded as UTF-8"),
    ],
)
def test_unusable_secrets_are_refused(wh: WebhookKit, secret: Any, match: str) -> None:
    body, headers = wh.delivery(wh.success_body())
    with _raises(match):
        verify(body, headers, secret, now=wh.now)


def test_the_secret_never_appears_in_a_message(wh: WebhookKit) -> None:
    secret = "SUPER-SECRET-VALUE-xyz"
    body, headers = wh.delivery(wh.success_body(), secret=secret)
    expected_hex = headers["X-Webhook-Signature"].removeprefix("sha256=")
    cases: list[tuple[bytes, dict[str, str], Any, float]] = [
        (body + b"x", headers, secret, wh.now),
        (body, headers, [secret + "-other"], wh.now),
        (body, headers, secret, wh.now + 10_000),
        (body, headers, secret, wh.now - 10_000),
        (body, {**headers, "X-Webhook-Signature": "sha256=zz"}, secret, wh.now),
        (body, {k: v for k, v in headers.items() if k != "X-Webhook-Id"}, secret, wh.now),
        (body, headers, [secret, ""], wh.now),
    ]
    for case_body, case_headers, case_secret, now in cases:
        with pytest.raises(musicapi.WebhookVerificationError) as caught:
            verify(case_body, case_headers, case_secret, now=now)
        text = f"{caught.value} {caught.value!r} {caught.value.args}"
        assert secret not in text
        assert expected_hex not in text


# -- timestamps -------------------------------------------------------------------------


def test_timestamps_within_the_tolerance_pass_at_the_edges(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    for now in (wh.now - 300, wh.now, wh.now + 300):
        assert verify(body, headers, wh.secret, now=now).id == "evt_0001"
    assert verify(body, headers, wh.secret, tolerance=0, now=wh.now).id == "evt_0001"
    assert verify(body, headers, wh.secret, tolerance=10, now=wh.now + 10.0).id == "evt_0001"


def test_a_stale_timestamp_is_refused(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    with _raises(r"X-Webhook-Timestamp is 301 s old, beyond the tolerance of 300 s"):
        verify(body, headers, wh.secret, now=wh.now + 301)
    with _raises("old"):
        verify(body, headers, wh.secret, tolerance=10, now=wh.now + 10.5)


def test_a_future_timestamp_is_refused(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    with _raises(r"X-Webhook-Timestamp is 301 s in the future"):
        verify(body, headers, wh.secret, now=wh.now - 301)
    with _raises("future"):
        verify(body, headers, wh.secret, tolerance=0, now=wh.now - 0.5)


@pytest.mark.parametrize(
    "timestamp",
    [
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "-1700000000",
        "+1700000000",
        "1.7e9",
        "0x6553f100",
        "1_700_000_000",
        "",
        "   ",
        "17000000OO",
        "١٧٠٠٠٠٠٠٠٠",  # Arabic-Indic digits: int() would take them
        "1700000000.",
        "9" * 13,
    ],
)
def test_malformed_timestamps_are_refused(wh: WebhookKit, timestamp: str) -> None:
    # Correctly signed over the odd timestamp: the format check is what refuses it.
    body, headers = wh.delivery(wh.success_body(), timestamp=timestamp)
    with _raises("malformed X-Webhook-Timestamp"):
        verify(body, headers, wh.secret, now=wh.now)


def test_a_fractional_timestamp_is_accepted(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body(), timestamp="1700000000.250")
    assert verify(body, headers, wh.secret, now=wh.now).timestamp == 1700000000.25


@pytest.mark.parametrize("tolerance", [-1, -0.001, float("nan"), float("inf"), "300", True, None])
def test_unusable_tolerances_are_refused(wh: WebhookKit, tolerance: Any) -> None:
    body, headers = wh.delivery(wh.success_body())
    with _raises("tolerance must be"):
        verify(body, headers, wh.secret, tolerance=tolerance, now=wh.now)


@pytest.mark.parametrize("now", [float("nan"), float("inf"), "1700000000", True])
def test_unusable_nows_are_refused(wh: WebhookKit, now: Any) -> None:
    body, headers = wh.delivery(wh.success_body())
    with _raises("now must be"):
        verify(body, headers, wh.secret, now=now)


# -- headers ----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", HEADERS)
def test_each_missing_header_is_named(wh: WebhookKit, missing: str) -> None:
    body, headers = wh.delivery(wh.success_body())
    del headers[missing]
    with _raises(f"missing webhook header: {missing}$"):
        verify(body, headers, wh.secret, now=wh.now)


def test_every_missing_header_is_named(wh: WebhookKit) -> None:
    body, _ = wh.delivery(wh.success_body())
    with _raises("missing webhook headers: " + ", ".join(HEADERS)):
        verify(body, {"Content-Type": "application/json"}, wh.secret, now=wh.now)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "sha256=",
        "sha256=xyz",
        "sha1=" + "a" * 64,
        "a" * 64,
        "sha256=" + "a" * 63,
        "sha256=" + "a" * 65,
        "sha256=" + "g" * 64,
        "sha256=" + "a" * 64 + ",sha256=" + "b" * 64,
        "sha256 = " + "a" * 64,
    ],
)
def test_malformed_signature_headers_are_refused(wh: WebhookKit, signature: str) -> None:
    body, headers = wh.delivery(wh.success_body())
    headers["X-Webhook-Signature"] = signature
    with _raises(r"malformed X-Webhook-Signature header: expected sha256=<64 hex digits>"):
        verify(body, headers, wh.secret, now=wh.now)


def test_an_uppercase_signature_is_accepted(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    headers["X-Webhook-Signature"] = "SHA256=" + headers["X-Webhook-Signature"][7:].upper()
    assert verify(body, headers, wh.secret, now=wh.now).id == "evt_0001"


@pytest.mark.parametrize(
    ("name", "value"),
    [("X-Webhook-Id", ""), ("X-Webhook-Id", "x" * 257), ("X-Webhook-Event", "  ")],
)
def test_malformed_id_and_event_headers_are_refused(wh: WebhookKit, name: str, value: str) -> None:
    body, headers = wh.delivery(wh.success_body())
    headers[name] = value
    with _raises(f"malformed {name} header"):
        verify(body, headers, wh.secret, now=wh.now)


@pytest.mark.parametrize(
    "case", [str.lower, str.upper, str.swapcase], ids=["lower", "upper", "swap"]
)
def test_header_names_are_case_insensitive(wh: WebhookKit, case: Any) -> None:
    body, headers = wh.delivery(wh.success_body())
    assert verify(body, {case(k): v for k, v in headers.items()}, wh.secret, now=wh.now).id == (
        "evt_0001"
    )


def test_framework_header_mappings_work(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    assert verify(body, httpx.Headers(headers), wh.secret, now=wh.now).id == "evt_0001"


def test_conflicting_copies_of_a_header_are_refused(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    headers["x-webhook-timestamp"] = str(wh.now + 1)
    with _raises("X-Webhook-Timestamp header is given twice, differently"):
        verify(body, headers, wh.secret, now=wh.now)
    same = {**headers, "x-webhook-timestamp": str(wh.now)}
    assert verify(body, same, wh.secret, now=wh.now).id == "evt_0001"


def test_non_string_header_values_are_refused(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    bad: dict[str, Any] = {**headers, "X-Webhook-Timestamp": wh.now}
    with _raises("malformed X-Webhook-Timestamp header: not a string"):
        verify(body, bad, wh.secret, now=wh.now)


def test_headers_that_are_not_a_mapping_are_refused(wh: WebhookKit) -> None:
    body, _ = wh.delivery(wh.success_body())
    with _raises("headers must be a mapping"):
        verify(body, ["X-Webhook-Id"], wh.secret, now=wh.now)  # type: ignore[arg-type]


def test_a_text_body_is_refused_with_a_hint(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    with _raises("raw request bytes, not str"):
        verify(body.decode(), headers, wh.secret, now=wh.now)  # type: ignore[arg-type]


# -- bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"not json", "not UTF-8 JSON"),
        (b"", "not UTF-8 JSON"),
        (b"\xff\xfe{}", "not UTF-8 JSON"),
        (b'{"code": 200, "data": [], "x": NaN}', "not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not UTF-8 JSON|not a JSON object"),
        (b"[1, 2]", "not a JSON object but a list"),
        (b'"text"', "not a JSON object but a str"),
        (b"null", "not a JSON object but a NoneType"),
        (b'{"hello": "world"}', "neither a task result nor a failure"),
        (b'{"code": 500, "message": "oops"}', "neither a task result nor a failure"),
        (b'{"code": 200, "data": {"clip_id": "c"}}', "data is not a list of clips"),
        (b'{"code": 200, "data": [{"clip_id": "c", "duration": "long"}]}', "duration"),
        (b'{"code": 200, "data": [{"state": "succeeded"}]}', "clip_id"),
        (b'{"code": 200, "data": ["clip"]}', "malformed"),
        (b'{"type": 7}', "type is not a string"),
        (b'{"type": "failed", "task_id": ""}', "task_id is not a non-empty string"),
        (b'{"type": "failed", "task_id": {"id": 1}}', "task_id is not a non-empty string"),
    ],
)
def test_unreadable_bodies_are_refused_after_the_signature(
    wh: WebhookKit, body: bytes, match: str
) -> None:
    signed, headers = wh.delivery(body)
    with pytest.raises(musicapi.WebhookVerificationError, match=match) as caught:
        verify(signed, headers, wh.secret, now=wh.now)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, musicapi.MusicAPIError)


def test_an_unsigned_junk_body_fails_on_the_signature_first(wh: WebhookKit) -> None:
    _, headers = wh.delivery(wh.success_body())
    with _raises("does not match"):  # never "not JSON": nothing is parsed before the check
        verify(b"not json", headers, wh.secret, now=wh.now)


@pytest.mark.parametrize(
    ("states", "state", "reason"),
    [
        (("succeeded", "succeeded"), "succeeded", None),
        (("complete", "succeeded"), "succeeded", None),
        (("succeeded", "failed"), "succeeded", None),
        (("streaming", "succeeded"), "streaming", None),
        (("streaming", "streaming"), "streaming", None),
        (("failed", "failed"), "failed", "failed: every clip failed"),
        (("streaming", "failed"), "running", None),
        (("pending", "running"), "running", None),
        ((), "running", None),
    ],
)
def test_the_state_comes_from_the_clips(
    wh: WebhookKit, states: tuple[str, ...], state: str, reason: str | None
) -> None:
    body, headers = wh.delivery(wh.success_body(states=states))
    event = verify(body, headers, wh.secret, now=wh.now)
    assert (event.state, event.reason) == (state, reason)
    assert event.is_final == (state in ("succeeded", "failed"))


def test_a_not_ready_type_is_a_running_event(wh: WebhookKit) -> None:
    body, headers = wh.delivery({"type": "not_ready", "task_id": "t"})
    event = verify(body, headers, wh.secret, now=wh.now)
    assert (event.state, event.reason, event.task_id) == ("running", None, "t")


@pytest.mark.parametrize("kind", ["failed", "timeout", "forbidden", "api_error", "new_kind"])
def test_every_failure_type_is_a_failed_event(wh: WebhookKit, kind: str) -> None:
    body, headers = wh.delivery(wh.failure_body(kind=kind))
    event = verify(body, headers, wh.secret, now=wh.now)
    assert (event.state, event.reason) == ("failed", f"{kind}: generation failed upstream")


def test_the_task_id_falls_back_to_the_clips(wh: WebhookKit) -> None:
    payload = wh.success_body(task_id=None)
    for clip in payload["data"]:
        clip["task_id"] = "from-the-clips"
    body, headers = wh.delivery(payload)
    assert verify(body, headers, wh.secret, now=wh.now).task_id == "from-the-clips"


def test_a_top_level_task_id_wins(wh: WebhookKit) -> None:
    payload = wh.success_body(task_id="top")
    payload["data"][0]["task_id"] = "clip-level"
    body, headers = wh.delivery(payload)
    assert verify(body, headers, wh.secret, now=wh.now).task_id == "top"


def test_clips_naming_different_tasks_are_refused(wh: WebhookKit) -> None:
    payload = wh.success_body(task_id=None)
    payload["data"][0]["task_id"] = "one"
    payload["data"][1]["task_id"] = "two"
    body, headers = wh.delivery(payload)
    with _raises("clips name different task ids"):
        verify(body, headers, wh.secret, now=wh.now)


def test_without_any_task_id_the_event_has_none(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body(task_id=None))
    event = verify(body, headers, wh.secret, now=wh.now)
    assert (event.task_id, event.state) == (None, "succeeded")


def test_an_integer_task_id_becomes_text(wh: WebhookKit) -> None:
    body, headers = wh.delivery({"type": "failed", "error": "x", "task_id": 123})
    assert verify(body, headers, wh.secret, now=wh.now).task_id == "123"


def test_an_unknown_event_type_is_kept(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body(), event_type="song.remastered")
    assert verify(body, headers, wh.secret, now=wh.now).type == "song.remastered"


# -- properties -------------------------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    # `wh` is stateless, so sharing one instance across examples is fine.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(title=st.text(max_size=80), secret=st.text(min_size=1, max_size=40), data=st.data())
def test_any_signed_body_verifies_and_any_flipped_byte_fails(
    wh: WebhookKit, title: str, secret: str, data: st.DataObject
) -> None:
    if not secret.strip() or any(0xD800 <= ord(ch) <= 0xDFFF for ch in secret + title):
        return
    payload = wh.success_body()
    payload["data"][0]["title"] = title
    body, headers = wh.delivery(payload, secret=secret)
    assert verify(body, headers, secret, now=wh.now).clips[0].title == title
    position = data.draw(st.integers(0, len(body) - 1))
    flipped = bytearray(body)
    flipped[position] ^= 1 << data.draw(st.integers(0, 7))
    with _raises("does not match"):
        verify(bytes(flipped), headers, secret, now=wh.now)


# -- the public surface -----------------------------------------------------------------


def test_public_names() -> None:
    assert webhooks.__all__ == sorted(webhooks.__all__)
    assert {"WebhookEvent", "WebhookReceiver", "verify"} <= set(webhooks.__all__)
    for name in webhooks.__all__:
        assert getattr(webhooks, name).__module__ == "musicapi.webhooks", name
    assert musicapi.WebhookVerificationError.__mro__[1:3] == (musicapi.MusicAPIError, ValueError)


def test_the_event_is_frozen_and_keyword_only(wh: WebhookKit) -> None:
    body, headers = wh.delivery(wh.success_body())
    event = verify(body, headers, wh.secret, now=wh.now)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.state = "failed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        WebhookEvent("id", "type", "task", "state")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    assert "raw" not in repr(event)
    assert attrs.evolve(event, raw={}) == event  # raw is not part of equality
