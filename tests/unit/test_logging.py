from __future__ import annotations

import gc
import logging

import pytest

from musicapi._logging import REDACTED, configure_from_env, logger, protect

KEY = "sk-unit-test-key-0123456789"


@pytest.fixture
def capture(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="musicapi")
    return caplog


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "musicapi"]


def test_logger_name_and_silence_by_default() -> None:
    assert logger.name == "musicapi"
    assert logging.getLogger("musicapi") is logger
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def test_key_in_message_is_redacted(capture: pytest.LogCaptureFixture) -> None:
    secret = protect(KEY)
    logging.getLogger("musicapi").warning("sending Authorization: Bearer %s", KEY)
    logger.info(f"literal key {KEY} in the message")
    messages = _messages(capture)
    assert len(messages) == 2
    assert all(KEY not in m for m in messages)
    assert messages[0] == f"sending Authorization: Bearer {REDACTED}"
    assert REDACTED in messages[1]
    assert KEY not in capture.text
    del secret


def test_key_in_structured_args_is_redacted(capture: pytest.LogCaptureFixture) -> None:
    secret = protect(KEY)
    logger.debug("headers=%r", {"authorization": f"Bearer {KEY}"})
    assert KEY not in capture.text
    assert REDACTED in _messages(capture)[0]
    del secret


def test_several_keys(capture: pytest.LogCaptureFixture) -> None:
    first, second = protect(KEY), protect("other-key-abcdef")
    logger.warning("%s and %s", KEY, "other-key-abcdef")
    assert _messages(capture) == [f"{REDACTED} and {REDACTED}"]
    del first, second


def test_other_text_untouched(capture: pytest.LogCaptureFixture) -> None:
    secret = protect(KEY)
    logger.info("GET %s -> %d", "/sonic/task/abc", 202)
    assert _messages(capture) == ["GET /sonic/task/abc -> 202"]
    del secret


@pytest.mark.parametrize("key", [None, ""])
def test_protect_nothing(key: str | None) -> None:
    assert protect(key) is None


def test_secret_repr_hides_key() -> None:
    secret = protect(KEY)
    assert KEY not in repr(secret)


def test_forgotten_key_is_no_longer_tracked(capture: pytest.LogCaptureFixture) -> None:
    # The registry holds keys weakly: a closed client does not keep its key alive.
    secret = protect("short-lived-key-42")
    del secret
    gc.collect()
    logger.info("short-lived-key-42")
    assert _messages(capture) == ["short-lived-key-42"]


def test_configure_from_env_is_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICAPI_LOG", "debug")
    before = list(logger.handlers)
    level = logger.level
    try:
        configure_from_env()
        configure_from_env()
        added = [h for h in logger.handlers if h not in before]
        assert len(added) == 1
        assert logger.level == logging.DEBUG
    finally:
        for handler in logger.handlers:
            if handler not in before:
                logger.removeHandler(handler)
        logger.setLevel(level)


def test_configure_from_env_ignores_unknown_level(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICAPI_LOG", "verbose")
    before = list(logger.handlers)
    configure_from_env()
    assert logger.handlers == before
