"""Child-process worker for bench_batch.py's baselines (not a benchmark on its own).

    python benchmarks/_baseline_worker.py official   BASE_URL JOBS THREADS
    python benchmarks/_baseline_worker.py quickstart BASE_URL JOBS THREADS

`official` drives `musicapi-sdk==0.1.0` (run with its isolated folder first on
PYTHONPATH, since its import name `musicapi` is also ours): one shared `MusicAPI`
client, `sonic.generate_and_wait(SonicCreateParams(...))` with its default
`PollOptions` (first poll immediate, then every 5 s), one job per thread-pool call.

`quickstart` runs the quickstart's `generate_and_wait` (requests, `poll_interval_s=5`,
sleeps before its first poll) verbatim, one job per thread-pool call.

Prints one JSON line: wall seconds, process CPU seconds, and one outcome per job.
"""

from __future__ import annotations

import concurrent.futures
import json
import sys
import time
from typing import Any

API_KEY = "bench-key"


def payload(i: int) -> dict[str, Any]:
    return {
        "custom_mode": False,
        "mv": "sonic-v5",
        "gpt_description_prompt": f"uplifting synthwave with female vocals, take {i}",
    }


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


def main() -> int:
    kind, base_url, jobs, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    factory = official_job_factory if kind == "official" else quickstart_job_factory
    job, close = factory(base_url)
    outcomes: list[dict[str, Any]] = []
    w0, c0 = time.perf_counter(), time.process_time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        futures = {pool.submit(job, i): i for i in range(jobs)}
        for future in concurrent.futures.as_completed(futures):
            i = futures[future]
            try:
                outcomes.append({"index": i, "ok": True, **future.result()})
            except Exception as exc:
                outcomes.append({"index": i, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    close()
    print(json.dumps({"wall": wall, "cpu": cpu, "outcomes": outcomes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
