"""The layering rules of design.md, checked on the source with `ast`.

Every import counts, wherever it sits (module level, inside a function, under
`if TYPE_CHECKING:`), except where a rule says "at runtime": the httpx rule ignores
imports under `TYPE_CHECKING`, because `_client.py` and `_sync.py` need `httpx.AsyncClient`
in their public signatures without importing httpx.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest

import musicapi

if TYPE_CHECKING:
    from collections.abc import Iterator

PACKAGE = Path(musicapi.__file__).resolve().parent
ROOT = PACKAGE.parent


@attrs.frozen
class Import:
    module: str
    """The imported module, absolute (`from a import b` gives `a` and `a.b`)."""
    type_only: bool
    line: int


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _package_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1])
    return ".".join(parts[:-1])


def _imports(path: Path, source: str | None = None) -> list[Import]:
    if source is None:
        source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, type_only)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, type_only, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(path).split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module != "__future__":
                found.append(Import(module, type_only, node.lineno))
                found.extend(
                    Import(f"{module}.{alias.name}", type_only, node.lineno)
                    for alias in node.names
                    if alias.name != "*"
                )
        for child in ast.iter_child_nodes(node):
            visit(child, type_only)

    visit(tree, False)
    return found


def _files() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _violations(paths: list[Path], banned: list[str], *, runtime_only: bool = False) -> list[str]:
    return [
        f"{_rel(path)}:{imp.line} imports {imp.module}"
        for path in paths
        for imp in _imports(path)
        if not (runtime_only and imp.type_only)
        and any(_matches(imp.module, prefix) for prefix in banned)
    ]


def test_the_checker_sees_imports() -> None:
    # Guard against a vacuous pass: the walker must find known imports.
    transport = {imp.module for imp in _imports(PACKAGE / "_transport.py")}
    assert "httpx" in transport
    assert "musicapi._retry" in transport
    sync = _imports(PACKAGE / "_sync.py")
    assert any(_matches(imp.module, "anyio.from_thread") for imp in sync)
    assert any(imp.type_only for imp in sync)
    assert len(list(_files())) > 15


def test_models_import_nothing_from_the_package_but_models() -> None:
    models = sorted((PACKAGE / "_models").rglob("*.py"))
    assert models
    bad = [
        f"{_rel(path)}:{imp.line} imports {imp.module}"
        for path in models
        for imp in _imports(path)
        if _matches(imp.module, "musicapi") and not _matches(imp.module, "musicapi._models")
    ]
    assert bad == []


@pytest.mark.parametrize("name", ["_retry.py", "_wait.py", "_clock.py"])
def test_pure_modules_import_neither_httpx_nor_transport(name: str) -> None:
    assert _violations([PACKAGE / name], ["httpx", "musicapi._transport"]) == []


@pytest.mark.parametrize("name", ["_engine.py", "_batch.py", "_estimate.py", "_wakeups.py"])
def test_the_engine_is_handed_its_operations(name: str) -> None:
    # design.md, one task engine: the scheduler and the batch get submit, poll, clock,
    # policy and budget; they never reach into a resource or the transport.
    banned = ["httpx", "musicapi._transport", "musicapi._resources", "musicapi._tasks"]
    assert _violations([PACKAGE / name], banned, runtime_only=True) == []


def _allowed_httpx(path: Path) -> bool:
    rel = _rel(path)
    return rel in ("musicapi/_transport.py", "musicapi/_download.py") or rel.startswith(
        "musicapi/sandbox/"
    )


def test_only_transport_download_and_sandbox_import_httpx_at_runtime() -> None:
    others = [path for path in _files() if not _allowed_httpx(path)]
    assert _violations(others, ["httpx"], runtime_only=True) == []


def test_testing_module_imports_httpx_only_for_types() -> None:
    assert _violations([PACKAGE / "testing.py"], ["httpx"], runtime_only=True) == []


def test_only_sync_and_sandbox_import_from_thread() -> None:
    others = [
        path
        for path in _files()
        if _rel(path) != "musicapi/_sync.py" and not _rel(path).startswith("musicapi/sandbox/")
    ]
    assert _violations(others, ["anyio.from_thread"]) == []


SANDBOX_BANNED = [
    "musicapi._models",
    "musicapi._converter",
    "musicapi._client",
    "musicapi.models",  # the public re-export of the same models
]
# `from musicapi import X` for any name that is (or re-exports) the SDK's models or client.
SANDBOX_BANNED_FROM_ROOT = {
    "musicapi._models",
    "musicapi._converter",
    "musicapi._client",
    "musicapi.models",
    "musicapi.AsyncMusicAPI",
    "musicapi.MusicAPI",
    "musicapi.Clip",
    "musicapi.Credits",
    "musicapi.GenerationResult",
    "musicapi.SonicCreateRequest",
    "musicapi.Task",
    "musicapi.TaskSubmission",
    "musicapi.Outcome",
}


def test_sandbox_does_not_build_on_sdk_models_converter_or_client() -> None:
    sandbox = sorted((PACKAGE / "sandbox").rglob("*.py"))
    assert sandbox
    bad = _violations(sandbox, SANDBOX_BANNED)
    bad += [
        f"{_rel(path)}:{imp.line} imports {imp.module}"
        for path in sandbox
        for imp in _imports(path)
        if imp.module in SANDBOX_BANNED_FROM_ROOT
    ]
    assert bad == []


def test_relative_and_nested_imports_are_seen() -> None:
    # The walker must not be fooled by relative, nested or TYPE_CHECKING imports.
    source = (
        "from .._models import Clip\n"
        "from . import _app\n"
        "from musicapi import _converter\n"
        "import typing\n"
        "if typing.TYPE_CHECKING:\n"
        "    import httpx\n"
        "def f():\n"
        "    from anyio import from_thread\n"
    )
    found = _imports(PACKAGE / "sandbox" / "_probe.py", source)
    modules = {imp.module for imp in found}
    assert {
        "musicapi._models",
        "musicapi._models.Clip",
        "musicapi.sandbox._app",
        "musicapi._converter",
        "anyio.from_thread",
    } <= modules
    assert [imp.type_only for imp in found if imp.module == "httpx"] == [True]
