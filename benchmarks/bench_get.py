"""Client CPU per `sonic.get` against a fast local server, as ratios against raw httpx.

A sandbox runs in a child process, so its CPU is not counted. One task is created
through the SDK; then five ways of fetching `GET /sonic/task/{id}` are timed,
interleaved in rounds (each round runs every variant once, in a rotating order) after
a warm-up, so that drift in the machine's speed hits all of them alike:

  a  raw httpx.AsyncClient GET + json.loads                      (asyncio, main thread)
  b  AsyncMusicAPI.sonic.get(task_id)                            (asyncio, main thread)
  c  raw httpx.AsyncClient GET + json.loads via portal.call      (bare blocking portal)
  d  MusicAPI.sonic.get(task_id)                                 (the sync facade)
  e  raw httpx.Client GET + json.loads                           (sync)
  b0, d0  b and d with `rate_limit=1e9`, so the client's pacing never sleeps
          (information: it separates the cost of the default pacing from the rest)

The raw variants send the SDK's own headers (Authorization, Accept, User-Agent).
CPU is `time.process_time()` of this process (every thread, so the portal thread
counts), per call. Ratios: b/a (target <= 1.15), d/c (target <= 1.10), d/e (information).
Both a running task (202 not_ready) and a finished one (200 with two clips) are measured.

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
import anyio
import httpx
from anyio.from_thread import start_blocking_portal

from musicapi import AsyncMusicAPI, MusicAPI

TARGET_ASYNC = 1.15
TARGET_SYNC = 1.10
VARIANTS = ("a", "b", "c", "d", "e", "b0", "d0")
LABELS = {
    "a": "raw httpx.AsyncClient + json.loads",
    "b": "AsyncMusicAPI.sonic.get",
    "c": "raw AsyncClient via bare portal.call",
    "d": "MusicAPI.sonic.get (sync facade)",
    "e": "raw httpx.Client + json.loads",
    "b0": "b with rate_limit=1e9 (pacing never sleeps)",
    "d0": "d with rate_limit=1e9 (pacing never sleeps)",
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

    def __init__(self, base_url: str, task_id: str) -> None:
        self.base_url = base_url
        self.task_id = task_id
        self.url = f"{base_url}/sonic/task/{task_id}"
        self.headers = _headers()
        self.loop = asyncio.Runner()
        self.raw_async: httpx.AsyncClient = self.loop.run(self._make_async_client())
        self.sdk_async: AsyncMusicAPI = self.loop.run(self._make_sdk())
        self.sdk_async_unpaced: AsyncMusicAPI = self.loop.run(self._make_sdk(rate_limit=1e9))
        self.portal_cm = start_blocking_portal("asyncio")
        self.portal = self.portal_cm.__enter__()
        self.portal_client: httpx.AsyncClient = self.portal.call(self._make_async_client)
        self.sdk_sync = MusicAPI(api_key=_common.API_KEY, base_url=base_url)
        self.sdk_sync_unpaced = MusicAPI(api_key=_common.API_KEY, base_url=base_url, rate_limit=1e9)
        self.raw_sync = httpx.Client(timeout=60.0)
        self.statuses: dict[str, set[int]] = {}

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

    def _batch_b(self, n: int, unpaced: bool = False) -> tuple[float, float]:
        client = self.sdk_async_unpaced if unpaced else self.sdk_async

        async def run() -> tuple[float, float]:
            get, task_id = client.sonic.get, self.task_id
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

    def _batch_b0(self, n: int) -> tuple[float, float]:
        return self._batch_b(n, unpaced=True)

    def _batch_d0(self, n: int) -> tuple[float, float]:
        return self._batch_d(n, unpaced=True)

    def _batch_d(self, n: int, unpaced: bool = False) -> tuple[float, float]:
        client = self.sdk_sync_unpaced if unpaced else self.sdk_sync
        get, task_id = client.sonic.get, self.task_id
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

    def check(self) -> dict[str, Any]:
        """One call of each variant, to show they all see the same answer."""
        seen: dict[str, Any] = {}
        seen["a"] = self.loop.run(self._raw_get(self.raw_async))[0]
        seen["b"] = self.loop.run(self.sdk_async.sonic.get(self.task_id)).state
        seen["c"] = self.portal.call(self._raw_get, self.portal_client)[0]
        seen["d"] = self.sdk_sync.sonic.get(self.task_id).state
        seen["e"] = self.raw_sync.get(self.url, headers=self.headers).status_code
        seen["b0"] = self.loop.run(self.sdk_async_unpaced.sonic.get(self.task_id)).state
        seen["d0"] = self.sdk_sync_unpaced.sonic.get(self.task_id).state
        return seen

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
        self.sdk_sync_unpaced.close()
        self.loop.run(self.sdk_async_unpaced.aclose())
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


def measure(runner: Runner, rounds: int, batch: int, warmup: int) -> dict[str, Any]:
    for v in VARIANTS:
        runner.batch(v, warmup)
    per_round: dict[str, list[float]] = {v: [] for v in VARIANTS}
    wall_round: dict[str, list[float]] = {v: [] for v in VARIANTS}
    cpu_total = dict.fromkeys(VARIANTS, 0.0)
    for r in range(rounds):
        order = VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]
        for v in order:
            cpu, wall = runner.batch(v, batch)
            per_round[v].append(cpu / batch)
            wall_round[v].append(wall / batch)
            cpu_total[v] += cpu
    calls = rounds * batch
    cpu_us = {v: statistics.median(per_round[v]) * 1e6 for v in VARIANTS}
    mean_us = {v: cpu_total[v] / calls * 1e6 for v in VARIANTS}
    wall_us = {v: statistics.median(wall_round[v]) * 1e6 for v in VARIANTS}

    def paired(x: str, y: str) -> dict[str, float]:
        ratios = sorted(p / q for p, q in zip(per_round[x], per_round[y], strict=True))
        return {
            "median": statistics.median(ratios),
            "p10": ratios[len(ratios) // 10],
            "p90": ratios[min(len(ratios) - 1, (len(ratios) * 9) // 10)],
        }

    ratios = {
        "b/a": cpu_us["b"] / cpu_us["a"],
        "d/c": cpu_us["d"] / cpu_us["c"],
        "d/e": cpu_us["d"] / cpu_us["e"],
        "c/e": cpu_us["c"] / cpu_us["e"],
        "b0/a": cpu_us["b0"] / cpu_us["a"],
        "d0/c": cpu_us["d0"] / cpu_us["c"],
    }
    return {
        "calls_per_variant": calls,
        "cpu_us_per_call_median": cpu_us,
        "cpu_us_per_call_mean": mean_us,
        "wall_us_per_call_median": wall_us,
        "ratios": ratios,
        "paired_round_ratios": {k: paired(*k.split("/")) for k in ratios},
    }


def report(name: str, result: dict[str, Any]) -> None:
    cpu, mean, wall = (
        result["cpu_us_per_call_median"],
        result["cpu_us_per_call_mean"],
        result["wall_us_per_call_median"],
    )
    rows = [[f"{v}  {LABELS[v]}", cpu[v], mean[v], wall[v]] for v in VARIANTS]
    print(
        _common.table(
            ["variant", "CPU us/call (median)", "CPU us/call (mean)", "wall us/call"],
            rows,
            title=f"\n== {name}: {result['calls_per_variant']} calls per variant, "
            f"answer {result['check']}",
        )
    )
    r, p = result["ratios"], result["paired_round_ratios"]
    targets = {"b/a": TARGET_ASYNC, "d/c": TARGET_SYNC}
    rows = []
    for key in ("b/a", "d/c", "d/e", "c/e", "b0/a", "d0/c"):
        target = targets.get(key)
        rows.append(
            [
                key,
                f"{r[key]:.3f}",
                f"{p[key]['p10']:.3f}..{p[key]['p90']:.3f}",
                f"<= {target:.2f}" if target else "info",
                _common.verdict(r[key], target) if target else "",
            ]
        )
    print()
    print(_common.table(["ratio", "CPU ratio", "per-round p10..p90", "target", ""], rows))


def create_task(base_url: str) -> str:
    with MusicAPI(api_key=_common.API_KEY, base_url=base_url) as client:
        return client.sonic.create(
            custom_mode=False, mv="sonic-v5", gpt_description_prompt="benchmark synthwave"
        ).task_id


def scenario(name: str, task_seconds: float, args: argparse.Namespace) -> dict[str, Any]:
    with _common.Sandbox("--task-seconds", str(task_seconds), "--credits", "100000") as sb:
        task_id = create_task(sb.base_url)
        if task_seconds < 1:
            time.sleep(task_seconds + 0.2)
        runner = Runner(sb.base_url, task_id)
        try:
            check = runner.check()
            server_cpu0 = sb.cpu_seconds()
            result = measure(runner, args.rounds, args.batch, args.warmup)
            server_cpu1 = sb.cpu_seconds()
            result["check"] = check
            if server_cpu0 is not None and server_cpu1 is not None:
                result["server_cpu_us_per_request"] = (
                    (server_cpu1 - server_cpu0)
                    / (result["calls_per_variant"] * len(VARIANTS))
                    * 1e6
                )
            report(name, result)
            missed = result["ratios"]["b/a"] > TARGET_ASYNC or result["ratios"]["d/c"] > TARGET_SYNC
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
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 60 s)")
    parser.add_argument("--profile", action="store_true", help="always cProfile (b)")
    parser.add_argument("--no-profile", action="store_true", help="never cProfile (b)")
    parser.add_argument(
        "--profile-calls", type=int, default=500, help="gets profiled (default 500)"
    )
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--name", default="bench_get", help="results file name")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.batch, args.warmup = 5, 40, 40
        args.profile_calls = 200
    print(
        f"bench_get: {args.rounds} rounds x {args.batch} calls per variant "
        f"(+{args.warmup} warm-up), httpx {httpx.__version__}, anyio, Python {sys.version.split()[0]}"
    )
    results = {
        "not_ready": scenario("running task (202 not_ready)", 100_000, args),
        "finished": scenario("finished task (200, two clips)", 0.05, args),
    }
    summary = {
        key: {
            "b/a": results[key]["ratios"]["b/a"],
            "d/c": results[key]["ratios"]["d/c"],
            "d/e": results[key]["ratios"]["d/e"],
            "b0/a": results[key]["ratios"]["b0/a"],
            "d0/c": results[key]["ratios"]["d0/c"],
        }
        for key in results
    }
    path = _common.write_results(
        args.name,
        {
            "args": vars(args),
            "targets": {"b/a": TARGET_ASYNC, "d/c": TARGET_SYNC},
            "summary": summary,
            "scenarios": results,
        },
    )
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    _ = anyio  # imported so a missing anyio fails early
    sys.exit(main())
