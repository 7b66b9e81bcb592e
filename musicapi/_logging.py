"""The `musicapi` logger: silent by default, `MUSICAPI_LOG=debug` to see every request.

Records never hold the key: the transport logs only method, URL path, status and timing,
and a filter on the logger also masks any key it has been told about, as a second guard
for messages written elsewhere (user handlers, third-party formatting).
"""

from __future__ import annotations

import logging
import os
import sys
import weakref

logger = logging.getLogger("musicapi")
logger.addHandler(logging.NullHandler())

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
REDACTED = "***"
MIN_REDACTED_KEY = 8
"""Keys at least this long are masked in answers' bodies (`redact_bytes`)."""


class _RedactKeys(logging.Filter):
    """Replaces every registered API key in a record's message and arguments."""

    def __init__(self) -> None:
        super().__init__("musicapi")
        self._keys: weakref.WeakValueDictionary[int, _Secret] = weakref.WeakValueDictionary()

    def register(self, secret: _Secret) -> None:
        self._keys[id(secret)] = secret

    def keys(self) -> list[str]:
        """The keys registered now (of the clients still alive)."""
        return [secret.value for secret in self._keys.values() if secret.value]

    def filter(self, record: logging.LogRecord) -> bool:
        keys = self.keys()
        if keys:
            message = record.getMessage()
            for key in keys:
                message = message.replace(key, REDACTED)
            record.msg, record.args = message, None
        return True


class _Secret:
    """A holder for one key, registered with the filter for as long as its client lives."""

    __slots__ = ("__weakref__", "value")

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<secret>"


_redactor = _RedactKeys()
logger.addFilter(_redactor)


def protect(key: str | None) -> _Secret | None:
    """Register `key` for redaction; keep the returned holder alive as long as the key is used."""
    if not key:
        return None
    secret = _Secret(key)
    _redactor.register(secret)
    return secret


def redact_bytes(content: bytes) -> bytes:
    """Return `content` with every registered key replaced by `***`.

    A server (or a proxy in front of it) may echo the request's key in an error body;
    the body becomes an exception's message and `.body`, which must never hold it.
    Keys shorter than `MIN_REDACTED_KEY` (test keys such as `"k"`) are left alone:
    masking them would rewrite ordinary words of every answer.
    """
    for key in _redactor.keys():
        encoded = key.encode("utf-8", "replace")
        if len(encoded) >= MIN_REDACTED_KEY and encoded in content:
            content = content.replace(encoded, REDACTED.encode("ascii"))
    return content


def configure_from_env() -> None:
    """Honour `MUSICAPI_LOG` (debug, info or warning) by logging to stderr."""
    level = _LEVELS.get(os.environ.get("MUSICAPI_LOG", "").strip().lower())
    if level is None or any(getattr(h, "_musicapi_env", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler._musicapi_env = True  # type: ignore[attr-defined]
    handler.addFilter(_redactor)
    logger.addHandler(handler)
    logger.setLevel(level)
