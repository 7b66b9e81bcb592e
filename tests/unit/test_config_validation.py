"""Every constructor argument is checked at construction, by name, without showing the key.

Regression tests for arguments the constructors used to accept and then fail on later,
or never: `max_retries=nan` retried about 11,000 GETs in 2 s, `timeout='5'` and
`max_retries=None` raised a bare `TypeError`, a key with a newline inside was accepted
and then leaked whole in httpx's `Illegal header value b'Bearer sk-...'`, and base URLs
such as `http://[::1]%40evil.com/` passed the check and made every request fail. Each
case goes through `ClientConfig.resolve` and through both client constructors.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

import musicapi
from musicapi import ConfigurationError, MusicAPIError, PollPolicy
from musicapi._config import BASE_URL_ENV, KEY_ENV, ClientConfig, check_base_url
from musicapi.sandbox import Sandbox
from musicapi.testing import FakeClock

KEY = "sk-secret-123"
BASE_URL = "http://localhost:1/api/v1"
CONSTRUCTORS = [musicapi.AsyncMusicAPI, musicapi.MusicAPI]


def _resolve(**overrides: Any) -> ClientConfig:
    kwargs: dict[str, Any] = {
        "api_key": KEY,
        "base_url": BASE_URL,
        "timeout": 30.0,
        "max_retries": 3,
        "max_in_flight": 64,
        "rate_limit": None,
        "environ": {},
    }
    kwargs.update(overrides)
    return ClientConfig.resolve(**kwargs)


def _assert_clean(error: ConfigurationError, *secrets: str) -> None:
    """The error is the documented kind and shows no secret anywhere, chain included."""
    assert type(error) is ConfigurationError
    assert isinstance(error, MusicAPIError)
    assert isinstance(error, ValueError)
    shown_chain = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    assert shown_chain is None
    for secret in secrets:
        assert secret not in str(error)
        assert secret not in repr(error)
        assert secret not in repr(error.args)


BAD_ARGUMENTS = [
    ("max_retries", math.nan),
    ("max_retries", math.inf),
    ("max_retries", None),
    ("max_retries", True),
    ("max_retries", 2.5),
    ("max_retries", 3.0),
    ("max_retries", "3"),
    ("max_retries", -1),
    ("timeout", "5"),
    ("timeout", math.nan),
    ("timeout", math.inf),
    ("timeout", -math.inf),
    ("timeout", -1),
    ("timeout", 0),
    ("timeout", None),
    ("timeout", True),
    ("max_in_flight", math.nan),
    ("max_in_flight", 0),
    ("max_in_flight", 1.5),
    ("max_in_flight", True),
    ("max_in_flight", None),
    ("max_in_flight", "8"),
    ("rate_limit", math.nan),
    ("rate_limit", math.inf),
    ("rate_limit", 0),
    ("rate_limit", -1.0),
    ("rate_limit", "x"),
    ("rate_limit", True),
    ("api_key", 123),
    ("api_key", b"sk-secret-123"),
    ("base_url", 123),
    ("http_client", object()),
    ("http_client", "https://api.musicapi.ai"),
    ("transport", object()),
    ("clock", object()),
    ("poll_policy", {"min_interval": 1.0}),
]


@pytest.mark.parametrize(("name", "value"), BAD_ARGUMENTS)
def test_bad_argument_is_a_configuration_error_naming_it(name: str, value: Any) -> None:
    with pytest.raises(ConfigurationError, match=name) as info:
        _resolve(**{name: value})
    _assert_clean(info.value, KEY)


@pytest.mark.parametrize("cls", CONSTRUCTORS)
@pytest.mark.parametrize(("name", "value"), BAD_ARGUMENTS)
def test_constructors_raise_it_at_construction(cls: Any, name: str, value: Any) -> None:
    kwargs: dict[str, Any] = {"api_key": KEY, "base_url": BASE_URL, name: value}
    with pytest.raises(ConfigurationError, match=name) as info:
        cls(**kwargs)
    _assert_clean(info.value, KEY)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"timeout": 5}, {"timeout": 5.0}),
        ({"max_retries": 0, "max_in_flight": 1}, {"max_retries": 0, "max_in_flight": 1}),
        ({"rate_limit": 1}, {"rate_limit": 1.0}),
        ({"rate_limit": 0.25}, {"rate_limit": 0.25}),
    ],
)
def test_good_numbers_are_kept_with_their_types(
    overrides: dict[str, Any], expected: dict[str, Any]
) -> None:
    config = _resolve(**overrides)
    for name, value in expected.items():
        got = getattr(config, name)
        assert got == value
        assert type(got) is type(value)


KEY_HEAD, KEY_TAIL = "sk-live-AAAA1111", "BBBB2222-tail"


@pytest.mark.parametrize(
    ("inside", "what"),
    [
        ("\n", "line break"),
        ("\r", "line break"),
        ("\t", "whitespace"),
        (" ", "whitespace"),
        ("\x00", "control character"),
        ("\x1b", "control character"),
        ("\x7f", "control character"),
        ("\u00e9", "non-ASCII"),
        ("\u200b", "non-ASCII"),
        ("\u2028", "line break|whitespace"),
    ],
)
def test_a_key_with_a_bad_character_is_refused_without_quoting_it(inside: str, what: str) -> None:
    key = KEY_HEAD + inside + KEY_TAIL
    with pytest.raises(ConfigurationError, match=f"api_key contains .*({what})") as info:
        _resolve(api_key=key)
    _assert_clean(info.value, key, KEY_HEAD, KEY_TAIL)
    with pytest.raises(ConfigurationError) as info:
        _resolve(api_key=None, environ={KEY_ENV: key})
    assert KEY_ENV in str(info.value)
    assert "environment variable" in str(info.value)
    _assert_clean(info.value, key, KEY_HEAD, KEY_TAIL)


@pytest.mark.parametrize("cls", CONSTRUCTORS)
def test_a_key_with_a_newline_never_reaches_httpx(cls: Any) -> None:
    key = f"{KEY_HEAD}\n{KEY_TAIL}"
    with pytest.raises(ConfigurationError) as info:
        cls(api_key=key, base_url=BASE_URL)
    _assert_clean(info.value, key, KEY_HEAD, KEY_TAIL)


def test_surrounding_whitespace_is_not_part_of_the_key() -> None:
    assert _resolve(api_key=f"  {KEY}\n").api_key == KEY
    assert _resolve(api_key=None, environ={KEY_ENV: f"{KEY}\r\n"}).api_key == KEY


BAD_URLS = [
    "http://[::1]%40evil.com/",
    "http://[::1]evil.com/api",
    "http://[::1/api",
    "http://[not-ipv6]/api",
    "https://[fe80::1%25eth0]/api",
    "https://api.musicapi.ai/api/v1?key=1",
    "https://api.musicapi.ai/api/v1?",
    "https://api.musicapi.ai/api/v1#frag",
    "https://api.musicapi.ai:0/api/v1",
    "https://api.musicapi.ai:65536/api/v1",
    "https://api.musicapi.ai:-1/api/v1",
    "https://api.musicapi.ai:+443/api/v1",
    "https://api.musicapi.ai:443x/api/v1",
    "https://api.musicapi.ai:/api/v1",
    "https://api..musicapi.ai/api/v1",
    "https://.musicapi.ai/api/v1",
    "https://api musicapi.ai/api/v1",
    "https://api.musicapi.ai/api v1",
    "https://api.musicapi.ai\n/api/v1",
    "https://api.musicapi.ai/api/v1\t/x",
    "https://api.musicapi.ai\\evil.com/",
    "https://api.musicapi.ai;evil/",
    "https://api.musicapi.ai%2fevil/",
    "https://" + "a" * 64 + ".com/",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_malformed_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="malformed base URL") as info:
        check_base_url(url)
    _assert_clean(info.value)
    with pytest.raises(ConfigurationError, match=r"base_url"):
        _resolve(base_url=url)
    with pytest.raises(ConfigurationError, match=BASE_URL_ENV) as info:
        _resolve(base_url=None, environ={BASE_URL_ENV: url})
    assert "environment variable" in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        f"https://user:{KEY}@api.musicapi.ai/api/v1",
        f"https://{KEY}@api.musicapi.ai/api/v1",
        f"https://api.musicapi.ai/api/v1?key={KEY}",
        f"https://api.musicapi.ai/{KEY}\n/v1",
        f"{KEY}://api.musicapi.ai/",
        KEY,
    ],
)
@pytest.mark.parametrize("cls", CONSTRUCTORS)
def test_a_key_in_a_bad_base_url_is_never_shown(cls: Any, url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        cls(api_key=KEY, base_url=url)
    _assert_clean(info.value, KEY)


@pytest.mark.parametrize(
    "url",
    [
        "https://api.musicapi.ai/api/v1",
        "https://api.musicapi.ai:443/api/v1",
        "https://API.MusicAPI.ai/api/v1",
        "https://example.com./api",
        "https://host_1.internal/x",
        "https://b\u00fccher.example/api",
        "https://10.0.0.1:8443/x",
        "https://[2001:db8::1]:8443/x",
        "http://[::1]:8000/api/v1",
        "http://127.0.0.1:65535/api/v1",
        "http://localhost:1/api/v1/",
        "https://api.musicapi.ai/api%20v1",
    ],
)
def test_every_accepted_base_url_is_one_httpx_sends_to_the_same_host(url: str) -> None:
    from urllib.parse import urlsplit

    checked = check_base_url(url)
    assert checked == url.rstrip("/")
    request_url = httpx.URL(checked + "/sonic/task/abc")
    assert request_url.host == (urlsplit(checked).hostname or "").lower()
    assert request_url.path.endswith("/sonic/task/abc")


class TestHttpClientAndTransport:
    async def test_a_sync_httpx_client_is_refused_with_a_hint(self) -> None:
        with httpx.Client() as sync_client:
            with pytest.raises(ConfigurationError, match="http_client.*AsyncClient") as info:
                _resolve(http_client=sync_client)
        _assert_clean(info.value, KEY)

    async def test_a_closed_http_client_is_refused(self) -> None:
        client = httpx.AsyncClient()
        await client.aclose()
        with pytest.raises(ConfigurationError, match="http_client is closed"):
            _resolve(http_client=client)

    async def test_http_client_and_transport_together_are_refused(self) -> None:
        async with httpx.AsyncClient() as client:
            with pytest.raises(ConfigurationError, match="http_client or transport"):
                _resolve(http_client=client, transport=Sandbox().transport())

    async def test_an_open_async_client_is_kept(self) -> None:
        async with httpx.AsyncClient() as client:
            assert _resolve(http_client=client).http_client is client

    def test_a_sync_transport_is_refused_with_a_hint(self) -> None:
        with pytest.raises(ConfigurationError, match="transport.*synchronous"):
            _resolve(transport=httpx.HTTPTransport())

    async def test_a_client_passed_as_transport_is_refused_with_a_hint(self) -> None:
        async with httpx.AsyncClient() as client:
            with pytest.raises(ConfigurationError, match="use http_client="):
                _resolve(transport=client)

    def test_an_async_transport_is_kept(self) -> None:
        transport = Sandbox().transport()
        assert _resolve(transport=transport).transport is transport


class TestClockAndPolicy:
    def test_a_clock_without_sleep_is_refused(self) -> None:
        class HalfClock:
            def now(self) -> float:
                return 0.0

        with pytest.raises(ConfigurationError, match=r"clock.*no sleep\(\)"):
            _resolve(clock=HalfClock())

    def test_clock_and_policy_are_kept(self) -> None:
        clock, policy = FakeClock(), PollPolicy(min_interval=1.0)
        config = _resolve(clock=clock, poll_policy=policy)
        assert (config.clock, config.poll_policy) == (clock, policy)


class TestSyncOnlyArguments:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"backend": "curio"}, "backend must be one of"),
            ({"backend": None}, "backend must be a string"),
            ({"backend_options": "debug"}, "backend_options must be a dict"),
        ],
    )
    def test_bad_backend_is_refused_at_construction(
        self, kwargs: dict[str, Any], match: str
    ) -> None:
        with pytest.raises(ConfigurationError, match=match):
            musicapi.MusicAPI(api_key=KEY, base_url=BASE_URL, **kwargs)
