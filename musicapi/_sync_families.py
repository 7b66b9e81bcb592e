"""The sync twins of the API families (`MusicAPI.sonic`, `.producer`, ...).

Each twin is a list of one-line forwards (`_forward.Forward`) onto the async family of
the same name: the same methods, parameters and docstrings, without `await`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musicapi._forward import Forward, HasBridge
from musicapi._resources.nuro import DEPRECATED as NURO_DEPRECATED
from musicapi._resources.nuro import NuroResource
from musicapi._resources.producer import ProducerResource
from musicapi._resources.riffusion import DEPRECATED as RIFFUSION_DEPRECATED
from musicapi._resources.riffusion import RiffusionResource
from musicapi._resources.sonic import SonicResource
from musicapi._resources.studio import StudioResource
from musicapi._resources.suno import SunoResource

if TYPE_CHECKING:
    from musicapi._client import AsyncMusicAPI
    from musicapi._forward import Bridge

__all__ = [
    "SyncNuro",
    "SyncProducer",
    "SyncRiffusion",
    "SyncSonic",
    "SyncStudio",
    "SyncSuno",
]


class _SyncFamily(HasBridge):
    """A family's sync twin: holds the bridge to the client's loop, nothing else."""

    def __init__(self, bridge: Bridge) -> None:
        self._bridge = bridge


def _sonic(client: AsyncMusicAPI) -> SonicResource:
    return client.sonic


class SyncSonic(_SyncFamily):
    """Song generation, synchronously: the methods of `AsyncMusicAPI.sonic` without `await`."""

    create = Forward(SonicResource.create, _sonic)
    get = Forward(SonicResource.get, _sonic)
    wait = Forward(SonicResource.wait, _sonic)
    generate = Forward(SonicResource.generate, _sonic)
    generate_many = Forward(SonicResource.generate_many, _sonic)
    lyrics = Forward(SonicResource.lyrics, _sonic)
    aligned_lyrics = Forward(SonicResource.aligned_lyrics, _sonic)
    bpm = Forward(SonicResource.bpm, _sonic)
    upsample_tags = Forward(SonicResource.upsample_tags, _sonic)
    create_voice = Forward(SonicResource.create_voice, _sonic)
    persona = Forward(SonicResource.persona, _sonic)
    vox = Forward(SonicResource.vox, _sonic)
    midi = Forward(SonicResource.midi, _sonic)
    wav = Forward(SonicResource.wav, _sonic)
    stems_basic = Forward(SonicResource.stems_basic, _sonic)
    stems_full = Forward(SonicResource.stems_full, _sonic)
    mashup = Forward(SonicResource.mashup, _sonic)
    replace_section = Forward(SonicResource.replace_section, _sonic)
    sample = Forward(SonicResource.sample, _sonic)
    upload = Forward(SonicResource.upload, _sonic)
    upload_cover = Forward(SonicResource.upload_cover, _sonic)
    upload_extend = Forward(SonicResource.upload_extend, _sonic)
    batch = Forward(SonicResource.batch, _sonic)
    get_batch = Forward(SonicResource.get_batch, _sonic)


def _suno(client: AsyncMusicAPI) -> SunoResource:
    return client.suno


class SyncSuno(_SyncFamily):
    """The legacy Suno aliases and lyrics tasks, synchronously (`AsyncMusicAPI.suno`)."""

    create = Forward(SunoResource.create, _suno)
    get = Forward(SunoResource.get, _suno)
    wait = Forward(SunoResource.wait, _suno)
    generate = Forward(SunoResource.generate, _suno)
    generate_many = Forward(SunoResource.generate_many, _suno)
    make_lyrics = Forward(SunoResource.make_lyrics, _suno)
    get_lyrics = Forward(SunoResource.get_lyrics, _suno)
    wait_lyrics = Forward(SunoResource.wait_lyrics, _suno)
    get_song = Forward(SunoResource.get_song, _suno)


def _producer(client: AsyncMusicAPI) -> ProducerResource:
    return client.producer


class SyncProducer(_SyncFamily):
    """Instrumentals and background music, synchronously (`AsyncMusicAPI.producer`)."""

    create = Forward(ProducerResource.create, _producer)
    get = Forward(ProducerResource.get, _producer)
    wait = Forward(ProducerResource.wait, _producer)
    generate = Forward(ProducerResource.generate, _producer)
    generate_many = Forward(ProducerResource.generate_many, _producer)
    upload = Forward(ProducerResource.upload, _producer)
    download = Forward(ProducerResource.download, _producer)


def _studio(client: AsyncMusicAPI) -> StudioResource:
    return client.studio


class SyncStudio(_SyncFamily):
    """Udio-style generation, synchronously (`AsyncMusicAPI.studio`)."""

    create = Forward(StudioResource.create, _studio)
    get = Forward(StudioResource.get, _studio)
    wait = Forward(StudioResource.wait, _studio)
    generate = Forward(StudioResource.generate, _studio)
    generate_many = Forward(StudioResource.generate_many, _studio)


def _riffusion(client: AsyncMusicAPI) -> RiffusionResource:
    return client.riffusion


class SyncRiffusion(_SyncFamily):
    """The deprecated FUZZ models, synchronously (`AsyncMusicAPI.riffusion`).

    Each call warns `DeprecationWarning` here, in the caller's thread, at the caller's line.
    """

    create = Forward(RiffusionResource.create, _riffusion, deprecated=RIFFUSION_DEPRECATED)
    get = Forward(RiffusionResource.get, _riffusion, deprecated=RIFFUSION_DEPRECATED)
    wait = Forward(RiffusionResource.wait, _riffusion, deprecated=RIFFUSION_DEPRECATED)
    generate = Forward(RiffusionResource.generate, _riffusion, deprecated=RIFFUSION_DEPRECATED)
    generate_many = Forward(
        RiffusionResource.generate_many, _riffusion, deprecated=RIFFUSION_DEPRECATED
    )
    upload = Forward(RiffusionResource.upload, _riffusion, deprecated=RIFFUSION_DEPRECATED)


def _nuro(client: AsyncMusicAPI) -> NuroResource:
    return client.nuro


class SyncNuro(_SyncFamily):
    """The withdrawn Nuro models, synchronously (`AsyncMusicAPI.nuro`); each call warns."""

    create = Forward(NuroResource.create, _nuro, deprecated=NURO_DEPRECATED)
    get = Forward(NuroResource.get, _nuro, deprecated=NURO_DEPRECATED)
    wait = Forward(NuroResource.wait, _nuro, deprecated=NURO_DEPRECATED)
    generate = Forward(NuroResource.generate, _nuro, deprecated=NURO_DEPRECATED)
    generate_many = Forward(NuroResource.generate_many, _nuro, deprecated=NURO_DEPRECATED)
