"""Batches against a rate-limited loopback sandbox: ours at several sizes, and baselines.

Every run is two fresh child processes: a `python -m musicapi.sandbox` server
(`--rate-limit 250`, credits to spare), as a real server would be, and the client
(`_batch_worker.py`), so the client's CPU and peak RSS (`ru_maxrss`) are its own and
no state leaks from one run to the next.

Scenarios of ours, `AsyncMusicAPI.sonic.generate_many(requests, concurrency=N)` with a
default client:

  n500            500 jobs, 2 s tasks
  n2000           2,000 jobs, 2 s tasks
  n10000          10,000 jobs, 2 s tasks
  n500_30s        500 jobs, 30 s tasks
  n2000_early429  2,000 jobs, 2 s tasks, the sandbox answers the first 30 API requests
                  with 429 and `Retry-After: 0.5` (`POST /_sandbox/faults`)

Baselines, each in its own child process: the official `musicapi-sdk` 0.1.0
(`sonic.generate_and_wait` per job, one shared client) in 32 threads and in 500
threads, and the quickstart's `requests` loop in 32 threads; plus ours at each
baseline's N, so that every baseline has a side-by-side row.

Per run: wall / bound, where bound = max(task seconds, 2 N / rate) (a create and one
poll per job at the server's rate; not strict: the sandbox's token bucket starts with
a burst of rate/4), API requests per job and 429s (the sandbox's own counters), client
CPU per job, and the client's peak RSS. Each repeat also measures the CPU of one raw
`httpx.AsyncClient` GET (sequential `GET /get-credits` against an unlimited sandbox,
in a fresh process), and reports client CPU per batch job / raw request. Repeats are
interleaved (every scenario once per repeat), and every figure is the median with
the spread (min-max) over the repeats. Targets are reported, never asserted.

    python benchmarks/bench_batch.py [--scenario NAME ...] [--repeat 3] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import _common
import attrs

TARGET_WALL = 1.15
TARGET_REQUESTS = 2.2
TARGET_429S_N10000 = 30
TARGET_CPU_VS_RAW = 2.5


@attrs.frozen
class Scenario:
    name: str
    jobs: int
    task_seconds: float
    what: str
    early_429s: int = 0
    retry_after: float = 0.5


SCENARIOS = {
    "n500": Scenario("n500", 500, 2.0, "500 jobs, 2 s tasks"),
    "n2000": Scenario("n2000", 2000, 2.0, "2,000 jobs, 2 s tasks"),
    "n10000": Scenario("n10000", 10_000, 2.0, "10,000 jobs, 2 s tasks"),
    "n500_30s": Scenario("n500_30s", 500, 30.0, "500 jobs, 30 s tasks"),
    "n2000_early429": Scenario(
        "n2000_early429",
        2000,
        2.0,
        "2,000 jobs, 2 s tasks, first 30 requests answered 429 (Retry-After 0.5 s)",
        early_429s=30,
    ),
}
QUICK_SIZES = {  # name -> (jobs, task seconds) for --quick
    "n500": (50, 2.0),
    "n2000": (100, 2.0),
    "n10000": (200, 2.0),
    "n500_30s": (30, 3.0),
    "n2000_early429": (50, 2.0),
}
QUICK_EARLY_429S = 10  # 30 early 429s can slow a batch by tens of seconds: too long for a smoke run


@attrs.frozen
class Baseline:
    name: str
    kind: str  # "official" or "quickstart"
    threads: int
    jobs: int
    what: str


def bound(jobs: int, task_seconds: float, rate: float) -> float:
    return max(task_seconds, 2 * jobs / rate)


def sandbox_args(task_seconds: float, jobs: int, rate_limit: float | None) -> list[str]:
    args = ["--task-seconds", f"{task_seconds:g}", "--credits", str(max(1_000_000, jobs * 20))]
    if rate_limit is not None:
        args += ["--rate-limit", f"{rate_limit:g}"]
    return args


def worker(kind: str, *argv: str, env: dict[str, str] | None = None, timeout: float) -> Any:
    proc = subprocess.run(
        [sys.executable, str(_common.HERE / "_batch_worker.py"), kind, *argv],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd="/",
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} worker failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def api_requests(server: dict[str, Any]) -> int:
    return sum(n for route, n in server["requests"].items() if route != "file")


def measure_raw(args: argparse.Namespace) -> dict[str, Any]:
    """CPU of one sequential raw `httpx.AsyncClient` GET, against an unlimited sandbox."""
    with _common.Sandbox(*sandbox_args(2.0, 0, None)) as sb:
        result = worker("raw", sb.base_url, str(args.raw_requests), timeout=600)
    return result


def run_batch(
    kind: str,
    jobs: int,
    task_seconds: float,
    args: argparse.Namespace,
    *,
    threads: int = 0,
    early_429s: int = 0,
    retry_after: float = 0.5,
) -> dict[str, Any]:
    """One run: a fresh sandbox child, a fresh client child; returns the figures."""
    env = None
    if kind == "official":
        sdk = _common.ensure_official_sdk()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(sdk), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    lower = bound(jobs, task_seconds, args.rate_limit)
    with _common.Sandbox(*sandbox_args(task_seconds, jobs, args.rate_limit)) as sb:
        if early_429s:
            sb.set_faults(rate_limit_next=early_429s, retry_after=retry_after)
        server_cpu0 = sb.cpu_seconds()
        extra = [str(threads)] if threads else []
        result = worker(kind, sb.base_url, str(jobs), *extra, env=env, timeout=60 * lower + 300)
        server_cpu1 = sb.cpu_seconds()
        server = sb.stats()
    requests = api_requests(server)
    result.update(
        {
            "jobs": jobs,
            "task_seconds": task_seconds,
            "threads": threads or None,
            "bound": lower,
            "wall_over_bound": result["wall"] / lower,
            "api_requests": requests,
            "requests_per_job": requests / jobs,
            "server_429s": server["rate_limited"],
            "creates_seen_by_server": server["creates"],
            "client_cpu_ms_per_job": result["cpu"] / jobs * 1000,
            "peak_rss_mb": result["peak_rss_kb"] / 1024,
            "server": server,
        }
    )
    if server_cpu0 is not None and server_cpu1 is not None:
        # The sandbox's own CPU share over the run: near 1.0 means the server, not the
        # client, was the bottleneck (it has one core at most).
        result["server_cpu_share"] = (server_cpu1 - server_cpu0) / result["wall"]
    return result


def summarise(runs: list[dict[str, Any]], raws: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "wall_over_bound",
        "requests_per_job",
        "server_429s",
        "client_cpu_ms_per_job",
        "peak_rss_mb",
        "wall",
        "server_cpu_share",
    )
    out: dict[str, Any] = {
        k: _common.spread([r[k] for r in runs]) for k in keys if all(k in r for r in runs)
    }
    if raws and len(raws) == len(runs):
        # Paired: each run against the raw request measured in the same repeat.
        out["cpu_per_job_over_raw"] = _common.spread(
            [
                r["client_cpu_ms_per_job"] * 1000 / raw["cpu_us_per_request"]
                for r, raw in zip(runs, raws, strict=True)
            ]
        )
    out["every_run_one_outcome_each"] = all(r["exactly_one_outcome_each"] for r in runs)
    out["ok"] = _common.spread([r["ok"] for r in runs])
    out["jobs"] = runs[0]["jobs"]
    out["task_seconds"] = runs[0]["task_seconds"]
    out["bound"] = runs[0]["bound"]
    return out


def judged(s: dict[str, float], target: float, *, fmt: str = "{:.2f}") -> str:
    """`median (min–max) ok|MISSED`, judged on the median."""
    return f"{_common.fmt_spread(s, fmt)} {_common.verdict(s['median'], target)}"


def progress(label: str, r: dict[str, Any]) -> None:
    share = r.get("server_cpu_share")
    print(
        f"    {label}: wall {r['wall']:.2f} s / bound {r['bound']:.2f} s = "
        f"{r['wall_over_bound']:.2f}, {r['requests_per_job']:.2f} req/job, "
        f"{r['server_429s']} 429s, {r['client_cpu_ms_per_job']:.3f} ms CPU/job, "
        f"peak RSS {r['peak_rss_mb']:.0f} MB, ok {r['ok']}/{r['jobs']}"
        + (f", server CPU {share:.0%}" if share is not None else ""),
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scenario",
        choices=tuple(SCENARIOS),
        action="append",
        help="run only these scenarios of ours (repeatable; default: all)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--rate-limit", type=float, default=250.0, help="sandbox requests/s")
    parser.add_argument(
        "--baseline-jobs",
        type=int,
        default=100,
        help="jobs for the 32-thread baselines (default 100)",
    )
    parser.add_argument(
        "--baseline-jobs-500",
        type=int,
        default=500,
        help="jobs for the official SDK in 500 threads (default 500: one job per thread)",
    )
    parser.add_argument("--no-baselines", action="store_true", help="run only ours")
    parser.add_argument(
        "--raw-requests",
        type=int,
        default=2000,
        help="sequential raw httpx GETs per repeat for the CPU unit (default 2000)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run (< 60 s)")
    parser.add_argument("--name", default="bench_batch", help="results file name")
    args = parser.parse_args(argv)

    names = args.scenario or list(SCENARIOS)
    scenarios = [SCENARIOS[n] for n in names]
    if args.quick:
        args.repeat = 1
        args.raw_requests = min(args.raw_requests, 300)
        args.baseline_jobs = min(args.baseline_jobs, 32)
        args.baseline_jobs_500 = min(args.baseline_jobs_500, 64)
        scenarios = [
            attrs.evolve(
                s,
                jobs=QUICK_SIZES[s.name][0],
                task_seconds=QUICK_SIZES[s.name][1],
                early_429s=min(s.early_429s, QUICK_EARLY_429S),
            )
            for s in scenarios
        ]
    baselines: list[Baseline] = []
    if not args.no_baselines:
        baselines = [
            Baseline(
                "official_32t",
                "official",
                32,
                args.baseline_jobs,
                "musicapi-sdk 0.1.0, 32 threads",
            ),
            Baseline(
                "official_500t",
                "official",
                500,
                args.baseline_jobs_500,
                "musicapi-sdk 0.1.0, 500 threads",
            ),
            Baseline(
                "quickstart_32t",
                "quickstart",
                32,
                args.baseline_jobs,
                "quickstart requests loop, 32 threads",
            ),
        ]
        # Ours at each baseline's N (2 s tasks), unless a scenario already is that
        # (not in a smoke run, which has no time for them).
        have = {(s.jobs, s.task_seconds) for s in scenarios if not s.early_429s}
        for n in sorted({b.jobs for b in baselines}):
            if (n, 2.0) not in have and not args.quick:
                scenarios.append(Scenario(f"n{n}", n, 2.0, f"{n} jobs, 2 s tasks (baselines' N)"))

    print(
        f"bench_batch: sandbox rate limit {args.rate_limit:g}/s, {args.repeat} repeat(s); "
        f"ours: {', '.join(f'{s.name} ({s.jobs} x {s.task_seconds:g} s)' for s in scenarios)}; "
        f"baselines: {', '.join(f'{b.name} ({b.jobs} jobs)' for b in baselines) or 'none'}",
        flush=True,
    )
    t0 = time.perf_counter()
    raws: list[dict[str, Any]] = []
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in scenarios}
    base_runs: dict[str, list[dict[str, Any]]] = {b.name: [] for b in baselines}
    for rep in range(args.repeat):
        print(f"  repeat {rep + 1}/{args.repeat}", flush=True)
        raw = measure_raw(args)
        raws.append(raw)
        print(
            f"    raw httpx.AsyncClient GET: {raw['cpu_us_per_request']:.0f} us CPU/request "
            f"({raw['requests']} requests, statuses {raw['statuses']})",
            flush=True,
        )
        for s in scenarios:
            r = run_batch(
                "ours",
                s.jobs,
                s.task_seconds,
                args,
                early_429s=s.early_429s,
                retry_after=s.retry_after,
            )
            runs[s.name].append(r)
            progress(s.name, r)
        for b in baselines:
            r = run_batch(b.kind, b.jobs, 2.0, args, threads=b.threads)
            base_runs[b.name].append(r)
            progress(b.name, r)
    elapsed = time.perf_counter() - t0

    raw_cpu = _common.spread([r["cpu_us_per_request"] for r in raws])
    data = {
        "args": vars(args),
        "targets": {
            "wall_over_bound": TARGET_WALL,
            "requests_per_job": TARGET_REQUESTS,
            "server_429s_n10000_below": TARGET_429S_N10000,
            "cpu_per_job_over_raw": TARGET_CPU_VS_RAW,
        },
        "elapsed_seconds": elapsed,
        "raw_request": {"cpu_us": raw_cpu, "runs": raws},
        "scenarios": {
            s.name: {"scenario": attrs.asdict(s), "summary": summarise(runs[s.name], raws)}
            for s in scenarios
        },
        "baselines": {
            b.name: {"baseline": attrs.asdict(b), "summary": summarise(base_runs[b.name], [])}
            for b in baselines
        },
        "runs": {**runs, **base_runs},
    }
    for name, rs in {**runs, **base_runs}.items():
        errors: dict[str, int] = {}
        for r in rs:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
        if errors:
            samples = next(r["error_samples"] for r in rs if r["errors"])
            print(f"{name}: errors over all runs {errors}, e.g. {samples}")
    print()
    print(render(data))
    print(f"\nelapsed {elapsed:.0f} s")
    path = _common.write_results(args.name, data)
    print(f"results: {path}")
    return 0


def render(data: dict[str, Any]) -> str:
    """The markdown tables of one run, from its results (as written to the JSON file)."""
    args = data["args"]
    out: list[str] = []
    scenarios = data["scenarios"]

    def mb(s: dict[str, float]) -> str:
        return _common.fmt_spread(s, "{:.0f}") + " MB"

    def ms(s: dict[str, float]) -> str:
        return _common.fmt_spread(s, "{:.3f}") + " ms"

    def label(sc: dict[str, Any]) -> str:
        size = f"{sc['jobs']} jobs, {sc['task_seconds']:g} s tasks"
        if sc["early_429s"]:
            size += f", first {sc['early_429s']} requests 429 (Retry-After {sc['retry_after']:g} s)"
        return f"{sc['name']}: {size}"

    out.append(
        f"### ours: generate_many(concurrency=N), {args['repeat']} run(s) each, "
        f"sandbox at {args['rate_limit']:g} requests/s\n"
    )
    rows = []
    for entry in scenarios.values():
        m = entry["summary"]
        w = m["wall_over_bound"]
        rows.append(
            [
                label(entry["scenario"]),
                f"{w['median']:.2f}",
                f"{w['min']:.2f}–{w['max']:.2f}",
                _common.fmt_spread(m["requests_per_job"]),
                _common.fmt_spread(m["server_429s"], "{:.0f}"),
                ms(m["client_cpu_ms_per_job"]),
                mb(m["peak_rss_mb"]),
            ]
        )
    out.append(
        _common.markdown_table(
            [
                "scenario",
                "median wall/bound",
                "spread",
                "requests/job",
                "429s",
                "client CPU/job",
                "peak RSS",
            ],
            rows,
        )
    )
    raw_cpu = data["raw_request"]["cpu_us"]
    out.append(
        f"\n### ours against the targets (one raw httpx.AsyncClient GET: "
        f"{_common.fmt_spread(raw_cpu, '{:.0f}')} us CPU)\n"
    )
    rows = []
    for name, entry in scenarios.items():
        m = entry["summary"]
        n429 = m["server_429s"]
        rows.append(
            [
                name,
                judged(m["wall_over_bound"], TARGET_WALL),
                judged(m["requests_per_job"], TARGET_REQUESTS),
                judged(n429, TARGET_429S_N10000 - 1, fmt="{:.0f}")
                if name == "n10000"
                else _common.fmt_spread(n429, "{:.0f}"),
                judged(m["cpu_per_job_over_raw"], TARGET_CPU_VS_RAW),
                f"{m['ok']['min']:.0f}/{m['jobs']}",
                "yes" if m["every_run_one_outcome_each"] else "NO",
            ]
        )
    out.append(
        _common.markdown_table(
            [
                "scenario",
                f"wall/bound (≤ {TARGET_WALL})",
                f"requests/job (≤ {TARGET_REQUESTS})",
                f"429s (< {TARGET_429S_N10000} at N=10,000)",
                f"CPU/job ÷ raw request (≤ {TARGET_CPU_VS_RAW})",
                "ok (worst run)",
                "one outcome each",
            ],
            rows,
        )
    )
    if data["baselines"]:
        out.append(f"\n### baselines, {args['repeat']} run(s) each, 2 s tasks\n")
        rows = []
        for entry in data["baselines"].values():
            b, m = entry["baseline"], entry["summary"]
            w = m["wall_over_bound"]
            ours = next(
                (
                    e["summary"]
                    for e in scenarios.values()
                    if e["scenario"]["jobs"] == b["jobs"]
                    and e["scenario"]["task_seconds"] == 2.0
                    and not e["scenario"]["early_429s"]
                ),
                None,
            )
            rows.append(
                [
                    b["what"],
                    b["jobs"],
                    f"{w['median']:.2f}",
                    f"{w['min']:.2f}–{w['max']:.2f}",
                    _common.fmt_spread(m["requests_per_job"]),
                    _common.fmt_spread(m["server_429s"], "{:.0f}"),
                    ms(m["client_cpu_ms_per_job"]),
                    mb(m["peak_rss_mb"]),
                    f"{m['ok']['min']:.0f}/{b['jobs']}",
                    f"{ours['wall_over_bound']['median']:.2f}" if ours else "",
                ]
            )
        out.append(
            _common.markdown_table(
                [
                    "baseline",
                    "jobs",
                    "median wall/bound",
                    "spread",
                    "requests/job",
                    "429s",
                    "client CPU/job",
                    "peak RSS",
                    "ok (worst run)",
                    "ours at this N: wall/bound",
                ],
                rows,
            )
        )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
