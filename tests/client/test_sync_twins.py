"""Every sync twin looks synchronous at run time, not only to type checkers.

Regression tests: `help(musicapi.MusicAPI)` used to show `async get_credits(self)` and a
`generate_many` returning `AsyncBatchRun`, Jupyter's `?` showed the async signature,
`functools.wraps` left a `__wrapped__` pointing at the coroutine function, and
`MusicAPI.base_url` did not exist. Each twin must have its own signature (the async
parameters, the sync return type), name and module, on the class and on an instance,
properties included; and the hot path must stay one portal call per method call.
"""

from __future__ import annotations

import inspect
import pydoc
import re
import threading
from typing import TYPE_CHECKING, Any

import pytest
from anyio.from_thread import BlockingPortal

from musicapi import AsyncMusicAPI, MusicAPI, PacingSnapshot
from musicapi._resources.nuro import NuroResource
from musicapi._resources.producer import ProducerResource
from musicapi._resources.riffusion import RiffusionResource
from musicapi._resources.sonic import SonicResource
from musicapi._resources.studio import StudioResource
from musicapi._resources.suno import SunoResource
from musicapi._sync_families import (
    SyncNuro,
    SyncProducer,
    SyncRiffusion,
    SyncSonic,
    SyncStudio,
    SyncSuno,
)
from musicapi.sandbox import Sandbox

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

KEY = "sk-secret-123"
BASE_URL = "http://localhost:1/api/v1"

SIDES = [
    ("client", AsyncMusicAPI, MusicAPI),
    ("sonic", SonicResource, SyncSonic),
    ("suno", SunoResource, SyncSuno),
    ("producer", ProducerResource, SyncProducer),
    ("studio", StudioResource, SyncStudio),
    ("riffusion", RiffusionResource, SyncRiffusion),
    ("nuro", NuroResource, SyncNuro),
]
RENAMED = {"aclose"}
"""Async members whose twin has another name (`close`), written by hand: not forwarded."""


def _members(cls: type[Any]) -> Iterator[tuple[str, Any]]:
    for name in dir(cls):
        member = inspect.getattr_static(cls, name)
        if not name.startswith("_") and (
            isinstance(member, property) or inspect.isfunction(member)
        ):
            yield name, member


def _cases(kind: type[Any] | None = None) -> list[Any]:
    return [
        pytest.param(async_cls, sync_cls, name, id=f"{where}.{name}")
        for where, async_cls, sync_cls in SIDES
        for name, member in _members(async_cls)
        if name not in RENAMED and (kind is None or isinstance(member, kind))
    ]


def _method_cases() -> list[Any]:
    return [
        case
        for case in _cases()
        if inspect.isfunction(inspect.getattr_static(case.values[0], case.values[2]))
    ]


def _expected(signature: inspect.Signature, function: Any) -> inspect.Signature:
    """The sync twin's signature: the async one, with the sync return type."""
    if inspect.iscoroutinefunction(function):
        return signature
    annotation = str(signature.return_annotation)
    assert annotation.startswith("AsyncBatchRun")
    return signature.replace(return_annotation=annotation.replace("AsyncBatchRun", "BatchRun"))


@pytest.fixture(scope="module")
def instances() -> Iterator[dict[type[Any], Any]]:
    async_client = AsyncMusicAPI(api_key=KEY, base_url=BASE_URL)
    sync_client = MusicAPI(api_key=KEY, base_url=BASE_URL)
    found: dict[type[Any], Any] = {AsyncMusicAPI: async_client, MusicAPI: sync_client}
    for where, async_cls, sync_cls in SIDES[1:]:
        found[async_cls] = getattr(async_client, where)
        found[sync_cls] = getattr(sync_client, where)
    yield found
    sync_client.close()


@pytest.mark.parametrize(("async_cls", "sync_cls", "name"), _cases())
def test_every_public_async_member_has_a_twin(
    async_cls: type[Any], sync_cls: type[Any], name: str
) -> None:
    twin = inspect.getattr_static(sync_cls, name, None)
    assert twin is not None, f"{sync_cls.__name__} lacks {name}"
    if isinstance(inspect.getattr_static(async_cls, name), property):
        assert isinstance(twin, property)


@pytest.mark.parametrize(("async_cls", "sync_cls", "name"), _method_cases())
def test_method_twin_on_the_class_looks_synchronous(
    async_cls: type[Any], sync_cls: type[Any], name: str
) -> None:
    original = inspect.getattr_static(async_cls, name)
    twin = getattr(sync_cls, name)
    assert callable(twin)
    assert not inspect.iscoroutinefunction(twin)
    assert not hasattr(twin, "__wrapped__")
    assert inspect.unwrap(twin) is twin
    assert twin.__name__ == name
    assert twin.__qualname__ == f"{sync_cls.__qualname__}.{name}"
    assert twin.__module__ in ("musicapi._sync", "musicapi._sync_families")
    assert inspect.getdoc(twin) == inspect.getdoc(original)
    assert inspect.signature(twin) == _expected(inspect.signature(original), original)


@pytest.mark.parametrize(("async_cls", "sync_cls", "name"), _method_cases())
def test_method_twin_on_an_instance_looks_synchronous(
    instances: dict[type[Any], Any], async_cls: type[Any], sync_cls: type[Any], name: str
) -> None:
    original = inspect.getattr_static(async_cls, name)
    twin = getattr(instances[sync_cls], name)
    assert inspect.isfunction(twin)
    assert not inspect.iscoroutinefunction(twin)
    assert not hasattr(twin, "__wrapped__")
    assert twin.__name__ == name
    assert twin.__qualname__ == f"{sync_cls.__qualname__}.{name}"
    assert twin.__module__ in ("musicapi._sync", "musicapi._sync_families")
    assert inspect.getdoc(twin) == inspect.getdoc(original)
    bound = inspect.signature(getattr(instances[async_cls], name))
    assert inspect.signature(twin) == _expected(bound, original)


@pytest.mark.parametrize(("async_cls", "sync_cls", "name"), _cases(property))
def test_property_twin_looks_like_the_async_property(
    async_cls: type[Any], sync_cls: type[Any], name: str
) -> None:
    original: property = inspect.getattr_static(async_cls, name)
    twin = getattr(sync_cls, name)
    assert isinstance(twin, property)
    assert twin.fget is not None
    assert original.fget is not None
    assert twin.fset is None
    assert twin.__doc__ == original.__doc__
    assert inspect.signature(twin.fget) == inspect.signature(original.fget)
    assert twin.fget.__qualname__ == f"{sync_cls.__qualname__}.{name}"
    assert not hasattr(twin.fget, "__wrapped__")


def test_help_shows_a_synchronous_client() -> None:
    for cls in (MusicAPI, SyncSonic):
        text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
        assert not re.search(r"^\W*async \w+\(", text, flags=re.MULTILINE), text
        assert "Awaitable" not in text
    client_help = pydoc.render_doc(MusicAPI, renderer=pydoc.plaintext)
    assert "get_credits(self) -> 'Credits'" in client_help
    assert "The API root this client talks to." in client_help
    sonic_help = pydoc.render_doc(SyncSonic, renderer=pydoc.plaintext)
    assert re.search(r"generate_many\(self, requests.*\) -> 'BatchRun\[", sonic_help)


def test_base_url_needs_no_loop() -> None:
    before = threading.active_count()
    client = MusicAPI(api_key=KEY, base_url=BASE_URL + "/")
    try:
        assert client.base_url == BASE_URL
        assert threading.active_count() == before
    finally:
        client.close()


def test_pacing_is_forwarded(sync_client_factory: Callable[..., MusicAPI]) -> None:
    sandbox = Sandbox()
    client = sync_client_factory(sandbox, max_in_flight=7, rate_limit=40.0)
    client.get_credits()
    pacing = client.pacing
    assert isinstance(pacing, PacingSnapshot)
    assert (pacing.max_in_flight, pacing.ceiling, pacing.in_flight) == (7, 40.0, 0)
    with pytest.raises(AttributeError):
        client.pacing = pacing  # type: ignore[assignment]


def test_a_twin_called_through_the_class_works(
    sync_client_factory: Callable[..., MusicAPI],
) -> None:
    sandbox = Sandbox()
    client = sync_client_factory(sandbox)
    assert MusicAPI.get_credits(client).credits == sandbox.credits
    assert SyncSonic.get(
        client.sonic, SyncSonic.create(client.sonic, gpt_description_prompt="x").task_id
    )


def test_one_portal_call_per_method_call(
    sync_client_factory: Callable[..., MusicAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = sync_client_factory(Sandbox())
    task_id = client.sonic.create(gpt_description_prompt="x").task_id
    assert client.get_credits is client.get_credits  # bound once per instance
    assert client.sonic.get is client.sonic.get
    calls: list[object] = []
    start_task_soon = BlockingPortal.start_task_soon

    def counting(self: BlockingPortal, *args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return start_task_soon(self, *args, **kwargs)

    monkeypatch.setattr(BlockingPortal, "start_task_soon", counting)
    client.get_credits()
    client.sonic.get(task_id)
    assert len(calls) == 2
