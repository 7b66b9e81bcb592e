"""Child-process worker for bench_batch.py (not a benchmark on its own).

    python benchmarks/_batch_worker.py ours       BASE_URL JOBS
    python benchmarks/_batch_worker.py raw        BASE_URL REQUESTS
    python benchmarks/_batch_worker.py official   BASE_URL JOBS THREADS
    python benchmarks/_batch_worker.py quickstart BASE_URL JOBS THREADS

Every run is a fresh process, so `ru_maxrss` (the peak RSS) is this run's own, not a
running maximum over every run of the benchmark, and no client state leaks between runs.

`ours` runs `AsyncMusicAPI.sonic.generate_many(requests, concurrency=JOBS)` with a
default client on asyncio, and checks that every request got exactly one outcome (by
index, and by identity of `.request`).

`raw` sends REQUESTS sequential `GET /get-credits` through a bare `httpx.AsyncClient`
(after a short warm-up) and parses each body with `json.loads`: the CPU of one plain
request, the unit of "client CPU per batch job / raw request".

`official` drives `musicapi-sdk==0.1.0` (run with its isolated folder first on
PYTHONPATH, since its import name `musicapi` is also ours): one shared `MusicAPI`
client, `sonic.generate_and_wait(SonicCreateParams(...))` with its default
`PollOptions` (first poll immediate, then every 5 s), one job per thread-pool call.

`quickstart` runs the quickstart's `generate_and_wait` (requests, `poll_interval_s=5`,
sleeps before its first poll) verbatim, one job per thread-pool call.

Prints one JSON line: wall and process CPU seconds of the measured part, the RSS after
setup and the peak RSS (KB), and a summary of the outcomes.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

API_KEY = "bench-key"
RAW_WARMUP = 50


def payload(i: int) -> dict[str, Any]:
    return {
        "custom_mode": False,
        "mv": "sonic-v5",
        "gpt_description_prompt": f"uplifting synthwave with female vocals, take {i}",
    }


def rss_kb() -> int:
    """VmRSS of this process now, in KB (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_kb() -> int:
    """The peak RSS of this process so far, in KB (`ru_maxrss` is in KB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


# -- ours -------------------------------------------------------------------------------


def run_ours(base_url: str, jobs: int) -> dict[str, Any]:
    from musicapi import AsyncMusicAPI

    requests = [payload(i) for i in range(jobs)]

    async def go() -> dict[str, Any]:
        counts: collections.Counter[int] = collections.Counter()
        task_ids: set[str] = set()
        errors: collections.Counter[str] = collections.Counter()
        error_samples: list[str] = []
        same_request = True
        first_at: float | None = None
        async with AsyncMusicAPI(api_key=API_KEY, base_url=base_url) as client:
            setup_rss = rss_kb()
            w0, c0 = time.perf_counter(), time.process_time()
            async with client.sonic.generate_many(requests, concurrency=jobs) as run:
                async for outcome in run:
                    if first_at is None:
                        first_at = time.perf_counter() - w0
                    counts[outcome.index] += 1
                    same_request &= outcome.request is requests[outcome.index]
                    if outcome.task_id is not None:
                        task_ids.add(outcome.task_id)
                    if not outcome.ok:
                        errors[type(outcome.error).__name__] += 1
                        if len(error_samples) < 3:
                            error_samples.append(f"{type(outcome.error).__name__}: {outcome.error}")
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            pacing = client.pacing
        outcomes = sum(counts.values())
        return {
            "wall": wall,
            "cpu": cpu,
            "setup_rss_kb": setup_rss,
            "first_outcome_after": first_at,
            "outcomes": outcomes,
            "ok": outcomes - sum(errors.values()),
            "errors": dict(errors),
            "error_samples": error_samples,
            "exactly_one_outcome_each": set(counts) == set(range(jobs))
            and all(c == 1 for c in counts.values())
            and same_request,
            "distinct_task_ids": len(task_ids),
            "client_seen_429s": pacing.rate_limited,
            "client_final_rate": pacing.rate,
            "client_learned_ceiling": getattr(pacing, "learned_ceiling", None),
        }

    return asyncio.run(go())


# -- raw httpx --------------------------------------------------------------------------


def run_raw(base_url: str, requests: int) -> dict[str, Any]:
    import httpx

    url = f"{base_url}/get-credits"
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}

    async def go() -> dict[str, Any]:
        statuses: collections.Counter[int] = collections.Counter()
        async with httpx.AsyncClient(timeout=60.0) as client:
            for _ in range(RAW_WARMUP):
                response = await client.get(url, headers=headers)
                json.loads(response.content)
            setup_rss = rss_kb()
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(requests):
                response = await client.get(url, headers=headers)
                json.loads(response.content)
                statuses[response.status_code] += 1
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        return {
            "wall": wall,
            "cpu": cpu,
            "setup_rss_kb": setup_rss,
            "requests": requests,
            "statuses": dict(statuses),
            "cpu_us_per_request": cpu / requests * 1e6,
        }

    return asyncio.run(go())


# -- baselines in threads ---------------------------------------------------------------


def official_job_factory(base_url: str) -> tuple[Any, Any]:
    import musicapi  # the official SDK, from PYTHONPATH
    from musicapi import MusicAPI, SonicCreateParams

    if "official-sdk" not in (musicapi.__file__ or ""):
        raise SystemExit(f"expected the official SDK, imported {musicapi.__file__}")
    client = MusicAPI(api_key=API_KEY, base_url=base_url)

    def job(i: int) -> dict[str, Any]:
        result = client.sonic.generate_and_wait(SonicCreateParams(**payload(i)))
        return {"clips": len(result.data), "code": result.code}

    return job, client.close


def quickstart_job_factory(base_url: str) -> tuple[Any, Any]:
    import requests

    API_BASE = base_url
    HEADERS = {
        "Authorization": f"Bearer {API_KEY}",
        "Content-Type": "application/json",
    }

    # --- verbatim from the quickstart (section 5) --------------------------------
    def generate_and_wait(
        payload: dict, poll_interval_s: float = 5.0, timeout_s: float = 300.0
    ) -> Any:
        # Submit the generation.
        submit = requests.post(
            f"{API_BASE}/sonic/create", json=payload, headers=HEADERS, timeout=60
        )
        submit.raise_for_status()
        task_id = submit.json()["task_id"]
        # Poll. API returns HTTP 202 / {"type": "not_ready"} while running.
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            time.sleep(poll_interval_s)
            poll = requests.get(f"{API_BASE}/sonic/task/{task_id}", headers=HEADERS, timeout=60)
            if poll.status_code == 200:
                return poll.json()
            # 202 / not_ready / 102 = keep polling
        raise TimeoutError(f"task {task_id} did not finish in {timeout_s}s")

    # -------------------------------------------------------------------------------

    def job(i: int) -> dict[str, Any]:
        result = generate_and_wait(payload(i))
        return {"clips": len(result["data"]), "code": result.get("code")}

    return job, lambda: None


def run_threads(kind: str, base_url: str, jobs: int, threads: int) -> dict[str, Any]:
    factory = official_job_factory if kind == "official" else quickstart_job_factory
    job, close = factory(base_url)
    counts: collections.Counter[int] = collections.Counter()
    errors: collections.Counter[str] = collections.Counter()
    error_samples: list[str] = []
    setup_rss = rss_kb()
    w0, c0 = time.perf_counter(), time.process_time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {pool.submit(job, i): i for i in range(jobs)}
        for future in concurrent.futures.as_completed(futures):
            counts[futures[future]] += 1
            try:
                future.result()
            except Exception as exc:
                errors[type(exc).__name__] += 1
                if len(error_samples) < 3:
                    error_samples.append(f"{type(exc).__name__}: {exc}")
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    close()
    outcomes = sum(counts.values())
    return {
        "wall": wall,
        "cpu": cpu,
        "setup_rss_kb": setup_rss,
        "outcomes": outcomes,
        "ok": outcomes - sum(errors.values()),
        "errors": dict(errors),
        "error_samples": error_samples,
        "exactly_one_outcome_each": set(counts) == set(range(jobs))
        and all(c == 1 for c in counts.values()),
    }


def main() -> int:
    kind, base_url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if kind == "ours":
        result = run_ours(base_url, n)
    elif kind == "raw":
        result = run_raw(base_url, n)
    elif kind in ("official", "quickstart"):
        result = run_threads(kind, base_url, n, int(sys.argv[4]))
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    result["peak_rss_kb"] = peak_rss_kb()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
