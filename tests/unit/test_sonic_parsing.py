"""Reading the answers of the Sonic operations: kept, coerced, or refused with our error.

Answers are served by an `httpx.MockTransport` from the shapes of `plan/wire.md` and
api-reference §3.1, then bent: unknown fields (kept in `.raw`), numbers sent as
strings (coerced), and malformed bodies (`MalformedResponseError`, never a `KeyError`
or `TypeError`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from musicapi import (
    AsyncMusicAPI,
    MalformedResponseError,
    NotFoundError,
    TaskFailedError,
    WaitTimeoutError,
)
from musicapi.models import AlignedLyrics, AlignedWord, SonicBatchItem, SonicBatchStatus
from musicapi.testing import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

CLIP = "clip-1"


class Script:
    """Answers each path with the next of its scripted `(status, body)` pairs; the last repeats."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, Any]]] = {}
        self.seen: list[httpx.Request] = []

    def on(self, path: str, *answers: tuple[int, Any]) -> None:
        self.answers[path] = list(answers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path.removeprefix("/api/v1")
        queue = self.answers.get(path, [(404, {"error": "not scripted"})])
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return httpx.Response(status, json=body)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(script: Script, clock: FakeClock) -> AsyncIterator[AsyncMusicAPI]:
    async with AsyncMusicAPI(
        api_key="sk-sonic-ops-tests-4c1e9b",
        base_url="http://127.0.0.1/api/v1",
        transport=httpx.MockTransport(script),
        clock=clock,
        max_retries=0,
    ) as client:
        yield client


def _word(word: str, start: float, end: float, **extra: Any) -> dict[str, Any]:
    return {"word": word, "start_s": start, "end_s": end, "success": True, "p_align": 0.9, **extra}


class TestUnknownFieldsAndStrings:
    async def test_bpm(self, api: AsyncMusicAPI, script: Script) -> None:
        data = {"avg_bpm": "112.5", "max_bpm": 113, "min_bpm": "112", "key": "C minor"}
        script.on("/sonic/bpm", (200, {"code": 200, "message": "success", "data": data}))
        bpm = await api.sonic.bpm(CLIP)
        assert (bpm.avg_bpm, bpm.max_bpm, bpm.min_bpm) == (112.5, 113, 112.0)
        assert bpm.raw["key"] == "C minor"

    async def test_lyrics(self, api: AsyncMusicAPI, script: Script) -> None:
        results = [{"title": "A", "lyrics": "[Verse]\nla", "mood": "sad"}, {"title": "B"}]
        script.on("/sonic/lyrics", (200, {"code": 200, "results": results, "extra": 1}))
        result = await api.sonic.lyrics("rain")
        first, second = result.candidates
        assert (first.title, first.lyrics, first.raw["mood"]) == ("A", "[Verse]\nla", "sad")
        assert second.lyrics is None
        assert result.raw["extra"] == 1

    async def test_midi_instruments(self, api: AsyncMusicAPI, script: Script) -> None:
        lead = {"name": "lead", "program": "81", "channel": 0.0, "notes": 12, "velocity": 90}
        data = {"midi_url": "https://f/c.mid", "instruments": [lead], "tempo": 120}
        script.on("/sonic/midi", (200, {"code": 200, "data": data, "message": "success"}))
        midi = await api.sonic.midi(CLIP)
        (instrument,) = midi.instruments
        assert (instrument.program, instrument.channel, instrument.notes) == (81, 0, 12)
        assert instrument.raw["velocity"] == 90
        assert midi.clip_id == CLIP and midi.raw["tempo"] == 120 and "clip_id" not in midi.raw

    async def test_wav_without_code(self, api: AsyncMusicAPI, script: Script) -> None:
        script.on("/sonic/wav", (200, {"message": "success", "data": {"wav_url": "https://w"}}))
        wav = await api.sonic.wav(CLIP)
        assert (wav.clip_id, wav.wav_url) == (CLIP, "https://w")

    async def test_vox(self, api: AsyncMusicAPI, script: Script) -> None:
        data = {
            "vox_audio_id": "v-1",
            "status": "complete",
            "source_clip_id": CLIP,
            "vocal_start_s": "1.5",
            "vocal_end_s": 4,
            "wave_response": {"audio_url": "https://v.wav", "format": "wav"},
        }
        script.on("/sonic/vox", (200, {"code": 200, "data": data}))
        vox = await api.sonic.vox(CLIP, vocal_start_s=1.5, vocal_end_s=4)
        assert (vox.vocal_start_s, vox.vocal_end_s) == (1.5, 4.0)
        assert vox.audio_url == "https://v.wav" and vox.wave_response is not None

    async def test_persona_upload_and_tags(self, api: AsyncMusicAPI, script: Script) -> None:
        script.on("/sonic/persona", (200, {"code": 200, "persona_id": 42, "message": "success"}))
        script.on("/sonic/upload", (200, {"code": 200, "clip_id": "u-1", "duration": 30}))
        script.on("/sonic/upsample-tags", (200, {"code": 200, "data": {"upsampled_tags": "x"}}))
        assert (await api.sonic.persona(name="Nova", clip_id=CLIP)).persona_id == "42"
        upload = await api.sonic.upload("https://example.com/a.mp3")
        assert upload.clip_id == "u-1" and upload.raw["duration"] == 30
        assert (await api.sonic.upsample_tags("lofi")).upsampled_tags == "x"

    async def test_batch(self, api: AsyncMusicAPI, script: Script) -> None:
        tasks = [{"index": "0", "task_id": "t-0"}, {"index": 1, "error": "title: too long"}]
        script.on(
            "/sonic/batch",
            (200, {"message": "success", "batch_id": "b", "submitted": "1", "tasks": tasks}),
        )
        batch = await api.sonic.batch([{"gpt_description_prompt": "x"}] * 2)
        assert batch.submitted == 1 and batch.task_ids == ("t-0",)
        assert [item.ok for item in batch.tasks] == [True, False]
        assert batch.tasks[1].error == "title: too long"

    async def test_batch_status(self, api: AsyncMusicAPI, script: Script) -> None:
        tasks = [
            {"index": 0, "task_id": "t-0", "state": "succeeded"},
            {"index": 1, "task_id": "t-1", "state": "running", "progress": 40},
        ]
        script.on("/sonic/batch", (200, {"code": 200, "batch_id": "b 1", "tasks": tasks}))
        status = await api.sonic.get_batch("b 1")
        assert not status.is_done and status.tasks[1].raw["progress"] == 40
        assert script.seen[0].url.params["batch_id"] == "b 1"
        assert script.seen[0].method == "GET"


class TestMalformed:
    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/sonic/bpm", {"code": 200, "data": None}),
            ("/sonic/bpm", {"code": 200, "data": {"avg_bpm": "fast"}}),
            ("/sonic/bpm", ["not", "an", "object"]),
            ("/sonic/bpm", "plain text"),
            ("/sonic/wav", {"message": "success", "data": "https://w"}),
            ("/sonic/lyrics", {"code": 200, "results": {"title": "x"}}),
            ("/sonic/lyrics", {"code": 200, "results": ["just text"]}),
            ("/sonic/aligned-lyrics", {"code": 200, "data": {}}),
            ("/sonic/aligned-lyrics", {"code": 200, "data": {"alignment": [{"word": "x"}]}}),
            (
                "/sonic/aligned-lyrics",
                {"code": 200, "data": {"alignment": [_word("x", 0, 1, success="maybe")]}},
            ),
            ("/sonic/persona", {"code": 200, "message": "success"}),
            ("/sonic/upload", {"code": 200, "clip_id": None}),
            ("/sonic/vox", {"code": 200, "data": {"status": "complete"}}),
            ("/sonic/upsample-tags", {"code": 200, "data": {"upsampled_tags": ["a"]}}),
        ],
    )
    async def test_sync_answers(
        self, api: AsyncMusicAPI, script: Script, path: str, body: Any
    ) -> None:
        script.on(path, (200, body))
        calls = {
            "/sonic/bpm": lambda: api.sonic.bpm(CLIP),
            "/sonic/wav": lambda: api.sonic.wav(CLIP),
            "/sonic/lyrics": lambda: api.sonic.lyrics("x"),
            "/sonic/aligned-lyrics": lambda: api.sonic.aligned_lyrics(CLIP),
            "/sonic/persona": lambda: api.sonic.persona(name="N", clip_id=CLIP),
            "/sonic/upload": lambda: api.sonic.upload("https://example.com/a"),
            "/sonic/vox": lambda: api.sonic.vox(CLIP),
            "/sonic/upsample-tags": lambda: api.sonic.upsample_tags("x"),
        }
        with pytest.raises(MalformedResponseError):
            await calls[path]()

    @pytest.mark.parametrize(
        "body",
        [
            {"message": "success", "submitted": 1, "tasks": []},
            {"batch_id": "b", "tasks": [{"task_id": "t"}]},
            {"batch_id": "b", "tasks": "none"},
        ],
    )
    async def test_batch(self, api: AsyncMusicAPI, script: Script, body: Any) -> None:
        script.on("/sonic/batch", (200, body))
        with pytest.raises(MalformedResponseError):
            await api.sonic.batch([{"gpt_description_prompt": "x"}])

    async def test_a_submission_without_task_id(self, api: AsyncMusicAPI, script: Script) -> None:
        script.on("/sonic/mashup", (200, {"message": "success", "task_id": None}))
        with pytest.raises(MalformedResponseError):
            await api.sonic.mashup(mashup_clip_ids=["a", "b"], custom_mode=True, mv="sonic-v5")


class TestDocumentedShapes:
    async def test_sample_reports_its_steps(self, api: AsyncMusicAPI, script: Script) -> None:
        answer = {
            "code": 200,
            "message": "success",
            "task_id": "t-s",
            "steps": {"upload": "succeeded", "sample": "submitted"},
        }
        script.on("/sonic/sample", (200, answer))
        submission = await api.sonic.sample(
            url="https://example.com/loop.wav",
            chop_sample_start_s=0,
            chop_sample_end_s=4,
            custom_mode=False,
            mv="sonic-v5",
            make_instrumental=False,
        )
        assert submission.task_id == "t-s"
        assert submission.steps == {"upload": "succeeded", "sample": "submitted"}

    async def test_create_voice_warns(self, api: AsyncMusicAPI, script: Script) -> None:
        answer = {"message": "success", "task_id": "t-v", "warning": "Voices are kept for 30 days"}
        script.on("/sonic/create-voice", (200, answer))
        submission = await api.sonic.create_voice("https://example.com/me.wav")
        assert submission.warning == "Voices are kept for 30 days"

    async def test_stems_are_clips_with_their_part(
        self, api: AsyncMusicAPI, script: Script
    ) -> None:
        stems = [
            {
                "clip_id": f"s-{part}",
                "state": "succeeded",
                "stem_type": part,
                "source_clip_id": CLIP,
                "duration": "30.5",
                "loudness": -14,
            }
            for part in ("vocals", "instrumental")
        ]
        script.on("/sonic/stems/basic", (200, {"message": "success", "task_id": "t-st"}))
        script.on(
            "/sonic/task/t-st",
            (202, {"type": "not_ready"}),
            (200, {"code": 200, "message": "success", "data": stems}),
        )
        submission = await api.sonic.stems_basic(CLIP)
        result = await api.sonic.wait(submission)
        assert [clip.stem_type for clip in result.clips] == ["vocals", "instrumental"]
        assert {clip.source_clip_id for clip in result.clips} == {CLIP}
        assert result.clips[0].duration == 30.5 and result.clips[0].raw["loudness"] == -14

    async def test_midi_waits_out_202(
        self, api: AsyncMusicAPI, script: Script, clock: FakeClock
    ) -> None:
        done = {"code": 200, "data": {"midi_url": "https://m.mid", "instruments": []}}
        script.on(
            "/sonic/midi", (202, {"type": "not_ready"}), (202, {"type": "not_ready"}), (200, done)
        )
        midi = await api.sonic.midi(CLIP)
        assert midi.midi_url == "https://m.mid"
        assert [request.method for request in script.seen] == ["POST"] * 3
        assert all(request.content == b'{"clip_id":"clip-1"}' for request in script.seen)
        assert clock.now() > 0  # the engine waited between the requests, on the fake clock

    async def test_midi_failure_body(self, api: AsyncMusicAPI, script: Script) -> None:
        script.on("/sonic/midi", (200, {"type": "failed", "error": "no melody"}))
        with pytest.raises(TaskFailedError) as info:
            await api.sonic.midi(CLIP)
        assert "no melody" in str(info.value.reason)

    async def test_midi_unknown_clip(self, api: AsyncMusicAPI, script: Script) -> None:
        script.on("/sonic/midi", (404, {"error": "clip not found"}))
        with pytest.raises(NotFoundError):
            await api.sonic.midi(CLIP)

    async def test_midi_deadline(self, api: AsyncMusicAPI, script: Script) -> None:
        script.on("/sonic/midi", (202, {"type": "not_ready"}))
        with pytest.raises(WaitTimeoutError):
            await api.sonic.midi(CLIP, timeout=30)

    async def test_aligned_lyrics_from_the_wire(self, api: AsyncMusicAPI, script: Script) -> None:
        alignment = [
            _word("Neon ", "0.12", 0.48, extra="kept"),
            _word("lights\n", 0.5, 0.9),
            _word("Drive ", 1.2, 1.5),
            _word("on\n", 1.5, 2.0),
        ]
        script.on("/sonic/aligned-lyrics", (200, {"code": 200, "data": {"alignment": alignment}}))
        lyrics = await api.sonic.aligned_lyrics(CLIP)
        assert lyrics.clip_id == CLIP and lyrics.words[0].start_s == 0.12
        assert lyrics.words[0].raw["extra"] == "kept"
        assert [line.text for line in lyrics.lines] == ["Neon lights", "Drive on"]


def _lyrics(*words: tuple[str, float, float]) -> AlignedLyrics:
    return AlignedLyrics(
        clip_id=CLIP,
        words=tuple(AlignedWord(word=w, start_s=s, end_s=e) for w, s, e in words),
    )


class TestAlignedLyrics:
    LYRICS = _lyrics(
        ("City ", 0.5, 0.9),
        ("lights\n", 1.0, 1.6),
        ("Drive ", 3.0, 3.4),
        ("on, ", 3.4, 3.8),
        ("drive\n", 3.9, 4.5),
        ("home", 6.0, 6.5),
    )

    def test_lines_end_at_line_breaks(self) -> None:
        lines = self.LYRICS.lines
        assert [line.text for line in lines] == ["City lights", "Drive on, drive", "home"]
        assert [(line.start_s, line.end_s) for line in lines] == [
            (0.5, 1.6),
            (3.0, 4.5),
            (6.0, 6.5),
        ]
        assert [len(line.words) for line in lines] == [2, 3, 1]
        assert self.LYRICS.text == "City lights\nDrive on, drive\nhome"

    @pytest.mark.parametrize(
        ("seconds", "word"),
        [(0.0, None), (0.5, "City"), (0.95, None), (1.0, "lights"), (3.4, "on,"), (7.0, None)],
    )
    def test_word_at(self, seconds: float, word: str | None) -> None:
        found = self.LYRICS.word_at(seconds)
        assert (found.text if found else None) == word

    @pytest.mark.parametrize(
        ("seconds", "line", "index"),
        [
            (0.1, None, None),
            (0.7, "City lights", 0),
            (2.0, None, 0),
            (4.0, "Drive on, drive", 1),
            (5.0, None, 1),
            (6.2, "home", 2),
            (9.0, None, 2),
        ],
    )
    def test_line_at(self, seconds: float, line: str | None, index: int | None) -> None:
        found = self.LYRICS.line_at(seconds)
        assert (found.text if found else None) == line
        assert self.LYRICS.line_index_at(seconds) == index

    def test_no_words(self) -> None:
        empty = _lyrics()
        assert empty.lines == () and empty.text == ""
        assert empty.word_at(1.0) is None and empty.line_at(1.0) is None
        assert empty.line_index_at(1.0) is None

    def test_equality_ignores_the_derived_lines(self) -> None:
        assert _lyrics(("a\n", 0, 1)) == _lyrics(("a\n", 0, 1))


def test_batch_status_done_counts_refused_items() -> None:
    status = SonicBatchStatus(
        batch_id="b",
        tasks=(
            SonicBatchItem(index=0, task_id="t", state="failed"),
            SonicBatchItem(index=1, error="title: too long"),
        ),
    )
    assert status.is_done
    assert not any(item.ok for item in status.tasks)
