"""Client configuration: explicit arguments first, then the environment, then defaults.

Every argument is checked here, once, when a client is built, so that a typo fails
loudly before any job is paid for, with a `ConfigurationError` that names the argument
(or the environment variable it came from) instead of a `TypeError` deep inside httpx
at the first request. The key is never quoted: not in the config's repr, not in an
error message, not in an exception chain. `MusicAPI` and `AsyncMusicAPI` both build
their client from the one `ClientConfig` that `resolve` returns.
"""

from __future__ import annotations

import ipaddress
import math
import numbers
import os
import sys
from typing import TYPE_CHECKING, Any

import attrs

from musicapi._errors import ConfigurationError

if TYPE_CHECKING:
    # ClientConfig's annotations are never resolved at run time (cattrs never structures
    # it), and only the transport and download modules may import httpx at run time.
    from collections.abc import Mapping

    import httpx  # noqa: TC004

    from musicapi._clock import Clock  # noqa: TC004
    from musicapi._wait import PollPolicy  # noqa: TC004
    from musicapi.webhooks import EventBus, WebhookReceiver  # noqa: TC004

__all__ = [
    "BASE_URL_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "KEY_ENV",
    "ClientConfig",
    "check_base_url",
    "is_loopback",
]

DEFAULT_BASE_URL = "https://api.musicapi.ai/api/v1"
DEFAULT_TIMEOUT = 60.0
KEY_ENV = "MUSICAPI_KEY"
BASE_URL_ENV = "MUSICAPI_BASE_URL"

_MAX_PORT = 65535
_MAX_HOST_LENGTH = 253
_MAX_LABEL_LENGTH = 63
_HOST_PUNCTUATION = frozenset("-_")
_MIN_SCRUBBED_KEY = 4
"""Keys shorter than this are not scrubbed from messages: every word would contain them."""


@attrs.define(frozen=True, kw_only=True)
class ClientConfig:
    """The resolved, validated settings of one client.

    Built once by `resolve`; `AsyncMusicAPI` (directly, or on the loop thread of a
    `MusicAPI`) reads everything from it, so the environment is read exactly once.

    Attributes:
        api_key: The bearer key, or `None` when none was found (an error at first use).
        base_url: The API root, without a trailing slash.
        timeout: Seconds for one HTTP request (connect, read, write and pool each).
        max_retries: How many times a retryable request is resent.
        max_in_flight: The cap on this client's HTTP requests in flight at once.
        rate_limit: An explicit cap on requests per second, or `None` for adaptive only.
        http_client: The caller's own `httpx.AsyncClient` (the caller closes it), or `None`.
        transport: An httpx transport for the pool the SDK creates, or `None`.
        clock: The clock waits and backoff use, or `None` for the real one.
        poll_policy: How often waits poll, or `None` for the default policy.
        webhooks: What verified webhook deliveries come from (a
            `musicapi.webhooks.WebhookReceiver` or an event bus), or `None`.
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
    webhooks: WebhookReceiver | EventBus | None = attrs.field(default=None, repr=False, eq=False)

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
        webhooks: WebhookReceiver | EventBus | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Check every argument and build a config, falling back to the environment.

        `api_key` falls back to `MUSICAPI_KEY` and `base_url` to `MUSICAPI_BASE_URL`
        (blank counts as unset), then to the public API. The arguments are checked even
        though they are annotated, because annotations are not enforced at run time and
        a wrong type here would otherwise surface as an unrelated error at the first
        request, or not at all (`max_retries=nan` never stops retrying).

        Args:
            api_key: The key, or `None` to read `MUSICAPI_KEY`.
            base_url: The API root, or `None` to read `MUSICAPI_BASE_URL`.
            timeout: Seconds for one HTTP request: a finite number above 0.
            max_retries: Resends of a retryable request: a whole number, 0 or more.
            max_in_flight: HTTP requests in flight at once: a whole number, 1 or more.
            rate_limit: Requests per second (finite, above 0), or `None`.
            http_client: An open `httpx.AsyncClient`, or `None`.
            transport: An httpx async transport (not with `http_client`), or `None`.
            clock: An object with `now()` and `sleep()`, or `None`.
            poll_policy: A `PollPolicy`, or `None`.
            webhooks: A `WebhookReceiver` or an event bus (anything with
                `subscribe()`), or `None`.
            environ: The environment to read (tests); `os.environ` by default.

        Raises:
            ConfigurationError: An argument or environment value of the wrong type or
                out of range; the message names it and never contains the key.
        """
        env: Mapping[str, str] = os.environ if environ is None else environ
        if api_key is not None:
            key = _check_key(api_key, "api_key")
        else:
            key = _check_key(env.get(KEY_ENV), f"the {KEY_ENV} environment variable")
        try:
            config = cls(
                api_key=key,
                base_url=_pick_base_url(base_url, env),
                timeout=_seconds(timeout, "timeout"),
                max_retries=_whole(max_retries, "max_retries", minimum=0),
                max_in_flight=_whole(max_in_flight, "max_in_flight", minimum=1),
                rate_limit=None if rate_limit is None else _rate(rate_limit),
                http_client=_check_http_client(http_client, transport),
                transport=_check_transport(transport),
                clock=_check_clock(clock),
                poll_policy=_check_poll_policy(poll_policy),
                webhooks=_check_webhooks(webhooks),
            )
        except ConfigurationError as exc:
            # Belt and braces: no message quotes a string argument, but a key pasted
            # into the wrong argument must not come back in an error either.
            if key is not None and len(key) >= _MIN_SCRUBBED_KEY and key in str(exc):
                raise ConfigurationError(str(exc).replace(key, "***")) from None
            raise
        return config

    def require_key(self) -> str:
        """Return the API key, or raise the error that says how to provide one.

        A missing key is not an error at construction, so that a client can be built
        (and, say, pointed at the sandbox) before the key is known.

        Raises:
            ConfigurationError: No key was given and `MUSICAPI_KEY` is unset or blank.
        """
        if not self.api_key:
            raise ConfigurationError(
                f"no API key: pass api_key=... or set the {KEY_ENV} environment variable"
            )
        return self.api_key


def check_base_url(url: object, *, source: str = "base_url") -> str:
    """Return `url` without a trailing slash if it is https, or http on a loopback host.

    The URL is parsed strictly, because `urllib.parse` accepts (and silently repairs)
    URLs that httpx then rejects or sends elsewhere: `http://[::1]%40evil.com/`, a port
    of `99999`, a newline that `urlsplit` deletes. Whatever passes here is a root that
    every request path can be appended to.

    Args:
        url: The URL to check.
        source: Where it came from (`base_url`, or an environment variable), for the message.

    Raises:
        ConfigurationError: The URL is malformed (not a string, whitespace or control
            characters inside, no host, a bad port, a query or fragment), carries
            credentials, or is plain http to a non-loopback host (which would send the
            key in clear text across a network). The message quotes the host at most.
    """
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        raise ConfigurationError(f"{source} must be a string, not {type(url).__name__}")
    text = url.strip()
    bad = next((i for i, ch in enumerate(text) if ch.isspace() or not ch.isprintable()), None)
    if bad is not None:
        raise ConfigurationError(
            f"malformed base URL ({source}): it contains {_describe(text[bad])} "
            f"at position {bad + 1}"
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ConfigurationError(
            f"malformed base URL ({source}): expected https://host/path"
        ) from None
    if "@" in parts.netloc:
        raise ConfigurationError(
            f"the base URL ({source}) must not carry credentials (user:password@); "
            "pass the key as api_key"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"malformed base URL ({source}): expected https://host/path")
    if "?" in text or "#" in text:
        raise ConfigurationError(
            f"malformed base URL ({source}): it must not have a query (?...) or a "
            "fragment (#...); pass only the API root, such as " + DEFAULT_BASE_URL
        )
    host = _parse_netloc(parts.netloc, source)
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"plain http is only allowed for loopback hosts (localhost, 127.0.0.0/8, ::1), "
            f"not {host!r} ({source}): use https"
        )
    return text.rstrip("/")


def _pick_base_url(given: object, env: Mapping[str, str]) -> str:
    """Return the checked base URL: the argument, else `MUSICAPI_BASE_URL`, else the default.

    A blank argument or variable counts as unset, as it always has.
    """
    if given is not None and (not isinstance(given, str) or given.strip()):
        return check_base_url(given, source="base_url")
    if env.get(BASE_URL_ENV, "").strip():
        return check_base_url(env[BASE_URL_ENV], source=f"the {BASE_URL_ENV} environment variable")
    return DEFAULT_BASE_URL


def is_loopback(host: str) -> bool:
    """Tell whether `host` names this machine (localhost, 127.0.0.0/8 or ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _parse_netloc(netloc: str, source: str) -> str:
    """Return the host of `host[:port]` or `[ipv6][:port]`, checking both parts.

    Raises:
        ConfigurationError: The host is not a host name or IP literal, or the port is
            not a number from 1 to 65535.
    """
    if netloc.startswith("["):
        literal, sep, rest = netloc[1:].partition("]")
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            sep = ""
        if "%" in literal:  # a zone id: never needed for an API root, easily misread
            sep = ""
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigurationError(
                f"malformed base URL ({source}): expected [IPv6 address] followed by "
                "nothing or :port"
            )
        host, port = literal, rest[1:] if rest else None
    else:
        host, sep, port_text = netloc.partition(":")
        port = port_text if sep else None
        if not _is_host_name(host):
            raise ConfigurationError(
                f"malformed base URL ({source}): the host is not a valid host name or IP address"
            )
    if port is not None and not (port.isascii() and port.isdigit() and 1 <= int(port) <= _MAX_PORT):
        raise ConfigurationError(
            f"malformed base URL ({source}): the port must be a number from 1 to {_MAX_PORT}"
        )
    return host


def _is_host_name(host: str) -> bool:
    """Tell whether `host` is a DNS name (IDN allowed) or an IPv4 address."""
    if not host or len(host) > _MAX_HOST_LENGTH:
        return False
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(
        0 < len(label) <= _MAX_LABEL_LENGTH
        and all(ch.isalnum() or ch in _HOST_PUNCTUATION for ch in label)
        for label in labels
    )


def _check_key(value: object, source: str) -> str | None:
    """Return the stripped key, `None` if blank, or raise without quoting it.

    A key with a newline or a non-ASCII character inside is accepted by nothing
    downstream: httpx rejects the header at the first request, and its message quotes
    the header, key and all. So the key is checked here, and the message says what is
    wrong and where, never what the key is.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"{source} must be a string, not {type(value).__name__}")
    key = value.strip()
    for index, char in enumerate(key):
        if not "!" <= char <= "~":
            raise ConfigurationError(
                f"{source} contains {_describe(char)} at position {index + 1} of {len(key)}: "
                "an API key is printable ASCII without spaces (check for a stray line "
                "break or a character added when it was copied)"
            )
    return key or None


def _describe(char: str) -> str:
    """Name the kind of a bad character without showing it (it may be part of a key)."""
    if char in "\r\n":
        return "a line break"
    if char.isspace():
        return "whitespace"
    if ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F:
        return "a control character"
    if not char.isascii():
        return "a non-ASCII character"
    return "an invalid character"


def _real(value: object, name: str, what: str) -> float:
    """Return `value` as a finite float, or raise naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigurationError(f"{name} must be {what}, not {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ConfigurationError(f"{name} must be {what}, got {value!r}")
    return number


def _seconds(value: object, name: str) -> float:
    return _real(value, name, "a finite number of seconds above 0")


def _rate(value: object) -> float:
    return _real(value, "rate_limit", "a finite number of requests per second above 0, or None")


def _whole(value: object, name: str, *, minimum: int) -> int:
    """Return `value` as an int of at least `minimum`, or raise naming `name`.

    Floats are refused even when whole: `nan`, `inf` and `2.5` all compare in ways that
    turn a retry count into an endless loop or an off-by-one, so only integers pass.
    """
    what = f"a whole number, {minimum} or more"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigurationError(f"{name} must be {what}, not {type(value).__name__}")
    number = int(value)
    if number < minimum:
        raise ConfigurationError(f"{name} must be {what}, got {number!r}")
    return number


def _check_http_client(value: object, transport: object) -> Any:
    """Return `value` if it is an open `httpx.AsyncClient` (or `None`).

    httpx is looked up in `sys.modules` rather than imported: only the transport and
    download modules import httpx (a layering rule), and they are always loaded by the
    time a client is configured, so an object that is an `httpx.AsyncClient` can only
    exist if `httpx` is already there.
    """
    if value is None:
        return None
    if transport is not None:
        raise ConfigurationError(
            "pass http_client or transport, not both: a transport belongs to the "
            "http_client you build (httpx.AsyncClient(transport=...))"
        )
    httpx_module = sys.modules.get("httpx")
    async_client: Any = getattr(httpx_module, "AsyncClient", None)
    if async_client is not None and isinstance(value, async_client):
        client: Any = value
        if client.is_closed:
            raise ConfigurationError("http_client is closed: pass an open httpx.AsyncClient")
        return client
    sync_client: Any = getattr(httpx_module, "Client", None)
    hint = ""
    if sync_client is not None and isinstance(value, sync_client):
        hint = " (the SDK is async inside: MusicAPI runs an httpx.AsyncClient on its own loop)"
    raise ConfigurationError(
        f"http_client must be an httpx.AsyncClient, not {type(value).__name__}{hint}"
    )


def _check_transport(value: object) -> Any:
    """Return `value` if it is an httpx async transport (or `None`), checked by its method."""
    if value is None:
        return None
    if callable(getattr(value, "handle_async_request", None)):
        return value
    hint = ""
    if callable(getattr(value, "handle_request", None)):
        hint = " (this is a synchronous transport: use its async twin)"
    elif callable(getattr(value, "send", None)):
        hint = " (to pass a client, use http_client=)"
    raise ConfigurationError(
        "transport must be an httpx async transport (an httpx.AsyncBaseTransport such as "
        f"musicapi.sandbox.Sandbox().transport()), not {type(value).__name__}{hint}"
    )


def _check_clock(value: object) -> Any:
    """Return `value` if it has the `Clock` methods `now()` and `sleep()` (or is `None`)."""
    if value is None:
        return None
    missing = [name for name in ("now", "sleep") if not callable(getattr(value, name, None))]
    if missing:
        raise ConfigurationError(
            "clock must have now() and sleep() methods (like musicapi.testing.FakeClock); "
            f"{type(value).__name__} has no {' or '.join(f'{name}()' for name in missing)}"
        )
    return value


def _check_webhooks(value: object) -> Any:
    """Return `value` if deliveries can be subscribed to from it (or `None`)."""
    if value is None or callable(getattr(value, "subscribe", None)):
        return value
    raise ConfigurationError(
        "webhooks must be a musicapi.webhooks.WebhookReceiver or an event bus with "
        f"subscribe(), not {type(value).__name__}"
    )


def _check_poll_policy(value: object) -> Any:
    """Return `value` if it is a `PollPolicy` (or `None`)."""
    from musicapi._wait import PollPolicy

    if value is None or isinstance(value, PollPolicy):
        return value
    raise ConfigurationError(
        f"poll_policy must be a musicapi.PollPolicy, not {type(value).__name__}"
    )
