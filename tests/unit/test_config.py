from __future__ import annotations

import math
from typing import Any

import pytest

import musicapi
from musicapi._config import (
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    KEY_ENV,
    ClientConfig,
    check_base_url,
    is_loopback,
)
from musicapi._errors import ConfigurationError, MusicAPIError

KEY = "sk-secret-123"


def _resolve(**overrides: Any) -> ClientConfig:
    kwargs: dict[str, Any] = {
        "api_key": KEY,
        "base_url": None,
        "timeout": 30.0,
        "max_retries": 3,
        "max_in_flight": 64,
        "rate_limit": None,
        "environ": {},
    }
    kwargs.update(overrides)
    return ClientConfig.resolve(**kwargs)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(BASE_URL_ENV, raising=False)
    monkeypatch.delenv("MUSICAPI_LOG", raising=False)
    return monkeypatch


class TestFallbacks:
    def test_env_names(self) -> None:
        assert KEY_ENV == "MUSICAPI_KEY"
        assert BASE_URL_ENV == "MUSICAPI_BASE_URL"
        assert DEFAULT_BASE_URL == "https://api.musicapi.ai/api/v1"

    def test_defaults_without_env(self, clean_env: pytest.MonkeyPatch) -> None:
        config = _resolve(api_key=None, environ=None)
        assert config.api_key is None
        assert config.base_url == DEFAULT_BASE_URL

    def test_env_fallbacks(self, clean_env: pytest.MonkeyPatch) -> None:
        clean_env.setenv(KEY_ENV, "  env-key  ")
        clean_env.setenv(BASE_URL_ENV, "http://127.0.0.1:9999/api/v1/")
        config = _resolve(api_key=None, environ=None)
        assert config.api_key == "env-key"
        assert config.base_url == "http://127.0.0.1:9999/api/v1"

    def test_arguments_beat_env(self, clean_env: pytest.MonkeyPatch) -> None:
        clean_env.setenv(KEY_ENV, "env-key")
        clean_env.setenv(BASE_URL_ENV, "http://127.0.0.1:9999/api/v1")
        config = _resolve(api_key="arg-key", base_url="https://example.com/api/v1", environ=None)
        assert config.api_key == "arg-key"
        assert config.base_url == "https://example.com/api/v1"

    def test_client_uses_env(self, clean_env: pytest.MonkeyPatch) -> None:
        clean_env.setenv(KEY_ENV, "env-key")
        clean_env.setenv(BASE_URL_ENV, "http://localhost:1234/api/v1")
        client = musicapi.AsyncMusicAPI()
        assert client.base_url == "http://localhost:1234/api/v1"
        assert "api_key=<set>" in repr(client)

    def test_explicit_environ_mapping(self) -> None:
        config = _resolve(api_key=None, environ={KEY_ENV: "k", BASE_URL_ENV: "https://x.test"})
        assert (config.api_key, config.base_url) == ("k", "https://x.test")

    @pytest.mark.parametrize("blank", ["", "   "])
    def test_blank_key_is_no_key(self, blank: str) -> None:
        assert _resolve(api_key=blank).api_key is None


class TestMissingKey:
    def test_construction_does_not_fail(self, clean_env: pytest.MonkeyPatch) -> None:
        client = musicapi.AsyncMusicAPI(base_url="http://localhost:1/api/v1")
        assert "api_key=<missing>" in repr(client)

    def test_require_key_names_env_var(self) -> None:
        config = _resolve(api_key=None)
        with pytest.raises(ConfigurationError, match="MUSICAPI_KEY") as info:
            config.require_key()
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, MusicAPIError)

    def test_require_key_returns_key(self) -> None:
        assert _resolve().require_key() == KEY


class TestBaseUrl:
    @pytest.mark.parametrize(
        "url",
        [
            "http://localhost/api/v1",
            "http://localhost:8000/api/v1",
            "http://LOCALHOST:8000/api/v1",
            "http://127.0.0.1:8000/api/v1",
            "http://127.1.2.3/api/v1",
            "http://127.255.255.254:1/api/v1",
            "http://[::1]:8000/api/v1",
            "http://[::1]/api/v1",
            "https://api.musicapi.ai/api/v1",
            "https://example.com",
            "https://10.0.0.1:8443/x",
        ],
    )
    def test_accepted(self, url: str) -> None:
        assert check_base_url(url) == url.rstrip("/")

    def test_trailing_slash_and_space_removed(self) -> None:
        assert check_base_url(" https://x.test/api/v1/ ") == "https://x.test/api/v1"

    @pytest.mark.parametrize(
        "url",
        [
            "http://api.musicapi.ai/api/v1",
            "http://example.com:8000",
            "http://10.0.0.1/api",
            "http://192.168.1.10:8000/api/v1",
            "http://0.0.0.0:8000/api/v1",
            "http://[::2]:8000/api/v1",
            "http://128.0.0.1/",
            "http://localhost.evil.com/",
            "http://127.0.0.1.nip.io/",
        ],
    )
    def test_plain_http_to_non_loopback_rejected(self, url: str) -> None:
        with pytest.raises(ConfigurationError, match="loopback") as info:
            check_base_url(url)
        assert isinstance(info.value, ValueError)

    @pytest.mark.parametrize(
        "url",
        [
            "",
            "not a url",
            "api.musicapi.ai/api/v1",
            "ftp://api.musicapi.ai/",
            "https://",
            "https:///api/v1",
            "https://host:99999/api",
            "https://host:port/api",
            "http://[::1/api",
            "//api.musicapi.ai/api/v1",
        ],
    )
    def test_malformed_rejected(self, url: str) -> None:
        with pytest.raises(ConfigurationError, match="(?i)malformed") as info:
            check_base_url(url)
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, MusicAPIError)

    @pytest.mark.parametrize(
        "url",
        [
            f"https://user:{KEY}@api.musicapi.ai/api/v1",
            f"https://{KEY}@api.musicapi.ai/api/v1",
            f"http://{KEY}:x@127.0.0.1:8000/api/v1",
        ],
    )
    def test_credentials_in_url_rejected_without_echoing_them(self, url: str) -> None:
        with pytest.raises(ConfigurationError, match="credentials") as info:
            check_base_url(url)
        assert KEY not in str(info.value)
        assert KEY not in repr(info.value)

    @pytest.mark.parametrize(
        "url", [f"htps://user:{KEY}@host/api", f"https://user:{KEY}@host:bad/api"]
    )
    def test_malformed_url_with_userinfo_does_not_echo_it(self, url: str) -> None:
        with pytest.raises(ConfigurationError) as info:
            check_base_url(url)
        assert KEY not in str(info.value)

    @pytest.mark.parametrize(
        ("host", "expected"),
        [
            ("localhost", True),
            ("LocalHost", True),
            ("127.0.0.1", True),
            ("127.9.9.9", True),
            ("::1", True),
            ("[::1]", True),
            ("example.com", False),
            ("10.0.0.1", False),
            ("::", False),
            ("", False),
        ],
    )
    def test_is_loopback(self, host: str, expected: bool) -> None:
        assert is_loopback(host) is expected


class TestNumbers:
    @pytest.mark.parametrize(
        ("overrides", "name"),
        [
            ({"timeout": 0}, "timeout"),
            ({"timeout": -1.0}, "timeout"),
            ({"max_retries": -1}, "max_retries"),
            ({"max_in_flight": 0}, "max_in_flight"),
            ({"rate_limit": 0}, "rate_limit"),
            ({"rate_limit": -5.0}, "rate_limit"),
        ],
    )
    def test_out_of_range(self, overrides: dict[str, Any], name: str) -> None:
        with pytest.raises(ConfigurationError, match=name) as info:
            _resolve(**overrides)
        assert isinstance(info.value, ValueError)
        assert KEY not in str(info.value)

    @pytest.mark.parametrize("overrides", [{"timeout": math.nan}, {"rate_limit": math.nan}])
    def test_nan_is_out_of_range(self, overrides: dict[str, Any]) -> None:
        with pytest.raises(ConfigurationError):
            _resolve(**overrides)

    def test_in_range(self) -> None:
        config = _resolve(timeout=5, max_retries=0, max_in_flight=1, rate_limit=0.5)
        assert config.timeout == 5.0
        assert isinstance(config.timeout, float)
        assert (config.max_retries, config.max_in_flight, config.rate_limit) == (0, 1, 0.5)

    def test_client_constructor_raises_at_construction(self) -> None:
        with pytest.raises(ConfigurationError):
            musicapi.AsyncMusicAPI(api_key=KEY, base_url="http://localhost:1", timeout=0)
        with pytest.raises(ConfigurationError):
            musicapi.MusicAPI(api_key=KEY, base_url="http://localhost:1", max_retries=-1)


class TestKeyNeverShown:
    def test_config_repr_hides_key(self) -> None:
        config = _resolve()
        assert KEY not in repr(config)
        assert config.api_key == KEY

    @pytest.mark.parametrize(
        "url",
        ["http://example.com/api/v1", "nonsense", "ftp://x", "https://host:99999"],
    )
    @pytest.mark.parametrize("cls", [musicapi.AsyncMusicAPI, musicapi.MusicAPI])
    def test_client_errors_never_contain_key(self, cls: Any, url: str) -> None:
        with pytest.raises(ConfigurationError) as info:
            cls(api_key=KEY, base_url=url)
        assert KEY not in str(info.value)
        assert KEY not in repr(info.value)
        assert KEY not in repr(info.value.args)
