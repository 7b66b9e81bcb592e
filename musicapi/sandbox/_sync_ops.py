"""Handlers of the operations that answer at once (lyrics, BPM, WAV, MIDI, uploads, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from musicapi.sandbox._app import Handler

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Handler] = {}
