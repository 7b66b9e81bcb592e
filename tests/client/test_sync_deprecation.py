"""A deprecated family warns once per sync call, in the caller's thread, at the caller's line.

The async method warns too, but on the facade's loop thread its warning would point
inside the portal, where Python's default filters hide a `DeprecationWarning`: the sync
twin warns instead, and the async side stays quiet there.
"""

from __future__ import annotations

import warnings

import pytest

from musicapi import GoneError
from musicapi.sandbox import Sandbox
from musicapi.testing import sandbox_sync_client


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_sync_riffusion_call_warns_once_at_the_callers_line(backend: str) -> None:
    with sandbox_sync_client(Sandbox(), backend=backend) as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            upload = client.riffusion.upload("https://example.com/a.mp3")
        assert upload.clip_id
    deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert len(deprecations) == 1
    assert deprecations[0].filename == __file__
    assert "riffusion" in str(deprecations[0].message).lower()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_sync_nuro_call_warns_and_raises_gone(backend: str) -> None:
    with sandbox_sync_client(Sandbox(), backend=backend) as client:
        with (
            pytest.warns(DeprecationWarning, match="[Nn]uro") as caught,
            pytest.raises(GoneError, match="410"),
        ):
            client.nuro.get("any-task")
    assert [w.filename for w in caught] == [__file__]
