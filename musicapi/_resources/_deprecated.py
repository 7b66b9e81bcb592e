"""The warning every public call of a deprecated family gives."""

from __future__ import annotations

import warnings

from musicapi._forward import on_facade_thread


def warn_deprecated(message: str) -> None:
    """Warn `DeprecationWarning` pointing at the code that called the public method.

    Call it first thing in a public method: the stack level skips this function and
    that method (for a coroutine, the frame that awaited it is its caller). On a
    `MusicAPI` loop thread it does nothing: the sync twin already warned in the
    caller's thread, pointing at the caller's line.
    """
    if on_facade_thread():
        return
    warnings.warn(message, DeprecationWarning, stacklevel=3)
