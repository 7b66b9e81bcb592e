"""Request rules against hostile values: each refused before sending, naming its field.

Pure: the bodies are built with `musicapi._family_requests` and `_rules`, nothing is
sent. Each case was a break: an error that named no field (NaN deep in a JSON object
field), an integer no float can hold sent as a number, a message whose list of
choices came out in a different order on every run.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from musicapi import MalformedResponseError, RequestValidationError
from musicapi._family_requests import nuro_body, producer_body, studio_body
from musicapi._resources._sonic_base import body_for
from musicapi._wait import check_timeout

STUDIO: dict[str, Any] = {
    "prompt": "a calm song",
    "lyrics_type": "instrumental",
    "prompt_strength": 0.5,
    "clarity_strength": 0.5,
    "lyrics_strength": 0.5,
    "generation_quality": 0.5,
    "model_type": "udio130-v1.5",
    "config": {"mode": "regular"},
}


class Loop(dict[str, Any]):
    """A dict that holds itself: no JSON encoder can finish it."""


def _loop() -> Loop:
    loop = Loop()
    loop["self"] = loop
    return loop


@pytest.mark.parametrize(
    "config",
    [
        {"mode": float("nan")},
        {"nested": {"deep": [float("inf")]}},
        {(1, 2): "a tuple key"},
        {"object": object()},
        {"text": "\ud800"},
        _loop(),
    ],
    ids=["nan", "nested-inf", "tuple-key", "object", "surrogate", "cycle"],
)
def test_a_json_object_field_that_cannot_be_json_is_refused_by_name(config: Any) -> None:
    with pytest.raises(RequestValidationError, match="config") as caught:
        studio_body(None, {**STUDIO, "config": config})
    assert caught.value.field == "config"


def test_a_read_only_mapping_is_sent_as_a_json_object() -> None:
    config = MappingProxyType({"mode": "regular"})
    assert studio_body(None, {**STUDIO, "config": config})["config"] == {"mode": "regular"}


def test_a_segment_with_nan_seconds_is_refused_by_name() -> None:
    fields = {
        "type": "bgm",
        "description": "calm piano",
        "version": "v2.0",
        "segments": [{"name": "intro", "duration": float("nan")}],
    }
    with pytest.raises(RequestValidationError) as caught:
        nuro_body(None, fields)
    assert caught.value.field == "segments"


@pytest.mark.parametrize(
    "value", [10**400, -(10**400), 10**5000], ids=["1e400", "-1e400", "1e5000"]
)
def test_an_integer_no_float_can_hold_is_refused_by_name(value: int) -> None:
    with pytest.raises(RequestValidationError, match="bits") as caught:
        body_for("sonic/vox", None, {"clip_id": "c", "vocal_end_s": value})
    assert caught.value.field == "vocal_end_s"
    with pytest.raises(RequestValidationError) as caught:
        studio_body(None, {**STUDIO, "seed": value})
    assert caught.value.field == "seed"


def test_a_large_integer_a_float_can_hold_still_passes() -> None:
    assert studio_body(None, {**STUDIO, "seed": 10**300})["seed"] == 10**300


def test_the_choices_of_a_refused_value_are_listed_in_a_stable_order() -> None:
    with pytest.raises(RequestValidationError) as caught:
        body_for(
            "sonic/mashup",
            None,
            {
                "mashup_clip_ids": ["a", "b"],
                "custom_mode": False,
                "mv": "sonic-v5",
                "vocal_gender": "x" * 10_000,
            },
        )
    message = str(caught.value)
    assert "must be one of f, m;" in message
    assert len(message) < 300  # the refused value is cut short


def test_a_refused_producer_value_is_cut_short_in_the_message() -> None:
    with pytest.raises(RequestValidationError) as caught:
        producer_body(None, {"task_type": "y" * 1_000_000})
    assert caught.value.field == "task_type"
    assert len(str(caught.value)) < 1_000


@pytest.mark.parametrize("timeout", [10**400, -(10**400)], ids=["1e400", "-1e400"])
def test_a_timeout_no_float_can_hold_is_refused_by_name(timeout: int) -> None:
    with pytest.raises(RequestValidationError, match="too large") as caught:
        check_timeout(timeout)
    assert caught.value.field == "timeout"


def test_a_huge_string_timeout_gives_a_short_message() -> None:
    with pytest.raises(RequestValidationError) as caught:
        check_timeout("9" * 1_000_000)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_a_number_no_json_can_hold_is_a_malformed_answer(text: str) -> None:
    from musicapi._converter import structure
    from musicapi._models.sonic_tools import AlignedWord

    with pytest.raises(MalformedResponseError, match="start_s"):
        structure({"word": "a", "start_s": text, "end_s": 1.0}, AlignedWord, what="aligned lyrics")
