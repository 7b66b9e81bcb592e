from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import musicapi
from musicapi._resources.sonic import SonicResource

if TYPE_CHECKING:
    from collections.abc import Iterator

KEY = "sk-secret-123"
BASE_URL = "http://localhost:1/api/v1"

EXPECTED_ALL = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBatchRun",
    "AsyncMusicAPI",
    "AuthenticationError",
    "BadRequestError",
    "BatchRun",
    "ClientClosedError",
    "Clip",
    "ConfigurationError",
    "Credits",
    "FileForbiddenError",
    "FileGoneError",
    "FileNotFoundOnHostError",
    "FileTooLargeError",
    "FileURLMissingError",
    "FileUnavailableError",
    "GenerationResult",
    "GoneError",
    "InsufficientCreditsError",
    "JournalInUseError",
    "MalformedResponseError",
    "MusicAPI",
    "MusicAPIError",
    "NotFoundError",
    "Outcome",
    "PacingSnapshot",
    "PermissionDeniedError",
    "PollPolicy",
    "RateLimitError",
    "RequestValidationError",
    "ServerError",
    "SonicCreateRequest",
    "SubmissionUnknownError",
    "Task",
    "TaskFailedError",
    "TaskSubmission",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "__version__",
    "webhooks",
]

# Names design.md fixes; they must stay exported whatever else changes.
FIXED_NAMES = {
    "APIConnectionError",
    "APITimeoutError",
    "AsyncMusicAPI",
    "AuthenticationError",
    "BadRequestError",
    "InsufficientCreditsError",
    "MusicAPI",
    "MusicAPIError",
    "RateLimitError",
    "ServerError",
    "SubmissionUnknownError",
    "TaskFailedError",
    "WaitTimeoutError",
    "WebhookVerificationError",
}

# The async name and its sync twin where the names differ on purpose (httpx: aclose/close).
RENAMED = {"aclose": "close"}

# Public-looking coroutines of SonicResource that MusicAPI.sonic does not forward (bugs).


def test_all_is_sorted() -> None:
    assert musicapi.__all__ == sorted(musicapi.__all__)


def test_all_is_exact() -> None:
    assert musicapi.__all__ == EXPECTED_ALL


def test_all_has_no_duplicates() -> None:
    assert len(set(musicapi.__all__)) == len(musicapi.__all__)


def test_fixed_names_exported() -> None:
    assert set(musicapi.__all__) >= FIXED_NAMES


@pytest.mark.parametrize("name", musicapi.__all__)
def test_exported_name_resolves(name: str) -> None:
    assert getattr(musicapi, name) is not None


@pytest.mark.parametrize(
    "name", [n for n in musicapi.__all__ if isinstance(getattr(musicapi, n), type)]
)
def test_exported_class_module_is_musicapi(name: str) -> None:
    cls = getattr(musicapi, name)
    assert cls.__module__ == "musicapi"
    assert cls.__name__ == name


def test_version_is_a_string() -> None:
    assert isinstance(musicapi.__version__, str)
    assert musicapi.__version__


def _explicit_reexports() -> set[str]:
    """Names `__init__.py` re-exports in the `from x import Name as Name` form."""
    tree = ast.parse(Path(musicapi.__file__).read_text(encoding="utf-8"))
    return {
        alias.asname
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.module != "__future__"
        for alias in node.names
        if alias.asname is not None and alias.asname == alias.name
    }


def test_explicit_reexports_are_in_all() -> None:
    assert _explicit_reexports() <= set(musicapi.__all__)


def test_no_stray_public_names() -> None:
    # Only __all__, submodules and explicit re-exports: no loop variables from the
    # __module__ fix-up. `annotations` is the `from __future__ import annotations` binding.
    public = {n for n in vars(musicapi) if not n.startswith("_")}
    submodules = {n for n in public if inspect.ismodule(getattr(musicapi, n))}
    allowed = set(musicapi.__all__) | submodules | _explicit_reexports() | {"annotations"}
    assert public <= allowed


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[musicapi.AsyncMusicAPI, musicapi.MusicAPI]]:
    async_client = musicapi.AsyncMusicAPI(api_key=KEY, base_url=BASE_URL)
    sync_client = musicapi.MusicAPI(api_key=KEY, base_url=BASE_URL)
    yield async_client, sync_client
    sync_client.close()


def _public_coroutines(obj: object) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(type(obj))
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    )


def _params(fn: Any) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self"
    ]


def _twin_cases() -> list[Any]:
    probe = musicapi.AsyncMusicAPI(api_key=KEY, base_url=BASE_URL)
    return [
        pytest.param(where, name, id=f"{where}.{name}")
        for where, target in (("client", probe), ("sonic", probe.sonic))
        for name in _public_coroutines(target)
    ]


def test_sonic_resource_class() -> None:
    client = musicapi.AsyncMusicAPI(api_key=KEY, base_url=BASE_URL)
    assert isinstance(client.sonic, SonicResource)


@pytest.mark.parametrize(("where", "name"), _twin_cases())
def test_every_async_method_has_a_sync_twin(
    clients: tuple[musicapi.AsyncMusicAPI, musicapi.MusicAPI], where: str, name: str
) -> None:
    async_client, sync_client = clients
    async_obj: Any = async_client if where == "client" else async_client.sonic
    sync_obj: Any = sync_client if where == "client" else sync_client.sonic
    sync_name = RENAMED.get(name, name)
    assert hasattr(sync_obj, sync_name), (
        f"MusicAPI{'.sonic' if where == 'sonic' else ''} lacks {sync_name}"
    )
    async_method = getattr(async_obj, name)
    sync_method = getattr(sync_obj, sync_name)
    assert callable(sync_method)
    assert not inspect.iscoroutinefunction(sync_method)
    assert _params(sync_method) == _params(async_method)
    if name not in RENAMED:
        assert inspect.getdoc(sync_method) == inspect.getdoc(async_method)


def test_expected_methods_present(
    clients: tuple[musicapi.AsyncMusicAPI, musicapi.MusicAPI],
) -> None:
    async_client, sync_client = clients
    assert {"get_credits", "aclose"} <= set(_public_coroutines(async_client))
    assert {"create", "get", "wait", "generate"} <= set(_public_coroutines(async_client.sonic))
    for name in ("create", "get", "wait", "generate"):
        assert callable(getattr(sync_client.sonic, name))
    assert callable(sync_client.get_credits)
    assert callable(sync_client.close)


def test_generate_many_has_a_sync_twin(
    clients: tuple[musicapi.AsyncMusicAPI, musicapi.MusicAPI],
) -> None:
    async_client, sync_client = clients
    if not hasattr(async_client.sonic, "generate_many"):
        pytest.skip("generate_many is not implemented yet")
    # Not a coroutine function: it returns the (async) iterator itself, no await first.
    assert not inspect.iscoroutinefunction(async_client.sonic.generate_many)
    assert _params(sync_client.sonic.generate_many) == _params(async_client.sonic.generate_many)
    assert inspect.getdoc(sync_client.sonic.generate_many)


def test_constructors_share_every_async_parameter() -> None:
    async_params = inspect.signature(musicapi.AsyncMusicAPI).parameters
    sync_params = inspect.signature(musicapi.MusicAPI).parameters
    for name, param in async_params.items():
        assert name in sync_params, name
        twin = sync_params[name]
        assert (twin.kind, twin.default) == (param.kind, param.default), name
    extra = set(sync_params) - set(async_params)
    assert all(sync_params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in extra)
    assert all(sync_params[n].default is not inspect.Parameter.empty for n in extra)


def test_constructor_fixed_parameters() -> None:
    params = inspect.signature(musicapi.AsyncMusicAPI).parameters
    assert next(iter(params)) == "api_key"
    assert params["api_key"].default is None
    for name in ("base_url", "timeout", "max_retries", "http_client"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["base_url"].default is None
    assert params["max_retries"].default == 3
    assert params["http_client"].default is None


@pytest.mark.parametrize("cls", [musicapi.AsyncMusicAPI, musicapi.MusicAPI])
def test_repr_never_shows_key(cls: Any) -> None:
    client = cls(api_key=KEY, base_url=BASE_URL)
    try:
        text = repr(client)
        assert KEY not in text
        assert BASE_URL in text
        assert KEY not in str(client)
        assert KEY not in repr(vars(client)) if hasattr(client, "__dict__") else True
    finally:
        if isinstance(client, musicapi.MusicAPI):
            client.close()


def test_context_manager_protocols() -> None:
    assert hasattr(musicapi.AsyncMusicAPI, "__aenter__")
    assert hasattr(musicapi.AsyncMusicAPI, "__aexit__")
    assert hasattr(musicapi.MusicAPI, "__enter__")
    assert hasattr(musicapi.MusicAPI, "__exit__")
