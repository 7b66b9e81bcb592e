"""An independent client that knows only the API's documentation drives every operation.

It speaks raw HTTP (httpx, no SDK code) to `python -m musicapi.sandbox` in another
process, sends the bodies api-reference §3 documents, and checks each answer against
the documented status and shape: the promise that users' own clients, not only ours,
get documented answers from the sandbox.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

import musicapi

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = {"Authorization": "Bearer sk-documented-client"}
TASK_SECONDS = 0.2

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def api() -> Iterator[httpx.Client]:
    """A plain HTTP client on a sandbox served by `python -m musicapi.sandbox`."""
    root = pathlib.Path(musicapi.__file__).parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "musicapi.sandbox",
            "--port",
            "0",
            "--task-seconds",
            str(TASK_SECONDS),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as client:
            yield client
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def poll(api: httpx.Client, path: str, *, done: Any = None) -> httpx.Response:
    """GET `path` until it stops answering 202 (and `done(body)` holds, if given)."""
    deadline = time.monotonic() + 30
    while True:
        answer = api.get(path)
        if answer.status_code != 202 and (done is None or done(answer.json())):
            return answer
        assert time.monotonic() < deadline, f"{path} never finished"
        time.sleep(0.05)


def created(answer: httpx.Response) -> str:
    """Return the task id of a documented `TaskSubmitResponse`."""
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["message"] == "success"
    assert isinstance(body["task_id"], str)
    return str(body["task_id"])


def song(api: httpx.Client, path: str = "/sonic/task/") -> dict[str, Any]:
    """Create a song in description mode and return its first finished clip."""
    task_id = created(
        api.post(
            "/sonic/create",
            json={"custom_mode": False, "mv": "sonic-v4-5", "gpt_description_prompt": "calm lofi"},
        )
    )
    body = poll(api, f"{path}{task_id}").json()
    assert body["code"] == 200
    assert len(body["data"]) == 2
    clip: dict[str, Any] = body["data"][0]
    assert clip["state"] == "succeeded"
    assert isinstance(clip["duration"], (int, float))
    return clip


def sonic_result(api: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    body = poll(api, f"/sonic/task/{task_id}").json()
    assert body["code"] == 200, body
    data: list[dict[str, Any]] = body["data"]
    assert all(isinstance(entry["clip_id"], str) for entry in data)
    return data


def test_credits(api: httpx.Client) -> None:
    body = api.get("/get-credits").json()
    assert isinstance(body["credits"], int)
    assert isinstance(body["extra_credits"], int)


def test_sonic_create_and_task(api: httpx.Client) -> None:
    clip = song(api)
    assert api.get(clip["audio_url"]).status_code == 200


def test_sonic_lyrics(api: httpx.Client) -> None:
    body = api.post("/sonic/lyrics", json={"description": "a rainy morning"}).json()
    assert body["code"] == 200
    assert len(body["results"]) == 2
    assert all(set(result) >= {"title", "lyrics"} for result in body["results"])


def test_sonic_aligned_lyrics(api: httpx.Client) -> None:
    clip = song(api)
    body = api.post("/sonic/aligned-lyrics", json={"clip_id": clip["clip_id"]}).json()
    words = body["data"]["alignment"]
    assert words
    assert all(0 <= w["start_s"] < w["end_s"] <= clip["duration"] + 1e-6 for w in words)


def test_sonic_bpm(api: httpx.Client) -> None:
    clip = song(api)
    data = api.post("/sonic/bpm", json={"clip_id": clip["clip_id"]}).json()["data"]
    assert data["min_bpm"] <= data["avg_bpm"] <= data["max_bpm"]


def test_sonic_upsample_tags(api: httpx.Client) -> None:
    data = api.post("/sonic/upsample-tags", json={"tags": "lofi"}).json()["data"]
    assert isinstance(data["upsampled_tags"], str)


def test_sonic_vox_persona_and_persona_music(api: httpx.Client) -> None:
    clip = song(api)
    vox = api.post("/sonic/vox", json={"clip_id": clip["clip_id"]}).json()["data"]
    assert isinstance(vox["vox_audio_id"], str)
    persona = api.post(
        "/sonic/persona",
        json={"name": "Nova", "clip_id": clip["clip_id"], "vox_audio_id": vox["vox_audio_id"]},
    ).json()
    assert persona["code"] == 200
    task_id = created(
        api.post(
            "/sonic/create",
            json={
                "task_type": "persona_music",
                "persona_id": persona["persona_id"],
                "custom_mode": True,
                "mv": "sonic-v5",
                "prompt": "[Verse]\nhello",
            },
        )
    )
    assert len(sonic_result(api, task_id)) == 2


def test_sonic_create_voice(api: httpx.Client) -> None:
    clip = song(api)
    answer = api.post("/sonic/create-voice", json={"audio_url": clip["audio_url"]})
    assert isinstance(answer.json()["warning"], str)
    assert sonic_result(api, created(answer))


def test_sonic_midi_answers_202_then_a_midi_file(api: httpx.Client) -> None:
    clip = song(api)
    deadline = time.monotonic() + 30
    while (answer := api.post("/sonic/midi", json={"clip_id": clip["clip_id"]})).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    data = answer.json()["data"]
    assert api.get(data["midi_url"]).content.startswith(b"MThd")
    assert isinstance(data["instruments"], list)


def test_sonic_wav(api: httpx.Client) -> None:
    clip = song(api)
    data = api.post("/sonic/wav", json={"clip_id": clip["clip_id"]}).json()["data"]
    assert api.get(data["wav_url"]).content.startswith(b"RIFF")


@pytest.mark.parametrize("split", ["basic", "full"])
def test_sonic_stems(api: httpx.Client, split: str) -> None:
    clip = song(api)
    stems = sonic_result(
        api, created(api.post(f"/sonic/stems/{split}", json={"clip_id": clip["clip_id"]}))
    )
    assert len(stems) == (2 if split == "basic" else 4)
    assert all(api.get(stem["audio_url"]).content.startswith(b"RIFF") for stem in stems)


def test_sonic_mashup(api: httpx.Client) -> None:
    first, second = song(api), song(api)
    body = {
        "mashup_clip_ids": [first["clip_id"], second["clip_id"]],
        "custom_mode": False,
        "mv": "sonic-v5",
        "gpt_description_prompt": "both at once",
    }
    assert len(sonic_result(api, created(api.post("/sonic/mashup", json=body)))) == 2


def test_sonic_replace_section(api: httpx.Client) -> None:
    clip = song(api)
    body = {
        "clip_id": clip["clip_id"],
        "mv": "sonic-v5",
        "infill_start_s": 0.5,
        "infill_end_s": 1.5,
        "infill_lyrics": "a new line",
    }
    assert sonic_result(api, created(api.post("/sonic/replace-section", json=body)))


def test_sonic_sample(api: httpx.Client) -> None:
    clip = song(api)
    body = {
        "sample_clip_id": clip["clip_id"],
        "chop_sample_start_s": 0.0,
        "chop_sample_end_s": 1.0,
        "custom_mode": False,
        "mv": "sonic-v5",
        "make_instrumental": True,
        "gpt_description_prompt": "a beat from it",
    }
    answer = api.post("/sonic/sample", json=body)
    assert isinstance(answer.json()["steps"], dict)
    assert sonic_result(api, created(answer))


def test_sonic_upload_then_extend_upload_music(api: httpx.Client) -> None:
    clip = song(api)
    upload = api.post("/sonic/upload", json={"url": clip["audio_url"]}).json()
    assert upload["code"] == 200
    body = {
        "task_type": "extend_upload_music",
        "continue_clip_id": upload["clip_id"],
        "continue_at": 1.0,
        "custom_mode": False,
        "mv": "sonic-v5",
        "gpt_description_prompt": "go on",
    }
    assert sonic_result(api, created(api.post("/sonic/create", json=body)))


@pytest.mark.parametrize("operation", ["upload-cover", "upload-extend"])
def test_sonic_upload_and_generate(api: httpx.Client, operation: str) -> None:
    body: dict[str, Any] = {
        "url": "https://example.com/my-song.mp3",
        "custom_mode": False,
        "mv": "sonic-v5",
        "gpt_description_prompt": "make it jazz",
    }
    if operation == "upload-extend":
        body["continue_at"] = 1.0
    answer = api.post(f"/sonic/{operation}", json=body)
    assert isinstance(answer.json()["steps"], dict)
    assert sonic_result(api, created(answer))


def test_sonic_batch(api: httpx.Client) -> None:
    item = {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "one of many"}
    body = api.post("/sonic/batch", json={"items": [item, item]}).json()
    assert body["submitted"] == 2
    status = poll(
        api,
        f"/sonic/batch?batch_id={body['batch_id']}",
        done=lambda b: all(t["state"] == "succeeded" for t in b["tasks"]),
    ).json()
    assert len(status["tasks"]) == 2


def test_suno_aliases(api: httpx.Client) -> None:
    task_id = created(
        api.post(
            "/suno/create",
            json={"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": "suno"},
        )
    )
    assert poll(api, f"/suno/clip/{task_id}").json()["code"] == 200
    lyrics = api.post("/suno/make-lyrics", json={"prompt": "a song about tea"}).json()
    lyrics_id = lyrics["data"]["task_id"]
    done = poll(
        api, f"/suno/get-lyrics/{lyrics_id}", done=lambda b: b["data"]["status"] != "running"
    )
    assert done.json()["code"] == 200
    song_info = api.post("/suno/get-song", json={"share_link": "https://suno.com/song/abc"}).json()
    assert set(song_info) >= {"audio_url", "cover_image", "song_title", "song_author"}


def test_producer(api: httpx.Client) -> None:
    task_id = created(
        api.post("/producer/create", json={"sound": "calm piano, instrumental", "length": 30})
    )
    clips = poll(api, f"/producer/task/{task_id}").json()["data"]
    assert clips
    upload = created(api.post("/producer/upload", json={"audio_url": "https://example.com/a.mp3"}))
    assert poll(api, f"/producer/task/{upload}").json()["code"] == 200
    download = created(
        api.post("/producer/download", json={"clip_id": clips[0]["clip_id"], "format": "wav"})
    )
    assert poll(api, f"/producer/task/{download}").json()["data"][0]["audio_url"]
    gone = api.post("/producer/create", json={"task_type": "music_variation", "sound": "x"})
    assert gone.status_code == 410


def test_studio(api: httpx.Client) -> None:
    body = {
        "prompt": "jazzy",
        "lyrics_type": "instrumental",
        "prompt_strength": 0.5,
        "clarity_strength": 0.5,
        "lyrics_strength": 0.5,
        "generation_quality": 0.75,
        "model_type": "v130-1.5",
        "config": {},
    }
    answer = api.post("/studio/create", json=body).json()
    task_id = answer["data"]
    assert isinstance(task_id, str)
    done = poll(api, f"/studio/task/{task_id}", done=lambda b: b["data"]["status"] == "SUCCESS")
    assert done.json()["data"]["data"]["songs"]
    assert api.get("/studio/task/unknown").status_code == 400


def test_riffusion(api: httpx.Client) -> None:
    task_id = created(api.post("/riffusion/create", json={"prompt": "dreamy synth pop"}))
    done = poll(api, f"/riffusion/task/{task_id}", done=lambda b: b.get("code") == 200)
    assert len(done.json()["data"]) == 2
    upload = api.post("/riffusion/upload", json={"url": "https://example.com/a.mp3"}).json()
    assert isinstance(upload["clip_id"], str)


def test_nuro_is_withdrawn(api: httpx.Client) -> None:
    assert api.post("/nuro/create", json={"type": "bgm", "description": "x"}).status_code == 410
    assert api.get("/nuro/task/anything").status_code == 410


def test_unknown_paths_and_methods(api: httpx.Client) -> None:
    assert api.get("/sonic/nowhere").status_code == 404
    assert httpx.get(f"{api.base_url}sonic/nowhere").status_code == 401
    wrong = api.get("/sonic/lyrics")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
