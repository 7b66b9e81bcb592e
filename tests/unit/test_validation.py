from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from musicapi._errors import MusicAPIError, RequestValidationError
from musicapi._models import SonicCreateRequest, SonicModel
from musicapi._validation import (
    build_sonic_create,
    prepare_request,
    validate_sonic_create,
    with_defaults,
)

SHORT_MODELS = ["sonic-v3-5", "sonic-v4"]
LONG_MODELS = ["sonic-v4-5", "sonic-v4-5-plus", "sonic-v5", "sonic-v5-5"]


def _invalid(field: str, **fields: Any) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as info:
        build_sonic_create(fields)
    error = info.value
    assert error.field == field, str(error)
    assert field in str(error)
    assert isinstance(error, ValueError)
    assert isinstance(error, MusicAPIError)
    return error


def _custom(**fields: Any) -> dict[str, Any]:
    return {"custom_mode": True, "prompt": "la la la", **fields}


class TestModeInference:
    def test_description_alone_is_description_mode(self) -> None:
        request = build_sonic_create({"gpt_description_prompt": "a calm piano piece"})
        assert request.custom_mode is False
        assert request.mv == SonicModel.DEFAULT

    @pytest.mark.parametrize(
        "fields",
        [{"prompt": "lyrics"}, {"lyrics": "lyrics"}, {"prompt": "x", "title": "T", "tags": "rock"}],
    )
    def test_lyrics_mean_custom_mode(self, fields: dict[str, Any]) -> None:
        assert build_sonic_create(fields).custom_mode is True

    def test_instrumental_with_tags_is_custom(self) -> None:
        request = build_sonic_create({"tags": "lofi", "make_instrumental": True})
        assert request.custom_mode is True

    def test_explicit_mode_and_model_kept(self) -> None:
        request = build_sonic_create(
            {"custom_mode": False, "gpt_description_prompt": "x", "mv": "sonic-v4"}
        )
        assert (request.custom_mode, request.mv) == (False, "sonic-v4")

    def test_unknown_model_is_passed_through(self) -> None:
        assert build_sonic_create(_custom(mv="sonic-v9")).mv == "sonic-v9"

    @pytest.mark.parametrize(
        "fields",
        [{}, {"prompt": "lyrics", "gpt_description_prompt": "desc"}, {"make_instrumental": True}],
    )
    def test_ambiguous_or_empty_needs_custom_mode(self, fields: dict[str, Any]) -> None:
        _invalid("custom_mode", **fields)

    def test_description_mode_needs_description(self) -> None:
        _invalid("gpt_description_prompt", custom_mode=False)
        _invalid("gpt_description_prompt", custom_mode=False, gpt_description_prompt="")

    def test_custom_mode_needs_lyrics(self) -> None:
        _invalid("prompt", custom_mode=True, title="T")

    @pytest.mark.parametrize("flag", ["make_instrumental", "auto_lyrics"])
    def test_custom_mode_without_lyrics_ok_when_flag(self, flag: str) -> None:
        assert build_sonic_create({"custom_mode": True, flag: True}).custom_mode is True

    def test_auto_lyrics_needs_custom_mode(self) -> None:
        _invalid("auto_lyrics", custom_mode=False, gpt_description_prompt="x", auto_lyrics=True)

    def test_prompt_and_different_lyrics(self) -> None:
        _invalid("lyrics", custom_mode=True, prompt="a", lyrics="b")
        assert build_sonic_create(_custom(lyrics="la la la")).lyrics == "la la la"


class TestTaskTypes:
    @pytest.mark.parametrize(
        ("task_type", "complete", "required"),
        [
            (
                "extend_music",
                {"continue_clip_id": "c", "continue_at": 30.0, "prompt": "x"},
                ["continue_clip_id", "continue_at"],
            ),
            (
                "extend_upload_music",
                {"continue_clip_id": "c", "continue_at": 0, "prompt": "x"},
                ["continue_clip_id", "continue_at"],
            ),
            ("cover_music", {"continue_clip_id": "c", "tags": "jazz"}, ["continue_clip_id"]),
            ("cover_upload_music", {"continue_clip_id": "c", "tags": "jazz"}, ["continue_clip_id"]),
            ("persona_music", {"persona_id": "p", "prompt": "x"}, ["persona_id"]),
            ("concat_music", {"continue_clip_id": "c"}, ["continue_clip_id"]),
            ("remaster", {"continue_clip_id": "c"}, ["continue_clip_id"]),
            ("add_instrumental", {"continue_clip_id": "c"}, ["continue_clip_id"]),
            ("add_vocals", {"continue_clip_id": "c"}, ["continue_clip_id"]),
        ],
    )
    def test_required_fields(
        self, task_type: str, complete: dict[str, Any], required: list[str]
    ) -> None:
        request = build_sonic_create({"task_type": task_type, **complete})
        assert request.task_type == task_type
        for name in required:
            fields = {"task_type": task_type, **complete}
            del fields[name]
            _invalid(name, **fields)

    @pytest.mark.parametrize("task_type", ["extend_music", "cover_music", "persona_music"])
    def test_custom_mode_required(self, task_type: str) -> None:
        fields = {
            "task_type": task_type,
            "continue_clip_id": "c",
            "continue_at": 1.0,
            "persona_id": "p",
        }
        _invalid("custom_mode", **fields)

    def test_concat_needs_neither_mode_nor_model(self) -> None:
        request = build_sonic_create({"task_type": "concat_music", "continue_clip_id": "c"})
        assert request.custom_mode is None
        assert request.mv is None

    def test_extend_gets_default_model(self) -> None:
        request = build_sonic_create(
            {"task_type": "extend_music", "continue_clip_id": "c", "continue_at": 5, "prompt": "x"}
        )
        assert request.mv == SonicModel.DEFAULT
        assert request.custom_mode is True

    def test_validate_prepared_request(self) -> None:
        request = with_defaults(SonicCreateRequest(gpt_description_prompt="x"))
        assert validate_sonic_create(request) is request
        with pytest.raises(RequestValidationError) as info:
            validate_sonic_create(SonicCreateRequest(gpt_description_prompt="x"))
        assert info.value.field in ("custom_mode", "mv")


class TestLengths:
    @pytest.mark.parametrize("mv", SHORT_MODELS)
    @pytest.mark.parametrize("name", ["prompt", "lyrics"])
    def test_lyrics_limit_3000_for_short_models(self, mv: str, name: str) -> None:
        build_sonic_create({"custom_mode": True, "mv": mv, name: "x" * 3000})
        error = _invalid(name, custom_mode=True, mv=mv, **{name: "x" * 3001})
        assert "3000" in str(error)

    @pytest.mark.parametrize("mv", [*LONG_MODELS, None])
    @pytest.mark.parametrize("name", ["prompt", "lyrics"])
    def test_lyrics_limit_5000_otherwise(self, mv: str | None, name: str) -> None:
        build_sonic_create({"custom_mode": True, "mv": mv, name: "x" * 5000})
        error = _invalid(name, custom_mode=True, mv=mv, **{name: "x" * 5001})
        assert "5000" in str(error)

    @pytest.mark.parametrize(
        ("name", "limit", "base"),
        [
            ("title", 80, _custom()),
            ("tags", 200, _custom()),
            ("negative_tags", 200, _custom()),
            ("gpt_description_prompt", 400, {"custom_mode": False}),
        ],
    )
    @pytest.mark.parametrize("mv", ["sonic-v3-5", "sonic-v5"])
    def test_field_limits(self, name: str, limit: int, base: dict[str, Any], mv: str) -> None:
        build_sonic_create({**base, "mv": mv, name: "y" * limit})
        error = _invalid(name, **base, mv=mv, **{name: "y" * (limit + 1)})
        assert str(limit) in str(error)

    def test_limits_count_characters_not_bytes(self) -> None:
        build_sonic_create(_custom(title="ü" * 80))


class TestRanges:
    @pytest.mark.parametrize("name", ["style_weight", "weirdness_constraint", "audio_weight"])
    @pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
    def test_unit_range_accepted(self, name: str, value: float) -> None:
        assert getattr(build_sonic_create(_custom(**{name: value})), name) == value

    @pytest.mark.parametrize("name", ["style_weight", "weirdness_constraint", "audio_weight"])
    @pytest.mark.parametrize("value", [-0.01, 1.01, 2, -1, float("nan"), float("inf")])
    def test_unit_range_rejected(self, name: str, value: float) -> None:
        _invalid(name, **_custom(**{name: value}))

    @pytest.mark.parametrize("name", ["continue_at", "overpainting_start_s", "overpainting_end_s"])
    def test_non_negative(self, name: str) -> None:
        _invalid(name, **_custom(**{name: -1.0}))

    def test_overpainting_window(self) -> None:
        build_sonic_create(_custom(overpainting_start_s=1.0, overpainting_end_s=2.0))
        _invalid("overpainting_end_s", **_custom(overpainting_start_s=2.0, overpainting_end_s=2.0))


class TestChoices:
    @pytest.mark.parametrize("gender", ["f", "m"])
    @pytest.mark.parametrize("mv", LONG_MODELS)
    def test_vocal_gender_accepted(self, gender: str, mv: str) -> None:
        assert build_sonic_create(_custom(vocal_gender=gender, mv=mv)).vocal_gender == gender

    @pytest.mark.parametrize("gender", ["F", "female", "x", ""])
    def test_vocal_gender_only_f_or_m(self, gender: str) -> None:
        _invalid("vocal_gender", **_custom(vocal_gender=gender))

    @pytest.mark.parametrize("mv", SHORT_MODELS)
    def test_vocal_gender_not_for_old_models(self, mv: str) -> None:
        _invalid("vocal_gender", **_custom(vocal_gender="f", mv=mv))

    @pytest.mark.parametrize("category", ["subtle", "normal", "high"])
    def test_variation_category(self, category: str) -> None:
        build_sonic_create(_custom(variation_category=category))

    def test_variation_category_rejected(self) -> None:
        _invalid("variation_category", **_custom(variation_category="extreme"))

    @pytest.mark.parametrize("url", ["ftp://x/y", "/relative/path", "hook.example.com"])
    def test_webhook_url(self, url: str) -> None:
        _invalid("webhook_url", **_custom(webhook_url=url))

    def test_webhook_secret_not_empty(self) -> None:
        _invalid("webhook_secret", **_custom(webhook_url="https://h.example/x", webhook_secret=""))


class TestUnknownAndTypes:
    @pytest.mark.parametrize("name", ["lyric", "Title", "model", "duration", "api_key"])
    def test_unknown_field(self, name: str) -> None:
        error = _invalid(name, **_custom(**{name: "x"}))
        assert "unknown field" in str(error)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("custom_mode", "yes"),
            ("custom_mode", 1),
            ("make_instrumental", "false"),
            ("auto_lyrics", 0),
            ("style_weight", "0.5"),
            ("style_weight", True),
            ("continue_at", False),
            ("audio_weight", [0.5]),
            ("prompt", 5),
            ("title", b"bytes"),
            ("tags", ["rock", "pop"]),
            ("mv", 4.5),
            ("vocal_gender", True),
        ],
    )
    def test_wrong_types(self, name: str, value: Any) -> None:
        base = _custom() if name not in ("custom_mode", "prompt") else {"prompt": "x"}
        _invalid(name, **{**base, name: value})

    def test_none_is_not_sent(self) -> None:
        request = build_sonic_create(_custom(title=None, style_weight=None))
        assert request.title is None

    def test_ints_are_numbers(self) -> None:
        request = build_sonic_create(
            {"task_type": "extend_music", "continue_clip_id": "c", "continue_at": 30, "prompt": "x"}
        )
        assert request.continue_at == 30


class TestPreparedRequests:
    """`create(SonicCreateRequest(...))` gets the same checks as keyword fields (issue 8)."""

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"custom_mode": "no"}, "custom_mode"),
            ({"title": 5}, "title"),
            ({"style_weight": True}, "style_weight"),
            ({"continue_at": "3"}, "continue_at"),
            ({"task_type": ["extend_music"]}, "task_type"),
            ({"tags": "rock \ud800"}, "tags"),
            ({"style_weight": float("nan")}, "style_weight"),
        ],
    )
    def test_wrong_types_in_a_prepared_request(self, changes: dict[str, Any], field: str) -> None:
        fields: dict[str, Any] = {
            "custom_mode": False,
            "mv": "sonic-v5",
            "gpt_description_prompt": "x",
            **changes,
        }
        request = SonicCreateRequest(**fields)
        with pytest.raises(RequestValidationError) as info:
            prepare_request(request, {})
        assert info.value.field == field
        with pytest.raises(RequestValidationError) as info:
            validate_sonic_create(request)
        assert info.value.field == field

    def test_a_valid_prepared_request_gets_its_defaults(self) -> None:
        request = prepare_request(SonicCreateRequest(gpt_description_prompt="x"), {})
        assert (request.custom_mode, request.mv) == (False, SonicModel.DEFAULT)


class TestNotRepresentable:
    @pytest.mark.parametrize(
        "name",
        [
            "continue_at",
            "overpainting_start_s",
            "overpainting_end_s",
            "style_weight",
            "weirdness_constraint",
            "audio_weight",
        ],
    )
    @pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
    def test_every_number_must_be_finite(self, name: str, value: float) -> None:
        error = _invalid(name, **_custom(**{name: value}))
        assert "finite" in str(error)

    def test_huge_ints_are_finite(self) -> None:
        build_sonic_create(
            {"task_type": "extend_music", "continue_clip_id": "c", "continue_at": 10**400}
            | {"custom_mode": True}
        )

    @pytest.mark.parametrize(
        "name",
        [
            "task_type",
            "mv",
            "prompt",
            "lyrics",
            "gpt_description_prompt",
            "title",
            "tags",
            "negative_tags",
            "continue_clip_id",
            "persona_id",
            "vocal_gender",
            "variation_category",
            "webhook_url",
            "webhook_secret",
        ],
    )
    @pytest.mark.parametrize(  # built with chr(): linters read lone surrogates as one character
        "text", [chr(0xD800), f"ok {chr(0xDFFF)} ok", chr(0xDBFF) * 2]
    )
    def test_lone_surrogates_in_any_string_field(self, name: str, text: str) -> None:
        error = _invalid(name, **_custom(**{name: text}))
        assert "surrogate" in str(error)


VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "sonic_create_rules.json"


def _expand(value: object) -> object:
    """Replace the vectors' placeholders (`$CLIP_ID`, `{"$repeat": s, "times": n}`)."""
    if isinstance(value, dict):
        mapping = cast("dict[str, object]", value)
        if set(mapping) == {"$repeat", "times"}:
            return str(mapping["$repeat"]) * cast("int", mapping["times"])
        return {name: _expand(item) for name, item in mapping.items()}
    if isinstance(value, list):
        return [_expand(item) for item in cast("list[object]", value)]
    return "clip-from-the-vectors" if value == "$CLIP_ID" else value


def _sdk_vectors() -> list[Any]:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    return [
        pytest.param(case, id=case["id"])
        for case in cases
        if "sdk" in case.get("applies_to", ["sdk", "sandbox"])
    ]


@pytest.mark.parametrize("case", _sdk_vectors())
def test_shared_vectors(case: dict[str, Any]) -> None:
    # Python's json reads NaN tokens and escaped lone surrogates, as a caller's data could.
    raw = json.loads(case["raw_body"]) if "raw_body" in case else case["body"]
    body = cast("dict[str, Any]", _expand(raw))
    if case["valid"]:
        build_sonic_create(body)
    else:
        with pytest.raises(RequestValidationError) as info:
            build_sonic_create(body)
        assert info.value.field == case["field"], str(info.value)


def test_the_vectors_cover_both_sides() -> None:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    assert len(cases) > 50
    assert {case["valid"] for case in cases} == {True, False}
    for case in cases:
        assert case["section"]
        assert ("body" in case) != ("raw_body" in case)
        assert case["valid"] or case["field"]
        assert set(case.get("applies_to", ["sdk"])) <= {"sdk", "sandbox"}
