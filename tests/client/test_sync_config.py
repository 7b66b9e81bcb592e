"""The sync facade resolves its configuration once, on the caller's thread.

Regression tests: `MusicAPI` used to resolve a `ClientConfig` only to check it, then
build its `AsyncMusicAPI` on the loop thread from the raw arguments (a ten-argument
partial), which resolved them again and read the environment a second time, later,
on another thread; arguments only the async client looked at (a bad `clock`, say)
failed there, at the first call, instead of at construction.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from musicapi import AsyncMusicAPI, ConfigurationError
from musicapi._config import BASE_URL_ENV, KEY_ENV, ClientConfig
from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable

    from musicapi import MusicAPI


def test_config_is_resolved_once_and_the_client_is_built_from_it_on_the_loop(
    sync_client_factory: Callable[..., MusicAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    resolved: list[ClientConfig] = []
    built: list[tuple[ClientConfig, threading.Thread]] = []
    resolve: Any = vars(ClientConfig)["resolve"].__func__
    from_config: Any = vars(AsyncMusicAPI)["_from_config"].__func__

    def counting_resolve(cls: type[ClientConfig], **kwargs: Any) -> ClientConfig:
        config = resolve(cls, **kwargs)
        resolved.append(config)
        return config

    def recording_from_config(cls: type[AsyncMusicAPI], config: ClientConfig) -> AsyncMusicAPI:
        built.append((config, threading.current_thread()))
        return from_config(cls, config)

    monkeypatch.setattr(ClientConfig, "resolve", classmethod(counting_resolve))
    monkeypatch.setattr(AsyncMusicAPI, "_from_config", classmethod(recording_from_config))
    api = sync_client_factory(Sandbox())
    assert len(resolved) == 1
    assert built == []  # nothing starts before the first call
    api.get_credits()
    api.sonic.create(gpt_description_prompt="x")
    assert len(resolved) == 1
    assert len(built) == 1
    config, thread = built[0]
    assert config is resolved[0]
    assert thread is not threading.current_thread()


def test_the_environment_is_read_once_at_construction(
    sync_client_factory: Callable[..., MusicAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = Sandbox()
    monkeypatch.setenv(KEY_ENV, "env-key")
    monkeypatch.setenv(BASE_URL_ENV, sandbox.base_url)
    api = sync_client_factory(sandbox, api_key=None)
    # Values that would fail (or point elsewhere) if the loop thread read them again.
    monkeypatch.setenv(BASE_URL_ENV, "http://example.com/api/v1")
    monkeypatch.setenv(KEY_ENV, "bad\nkey")
    assert api.get_credits().credits == sandbox.credits
    assert api.base_url == sandbox.base_url
    assert "api_key=<set>" in repr(api)


def test_arguments_only_the_async_client_uses_fail_at_construction(
    sync_client_factory: Callable[..., MusicAPI],
) -> None:
    with pytest.raises(ConfigurationError, match="clock"):
        sync_client_factory(Sandbox(), clock=object())
    with pytest.raises(ConfigurationError, match="poll_policy"):
        sync_client_factory(Sandbox(), poll_policy="fast")
