"""Tasks, clips and credits, progressing on the sandbox's clock.

Nothing runs in the background: a task is a record of when it started and when it
will end, and `TaskStore.settle()` (called before every answer and every round of
webhook deliveries) moves every task whose end has come to its final state, refunding
failed ones at that moment. Durations and outcomes are drawn from a seeded generator
when the task is created, so the same seed gives the same run every time.

A task that will succeed also streams first (api-reference §2.4): from
`STREAMING_SHARE` of its time on, its clips exist and their files are served (the
audio is playable) while `GET /sonic/task/{id}` still answers 202. Streaming is
reported (`on_stream`, hence a `streaming` webhook) when `settle()` finds the task in
that window; a clock that jumps from before the window to past the end between two
calls of `settle()` (a `FakeClock` advanced by the whole task time at once) finds the
task finished, and the task goes straight to `succeeded` without a `streaming` event,
as a task that finished while nobody looked. A serving sandbox settles a few times a
second, so on the real clock every task of a second or more streams.

Every family of task lives here (`TaskRecord.family`: `sonic`, `producer`, `studio`,
`riffusion`, `nuro`, `lyrics`), so that one clock, one heap and one refund rule serve
them all; only sonic-family tasks stream. What a task's result is made of is decided
by its maker (`TaskRecord.make`, a `ClipMaker`), called once when the clips are due:
the default one writes two songs from a create body, the operations of
`_ops_clips.py` bring their own (stems, a voice, a mashup, ...).

Task and clip ids are fresh random UUIDs unless a seed is given, as the real API's
are: two runs (or two test sessions against one shared sandbox process) never hand
out the same id, which a client's cache or a batch journal keyed by task id could
otherwise confuse.
"""

from __future__ import annotations

import heapq
import math
import random
import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from musicapi.sandbox._audio import Tune, plan, voices_of

if TYPE_CHECKING:
    from musicapi._clock import Clock
    from musicapi.sandbox._faults import Faults

__all__ = [
    "FAMILIES",
    "STREAMING_SHARE",
    "Account",
    "BatchItem",
    "BatchRecord",
    "ClipMaker",
    "ClipRecord",
    "PersonaRecord",
    "TaskRecord",
    "TaskStore",
    "VoxRecord",
    "song_clip",
    "words",
]

FAMILIES = ("sonic", "producer", "studio", "riffusion", "nuro", "lyrics")
"""The task families: each has its own poll route and its own result body."""

_SANDBOX_FILE = re.compile(r"/files/(?P<clip>[^/?#.]+)\.[^/?#]*(?:[?#].*)?", re.DOTALL)

STREAMING_SHARE = 2 / 3
"""How far through its time a succeeding task starts streaming (its clips playable)."""

_STOPWORDS = frozenset(
    {"a", "an", "and", "the", "with", "for", "of", "in", "on", "to", "about", "song", "music"}
)


@attrs.define
class Account:
    """The account's two credit pools; `extra_credits` are spent first (api-reference §3.8)."""

    credits: int
    extra_credits: int = 0

    def charge(self, cost: int) -> tuple[int, int] | None:
        """Take `cost` credits.

        Returns:
            How many came from (credits, extra_credits), or `None` if there are too few.
        """
        if self.credits + self.extra_credits < cost:
            return None
        from_extra = min(cost, self.extra_credits)
        self.extra_credits -= from_extra
        self.credits -= cost - from_extra
        return cost - from_extra, from_extra


@attrs.define(kw_only=True)
class ClipRecord:
    """A clip: what its result and its files are made from.

    Attributes:
        clip_id: Its id.
        task_id: The task that made it (`""` for an upload, which has none).
        title: Its title.
        tags: Its style tags.
        lyrics: Its lyrics (`"[Instrumental]"` for an instrumental).
        mv: The model that made it.
        tune: The musical plan its audio is synthesised from.
        part: `None` for a whole song; for a stem, the part of the mix it holds
            (`vocals`, `instrumental`, `drums`, `bass`, `other`).
        source_clip_id: The clip a stem, an upload of a sandbox file, or a derived
            clip came from, if any.
        uploaded: Whether it came from an upload (`/sonic/upload` and friends), which
            only the `*_upload_music` task types accept (api-reference §4.1).
        voices: The voices of the mix (`_audio.VOICES`) its audio holds, when they are
            not simply those of `part`: a stem of a stem holds what both splits kept
            (the drums of a vocals stem: none), an upload of a stem's file what that
            stem holds. `None` means those of `part` (all of them for a whole song).
    """

    clip_id: str
    task_id: str
    title: str
    tags: str
    lyrics: str
    mv: str
    tune: Tune
    part: str | None = None
    source_clip_id: str | None = None
    uploaded: bool = False
    voices: frozenset[str] | None = None

    @property
    def sounding(self) -> frozenset[str]:
        """The voices its audio (and its MIDI file) holds."""
        return self.voices if self.voices is not None else voices_of(self.part)


@attrs.define(kw_only=True)
class VoxRecord:
    """A vocal extraction (`/sonic/vox`): a window of a clip, and the stem holding its vocals."""

    vox_audio_id: str
    clip_id: str
    stem_clip_id: str
    start: float
    end: float


@attrs.define(kw_only=True)
class PersonaRecord:
    """A persona (`/sonic/persona`, or a voice from `/sonic/create-voice`)."""

    persona_id: str
    name: str
    clip_id: str


ClipMaker = Callable[["TaskStore", "TaskRecord"], "list[ClipRecord]"]
"""Makes the clips of a task when they are due: `(store, record) -> clips`.

It may also add to the store (a voice's persona); the store keeps the clips it returns.
"""


@attrs.define(kw_only=True)
class TaskRecord:
    """One job of any family.

    Attributes:
        task_id: The id returned by create.
        task_type: The body's `task_type` where the operation has one (default
            `create_music`), else the operation's own name (`stems/basic`).
        payload: The request body as sent.
        owner: A fingerprint of the API key that created it (never the key itself).
        started: Clock time of the create.
        ends: Clock time at which the task finishes.
        created_unix: Unix time of the create, for `created_at`.
        outcome: How it will end: `"succeeded"` or a failure type.
        charged: Credits taken as (credits, extra_credits), refunded on failure.
        state: `"running"`, then `"succeeded"` or `"failed"`.
        clips: The two clips, once streaming or succeeded.
        streams: Clock time from which a succeeding task streams; `None` for a task
            that will fail, or of a family that does not stream.
        family: Which API family it belongs to (one of `FAMILIES`), hence which poll
            route serves it and how its result is written.
        operation: The route that created it (`create`, `sonic/stems/full`, ...).
        sources: The clips it works on (a cover's source, a mashup's two clips).
        persona_id: The persona a `create-voice` task made, once made.
        make: Makes its clips when they are due; `None` for two songs from the body.
    """

    task_id: str
    task_type: str
    payload: dict[str, Any]
    owner: str
    started: float
    ends: float
    created_unix: float
    outcome: str
    charged: tuple[int, int]
    state: str = "running"
    clips: list[ClipRecord] = attrs.field(factory=list[ClipRecord])
    streams: float | None = None
    family: str = "sonic"
    operation: str = "create"
    sources: tuple[str, ...] = ()
    persona_id: str | None = None
    make: ClipMaker | None = attrs.field(default=None, repr=False, eq=False)

    @property
    def streaming(self) -> bool:
        """Whether the task streams: its clips are playable, the final files not ready."""
        return self.state == "running" and bool(self.clips)

    @property
    def fail_type(self) -> str | None:
        """The failure type once the task has failed, else `None`."""
        return self.outcome if self.state == "failed" else None


@attrs.define(kw_only=True)
class BatchItem:
    """One item of a `/sonic/batch`: the task it started, or why it started none."""

    index: int
    task_id: str | None = None
    error: str | None = None


@attrs.define(kw_only=True)
class BatchRecord:
    """A `/sonic/batch` submission, for `GET /sonic/batch?batch_id=...`."""

    batch_id: str
    items: list[BatchItem]


def words(text: str) -> list[str]:
    """Return the meaningful words of `text`, lower case, in order (titles and tags use them)."""
    return [
        w
        for w in (word.strip(",.;:!?\"'").lower() for word in text.split())
        if w and w not in _STOPWORDS
    ]


class TaskStore:
    """All tasks and known clips, and the account they are paid from.

    Args:
        clock: Where time comes from.
        account: The credits.
        task_seconds: The median time a task takes.
        task_seconds_spread: The sigma of a lognormal factor on `task_seconds`
            (0 = every task takes exactly `task_seconds`).
        fail_rate: The share of tasks that end failed.
        seed: Seeds the generator of durations and outcomes, and that of ids; `None`
            means fresh random ids, and durations and outcomes from seed 0.
        on_finish: Called with every task as it reaches its final state.
        on_stream: Called with every task that `settle()` finds streaming.
        legacy_nuro: Serve the withdrawn Nuro routes as they were documented
            instead of answering 410 (`Sandbox(legacy_nuro=True)`).
    """

    def __init__(
        self,
        clock: Clock,
        account: Account,
        *,
        task_seconds: float,
        task_seconds_spread: float,
        fail_rate: float,
        seed: int | None,
        on_finish: Callable[[TaskRecord], None],
        on_stream: Callable[[TaskRecord], None] | None = None,
        legacy_nuro: bool = False,
    ) -> None:
        if task_seconds < 0 or task_seconds_spread < 0:
            raise ValueError("task_seconds and task_seconds_spread must not be negative")
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        self.clock = clock
        self.account = account
        self.tasks: dict[str, TaskRecord] = {}
        self.clips: dict[str, ClipRecord] = {}
        self.personas: dict[str, PersonaRecord] = {}
        self.vox: dict[str, VoxRecord] = {}
        self.midi_asked: dict[str, float] = {}
        """Clip id -> clock time of the first `/sonic/midi` request (MIDI is ready 1 s later)."""
        self.batches: dict[str, BatchRecord] = {}
        self.legacy_nuro = legacy_nuro
        self._task_seconds = task_seconds
        self._spread = task_seconds_spread
        self._fail_rate = fail_rate
        self._rng = random.Random(seed if seed is not None else 0)
        self._ids = random.Random(f"ids-{seed}") if seed is not None else None
        self._on_finish = on_finish
        self._on_stream = on_stream
        self._running: list[tuple[float, int, str]] = []
        self._streaming: list[tuple[float, int, str]] = []
        self._unix_offset = time.time() - clock.now()

    def unix_now(self) -> float:
        """Return the unix time that corresponds to the clock's now (virtual with a fake clock)."""
        return self._unix_offset + self.clock.now()

    def new_id(self) -> str:
        """Return a fresh task or clip id: a random UUID, or the next seeded one."""
        if self._ids is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def create(
        self,
        payload: dict[str, Any],
        owner: str,
        charged: tuple[int, int],
        faults: Faults,
        *,
        family: str = "sonic",
        operation: str = "create",
        task_type: str | None = None,
        sources: tuple[str, ...] = (),
        make: ClipMaker | None = None,
    ) -> TaskRecord:
        """Start a task for a validated, paid request body.

        Args:
            payload: The request body.
            owner: The key fingerprint of the caller.
            charged: The credits taken, refunded if the task fails.
            faults: The knobs in force (`fail_next_tasks`, `fail_type`).
            family: Its family (see `FAMILIES`); only `sonic` tasks stream.
            operation: The route that creates it.
            task_type: See `TaskRecord.task_type`; `None` reads the body's.
            sources: The clips it works on.
            make: Its clip maker; `None` for two songs from the body.
        """
        now = self.clock.now()
        seconds = self._task_seconds * (
            math.exp(self._rng.gauss(0.0, self._spread)) if self._spread else 1.0
        )
        fails = self._rng.random() < self._fail_rate
        if faults.fail_next_tasks > 0:
            faults.fail_next_tasks -= 1
            fails = True
        record = TaskRecord(
            task_id=self.new_id(),
            task_type=task_type or payload.get("task_type") or "create_music",
            payload=payload,
            owner=owner,
            started=now,
            ends=now + seconds,
            created_unix=self.unix_now(),
            outcome=faults.fail_type if fails else "succeeded",
            charged=charged,
            family=family,
            operation=operation,
            sources=sources,
            make=make,
        )
        self.tasks[record.task_id] = record
        heapq.heappush(self._running, (record.ends, len(self.tasks), record.task_id))
        if record.outcome == "succeeded" and family == "sonic":
            record.streams = now + seconds * STREAMING_SHARE
            heapq.heappush(self._streaming, (record.streams, len(self.tasks), record.task_id))
        return record

    def add_clip(self, clip: ClipRecord) -> ClipRecord:
        """Keep `clip` (an upload, a stem) so that its id works everywhere; return it."""
        self.clips[clip.clip_id] = clip
        return clip

    def upload(self, url: str, task_id: str = "") -> ClipRecord:
        """Make and keep the clip an upload of `url` gives (`uploaded=True`).

        A URL of one of the sandbox's own files (`.../files/<clip>.wav` and friends)
        gives that clip's tune and voices, so the upload sounds like what was uploaded
        (a stem's file, the stem); any other
        URL gives a tune planned from the URL's text, the same for the same URL.
        """
        found = _SANDBOX_FILE.search(url)
        known = self.clips.get(found["clip"]) if found else None
        if known is not None:
            title, tags, lyrics, tune = known.title, known.tags, known.lyrics, known.tune
        else:
            stem = url.rstrip("/").rpartition("/")[2].partition("?")[0].rpartition(".")[0]
            title = " ".join(words(stem.replace("-", " ").replace("_", " "))[:4]).title()
            title, tags, lyrics, tune = title or "Upload", "", "", plan(url)
        return self.add_clip(
            ClipRecord(
                clip_id=self.new_id(),
                task_id=task_id,
                title=title,
                tags=tags,
                lyrics=lyrics,
                mv="upload",
                tune=tune,
                source_clip_id=known.clip_id if known is not None else None,
                uploaded=True,
                voices=known.sounding if known is not None else None,
            )
        )

    def settle(self) -> None:
        """Move every task on: make the clips of those that stream, finish or refund the rest.

        A task found streaming (see the module docstring) is reported to `on_stream`
        first; every task whose end has come is then reported to `on_finish`.
        """
        now = self.clock.now()
        while self._streaming and self._streaming[0][0] <= now:
            record = self.tasks[heapq.heappop(self._streaming)[2]]
            if record.ends > now and not record.clips:
                self._make_clips(record)
                if self._on_stream is not None:
                    self._on_stream(record)
        while self._running and self._running[0][0] <= now:
            record = self.tasks[heapq.heappop(self._running)[2]]
            if record.outcome == "succeeded":
                record.state = "succeeded"
                if not record.clips:
                    self._make_clips(record)
            else:
                record.state = "failed"
                self.account.credits += record.charged[0]
                self.account.extra_credits += record.charged[1]
            self._on_finish(record)

    def _make_clips(self, record: TaskRecord) -> None:
        make = record.make if record.make is not None else _two_songs
        record.clips = make(self, record)
        self.clips.update((clip.clip_id, clip) for clip in record.clips)


def _two_songs(store: TaskStore, record: TaskRecord) -> list[ClipRecord]:
    return [song_clip(store, record, variant) for variant in (0, 1)]


def song_clip(store: TaskStore, record: TaskRecord, variant: int) -> ClipRecord:
    """Return one song of `record`, written from its body and its first source clip.

    The body's `title`, `tags`, lyrics (`prompt`/`lyrics`) and `mv` win; what is
    missing comes from the description's words, then from the source clip.
    """
    body = record.payload
    first = record.sources[0] if record.sources else body.get("continue_clip_id")
    source = store.clips.get(first) if isinstance(first, str) else None
    description = body.get("gpt_description_prompt") or ""
    found = words(description)
    title = (
        body.get("title") or " ".join(found[:4]).title() or (source.title if source else "Untitled")
    )
    tags = body.get("tags") or ", ".join(found[:4]) or (source.tags if source else "")
    given = body.get("prompt") or body.get("lyrics")
    if body.get("make_instrumental"):
        lyrics = "[Instrumental]"
    elif given:
        lyrics = given
    elif found:
        lyrics = f"[Verse]\n{' '.join(found)}\n[Chorus]\n{title}, {title.lower()}"
    else:
        lyrics = source.lyrics if source else ""
    mv = body.get("mv") or (source.mv if source else "sonic-v5")
    return ClipRecord(
        clip_id=store.new_id(),
        task_id=record.task_id,
        title=title,
        tags=tags,
        lyrics=lyrics,
        mv=mv,
        tune=plan(f"{tags} {description}", variant),
    )
