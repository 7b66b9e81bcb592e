"""The rules of the Sonic operations beyond `create`: refused before anything is sent.

Each case calls the public method on a client whose transport records every request
(answering with the documented shapes of `plan/wire.md`), and checks that a broken
rule raises `RequestValidationError` naming the field with no request made, and that
a valid request goes out once with the expected body. The shared rule vectors
(`tests/vectors/*_operation_rules.json`, written against api-reference §3.1) pin the
SDK's table to the sandbox's.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import pytest

from musicapi import AsyncMusicAPI, RequestValidationError
from musicapi._resources._sonic_base import body_for, operation_name
from musicapi._resources._sonic_checks import OPERATIONS
from musicapi.models import MashupRequest, PersonaRequest, SonicCreateRequest
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SUBMITTED = {"message": "success", "task_id": "task-1"}
ANSWERS: dict[str, Any] = {
    "/sonic/lyrics": {"code": 200, "results": [{"title": "T", "lyrics": "la"}], "message": "ok"},
    "/sonic/aligned-lyrics": {"code": 200, "data": {"alignment": []}, "message": "success"},
    "/sonic/bpm": {"code": 200, "data": {"avg_bpm": 120.0, "max_bpm": 121, "min_bpm": 119}},
    "/sonic/upsample-tags": {"code": 200, "data": {"upsampled_tags": "lofi, warm tape"}},
    "/sonic/persona": {"code": 200, "persona_id": "persona-1", "message": "success"},
    "/sonic/vox": {"code": 200, "data": {"vox_audio_id": "vox-1", "status": "complete"}},
    "/sonic/midi": {"code": 200, "data": {"midi_url": "https://f/x.mid", "instruments": []}},
    "/sonic/wav": {"message": "success", "data": {"wav_url": "https://f/x.lossless.wav"}},
    "/sonic/upload": {"code": 200, "clip_id": "clip-up", "message": "success"},
    "/sonic/batch": {"message": "success", "batch_id": "b-1", "submitted": 1, "tasks": []},
}
CLIP = "clip-1"
LONG_LYRICS = "la " * 1200  # 3600 characters: over v3-5/v4's 3000, under the others' 5000


class Recorder:
    """A MockTransport handler that keeps every request and answers like the API."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v1")
        return httpx.Response(200, json=ANSWERS.get(path, SUBMITTED))

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def api(recorder: Recorder) -> AsyncIterator[AsyncMusicAPI]:
    async with AsyncMusicAPI(
        api_key="sk-sonic-ops-tests-4c1e9b",
        base_url="http://127.0.0.1/api/v1",
        transport=httpx.MockTransport(recorder),
        clock=FakeClock(),
    ) as client:
        yield client


async def _refused(
    recorder: Recorder, field: str, call: Callable[[], Awaitable[object]]
) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as info:
        await call()
    assert info.value.field == field, str(info.value)
    assert recorder.requests == [], "a refused request must not be sent"
    return info.value


def _mashup(**fields: Any) -> dict[str, Any]:
    return {"mashup_clip_ids": ["a", "b"], "custom_mode": True, "mv": "sonic-v5", **fields}


def _replace(**fields: Any) -> dict[str, Any]:
    base = {"clip_id": CLIP, "mv": "sonic-v5", "infill_start_s": 1.0, "infill_end_s": 2.0}
    return {**base, **fields}


def _sample(**fields: Any) -> dict[str, Any]:
    base = {
        "sample_clip_id": CLIP,
        "chop_sample_start_s": 0.0,
        "chop_sample_end_s": 2.0,
        "custom_mode": False,
        "mv": "sonic-v5",
        "make_instrumental": False,
    }
    return {**base, **fields}


def _cover(**fields: Any) -> dict[str, Any]:
    return {"url": "https://example.com/a.mp3", "custom_mode": True, "mv": "sonic-v5", **fields}


class TestGenerationRules:
    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            (_mashup(mashup_clip_ids=["a"]), "mashup_clip_ids"),
            (_mashup(mashup_clip_ids=["a", "b", "c"]), "mashup_clip_ids"),
            (_mashup(mashup_clip_ids="ab"), "mashup_clip_ids"),
            (_mashup(mashup_clip_ids=["a", 2]), "mashup_clip_ids"),
            (_mashup(tags="t" * 201), "tags"),
            (_mashup(title="t" * 81), "title"),
            (_mashup(style_weight=1.5), "style_weight"),
            (_mashup(audio_weight=-0.1), "audio_weight"),
            (_mashup(vocal_gender="x"), "vocal_gender"),
            (_mashup(mv="sonic-v4", vocal_gender="f"), "vocal_gender"),
            (_mashup(mv="sonic-v3-5", prompt=LONG_LYRICS), "prompt"),
            (_mashup(prompt="x" * 5001), "prompt"),
            (_mashup(webhook_url="ftp://example.com/hook"), "webhook_url"),
            (_mashup(webhook_url="https://exa mple.com/hook"), "webhook_url"),
            (_mashup(webhook_secret=""), "webhook_secret"),
            (_mashup(custom_mode="yes"), "custom_mode"),
            ({"mashup_clip_ids": ["a", "b"], "mv": "sonic-v5"}, "custom_mode"),
            ({"mashup_clip_ids": ["a", "b"], "custom_mode": True}, "mv"),
            (_mashup(typo_field=1), "typo_field"),
        ],
    )
    async def test_mashup(
        self, api: AsyncMusicAPI, recorder: Recorder, fields: dict[str, Any], field: str
    ) -> None:
        await _refused(recorder, field, lambda: api.sonic.mashup(**fields))

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            (_replace(mv="sonic-v3-5"), "mv"),
            (_replace(infill_end_s=1.0), "infill_end_s"),
            (_replace(infill_end_s=0.5), "infill_end_s"),
            (_replace(infill_start_s=-1.0), "infill_start_s"),
            (_replace(tags="t" * 1001), "tags"),
            (_replace(infill_lyrics="l" * 3001), "infill_lyrics"),
            (_replace(negative_tags="n" * 201), "negative_tags"),
            (_replace(prompt="p" * 5001), "prompt"),
            (_replace(mv="sonic-v4", vocal_gender="m"), "vocal_gender"),
            (_replace(infill_start_s=None), "infill_start_s"),
            (_replace(clip_id=""), "clip_id"),
        ],
    )
    async def test_replace_section(
        self, api: AsyncMusicAPI, recorder: Recorder, fields: dict[str, Any], field: str
    ) -> None:
        await _refused(recorder, field, lambda: api.sonic.replace_section(**fields))

    async def test_replace_section_allows_its_own_longer_limits(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        await api.sonic.replace_section(
            **_replace(mv="sonic-v4", tags="t" * 1000, prompt="p" * 5000)
        )
        assert recorder.bodies()[0]["tags"] == "t" * 1000

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            (_sample(url="https://example.com/a.mp3"), "url"),  # both
            ({**_sample(), "sample_clip_id": None}, "url"),  # neither
            (_sample(chop_sample_end_s=0.0), "chop_sample_end_s"),
            (_sample(chop_sample_start_s=-0.5), "chop_sample_start_s"),
            (_sample(tags="t" * 201), "tags"),
            (_sample(make_instrumental=None), "make_instrumental"),
            (_sample(mv="sonic-v4", vocal_gender="f"), "vocal_gender"),
            (_sample(gpt_description_prompt="d" * 401), "gpt_description_prompt"),
        ],
    )
    async def test_sample(
        self, api: AsyncMusicAPI, recorder: Recorder, fields: dict[str, Any], field: str
    ) -> None:
        await _refused(recorder, field, lambda: api.sonic.sample(**fields))

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"custom_mode": True, "mv": "sonic-v5"}, "url"),
            (_cover(url="not a url"), "url"),
            (_cover(mv="sonic-v4", prompt=LONG_LYRICS), "prompt"),
            (_cover(weirdness_constraint=2), "weirdness_constraint"),
        ],
    )
    async def test_upload_cover(
        self, api: AsyncMusicAPI, recorder: Recorder, fields: dict[str, Any], field: str
    ) -> None:
        await _refused(recorder, field, lambda: api.sonic.upload_cover(**fields))

    async def test_upload_extend_refuses_a_negative_continue_at(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        await _refused(
            recorder, "continue_at", lambda: api.sonic.upload_extend(**_cover(continue_at=-1))
        )

    async def test_valid_requests_send_their_fields_once(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        await api.sonic.mashup(**_mashup(mv="sonic-v4-5", vocal_gender="f"))
        await api.sonic.sample(**_sample())
        await api.sonic.upload_extend(**_cover(continue_at=12.5))
        mashup, sample, extend = recorder.bodies()
        assert mashup["mashup_clip_ids"] == ["a", "b"] and mashup["vocal_gender"] == "f"
        assert "url" not in sample and sample["sample_clip_id"] == CLIP
        assert extend["continue_at"] == 12.5
        paths = [request.url.path for request in recorder.requests]
        assert paths == [
            "/api/v1/sonic/mashup",
            "/api/v1/sonic/sample",
            "/api/v1/sonic/upload-extend",
        ]


class TestRequestObjects:
    async def test_a_prepared_request_is_checked_like_keywords(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        bad = MashupRequest(mashup_clip_ids=("a", "b"), custom_mode=True, mv="v", title=5)  # type: ignore[arg-type]
        await _refused(recorder, "title", lambda: api.sonic.mashup(bad))

    async def test_a_list_of_ids_becomes_a_tuple(self) -> None:
        request = MashupRequest(mashup_clip_ids=["a", "b"], custom_mode=True, mv="sonic-v5")
        assert request.mashup_clip_ids == ("a", "b")
        assert hash(request)

    async def test_request_and_keywords_together_are_refused(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        request = PersonaRequest(name="Nova", clip_id=CLIP)
        with pytest.raises(RequestValidationError):
            await api.sonic.persona(request, name="Other")
        assert recorder.requests == []

    async def test_a_request_of_another_operation_is_refused(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        wrong: Any = PersonaRequest(name="Nova", clip_id=CLIP)
        await _refused(recorder, "request", lambda: api.sonic.mashup(wrong))

    async def test_the_webhook_secret_is_not_in_repr(self) -> None:
        request = MashupRequest(
            mashup_clip_ids=("a", "b"), custom_mode=True, mv="v", webhook_secret="s3cret"
        )
        assert "s3cret" not in repr(request)


class TestSimpleOperations:
    async def test_vox_window(self, api: AsyncMusicAPI, recorder: Recorder) -> None:
        await _refused(
            recorder, "vocal_end_s", lambda: api.sonic.vox(CLIP, vocal_start_s=2, vocal_end_s=1)
        )
        await _refused(recorder, "vocal_end_s", lambda: api.sonic.vox(CLIP, vocal_end_s=0))
        await _refused(recorder, "vocal_start_s", lambda: api.sonic.vox(CLIP, vocal_start_s=-1))

    async def test_lyrics_description_limit(self, api: AsyncMusicAPI, recorder: Recorder) -> None:
        await _refused(recorder, "description", lambda: api.sonic.lyrics("d" * 120))
        await api.sonic.lyrics("d" * 119)
        assert len(recorder.requests) == 1

    @pytest.mark.parametrize("method", ["stems_basic", "stems_full"])
    async def test_stems(self, api: AsyncMusicAPI, recorder: Recorder, method: str) -> None:
        call = getattr(api.sonic, method)
        await _refused(recorder, "clip_id", lambda: call(""))
        await _refused(recorder, "webhook_url", lambda: call(CLIP, webhook_url="example.com/x"))
        await _refused(recorder, "webhook_secret", lambda: call(CLIP, webhook_secret=""))

    async def test_create_voice_needs_an_absolute_url(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        await _refused(recorder, "audio_url", lambda: api.sonic.create_voice("voice.wav"))

    async def test_midi_needs_a_clip(self, api: AsyncMusicAPI, recorder: Recorder) -> None:
        await _refused(recorder, "clip_id", lambda: api.sonic.midi(""))
        await _refused(recorder, "timeout", lambda: api.sonic.midi(CLIP, timeout=-1))

    async def test_get_batch_needs_an_id(self, api: AsyncMusicAPI, recorder: Recorder) -> None:
        await _refused(recorder, "batch_id", lambda: api.sonic.get_batch(" "))

    async def test_wav_is_never_blindly_resent(self, recorder: Recorder) -> None:
        attempts: list[httpx.Request] = []

        def drop(request: httpx.Request) -> httpx.Response:
            attempts.append(request)
            raise httpx.ReadTimeout("lost", request=request)

        from musicapi import SubmissionUnknownError

        async with AsyncMusicAPI(
            api_key="sk-sonic-ops-tests-4c1e9b",
            base_url="http://127.0.0.1/api/v1",
            transport=httpx.MockTransport(drop),
            clock=FakeClock(),
        ) as client:
            with pytest.raises(SubmissionUnknownError):
                await client.sonic.wav(CLIP)
        assert len(attempts) == 1


class TestBatch:
    async def test_each_item_is_validated_like_create(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        items = [
            {"gpt_description_prompt": "ok"},
            {"custom_mode": False, "gpt_description_prompt": "x", "title": "t" * 81},
        ]
        error = await _refused(recorder, "items[1].title", lambda: api.sonic.batch(items))
        assert "items[1]" in str(error)

    @pytest.mark.parametrize("count", [0, 11])
    async def test_one_to_ten_items(
        self, api: AsyncMusicAPI, recorder: Recorder, count: int
    ) -> None:
        items = [{"gpt_description_prompt": "x"}] * count
        await _refused(recorder, "items", lambda: api.sonic.batch(items))

    @pytest.mark.parametrize("items", ["abc", {"gpt_description_prompt": "x"}, 5])
    async def test_items_must_be_a_list(
        self, api: AsyncMusicAPI, recorder: Recorder, items: Any
    ) -> None:
        await _refused(recorder, "items", lambda: api.sonic.batch(items))

    async def test_an_item_of_another_type_is_refused(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        await _refused(recorder, "items[0]", lambda: api.sonic.batch([42]))  # type: ignore[list-item]

    async def test_items_are_sent_with_the_create_defaults(
        self, api: AsyncMusicAPI, recorder: Recorder
    ) -> None:
        await api.sonic.batch(
            [SonicCreateRequest(gpt_description_prompt="a"), {"gpt_description_prompt": "b"}]
        )
        (body,) = recorder.bodies()
        assert [item["mv"] for item in body["items"]] == ["sonic-v5", "sonic-v5"]
        assert [item["custom_mode"] for item in body["items"]] == [False, False]


# The shared rule vectors -------------------------------------------------------------

SDK_OPERATIONS = {*OPERATIONS, "sonic/batch"}


def _vectors() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    for name in ("sync_operation_rules.json", "task_operation_rules.json"):
        path = VECTORS / name
        if path.exists():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            listed = loaded["cases"] if isinstance(loaded, dict) else loaded
            cases.extend(case for case in listed if case["operation"] in SDK_OPERATIONS)
    return cases


def _expand(value: Any) -> Any:
    """Replace the vectors' placeholders (`$CLIP_ID`, `{"$repeat": s, "times": n}`)."""
    if value == "$CLIP_ID":
        return CLIP
    if isinstance(value, dict):
        if "$repeat" in value:
            return value["$repeat"] * value["times"]
        return {key: _expand(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_expand(item) for item in value]
    return value


def _unknown_fields(operation: str, body: dict[str, Any]) -> list[str]:
    if operation == "sonic/batch":
        return []
    known = {field.name for field in OPERATIONS[operation].model.__attrs_attrs__}
    return [name for name in body if name not in known]


@pytest.mark.parametrize("case", _vectors(), ids=lambda case: str(case.get("id")))
async def test_the_sdk_agrees_with_the_shared_vectors(
    api: AsyncMusicAPI, recorder: Recorder, case: dict[str, Any]
) -> None:
    operation: str = case["operation"]
    body: dict[str, Any] = _expand(case["body"])
    unknown = _unknown_fields(operation, body)
    if unknown:
        # The server ignores fields it does not know; the SDK refuses them by name, on
        # purpose, so that a misspelt keyword is never silently dropped.
        with pytest.raises(RequestValidationError) as info:
            body_for(operation, None, body)
        assert info.value.field == unknown[0]
        return
    nulls = [name for name, value in body.items() if value is None]
    if case["valid"] is False and case["field"] in nulls:
        spec = OPERATIONS[operation].model.__attrs_attrs__
        required = {field.name for field in spec if field.default is attrs.NOTHING}
        if case["field"] not in required:
            # In the SDK `None` means "not given": it is never sent as a JSON null, so
            # the server's refusal of an explicit null cannot happen through the SDK.
            assert case["field"] not in body_for(operation, None, body)
            return
    method = getattr(api.sonic, operation_name(operation).split(".", 1)[1])
    if operation == "sonic/batch":
        kwargs: dict[str, Any] = {"items": body.get("items")}
    else:
        kwargs = body
    try:
        inspect.signature(method).bind(**kwargs)
    except TypeError:  # a required parameter missing: Python itself refuses the call
        with pytest.raises(RequestValidationError) as info:
            body_for(operation, None, body)
        assert not case["valid"] and info.value.field == case["field"]
        return
    if case["valid"]:
        await method(**kwargs)
        assert len(recorder.requests) == 1
    else:
        error = await _refused(recorder, case["field"], lambda: method(**kwargs))
        assert error.field == case["field"]
