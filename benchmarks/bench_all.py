"""Run every benchmark in order, then print all their markdown tables together.

    python benchmarks/bench_all.py [--quick] [--only get,memory,batch] [--tables]

The order is the cheapest first: bench_get.py (CPU per call), bench_memory.py (RSS per
job in flight), bench_batch.py (batches against a rate-limited sandbox, the longest).
Each script runs in its own process, exactly as `python benchmarks/bench_X.py` would
(with `--quick` passed on); its results go to `benchmarks/results/bench_X.json`.
`--tables` runs nothing and prints the tables from the results already there: the
tables `benchmarks/README.md` quotes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import _common
import bench_batch
import bench_get
import bench_memory

SCRIPTS = {"get": bench_get, "memory": bench_memory, "batch": bench_batch}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of each script")
    parser.add_argument(
        "--only", default=",".join(SCRIPTS), help=f"comma-separated, of {', '.join(SCRIPTS)}"
    )
    parser.add_argument("--tables", action="store_true", help="only print the saved tables")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(SCRIPTS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}")
    elapsed: dict[str, float] = {}
    failed: list[str] = []
    if not args.tables:
        for name in names:
            script = _common.HERE / f"bench_{name}.py"
            print(f"\n===== {script.name} {'--quick' if args.quick else ''}", flush=True)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, str(script), *(["--quick"] if args.quick else [])], check=False
            )
            elapsed[name] = time.perf_counter() - t0
            if proc.returncode != 0:
                failed.append(name)
    print("\n===== all tables\n")
    for name in names:
        path = _common.RESULTS / f"bench_{name}.json"
        if not path.exists():
            print(f"(no results for bench_{name}: {path} is missing)\n")
            continue
        data = json.loads(path.read_text())
        env = data.get("environment", {})
        print(
            f"<!-- bench_{name}: {env.get('time')}, Python {env.get('python')}, "
            f"{env.get('cpus')} CPUs, httpx {env.get('httpx')}, "
            f"{'--quick' if data['args'].get('quick') else 'full size'} -->"
        )
        print(SCRIPTS[name].render(data))
        print()
    if elapsed:
        print(", ".join(f"bench_{n}: {s:.0f} s" for n, s in elapsed.items()))
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
