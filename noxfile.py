"""Every check of the project, runnable with `nox` (the default sessions) or one by one.

Sessions install from `pyproject.toml`'s dependency groups through
`nox.project.dependency_groups`, because `pip install --group` needs pip 25.1 and the
machines here may have an older pip.
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.10.9"
nox.options.default_venv_backend = "venv"
nox.options.error_on_external_run = True
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "typing", "lint", "examples"]

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHON_PATHS = ["musicapi", "tests", "examples", "benchmarks", "noxfile.py"]
TYPED_PATHS = ["musicapi", "tests/typing", "examples", "noxfile.py"]


def _install(session: nox.Session, *groups: str) -> None:
    session.install("-e", ".")
    for group in groups:
        session.install(*nox.project.dependency_groups(PYPROJECT, group))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite, every async test on asyncio and on trio."""
    _install(session, "test", "examples")
    session.run("pytest", *session.posargs)


@nox.session
def typing(session: nox.Session) -> None:
    """Type-check the package, the typing tests, the examples and this file, strictly."""
    _install(session, "typing", "examples")
    session.run("mypy", "--strict", *TYPED_PATHS)
    python = f"{session.bin}/python"  # pyright must look in the session's environment
    session.run("pyright", "--pythonpath", python, *TYPED_PATHS)


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check the formatting with ruff."""
    _install(session, "lint")
    session.run("ruff", "check", *PYTHON_PATHS)
    session.run("ruff", "format", "--check", *PYTHON_PATHS)


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example against the sandbox (no API key)."""
    _install(session, "test", "examples")
    session.run("pytest", "tests/test_examples.py", env={"MUSICAPI_KEY": ""})


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Run the benchmarks (they compare ratios in one run; they never assert times)."""
    _install(session, "bench")
    for script in ("bench_get.py", "bench_batch.py", "bench_memory.py", "bench_webhooks.py"):
        session.run("python", f"benchmarks/{script}", *session.posargs)
