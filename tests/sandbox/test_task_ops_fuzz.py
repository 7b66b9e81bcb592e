"""Hostile JSON bodies to every task operation: never an exception, never a 5xx.

Bodies start from a valid one of each operation (so that deep paths are reached) with
fields replaced by any JSON value (NaN, huge numbers, lone surrogates, nesting), or are
any JSON at all. What is accepted then runs to its end: its poll answers, its files are
served and its webhook is attempted, all without a 5xx. Derandomized and bounded, like
`test_fuzz.py`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from musicapi.sandbox import Faults, Sandbox
from musicapi.testing import FakeClock

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
AUTH = {"Authorization": "Bearer sk-fuzz", "Content-Type": "application/json"}
CLIP = "$CLIP"
BASES: dict[str, dict[str, Any]] = {
    "sonic/create-voice": {"audio_url": "https://example.com/v.wav"},
    "sonic/stems/basic": {"clip_id": CLIP},
    "sonic/stems/full": {"clip_id": CLIP},
    "sonic/mashup": {"mashup_clip_ids": [CLIP, CLIP], "custom_mode": False, "mv": "sonic-v5"},
    "sonic/replace-section": {
        "clip_id": CLIP,
        "mv": "sonic-v5",
        "infill_start_s": 0.2,
        "infill_end_s": 1,
    },
    "sonic/sample": {
        "sample_clip_id": CLIP,
        "chop_sample_start_s": 0,
        "chop_sample_end_s": 1,
        "custom_mode": False,
        "mv": "sonic-v5",
        "make_instrumental": True,
    },
    "sonic/upload-cover": {
        "url": "http://localhost/files/$CLIP.wav",
        "custom_mode": False,
        "mv": "sonic-v5",
    },
    "sonic/upload-extend": {"url": "https://e.com/a.mp3", "custom_mode": True, "mv": "sonic-v4"},
    "sonic/batch": {
        "items": [{"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "x"}]
    },
    "suno/create": {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "x"},
    "suno/make-lyrics": {"prompt": "tea"},
    "producer/create": {
        "task_type": "replace_music",
        "clip_id": CLIP,
        "starts_at": 0,
        "ends_at": 1,
    },
    "producer/upload": {"audio_url": "https://e.com/a.mp3"},
    "producer/download": {"clip_id": CLIP, "format": "wav"},
    "studio/create": {
        "prompt": "x",
        "lyrics_type": "user",
        "prompt_strength": 0.5,
        "clarity_strength": 0.5,
        "lyrics_strength": 0.5,
        "generation_quality": 0.5,
        "model_type": "m",
        "config": {},
    },
    "riffusion/create": {"task_type": "extend_music", "continue_clip_id": CLIP},
    "nuro/create": {"type": "bgm", "description": "x", "version": "v2.0", "segments": []},
}
POLLS = {
    "sonic": "/sonic/task/{}",
    "producer": "/producer/task/{}",
    "studio": "/studio/task/{}",
    "riffusion": "/riffusion/task/{}",
    "nuro": "/nuro/task/{}",
    "lyrics": "/suno/get-lyrics/{}",
}

_TEXT = st.text(
    st.characters() | st.sampled_from(["\ud800", "\udfff"]), max_size=20
) | st.sampled_from(["", CLIP, "x" * 6000, "http://localhost/files/$CLIP.mid", "https://h/ a"])
_NUMBERS = st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.just(10**400)
_JSON = st.recursive(
    st.none() | st.booleans() | _NUMBERS | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=10,
)
_FIELDS = st.sampled_from(
    sorted(
        {name for base in BASES.values() for name in base}
        | {"webhook_url", "type", "version", "duration", "length", "genre", "seed"}
    )
)


def _body(operation: str, changes: dict[str, object]) -> dict[str, object]:
    return {**BASES[operation], **changes}


_OPERATIONS = st.sampled_from(sorted(BASES))
_REQUESTS = st.one_of(
    st.tuples(
        _OPERATIONS, st.builds(_body, _OPERATIONS, st.dictionaries(_FIELDS, _JSON, max_size=3))
    ),
    st.tuples(_OPERATIONS, _JSON),
)


async def _check(answer: httpx.Response) -> Any:
    assert answer.status_code < 500, answer.text
    return json.loads(
        answer.content, parse_constant=lambda token: (_ for _ in ()).throw(AssertionError(token))
    )


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


@settings(FUZZ, max_examples=120)
@given(request=_REQUESTS, legacy=st.booleans())
async def test_hostile_bodies_never_break_a_task_operation(
    request: tuple[str, object], legacy: bool
) -> None:
    operation, body = request
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, legacy_nuro=legacy)
    async with httpx.AsyncClient(
        transport=sandbox.transport(), base_url=sandbox.base_url, headers=AUTH
    ) as http:
        song = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "seed"}
        task_id = (await http.post("/sonic/create", json=song)).json()["task_id"]
        clock.advance(3)
        clip = (await http.get(f"/sonic/task/{task_id}")).json()["data"][0]["clip_id"]
        text = json.dumps(body, allow_nan=True).replace(CLIP, clip)
        answer = await http.post(f"/{operation}", content=text.encode("utf-8", "surrogatepass"))
        await _check(answer)
        clock.advance(3)
        for record in list(sandbox.tasks.values()):
            poll = await http.get(POLLS[record.family].format(record.task_id))
            await _check(poll)
        for record in sandbox.tasks.values():  # the new task's files (rendering is slow)
            if record.task_id != task_id and record.clips:
                audio = await http.get(f"http://localhost/files/{record.clips[0].clip_id}.wav")
                assert audio.status_code == 200
        batch = await http.get("/sonic/batch", params={"batch_id": text[:50]})
        await _check(batch)
        async with httpx.AsyncClient(transport=httpx.MockTransport(_refuse)) as receiver:
            assert await sandbox.deliver_due_webhooks(receiver) == 0
        sandbox.faults = Faults()
        assert (await http.get("/get-credits")).status_code == 200
