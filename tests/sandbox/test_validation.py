"""Create bodies are validated like the real API: a 400 that names the field."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

    from musicapi.sandbox import Sandbox

VALID = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "lofi beats"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"task_type": "make_coffee"}, "task_type"),
        ({"mv": None}, "mv"),
        ({"mv": "chirp-v5"}, "mv"),
        ({"custom_mode": None}, "custom_mode"),
        ({"custom_mode": "yes"}, "custom_mode"),
        ({"gpt_description_prompt": None}, "gpt_description_prompt"),
        ({"gpt_description_prompt": "x" * 401}, "gpt_description_prompt"),
        ({"title": "x" * 81}, "title"),
        ({"tags": "x" * 201}, "tags"),
        ({"negative_tags": "x" * 201}, "negative_tags"),
        ({"style_weight": 1.5}, "style_weight"),
        ({"weirdness_constraint": -0.1}, "weirdness_constraint"),
        ({"audio_weight": "high"}, "audio_weight"),
        ({"vocal_gender": "x"}, "vocal_gender"),
        ({"variation_category": "wild"}, "variation_category"),
        ({"auto_lyrics": True}, "auto_lyrics"),
        ({"webhook_url": "ftp://example.com"}, "webhook_url"),
        ({"custom_mode": True, "gpt_description_prompt": None}, "prompt"),
        ({"custom_mode": True, "mv": "sonic-v4", "prompt": "x" * 3001}, "prompt"),
        ({"custom_mode": True, "mv": "sonic-v5", "prompt": "x" * 5001}, "prompt"),
        ({"task_type": "extend_music", "continue_clip_id": "c"}, "continue_at"),
        ({"task_type": "cover_music"}, "continue_clip_id"),
        ({"task_type": "persona_music"}, "persona_id"),
        ({"task_type": "remaster"}, "continue_clip_id"),
        ({"task_type": "add_vocals"}, "continue_clip_id"),
        ({"task_type": "concat_music", "mv": None}, "continue_clip_id"),
    ],
)
async def test_invalid_body_names_the_field(
    client: httpx.AsyncClient, sandbox: Sandbox, changes: dict[str, object], field: str
) -> None:
    body = {name: value for name, value in {**VALID, **changes}.items() if value is not None}
    response = await client.post("/sonic/create", json=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}: ")
    assert sandbox.credits == 5000


@pytest.mark.parametrize(
    "changes",
    [
        {"mv": "sonic-v9-future"},  # unknown sonic-* names are accepted
        {"custom_mode": True, "gpt_description_prompt": None, "make_instrumental": True},
        {"custom_mode": True, "gpt_description_prompt": None, "auto_lyrics": True},
        {"custom_mode": True, "mv": "sonic-v4-5", "prompt": "x" * 5000},
        {"style_weight": 0, "weirdness_constraint": 1, "audio_weight": 0.5},
        {"some_future_field": 1},
    ],
)
async def test_valid_variants_are_accepted(
    client: httpx.AsyncClient, changes: dict[str, object]
) -> None:
    body = {name: value for name, value in {**VALID, **changes}.items() if value is not None}
    assert (await client.post("/sonic/create", json=body)).status_code == 200


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b""])
async def test_body_must_be_a_json_object(client: httpx.AsyncClient, content: bytes) -> None:
    response = await client.post("/sonic/create", content=content)
    assert response.status_code == 400
    assert response.json() == {"error": "body: must be a JSON object"}
