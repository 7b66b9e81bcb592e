"""The request rules of the Suno, Producer, Studio, Riffusion and Nuro families.

Every broken rule is refused before anything is sent, naming the field; the shared
vectors (`tests/vectors/*_operation_rules.json`, also run against the sandbox) pin the
SDK's reading of the reference to the sandbox's.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from musicapi import AsyncMusicAPI, RequestValidationError
from musicapi._family_requests import (
    nuro_body,
    producer_body,
    request_body,
    riffusion_body,
    studio_body,
    suno_body,
)
from musicapi._models.nuro import NuroBgmRequest, NuroVocalRequest
from musicapi._models.producer import (
    ProducerCreateRequest,
    ProducerDownloadRequest,
    ProducerUploadRequest,
)
from musicapi._models.riffusion import RiffusionCreateRequest, RiffusionUploadRequest
from musicapi._models.studio import StudioCreateRequest
from musicapi._models.suno import GetSongRequest, MakeLyricsRequest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping

FAKE_KEY = "sk-family-tests-7f3a9c2e51"  # distinctive: the log filter redacts every key used
VECTORS = Path(__file__).parent.parent / "vectors"
STUDIO: dict[str, Any] = {
    "prompt": "jazzy",
    "lyrics_type": "instrumental",
    "prompt_strength": 0.5,
    "clarity_strength": 0.5,
    "lyrics_strength": 0.5,
    "generation_quality": 0.75,
    "model_type": "v130-1.5",
    "config": {},
}
VOCAL: dict[str, Any] = {"type": "vocal", "lyrics": "[Verse]\nhello"}
BGM: dict[str, Any] = {"type": "bgm", "description": "calm piano"}


@pytest.fixture(autouse=True)
def _no_deprecation_errors() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
async def api(sent: list[httpx.Request]) -> AsyncIterator[AsyncMusicAPI]:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    transport = httpx.MockTransport(handler)
    async with AsyncMusicAPI(
        FAKE_KEY, base_url="https://api.example", transport=transport
    ) as client:
        yield client


# (operation, fields, the field named)
BROKEN: list[tuple[str, dict[str, Any], str]] = [
    ("producer.create", {"length": 0}, "length"),
    ("producer.create", {"length": 241}, "length"),
    ("producer.create", {"length": "30"}, "length"),
    ("producer.create", {"title": "t" * 81}, "title"),
    ("producer.create", {"task_type": "remix"}, "task_type"),
    ("producer.create", {"task_type": "cover_music", "clip_id": "c", "strength": 1.5}, "strength"),
    (
        "producer.create",
        {"task_type": "cover_music", "clip_id": "c", "cover_strength": -0.1},
        "cover_strength",
    ),
    (
        "producer.create",
        {"task_type": "cover_music", "clip_id": "c", "strength": 0.5, "cover_strength": 0.6},
        "cover_strength",
    ),
    ("producer.create", {"task_type": "cover_music"}, "clip_id"),
    ("producer.create", {"task_type": "extend_upload_music"}, "clip_id"),
    ("producer.create", {"task_type": "replace_music", "clip_id": "c", "ends_at": 2}, "starts_at"),
    (
        "producer.create",
        {"task_type": "replace_music", "clip_id": "c", "starts_at": 3, "ends_at": 2},
        "ends_at",
    ),
    ("producer.create", {"starts_at": -1}, "starts_at"),
    ("producer.create", {"seed": True}, "seed"),
    ("producer.create", {"bpm": [120]}, "bpm"),
    ("producer.create", {"sond": "typo"}, "sond"),
    ("producer.create", {"webhook_url": "ftp://example.com/hook"}, "webhook_url"),
    (
        "producer.create",
        {"webhook_url": "https://example.com/h", "webhook_secret": ""},
        "webhook_secret",
    ),
    ("producer.create", {"length": float("nan")}, "length"),
    ("producer.upload", {"audio_url": "a.mp3"}, "audio_url"),
    ("producer.download", {"clip_id": "c", "format": "flac"}, "format"),
    ("producer.download", {"clip_id": ""}, "clip_id"),
    *(
        ("studio.create", {k: v for k, v in STUDIO.items() if k != missing}, missing)
        for missing in STUDIO
    ),
    ("studio.create", {**STUDIO, "lyrics": "l" * 1001}, "lyrics"),
    ("studio.create", {**STUDIO, "prompt_strength": 1.5}, "prompt_strength"),
    ("studio.create", {**STUDIO, "generation_quality": "high"}, "generation_quality"),
    ("studio.create", {**STUDIO, "config": "{}"}, "config"),
    (
        "studio.create",
        {**STUDIO, "song_section_start": 5, "song_section_end": 5},
        "song_section_end",
    ),
    (
        "studio.create",
        {**STUDIO, "lyrics_placement_start": 3, "lyrics_placement_end": 1},
        "lyrics_placement_end",
    ),
    (
        "studio.create",
        {**STUDIO, "bypass_prompt_optimization": "yes"},
        "bypass_prompt_optimization",
    ),
    ("riffusion.create", {"lyrics": "l" * 3001}, "lyrics"),
    ("riffusion.create", {"prompt": "p" * 201}, "prompt"),
    ("riffusion.create", {"sound": "s" * 201}, "sound"),
    ("riffusion.create", {"title": "t" * 81}, "title"),
    ("riffusion.create", {"mv": "FUZZ-2.0"}, "mv"),
    ("riffusion.create", {"task_type": "remix"}, "task_type"),
    ("riffusion.create", {"vocal_variation": 1.1}, "vocal_variation"),
    ("riffusion.create", {"task_type": "swap_music_vocals"}, "continue_clip_id"),
    (
        "riffusion.create",
        {"task_type": "replace_music", "continue_clip_id": "c", "replace_start_time": 1},
        "replace_end_time",
    ),
    (
        "riffusion.create",
        {
            "task_type": "replace_music",
            "continue_clip_id": "c",
            "replace_start_time": 2,
            "replace_end_time": 1,
        },
        "replace_end_time",
    ),
    ("riffusion.create", {"continue_at": -1}, "continue_at"),
    ("riffusion.upload", {"url": "not a url"}, "url"),
    ("nuro.create", {}, "type"),
    ("nuro.create", {"type": "song"}, "type"),
    ("nuro.create", {"type": "vocal"}, "lyrics"),
    ("nuro.create", {**VOCAL, "lyrics": "l" * 2001}, "lyrics"),
    ("nuro.create", {**VOCAL, "gender": "female"}, "gender"),
    ("nuro.create", {**VOCAL, "timbre": "Soft"}, "timbre"),
    ("nuro.create", {**VOCAL, "duration": 29}, "duration"),
    ("nuro.create", {**VOCAL, "duration": 241}, "duration"),
    ("nuro.create", {**VOCAL, "duration": 60.5}, "duration"),
    ("nuro.create", {**VOCAL, "genre": ["Pop"]}, "genre"),
    ("nuro.create", {**VOCAL, "description": "a bgm field"}, "description"),
    ("nuro.create", {"type": "bgm"}, "description"),
    ("nuro.create", {**BGM, "genre": "Ambient"}, "genre"),
    ("nuro.create", {**BGM, "instrument": ["a", "b", "c", "d", "e", "f"]}, "instrument"),
    ("nuro.create", {**BGM, "duration": 61}, "duration"),
    ("nuro.create", {**BGM, "duration": 0}, "duration"),
    ("nuro.create", {**BGM, "version": "v2.0", "duration": 241}, "duration"),
    ("nuro.create", {**BGM, "segments": [{"name": "intro", "duration": 30}]}, "segments"),
    ("nuro.create", {**BGM, "version": "v2.0", "segments": [{"name": "intro"}]}, "segments"),
    (
        "nuro.create",
        {**BGM, "version": "v2.0", "segments": [{"name": "", "duration": 3}]},
        "segments",
    ),
    ("nuro.create", {**BGM, "version": "v2.0", "segments": ["intro"]}, "segments"),
    ("suno.create", {"custom_mode": True, "prompt": "x", "title": "t" * 81}, "title"),
    ("suno.create", {"task_type": "extend_music", "custom_mode": False}, "continue_clip_id"),
    ("suno.make_lyrics", {"prompt": "p" * 120}, "prompt"),
    ("suno.make_lyrics", {"prompt": ""}, "prompt"),
    ("suno.get_song", {"share_link": "suno.com/song/1"}, "share_link"),
]


def _call(api: AsyncMusicAPI, operation: str, fields: dict[str, Any]) -> Any:
    family, name = operation.split(".")
    method = getattr(getattr(api, family), name)
    return method(**fields)


@pytest.mark.parametrize(("operation", "fields", "field"), BROKEN)
async def test_each_rule_is_refused_before_sending(
    api: AsyncMusicAPI,
    sent: list[httpx.Request],
    operation: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await _call(api, operation, fields)
    assert caught.value.field == field, str(caught.value)
    assert field in str(caught.value)
    assert sent == []


@pytest.mark.parametrize(
    "operation",
    [
        "producer.generate",
        "studio.generate",
        "riffusion.generate",
        "nuro.generate",
        "suno.generate",
    ],
)
async def test_generate_checks_before_sending(
    api: AsyncMusicAPI, sent: list[httpx.Request], operation: str
) -> None:
    with pytest.raises(RequestValidationError):
        await _call(api, operation, {"no_such_field": 1})
    assert sent == []


@pytest.mark.parametrize(
    ("task_type", "instead"),
    [
        ("music_variation", "seed"),
        ("swap_music_vocals", "replace_music"),
        ("swap_music_sound", "replace_music"),
    ],
)
async def test_withdrawn_producer_task_types(
    api: AsyncMusicAPI, sent: list[httpx.Request], task_type: str, instead: str
) -> None:
    for call in (
        lambda: api.producer.create(task_type=task_type, clip_id="c"),
        lambda: api.producer.create(ProducerCreateRequest(task_type=task_type, clip_id="c")),
        lambda: api.producer.generate(task_type=task_type),
    ):
        with pytest.raises(RequestValidationError) as caught:
            await call()
        message = str(caught.value)
        assert caught.value.field == "task_type"
        assert "withdrawn" in message and "410" in message and instead in message
    assert sent == []


async def test_request_objects_are_checked_like_keywords(
    api: AsyncMusicAPI, sent: list[httpx.Request]
) -> None:
    cases: list[tuple[Callable[[], Any], str]] = [
        (lambda: api.producer.create(ProducerCreateRequest(length=500)), "length"),
        (lambda: api.producer.create(ProducerCreateRequest(title=5)), "title"),  # type: ignore[arg-type]
        (lambda: api.studio.create(StudioCreateRequest(**{**STUDIO, "prompt": ""})), "prompt"),
        (lambda: api.riffusion.create(RiffusionCreateRequest(mv="FUZZ-9")), "mv"),
        (lambda: api.nuro.create(NuroVocalRequest(lyrics="x", duration=10)), "duration"),
        (lambda: api.nuro.create(NuroBgmRequest(description="x", duration=90)), "duration"),
        (lambda: api.nuro.create(StudioCreateRequest(**STUDIO)), "request"),  # type: ignore[arg-type]
        (lambda: api.producer.create(StudioCreateRequest(**STUDIO)), "request"),  # type: ignore[arg-type]
    ]
    for call, field in cases:
        with pytest.raises(RequestValidationError) as caught:
            await call()
        assert caught.value.field == field
    with pytest.raises(RequestValidationError, match="not both"):
        await api.producer.create(ProducerCreateRequest(sound="x"), title="y")
    assert sent == []


def test_valid_bodies_omit_what_was_not_given() -> None:
    assert producer_body(None, {"sound": "x", "length": 30, "title": None}) == {
        "sound": "x",
        "length": 30,
    }
    assert producer_body(
        ProducerCreateRequest(task_type="cover_music", clip_id="c", cover_strength=0.2), {}
    ) == {
        "task_type": "cover_music",
        "clip_id": "c",
        "cover_strength": 0.2,
    }
    assert nuro_body(None, {**BGM, "genre": ("Ambient",)})["genre"] == ["Ambient"]
    assert nuro_body(NuroVocalRequest(lyrics="la"), {}) == {"type": "vocal", "lyrics": "la"}
    assert studio_body(None, STUDIO) == STUDIO
    body = riffusion_body(None, {"prompt": "p", "mv": "FUZZ-1.0"})
    assert body == {"prompt": "p", "mv": "FUZZ-1.0"}
    assert suno_body(None, {"gpt_description_prompt": "x"})["custom_mode"] is False


# -- the shared vectors -------------------------------------------------------------------


def _model(cls: type[Any], operation: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda body: request_body(cls, None, body, operation=operation)


PREPARERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "producer/create": lambda body: producer_body(None, body),
    "producer/upload": _model(ProducerUploadRequest, "producer.upload"),
    "producer/download": _model(ProducerDownloadRequest, "producer.download"),
    "studio/create": lambda body: studio_body(None, body),
    "riffusion/create": lambda body: riffusion_body(None, body),
    "riffusion/upload": _model(RiffusionUploadRequest, "riffusion.upload"),
    "nuro/create": lambda body: nuro_body(None, body),
    "suno/create": lambda body: suno_body(None, body),
    "suno/make-lyrics": _model(MakeLyricsRequest, "suno.make_lyrics"),
    "suno/get-song": _model(GetSongRequest, "suno.get_song"),
}


def _vectors() -> list[Any]:
    found: list[Any] = []
    for name in ("task_operation_rules.json", "sync_operation_rules.json"):
        path = VECTORS / name
        if path.exists():
            vectors = json.loads(path.read_text(encoding="utf-8"))
            found.extend(
                pytest.param(vector, id=f"{name.split('_')[0]}-{i}-{vector['operation']}")
                for i, vector in enumerate(vectors)
                if vector["operation"] in PREPARERS
            )
    return found or [pytest.param(None, marks=pytest.mark.skip(reason="no vectors yet"))]


@pytest.mark.parametrize("vector", _vectors())
def test_the_sdk_agrees_with_the_shared_vectors(vector: dict[str, Any]) -> None:
    prepare = PREPARERS[vector["operation"]]
    if vector["valid"]:
        prepare(vector["body"])
        return
    with pytest.raises(RequestValidationError) as caught:
        prepare(vector["body"])
    assert caught.value.field == vector["field"], (vector.get("comment"), str(caught.value))
