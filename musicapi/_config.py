"""Client configuration: explicit arguments first, then the environment, then defaults.

Everything is checked at construction so a typo fails loudly before any job is paid
for. The key is kept out of every repr.
"""

from __future__ import annotations

import ipaddress
import math
import os
from typing import TYPE_CHECKING

import attrs

from musicapi._errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

    from musicapi._clock import Clock
    from musicapi._wait import PollPolicy

DEFAULT_BASE_URL = "https://api.musicapi.ai/api/v1"
DEFAULT_TIMEOUT = 60.0
KEY_ENV = "MUSICAPI_KEY"
BASE_URL_ENV = "MUSICAPI_BASE_URL"


@attrs.define(frozen=True, kw_only=True)
class ClientConfig:
    """The resolved settings of one client.

    Attributes:
        api_key: The bearer key, or `None` when none was found (an error at first use).
        base_url: The API root, without a trailing slash.
        timeout: Seconds for one HTTP request (connect, read, write and pool each).
        max_retries: How many times a retryable request is resent.
        max_in_flight: The cap on this client's HTTP requests in flight at once.
        rate_limit: An explicit cap on requests per second, or `None` for adaptive only.
    """

    api_key: str | None = attrs.field(repr=False)
    base_url: str
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = 3
    max_in_flight: int = 64
    rate_limit: float | None = None
    http_client: httpx.AsyncClient | None = attrs.field(default=None, repr=False, eq=False)
    transport: httpx.AsyncBaseTransport | None = attrs.field(default=None, repr=False, eq=False)
    clock: Clock | None = attrs.field(default=None, repr=False, eq=False)
    poll_policy: PollPolicy | None = attrs.field(default=None, repr=False, eq=False)

    @classmethod
    def resolve(
        cls,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        max_in_flight: int,
        rate_limit: float | None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        poll_policy: PollPolicy | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Build a config from arguments, falling back to `MUSICAPI_KEY` / `MUSICAPI_BASE_URL`.

        Raises:
            ConfigurationError: A malformed or non-https, non-loopback base URL, or a
                number out of range.
        """
        env = os.environ if environ is None else environ
        key = api_key if api_key is not None else env.get(KEY_ENV)
        key = key.strip() if key else None
        url = base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        if not timeout > 0:
            raise ConfigurationError(
                f"timeout must be a positive number of seconds, got {timeout!r}"
            )
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be 0 or more, got {max_retries!r}")
        if max_in_flight < 1:
            raise ConfigurationError(f"max_in_flight must be 1 or more, got {max_in_flight!r}")
        if rate_limit is not None and not (rate_limit > 0 and math.isfinite(rate_limit)):
            raise ConfigurationError(f"rate_limit must be positive requests/s, got {rate_limit!r}")
        return cls(
            api_key=key or None,
            base_url=check_base_url(url),
            timeout=float(timeout),
            max_retries=max_retries,
            max_in_flight=max_in_flight,
            rate_limit=rate_limit,
            http_client=http_client,
            transport=transport,
            clock=clock,
            poll_policy=poll_policy,
        )

    def require_key(self) -> str:
        """Return the API key, or raise the error that says how to provide one."""
        if not self.api_key:
            raise ConfigurationError(
                f"no API key: pass api_key=... or set the {KEY_ENV} environment variable"
            )
        return self.api_key


def check_base_url(url: str) -> str:
    """Return `url` without a trailing slash if it is https, or http on a loopback host.

    Raises:
        ConfigurationError: The URL is malformed, or plain http to a non-loopback host
            (which would send the key in clear text across a network).
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError as exc:
        raise ConfigurationError(f"malformed base URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(
            f"malformed base URL {_redacted(url)!r}: expected https://host/path"
        )
    if parts.username or parts.password:
        raise ConfigurationError("the base URL must not carry credentials; use api_key")
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"plain http is only allowed for loopback hosts (localhost, 127.0.0.0/8, ::1), "
            f"not {host!r}: use https"
        )
    return url.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    """Tell whether `host` names this machine (localhost, 127.0.0.0/8 or ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _redacted(url: str) -> str:
    """Show a URL in an error message without anything that looks like userinfo."""
    head, sep, tail = url.partition("@")
    return f"***@{tail}" if sep else head
