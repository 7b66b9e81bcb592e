"""Client CPU per `sonic.get` against a minimal fixed-body server, as ratios against raw httpx.

The server is `_fixed_server.py` in a child process (so its CPU is not counted): it
answers `GET /api/v1/sonic/task/<id>` with a fixed 202 `{"type":"not_ready"}`, or a
fixed 200 with two clips, and does nothing else, so that its own cost does not blur
the ratios (the sandbox's request handling is much heavier). Five ways of fetching a
task are timed, interleaved in rounds (each round runs every variant once, in a
rotating order) after a warm-up, so that drift in the machine's speed hits all of them
alike:

  a  raw httpx.AsyncClient GET + json.loads                      (asyncio, main thread)
  b  AsyncMusicAPI.sonic.get(task_id)                            (asyncio, main thread)
  c  raw httpx.AsyncClient GET + json.loads via portal.call      (bare blocking portal)
  d  MusicAPI.sonic.get(task_id)                                 (the sync facade)
  e  raw httpx.Client GET + json.loads                           (sync)
  b0, d0  with --explicit-rate: b and d with `rate_limit=1e9`, the path of a client
          with an explicit ceiling, which paces every request (information)

The raw variants send the SDK's own headers (Authorization, Accept, User-Agent).
CPU is `time.process_time()` of this process (every thread, so the portal thread
counts), per call. Each ratio is the median over rounds of the round's ratio (both
variants ran in the same round), with its spread (min-max) over the rounds:
b/a (target <= 1.0), d/c (target <= 1.0), d/e and c/e (information). Both bodies are
measured: a running task (202) and a finished one (200, two clips).

    python benchmarks/bench_get.py [--rounds 30] [--batch 100] [--quick] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import sys
import time
from typing import Any

import _common
import httpx
from anyio.from_thread import start_blocking_portal

from musicapi import AsyncMusicAPI, MusicAPI

TARGET_ASYNC = 1.0
TARGET_SYNC = 1.0
BASE_VARIANTS = ("a", "b", "c", "d", "e")
EXPLICIT_RATE_VARIANTS = ("b0", "d0")
LABELS = {
    "a": "raw httpx.AsyncClient + json.loads",
    "b": "AsyncMusicAPI.sonic.get",
    "c": "raw AsyncClient via bare portal.call",
    "d": "MusicAPI.sonic.get (sync facade)",
    "e": "raw httpx.Client + json.loads",
    "b0": "b with rate_limit=1e9 (explicit ceiling: paced)",
    "d0": "d with rate_limit=1e9 (explicit ceiling: paced)",
}


def _user_agent() -> str:
    try:  # the SDK's own value, if it is still where it was
        from musicapi._transport import USER_AGENT
    except ImportError:
        import musicapi

        return f"musicapi-python/{musicapi.__version__}"
    return USER_AGENT


USER_AGENT = _user_agent()


def _headers() -> dict[str, str]:
    return {
        "Authorization": f"Bearer {_common.API_KEY}",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
    }


class Runner:
    """Holds one client per variant, each kept alive over every round."""

    def __init__(self, base_url: str, task_id: str, variants: tuple[str, ...]) -> None:
        self.base_url = base_url
        self.task_id = task_id
        self.variants = variants
        self.url = f"{base_url}/sonic/task/{task_id}"
        self.headers = _headers()
        self.loop = asyncio.Runner()
        self.raw_async: httpx.AsyncClient = self.loop.run(self._make_async_client())
        self.sdk_async: AsyncMusicAPI = self.loop.run(self._make_sdk())
        self.portal_cm = start_blocking_portal("asyncio")
        self.portal = self.portal_cm.__enter__()
        self.portal_client: httpx.AsyncClient = self.portal.call(self._make_async_client)
        self.sdk_sync = MusicAPI(api_key=_common.API_KEY, base_url=base_url)
        self.raw_sync = httpx.Client(timeout=60.0)
        self.sdk_async_paced: AsyncMusicAPI | None = None
        self.sdk_sync_paced: MusicAPI | None = None
        if "b0" in variants:
            self.sdk_async_paced = self.loop.run(self._make_sdk(rate_limit=1e9))
        if "d0" in variants:
            self.sdk_sync_paced = MusicAPI(
                api_key=_common.API_KEY, base_url=base_url, rate_limit=1e9
            )

    async def _make_async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=60.0)

    async def _make_sdk(self, **kwargs: Any) -> AsyncMusicAPI:
        return AsyncMusicAPI(api_key=_common.API_KEY, base_url=self.base_url, **kwargs)

    async def _raw_get(self, client: httpx.AsyncClient) -> Any:
        response = await client.get(self.url, headers=self.headers)
        return response.status_code, json.loads(response.content)

    # Each batch function returns (cpu seconds, wall seconds) for n calls.

    def batch(self, variant: str, n: int) -> tuple[float, float]:
        return getattr(self, f"_batch_{variant}")(n)

    def _batch_a(self, n: int) -> tuple[float, float]:
        async def run() -> tuple[float, float]:
            client, get = self.raw_async, self._raw_get
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                await get(client)
            return time.process_time() - c0, time.perf_counter() - w0

        return self.loop.run(run())

    def _batch_b(self, n: int, client: AsyncMusicAPI | None = None) -> tuple[float, float]:
        sdk = client or self.sdk_async

        async def run() -> tuple[float, float]:
            get, task_id = sdk.sonic.get, self.task_id
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n):
                await get(task_id)
            return time.process_time() - c0, time.perf_counter() - w0

        return self.loop.run(run())

    def _batch_c(self, n: int) -> tuple[float, float]:
        call, get, client = self.portal.call, self._raw_get, self.portal_client
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            call(get, client)
        return time.process_time() - c0, time.perf_counter() - w0

    def _batch_d(self, n: int, client: MusicAPI | None = None) -> tuple[float, float]:
        sdk = client or self.sdk_sync
        get, task_id = sdk.sonic.get, self.task_id
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            get(task_id)
        return time.process_time() - c0, time.perf_counter() - w0

    def _batch_e(self, n: int) -> tuple[float, float]:
        client, url, headers, loads = self.raw_sync, self.url, self.headers, json.loads
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            response = client.get(url, headers=headers)
            loads(response.content)
        return time.process_time() - c0, time.perf_counter() - w0

    def _batch_b0(self, n: int) -> tuple[float, float]:
        return self._batch_b(n, self.sdk_async_paced)

    def _batch_d0(self, n: int) -> tuple[float, float]:
        return self._batch_d(n, self.sdk_sync_paced)

    def check(self) -> dict[str, Any]:
        """One call of each variant, to show they all see the same answer."""
        seen: dict[str, Any] = {}
        seen["a"] = self.loop.run(self._raw_get(self.raw_async))[0]
        seen["b"] = self.loop.run(self.sdk_async.sonic.get(self.task_id)).state
        seen["c"] = self.portal.call(self._raw_get, self.portal_client)[0]
        seen["d"] = self.sdk_sync.sonic.get(self.task_id).state
        seen["e"] = self.raw_sync.get(self.url, headers=self.headers).status_code
        if self.sdk_async_paced is not None:
            seen["b0"] = self.loop.run(self.sdk_async_paced.sonic.get(self.task_id)).state
        if self.sdk_sync_paced is not None:
            seen["d0"] = self.sdk_sync_paced.sonic.get(self.task_id).state
        return {k: str(v) for k, v in seen.items()}

    def profile_b(self, n: int, top: int) -> dict[str, Any]:
        """cProfile n calls of (b) and of (a); report where (b) spends what (a) does not."""

        async def run_sdk() -> None:
            get, task_id = self.sdk_async.sonic.get, self.task_id
            for _ in range(n):
                await get(task_id)

        async def run_raw() -> None:
            for _ in range(n):
                await self._raw_get(self.raw_async)

        out: dict[str, Any] = {"calls": n}
        raw_stats: dict[str, Any] = {}
        for name, fn in (("b", run_sdk), ("a", run_raw)):
            prof = cProfile.Profile(time.process_time)  # CPU, not wall: waiting is free
            prof.enable()
            self.loop.run(fn())
            prof.disable()
            stats = pstats.Stats(prof)
            raw_stats[name] = stats.stats  # type: ignore[attr-defined]
            out[f"{name}_function_calls_per_get"] = stats.total_calls / n  # type: ignore[attr-defined]
            out[f"{name}_profiled_us_per_get"] = stats.total_tt / n * 1e6  # type: ignore[attr-defined]
            if name == "b":
                stream = io.StringIO()
                pstats.Stats(prof, stream=stream).sort_stats("cumulative").print_stats(top)
                out["b_cumulative"] = stream.getvalue()
        out["by_package"] = _by_package(raw_stats["a"], raw_stats["b"], n)
        out["added_functions"] = _diff_functions(raw_stats["a"], raw_stats["b"], n, top)
        return out

    def close(self) -> None:
        self.sdk_sync.close()
        if self.sdk_sync_paced is not None:
            self.sdk_sync_paced.close()
        if self.sdk_async_paced is not None:
            self.loop.run(self.sdk_async_paced.aclose())
        self.raw_sync.close()
        self.portal.call(self.portal_client.aclose)
        self.portal_cm.__exit__(None, None, None)
        self.loop.run(self.sdk_async.aclose())
        self.loop.run(self.raw_async.aclose())
        self.loop.close()


def _package_of(filename: str) -> str:
    if "/musicapi/" in filename:
        return "musicapi"
    for pkg in ("httpx", "httpcore", "h11", "anyio", "sniffio", "cattrs", "attr", "idna"):
        if f"/site-packages/{pkg}/" in filename:
            return pkg
    if "asyncio" in filename:
        return "asyncio (stdlib)"
    if filename.startswith("~") or filename == "":
        return "builtins (C)"
    if "bench_get.py" in filename:
        return "benchmark loop"
    return "other stdlib"


def _by_package(a: dict[Any, Any], b: dict[Any, Any], n: int) -> list[dict[str, Any]]:
    """Own time (us per get) and calls per get, by package, for (a) and (b)."""
    totals: dict[str, list[float]] = {}
    for col, stats in ((0, a), (1, b)):
        for (filename, _, _), (_, nc, tt, _, _) in stats.items():
            row = totals.setdefault(_package_of(filename), [0.0, 0.0, 0.0, 0.0])
            row[col] += tt / n * 1e6
            row[2 + col] += nc / n
    rows = [
        {
            "package": k,
            "a_us": v[0],
            "b_us": v[1],
            "added_us": v[1] - v[0],
            "a_calls": v[2],
            "b_calls": v[3],
            "added_calls": v[3] - v[2],
        }
        for k, v in totals.items()
    ]
    return sorted(rows, key=lambda r: -r["added_us"])


def _diff_functions(a: dict[Any, Any], b: dict[Any, Any], n: int, top: int) -> list[dict[str, Any]]:
    """The functions whose own time per get grew most from (a) to (b)."""
    rows = []
    for key in set(a) | set(b):
        _, nca, tta, _, _ = a.get(key, (0, 0, 0.0, 0.0, {}))
        _, ncb, ttb, ctb, _ = b.get(key, (0, 0, 0.0, 0.0, {}))
        filename, line, func = key
        short = filename.split("site-packages/")[-1].split("/work/main/")[-1]
        rows.append(
            {
                "function": f"{short}:{line}({func})",
                "added_us": (ttb - tta) / n * 1e6,
                "added_calls": (ncb - nca) / n,
                "b_cum_us": ctb / n * 1e6,
            }
        )
    return sorted(rows, key=lambda r: -r["added_us"])[:top]


def print_profile(prof: dict[str, Any], top: int) -> None:
    print(
        f"\n-- cProfile of (b) vs (a), {prof['calls']} gets each: "
        f"{prof['b_function_calls_per_get']:.0f} vs {prof['a_function_calls_per_get']:.0f} "
        f"Python function calls per get, profiled {prof['b_profiled_us_per_get']:.0f} vs "
        f"{prof['a_profiled_us_per_get']:.0f} us CPU per get (profiler overhead included)"
    )
    rows = [
        [
            r["package"],
            r["a_us"],
            r["b_us"],
            r["added_us"],
            r["a_calls"],
            r["b_calls"],
            r["added_calls"],
        ]
        for r in prof["by_package"]
    ]
    print(
        _common.table(
            [
                "own time by package",
                "a us/get",
                "b us/get",
                "added us",
                "a calls/get",
                "b calls/get",
                "added calls",
            ],
            rows,
        )
    )
    rows = [
        [r["function"], r["added_us"], r["added_calls"], r["b_cum_us"]]
        for r in prof["added_functions"]
    ]
    print()
    print(
        _common.table(
            [
                f"top {top} functions by own time added in (b)",
                "added us/get",
                "added calls/get",
                "b cumulative us/get",
            ],
            rows,
        )
    )
    print(f"\n-- (b) top {top} by cumulative time:")
    print(prof["b_cumulative"])


RATIOS = (("b", "a"), ("d", "c"), ("d", "e"), ("c", "e"), ("b0", "a"), ("d0", "c"))
TARGETS = {"b/a": TARGET_ASYNC, "d/c": TARGET_SYNC}


def measure(runner: Runner, rounds: int, batch: int, warmup: int) -> dict[str, Any]:
    variants = runner.variants
    for v in variants:
        runner.batch(v, warmup)
    per_round: dict[str, list[float]] = {v: [] for v in variants}
    wall_round: dict[str, list[float]] = {v: [] for v in variants}
    cpu_total = dict.fromkeys(variants, 0.0)
    for r in range(rounds):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]
        for v in order:
            cpu, wall = runner.batch(v, batch)
            per_round[v].append(cpu / batch)
            wall_round[v].append(wall / batch)
            cpu_total[v] += cpu
    calls = rounds * batch
    cpu_us = {v: statistics.median(per_round[v]) * 1e6 for v in variants}
    mean_us = {v: cpu_total[v] / calls * 1e6 for v in variants}
    wall_us = {v: statistics.median(wall_round[v]) * 1e6 for v in variants}

    def paired(x: str, y: str) -> dict[str, float]:
        ratios = sorted(p / q for p, q in zip(per_round[x], per_round[y], strict=True))
        return {
            **_common.spread(ratios),
            "p10": ratios[len(ratios) // 10],
            "p90": ratios[min(len(ratios) - 1, (len(ratios) * 9) // 10)],
            "ratio_of_medians": cpu_us[x] / cpu_us[y],
        }

    ratios = {f"{x}/{y}": paired(x, y) for x, y in RATIOS if x in variants and y in variants}
    return {
        "rounds": rounds,
        "calls_per_variant": calls,
        "cpu_us_per_call_median": cpu_us,
        "cpu_us_per_call_mean": mean_us,
        "wall_us_per_call_median": wall_us,
        "ratios": ratios,
        "per_round_cpu_us": {v: [c * 1e6 for c in per_round[v]] for v in variants},
    }


def report(name: str, result: dict[str, Any], variants: tuple[str, ...]) -> None:
    cpu, mean, wall = (
        result["cpu_us_per_call_median"],
        result["cpu_us_per_call_mean"],
        result["wall_us_per_call_median"],
    )
    rows = [[f"{v}  {LABELS[v]}", cpu[v], mean[v], wall[v]] for v in variants]
    print(
        _common.table(
            ["variant", "CPU us/call (median)", "CPU us/call (mean)", "wall us/call"],
            rows,
            title=f"\n== {name}: {result['rounds']} rounds, {result['calls_per_variant']} calls "
            f"per variant, answers {result['check']}",
        )
    )
    rows = []
    for key, r in result["ratios"].items():
        target = TARGETS.get(key)
        rows.append(
            [
                key,
                f"{r['median']:.3f}",
                f"{r['min']:.3f}–{r['max']:.3f}",
                f"{r['p10']:.3f}–{r['p90']:.3f}",
                f"≤ {target:.2f}" if target else "info",
                _common.verdict(r["median"], target) if target else "",
            ]
        )
    print()
    print(
        _common.table(
            ["ratio", "median of rounds", "spread (min–max)", "p10–p90", "target", ""], rows
        )
    )


SCENARIOS = {
    "not_ready": ("running task (202 not_ready)", "running-0001"),
    "finished": ("finished task (200, two clips)", "done-0001"),
}


def scenario(key: str, args: argparse.Namespace, variants: tuple[str, ...]) -> dict[str, Any]:
    name, task_id = SCENARIOS[key]
    with _common.FixedServer() as server:
        runner = Runner(server.base_url, task_id, variants)
        try:
            check = runner.check()
            server_cpu0 = server.cpu_seconds()
            result = measure(runner, args.rounds, args.batch, args.warmup)
            server_cpu1 = server.cpu_seconds()
            result["check"] = check
            if server_cpu0 is not None and server_cpu1 is not None:
                result["server_cpu_us_per_request"] = (
                    (server_cpu1 - server_cpu0)
                    / (result["calls_per_variant"] * len(variants))
                    * 1e6
                )
            report(name, result, variants)
            ratios = result["ratios"]
            missed = any(ratios[k]["median"] > t for k, t in TARGETS.items())
            if args.profile or (missed and not args.no_profile):
                prof = runner.profile_b(args.profile_calls, args.profile_top)
                result["profile"] = prof
                print_profile(prof, args.profile_top)
        finally:
            runner.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument(
        "--batch", type=int, default=100, help="calls per variant per round (default 100)"
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="warm-up calls per variant (default 200)"
    )
    parser.add_argument(
        "--explicit-rate",
        action="store_true",
        help="also time b0 and d0: b and d with rate_limit=1e9 (information)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 60 s)")
    parser.add_argument("--profile", action="store_true", help="always cProfile (b) against (a)")
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="never cProfile (by default (b) is profiled when a target is missed, "
        "except in a --quick run)",
    )
    parser.add_argument(
        "--profile-calls", type=int, default=500, help="gets profiled (default 500)"
    )
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--name", default="bench_get", help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batch, args.warmup = 9, 50, 100
        args.profile_calls = 200
        args.no_profile = args.no_profile or not args.profile
    variants = BASE_VARIANTS + (EXPLICIT_RATE_VARIANTS if args.explicit_rate else ())
    print(
        f"bench_get: {args.rounds} rounds x {args.batch} calls per variant "
        f"(+{args.warmup} warm-up), variants {', '.join(variants)}, against a fixed-body "
        f"server; httpx {httpx.__version__}, Python {sys.version.split()[0]}",
        flush=True,
    )
    t0 = time.perf_counter()
    results = {key: scenario(key, args, variants) for key in SCENARIOS}
    elapsed = time.perf_counter() - t0

    summary = {
        key: {ratio: v["median"] for ratio, v in results[key]["ratios"].items()} for key in results
    }
    data = {
        "args": vars(args),
        "targets": TARGETS,
        "server": "benchmarks/_fixed_server.py (fixed bodies, child process)",
        "elapsed_seconds": elapsed,
        "summary": summary,
        "scenarios": results,
    }
    print()
    print(render(data))
    print(f"\nelapsed {elapsed:.0f} s")
    path = _common.write_results(args.name, data)
    print(f"results: {path}")
    return 0


def render(data: dict[str, Any]) -> str:
    """The markdown table of one run, from its results (as written to the JSON file)."""
    args = data["args"]
    rows = []
    for key, r in data["scenarios"].items():
        for ratio, v in r["ratios"].items():
            target = data["targets"].get(ratio)
            rows.append(
                [
                    f"{ratio} ({key})",
                    f"{v['median']:.3f}",
                    f"{v['min']:.3f}–{v['max']:.3f}",
                    f"≤ {target:.1f} {_common.verdict(v['median'], target)}" if target else "info",
                ]
            )
    return (
        f"### per-call CPU ratios, fixed-body server: median over {args['rounds']} rounds "
        f"of {args['batch']} calls, spread min–max\n\n"
        + _common.markdown_table(["variant", "median ratio", "spread", "target"], rows)
    )


if __name__ == "__main__":
    sys.exit(main())
