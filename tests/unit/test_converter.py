from __future__ import annotations

import json
import random
from typing import Any

import pytest

from musicapi._converter import (
    parse_task,
    result_of,
    structure,
    unstructure_request,
)
from musicapi._errors import MalformedResponseError
from musicapi._models import Clip, Credits, SonicCreateRequest, Task, TaskState, TaskSubmission


def _clip(clip_id: str, **extra: Any) -> dict[str, Any]:
    clip: dict[str, Any] = {
        "clip_id": clip_id,
        "state": "succeeded",
        "title": "Night Drive",
        "tags": "synthwave, 80s",
        "lyrics": "[Verse]\n...",
        "image_url": f"https://cdn.example/{clip_id}.jpg",
        "audio_url": f"https://cdn.example/{clip_id}.mp3",
        "video_url": f"https://cdn.example/{clip_id}.mp4",
        "created_at": "2025-01-01T00:00:00Z",
        "duration": "104.88",
        "mv": "chirp-v5",
    }
    clip.update(extra)
    return clip


def _success(*clips: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"code": 200, "message": "success", "data": list(clips), **extra}


class TestParseTask:
    def test_202_is_running(self) -> None:
        task = parse_task("t1", 202, {"type": "not_ready"}, retry_after=4.0)
        assert task.state == TaskState.RUNNING
        assert task.task_id == "t1"
        assert task.retry_after == 4.0
        assert not task.is_done
        assert task.clips == ()

    @pytest.mark.parametrize("body", [{}, None, "", "not ready", [1]])
    def test_202_with_any_body_is_running(self, body: Any) -> None:
        assert parse_task("t", 202, body, retry_after=None).state == TaskState.RUNNING

    @pytest.mark.parametrize("kind", ["not_ready", "pending", "running", "processing"])
    def test_not_ready_type_on_200_is_running(self, kind: str) -> None:
        task = parse_task("t", 200, {"type": kind, "error": "wait"}, retry_after=None)
        assert task.state == TaskState.RUNNING

    def test_success_with_two_clips(self) -> None:
        body = _success(_clip("a"), _clip("b", duration=95))
        task = parse_task("t2", 200, body, retry_after=None)
        assert task.state == TaskState.SUCCEEDED
        assert task.is_done
        assert task.reason is None
        assert [c.clip_id for c in task.clips] == ["a", "b"]
        first = task.clips[0]
        assert first.duration == 104.88
        assert isinstance(first.duration, float)
        assert task.clips[1].duration == 95.0
        assert first.title == "Night Drive"
        assert first.tags == "synthwave, 80s"
        assert first.audio_url == "https://cdn.example/a.mp3"
        assert first.image_url == "https://cdn.example/a.jpg"
        assert first.state == "succeeded"
        assert first.mv == "chirp-v5"
        result = result_of(task)
        assert result.task_id == "t2"
        assert result.clips == task.clips
        assert result.raw["message"] == "success"

    def test_unknown_fields_are_kept_in_raw(self) -> None:
        body = _success(
            _clip("a", bpm=120, stems={"vocals": "u"}, raw="not the raw"),
            _clip("b"),
            new_top_level="x",
        )
        task = parse_task("t", 200, body, retry_after=None)
        assert task.raw["new_top_level"] == "x"
        clip = task.clips[0]
        assert clip.raw["bpm"] == 120
        assert clip.raw["stems"] == {"vocals": "u"}
        assert clip.raw["duration"] == "104.88"  # the raw value, as sent
        assert clip.raw["raw"] == "not the raw"
        assert dict(clip.raw) == body["data"][0]

    def test_raw_is_read_only(self) -> None:
        task = parse_task("t", 200, _success(_clip("a")), retry_after=None)
        with pytest.raises(TypeError):
            task.clips[0].raw["clip_id"] = "b"  # type: ignore[index]

    @pytest.mark.parametrize("state", ["streaming", "pending", "running", "queued", "mystery"])
    def test_unknown_or_unfinished_clip_state_keeps_task_running(self, state: str) -> None:
        body = _success(_clip("a"), _clip("b", state=state))
        task = parse_task("t", 200, body, retry_after=None)
        assert task.state == TaskState.RUNNING
        assert task.clips[1].state == state
        assert not task.clips[1].is_final

    def test_one_failed_clip_still_succeeds(self) -> None:
        body = _success(_clip("a"), _clip("b", state="failed"))
        assert parse_task("t", 200, body, retry_after=None).state == TaskState.SUCCEEDED

    def test_every_clip_failed_is_failed(self) -> None:
        body = _success(_clip("a", state="failed"), _clip("b", state="failed"))
        task = parse_task("t", 200, body, retry_after=None)
        assert task.state == TaskState.FAILED
        assert task.reason

    @pytest.mark.parametrize("kind", ["failed", "timeout", "forbidden", "api_error"])
    @pytest.mark.parametrize("text_key", ["error", "message"])
    def test_failure_types(self, kind: str, text_key: str) -> None:
        body = {"type": kind, text_key: "upstream said no", "task_id": "t"}
        task = parse_task("t", 200, body, retry_after=None)
        assert task.state == TaskState.FAILED
        assert task.is_done
        assert task.reason == f"{kind}: upstream said no"
        assert task.clips == ()
        assert task.raw["type"] == kind

    def test_failure_without_text(self) -> None:
        task = parse_task("t", 200, {"type": "timeout"}, retry_after=None)
        assert (task.state, task.reason) == (TaskState.FAILED, "timeout")

    @pytest.mark.parametrize(
        "body",
        [
            None,
            "oops",
            42,
            [_clip("a")],
            {"code": 200, "data": {"clip_id": "a"}},
            {"code": 200, "data": "a,b"},
            {"code": 200, "data": None},
            {"code": 200},
            {"message": "hello"},
            {"code": 200, "data": [{"state": "succeeded"}]},
            {"code": 200, "data": [_clip("a", duration="abc")]},
            {"code": 200, "data": [_clip("a", duration=[1])]},
            {"code": 200, "data": [_clip("a", style_weight="heavy")]},
            {"code": 200, "data": ["a", "b"]},
            {"code": 200, "data": [None]},
            {"code": 200, "data": [_clip("a"), 7]},
        ],
        ids=lambda body: json.dumps(body)[:40],
    )
    def test_malformed_bodies(self, body: Any) -> None:
        with pytest.raises(MalformedResponseError) as info:
            parse_task("t", 200, body, retry_after=None)
        # The error keeps what it could not read: the body, or its `data` list.
        assert info.value.body in (body, body.get("data") if isinstance(body, dict) else body)

    def test_malformed_error_names_the_field(self) -> None:
        with pytest.raises(MalformedResponseError, match=r"data\[1\]\.duration"):
            parse_task("t", 200, _success(_clip("a"), _clip("b", duration="abc")), retry_after=None)
        with pytest.raises(MalformedResponseError, match="clip_id"):
            parse_task("t", 200, {"code": 200, "data": [{"title": "x"}]}, retry_after=None)

    @pytest.mark.parametrize("kind", [[], {}, ["failed"], {"a": 1}])
    def test_unhashable_type_is_malformed_not_type_error(self, kind: Any) -> None:
        try:
            parse_task("t", 200, {"type": kind}, retry_after=None)
        except MalformedResponseError:
            pass


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    choices = ["null", "bool", "int", "float", "str", "numstr"]
    if depth < 3:
        choices += ["list", "dict", "dict"]
    kind = rng.choice(choices)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, 1, 200, 202, -1, 10**20])
    if kind == "float":
        return rng.choice([0.0, 1.5, -2.25, 1e308, float("inf")])
    if kind == "str":
        return rng.choice(["", "x", "succeeded", "failed", "streaming", "not_ready", "ü", "200"])
    if kind == "numstr":
        return rng.choice(["104.88", "abc", "1e3", "nan", " 3 "])
    if kind == "list":
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["code", "data", "type", "error", "message", "clip_id", "state", "duration", "title"]
    return {
        rng.choice(keys + ["zz", "raw"]): _json_value(rng, depth + 1)
        for _ in range(rng.randint(0, 5))
    }


def _body(rng: random.Random, *, hashable_type: bool) -> Any:
    """A random JSON-like body, biased towards the task endpoint's real shapes."""
    shape = rng.random()
    if shape < 0.4:
        clips = []
        for _ in range(rng.randint(0, 3)):
            clip = _clip(str(rng.randint(0, 9)))
            for key in rng.sample(sorted(clip), rng.randint(0, 3)):
                if rng.random() < 0.5:
                    del clip[key]
                else:
                    clip[key] = _json_value(rng, 2)
            clips.append(clip if rng.random() < 0.9 else _json_value(rng, 2))
        body: Any = {"code": rng.choice([200, 200, "200", None]), "data": clips}
    elif shape < 0.6:
        body = {"type": _json_value(rng, 2), "error": _json_value(rng, 2)}
    else:
        body = _json_value(rng)
    if hashable_type and isinstance(body, dict) and isinstance(body.get("type"), list | dict):
        body["type"] = json.dumps(body["type"])
    return body


def _check_fuzz(hashable_type: bool) -> None:
    rng = random.Random(20240517)
    for _ in range(3000):
        body = _body(rng, hashable_type=hashable_type)
        status = rng.choice([200, 200, 200, 202])
        try:
            task = parse_task("t", status, body, retry_after=None)
        except MalformedResponseError:
            continue
        assert isinstance(task, Task)
        assert task.state in (TaskState.RUNNING, TaskState.SUCCEEDED, TaskState.FAILED)
        for clip in task.clips:
            assert isinstance(clip.clip_id, str)
            assert clip.duration is None or isinstance(clip.duration, float)


def test_fuzz_bodies_give_task_or_malformed_error() -> None:
    # Hypothesis is not installed in /work/venv: a seeded stdlib generator stands in for it.
    _check_fuzz(hashable_type=True)


def test_fuzz_bodies_including_unhashable_type() -> None:
    _check_fuzz(hashable_type=False)


class TestStructure:
    def test_credits(self) -> None:
        credits = structure({"credits": 100, "extra_credits": 5, "plan": "pro"}, Credits, what="x")
        assert (credits.credits, credits.extra_credits, credits.total) == (100, 5, 105)
        assert credits.raw["plan"] == "pro"

    def test_submission(self) -> None:
        body = {"message": "success", "task_id": "abc", "warning": "w"}
        submission = structure(body, TaskSubmission, what="create response")
        assert submission.task_id == "abc"
        assert submission.raw["warning"] == "w"

    @pytest.mark.parametrize("body", [None, [], "x", {}, {"message": "success"}])
    def test_submission_malformed(self, body: Any) -> None:
        with pytest.raises(MalformedResponseError, match="create response"):
            structure(body, TaskSubmission, what="create response")

    def test_credits_malformed(self) -> None:
        with pytest.raises(MalformedResponseError):
            structure({"credits": "lots"}, Credits, what="credits")

    def test_clip_models_are_frozen(self) -> None:
        clip = structure(_clip("a"), Clip, what="clip")
        with pytest.raises(AttributeError):
            clip.title = "x"  # type: ignore[misc]


class TestUnstructureRequest:
    def test_omits_none(self) -> None:
        request = SonicCreateRequest(gpt_description_prompt="a song", custom_mode=False)
        assert unstructure_request(request) == {
            "custom_mode": False,
            "gpt_description_prompt": "a song",
        }

    def test_empty_request_is_empty_body(self) -> None:
        assert unstructure_request(SonicCreateRequest()) == {}

    def test_hides_nothing_else(self) -> None:
        request = SonicCreateRequest(
            task_type="extend_music",
            mv="sonic-v4-5",
            custom_mode=True,
            prompt="",
            title="T",
            tags="rock",
            negative_tags="",
            make_instrumental=False,
            continue_clip_id="c1",
            continue_at=0.0,
            style_weight=0.0,
            weirdness_constraint=1.0,
            vocal_gender="f",
            auto_lyrics=False,
            audio_weight=0.5,
            variation_category="subtle",
            overpainting_start_s=0,
            overpainting_end_s=3.5,
            webhook_url="https://hook.example/x",
            webhook_secret="whsec",
        )
        body = unstructure_request(request)
        assert body == {
            "task_type": "extend_music",
            "mv": "sonic-v4-5",
            "custom_mode": True,
            "prompt": "",
            "title": "T",
            "tags": "rock",
            "negative_tags": "",
            "make_instrumental": False,
            "continue_clip_id": "c1",
            "continue_at": 0.0,
            "style_weight": 0.0,
            "weirdness_constraint": 1.0,
            "vocal_gender": "f",
            "auto_lyrics": False,
            "audio_weight": 0.5,
            "variation_category": "subtle",
            "overpainting_start_s": 0,
            "overpainting_end_s": 3.5,
            "webhook_url": "https://hook.example/x",
            "webhook_secret": "whsec",
        }
        assert json.loads(json.dumps(body)) == body
        assert "whsec" not in repr(request)
