"""Handlers of the operations that answer at once (lyrics, BPM, WAV, MIDI, uploads, ...).

Each handler takes the app, the request, the caller's key fingerprint and the path's
`{id}` (unused here), and returns the answer; authentication, the rate limit and the
method were checked by `_app.py` before. Bodies are checked against `_sync_rules.RULES`
first (400 naming the field), then the clip they name is looked up (404
`clip not found`), then the operation is done. The bodies are written here from
literals after the wire plan and api-reference §3, never from the SDK's models.

Vocal extractions (`/sonic/vox`) and MIDI readiness are kept in the `TaskStore`
(`vox`, `midi_asked`), with the clips and personas they refer to.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from musicapi.sandbox._audio import voices_of
from musicapi.sandbox._http import Answer, json_answer, json_object
from musicapi.sandbox._media import align, bpm_of, instruments
from musicapi.sandbox._ops_common import files_url
from musicapi.sandbox._state import ClipRecord, PersonaRecord, VoxRecord, words
from musicapi.sandbox._sync_rules import validate

if TYPE_CHECKING:
    from musicapi.sandbox._app import Handler, SandboxApp
    from musicapi.sandbox._http import Request

__all__ = ["HANDLERS", "MIDI_SECONDS"]

MIDI_SECONDS = 1.0
"""Clock seconds from the first `/sonic/midi` request for a clip until its MIDI is ready."""

_NOT_READY = {"type": "not_ready"}
_CLIP_NOT_FOUND = {"error": "clip not found"}
_STYLE_NAMES = {
    "saw": "synthwave",
    "square": "rock",
    "soft": "lofi",
    "bell": "ambient",
    "triangle": "pop",
}
"""A style name for each timbre, for a clip whose tags are empty (a foreign upload)."""
_UPSAMPLED = {
    "synthwave": "analog synth arpeggios, gated reverb drums, neon 80s atmosphere",
    "lofi": "dusty vinyl crackle, mellow keys, laid-back swing",
    "rock": "overdriven guitars, punchy live drums, anthemic energy",
    "ambient": "lush pads, slow evolving textures, spacious reverb",
}
_POLISH = "polished modern production, wide stereo mix"


def _ok(**fields: Any) -> Answer:
    """Return the usual `{"code": 200, ..., "message": "success"}` answer."""
    return json_answer(200, {"code": 200, **fields, "message": "success"})


def _body(request: Request, operation: str) -> dict[str, Any] | Answer:
    """Return the request's body if it is valid for `operation`, else the 400."""
    body = json_object(request.body)
    if body is None:
        return json_answer(400, {"error": "body: must be a JSON object"})
    error = validate(operation, body)
    return json_answer(400, {"error": error}) if error else body


def _clip(app: SandboxApp, request: Request, operation: str) -> ClipRecord | Answer:
    """Return the clip a valid body of `operation` names, else its 400 or 404."""
    body = _body(request, operation)
    if isinstance(body, Answer):
        return body
    clip = app.store.clips.get(body["clip_id"])
    return clip if clip is not None else json_answer(404, _CLIP_NOT_FOUND)


def _window_error(body: dict[str, Any], clip: ClipRecord) -> Answer | None:
    """Return the 400 for a vocal window that is not inside the clip, else `None`.

    The rules checked that the window's end comes after its start; what is left is
    the clip's length, which only the handler knows: the end (by default the clip's
    end) is within it, so the start is too.
    """
    duration = clip.tune.duration
    end = body.get("vocal_end_s")
    if end is not None and end > duration:
        message = f"vocal_end_s: must be at most the clip's duration ({duration})"
        return json_answer(400, {"error": message})
    if end is None and body.get("vocal_start_s", 0) >= duration:
        message = f"vocal_start_s: must be before the clip's end ({duration})"
        return json_answer(400, {"error": message})
    return None


# -- words -----------------------------------------------------------------------------


def _candidate(found: list[str], variant: int) -> dict[str, str]:
    """Write one lyrics candidate from the description's words."""
    title = " ".join(found[:3]).title()
    theme = " ".join(found[:6])
    hook = found[variant % len(found)]
    if variant == 0:
        lyrics = (
            f"[Verse]\n{theme.capitalize()}, calling out my name\n"
            f"Every {hook} feels the same\n"
            f"[Chorus]\n{title}, {title.lower()}\nHold on, we light the way"
        )
    else:
        title = f"{title} (Reprise)"
        lyrics = (
            f"[Verse]\nUnder the {hook}, we never sleep\n"
            f"{theme.capitalize()}, a promise we keep\n"
            f"[Chorus]\nSing it loud, sing it slow\n{theme.capitalize()}, let it go"
        )
    return {"title": title, "lyrics": lyrics}


def _upsampled(tags: str) -> str:
    """Add descriptors to `tags` the way a tag upsampler does, keyed by the style."""
    given = [tag.strip() for tag in tags.split(",") if tag.strip()]
    found = set(words(tags.replace(",", " ")))
    extra = [text for style, text in _UPSAMPLED.items() if style in found] or [_POLISH]
    return ", ".join([*given, *extra])


# -- handlers --------------------------------------------------------------------------


def lyrics(_app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/lyrics`: two lyrics candidates for a description (not charged)."""
    body = _body(request, "sonic/lyrics")
    if isinstance(body, Answer):
        return body
    found = words(body["description"]) or ["midnight", "city", "lights"]
    return _ok(results=[_candidate(found, variant) for variant in (0, 1)])


def aligned_lyrics(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/aligned-lyrics`: when each sung word of a clip is sung."""
    clip = _clip(app, request, "sonic/aligned-lyrics")
    if isinstance(clip, Answer):
        return clip
    timed = align(clip.lyrics, clip.tune.duration)
    if not timed:
        return json_answer(404, {"error": "clip has no lyrics"})
    alignment = [
        {
            "word": word.word,
            "start_s": word.start_s,
            "end_s": word.end_s,
            "success": True,
            "p_align": word.p_align,
        }
        for word in timed
    ]
    return _ok(data={"alignment": alignment})


def bpm(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/bpm`: the tempo the clip's audio was synthesised at."""
    clip = _clip(app, request, "sonic/bpm")
    if isinstance(clip, Answer):
        return clip
    tempo = bpm_of(clip.tune)
    return json_answer(
        200,
        {
            "code": 200,
            "message": "success",
            "data": {"avg_bpm": tempo, "max_bpm": tempo, "min_bpm": tempo},
        },
    )


def upsample_tags(_app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/upsample-tags`: the tags, enriched with descriptors of their style."""
    body = _body(request, "sonic/upsample-tags")
    if isinstance(body, Answer):
        return body
    return _ok(data={"upsampled_tags": _upsampled(body["tags"])})


def persona(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/persona`: keep a persona that `persona_music` can sing with."""
    body = _body(request, "sonic/persona")
    if isinstance(body, Answer):
        return body
    clip = app.store.clips.get(body["clip_id"])
    if clip is None:
        return json_answer(404, _CLIP_NOT_FOUND)
    problem = _window_error(body, clip)
    if problem is not None:
        return problem
    vox_id = body.get("vox_audio_id")
    if vox_id and vox_id not in app.store.vox:
        return json_answer(404, {"error": "vox audio not found"})
    record = PersonaRecord(persona_id=app.store.new_id(), name=body["name"], clip_id=clip.clip_id)
    app.store.personas[record.persona_id] = record
    return _ok(persona_id=record.persona_id)


def vox(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/vox`: extract a clip's vocals (the melody stem) over a window."""
    body = _body(request, "sonic/vox")
    if isinstance(body, Answer):
        return body
    clip = app.store.clips.get(body["clip_id"])
    if clip is None:
        return json_answer(404, _CLIP_NOT_FOUND)
    problem = _window_error(body, clip)
    if problem is not None:
        return problem
    voices = clip.sounding & voices_of("vocals")  # none from an instrumental stem
    stem = app.store.add_clip(
        ClipRecord(
            clip_id=app.store.new_id(),
            task_id="",
            title=f"{clip.title} (Vocals)",
            tags=clip.tags,
            lyrics=clip.lyrics if voices else "[Instrumental]",
            mv=clip.mv,
            tune=clip.tune,
            part="vocals",
            source_clip_id=clip.clip_id,
            voices=voices,
        )
    )
    extraction = VoxRecord(
        vox_audio_id=app.store.new_id(),
        clip_id=clip.clip_id,
        stem_clip_id=stem.clip_id,
        start=float(body.get("vocal_start_s", 0.0)),
        end=float(body.get("vocal_end_s", clip.tune.duration)),
    )
    app.store.vox[extraction.vox_audio_id] = extraction
    data = {
        "vox_audio_id": extraction.vox_audio_id,
        "status": "complete",
        "source_clip_id": clip.clip_id,
        "vocal_start_s": extraction.start,
        "vocal_end_s": extraction.end,
        "wave_response": {"audio_url": f"{files_url(request)}/{stem.clip_id}.wav"},
    }
    return _ok(data=data)


def midi(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/midi`: 202 until the clip's MIDI is ready, then its link and tracks."""
    clip = _clip(app, request, "sonic/midi")
    if isinstance(clip, Answer):
        return clip
    now = app.clock.now()
    asked = app.store.midi_asked.setdefault(clip.clip_id, now)
    if now < asked + MIDI_SECONDS:
        return json_answer(202, _NOT_READY)
    tracks = [
        {
            "name": instrument.name,
            "program": instrument.program,
            "channel": instrument.channel,
            "notes": len(instrument.notes),
        }
        for instrument in instruments(clip.tune, voices=clip.sounding)
    ]
    return _ok(data={"midi_url": f"{files_url(request)}/{clip.clip_id}.mid", "instruments": tracks})


def wav(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /sonic/wav`: link the clip's WAV export (2 credits, api-reference §3.8)."""
    clip = _clip(app, request, "sonic/wav")
    if isinstance(clip, Answer):
        return clip
    if app.store.account.charge(2) is None:
        return app.insufficient_credits()
    url = f"{files_url(request)}/{clip.clip_id}.lossless.wav"
    return json_answer(200, {"message": "success", "data": {"wav_url": url}})


def _uploader(operation: str, field: str) -> Handler:
    """Make the handler of an upload: a clip from the URL in `field` (`uploaded=True`)."""

    def upload(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
        body = _body(request, operation)
        if isinstance(body, Answer):
            return body
        return _ok(clip_id=app.store.upload(body[field]).clip_id)

    upload.__doc__ = f"`POST /{operation}`: import the audio at `{field}` as a clip."
    return upload


def get_song(app: SandboxApp, request: Request, _owner: str, _param: str | None) -> Answer:
    """`POST /suno/get-song`: a song's details from its share link (no envelope)."""
    body = _body(request, "suno/get-song")
    if isinstance(body, Answer):
        return body
    clip = app.store.upload(body["share_link"])
    files = files_url(request)
    author = hashlib.sha256(clip.clip_id.encode()).hexdigest()[:6]
    return json_answer(
        200,
        {
            "audio_url": f"{files}/{clip.clip_id}.wav",
            "video_url": None,
            "cover_image": f"{files}/{clip.clip_id}.jpg",
            "song_title": clip.title,
            "song_author": f"sandbox-artist-{author}",
            "music_styles": clip.tags or _STYLE_NAMES.get(clip.tune.timbre, "pop"),
        },
    )


HANDLERS: dict[str, Handler] = {
    "sonic/lyrics": lyrics,
    "sonic/aligned-lyrics": aligned_lyrics,
    "sonic/bpm": bpm,
    "sonic/upsample-tags": upsample_tags,
    "sonic/persona": persona,
    "sonic/vox": vox,
    "sonic/midi": midi,
    "sonic/wav": wav,
    "sonic/upload": _uploader("sonic/upload", "url"),
    "suno/get-song": get_song,
    "riffusion/upload": _uploader("riffusion/upload", "url"),
}
"""The sync operations by route name (`_route_table.py`)."""
