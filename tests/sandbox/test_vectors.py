"""The sandbox's create rules against the shared vectors (tests/vectors/sonic_create_rules.json).

The SDK's rules are checked against the same file in tests/unit/test_validation.py; the
two tables are written separately on purpose, so that the vectors, not shared code,
keep them both on api-reference.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from musicapi.sandbox import Sandbox
from musicapi.sandbox._state import PersonaRecord
from musicapi.testing import FakeClock

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "sonic_create_rules.json"
AUTH = {"Authorization": "Bearer sk-vectors", "Content-Type": "application/json"}


def _expand(value: object) -> object:
    """Replace `{"$repeat": s, "times": n}` placeholders (`$CLIP_ID` is done on the text)."""
    if isinstance(value, dict):
        mapping = cast("dict[str, object]", value)
        if set(mapping) == {"$repeat", "times"}:
            return str(mapping["$repeat"]) * cast("int", mapping["times"])
        return {name: _expand(item) for name, item in mapping.items()}
    if isinstance(value, list):
        return [_expand(item) for item in cast("list[object]", value)]
    return value


def _sandbox_vectors() -> list[Any]:
    cases = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    return [
        pytest.param(case, id=case["id"])
        for case in cases
        if "sandbox" in case.get("applies_to", ["sdk", "sandbox"])
    ]


@pytest.mark.parametrize("case", _sandbox_vectors())
async def test_shared_vectors(case: dict[str, Any]) -> None:
    clock = FakeClock(autojump=False)
    sandbox = Sandbox(clock=clock, credits=100)
    async with httpx.AsyncClient(
        transport=sandbox.transport(), base_url=sandbox.base_url, headers=AUTH
    ) as http:
        source = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "a source"}
        task_id = (await http.post("/sonic/create", json=source)).json()["task_id"]
        clock.advance(3)
        clip_id = (await http.get(f"/sonic/task/{task_id}")).json()["data"][0]["clip_id"]
        # The vectors' persona ("p-1") must be known: an unknown one is a 404 here.
        persona = PersonaRecord(persona_id="p-1", name="Vectors", clip_id=clip_id)
        sandbox.app.store.personas[persona.persona_id] = persona
        if "raw_body" in case:
            text = case["raw_body"]
        else:
            text = json.dumps(_expand(case["body"]), ensure_ascii=False)
        content = text.replace("$CLIP_ID", clip_id).encode()
        response = await http.post("/sonic/create", content=content)
    if case["valid"]:
        assert response.status_code == 200, response.text
        assert response.json()["task_id"] in sandbox.tasks
    else:
        assert response.status_code == 400, response.text
        assert response.json()["error"].startswith(f"{case['field']}: "), response.text
        assert len(sandbox.tasks) == 1
