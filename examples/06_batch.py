"""Generate a batch of songs from a file of prompts, resumably, with `generate_many`.

Each line of the prompts file is one description (blank lines and `#` comments are
skipped). `client.sonic.generate_many` runs the jobs concurrently under one shared
request budget and yields one outcome per prompt as each finishes, success or failure:
a failed job is an `Outcome` with `.error`, never an exception out of the loop.

With `--journal PATH` (default `batch.journal.jsonl`) every job is recorded as it
progresses. Run the script again with the same journal, after it finished or after a
crash or Ctrl-C, and finished jobs are reported from the journal without a request,
jobs that were submitted are waited on again, never resubmitted (so never paid twice),
and only the rest are created. Delete the journal to start over.

    python examples/06_batch.py [--prompts FILE] [--journal PATH] [--concurrency N]

Without `--prompts` it writes a small built-in list to a temporary file and uses that.
On the in-process sandbox (no `MUSICAPI_KEY`) each run starts a fresh sandbox, so only
finished jobs carry over between runs; against the real API, or a sandbox served with
`python -m musicapi.sandbox`, submitted jobs carry over too.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from _common import client, sandbox

if TYPE_CHECKING:
    from musicapi import GenerationResult, Outcome

BUILT_IN_PROMPTS = (
    "uplifting synthwave with female vocals",
    "lofi hip hop for studying",
    "acoustic folk ballad about the sea",
    "energetic drum and bass with a heavy bassline",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--prompts", type=Path, help="a text file with one prompt per line")
    parser.add_argument(
        "--journal",
        type=Path,
        default=Path("batch.journal.jsonl"),
        help="the journal that makes the batch resumable (default: %(default)s)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="jobs running at once")
    return parser.parse_args(argv)


def read_prompts(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def built_in_prompts() -> list[str]:
    """Write the built-in prompts to a temporary file and read them back, as `--prompts` would."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prompts.txt"
        path.write_text("\n".join(BUILT_IN_PROMPTS) + "\n", encoding="utf-8")
        print(f"no --prompts given: using the built-in list ({path})")
        return read_prompts(path)


def describe(outcome: Outcome[GenerationResult]) -> str:
    source = "journal" if outcome.from_journal else "now"
    if outcome.result is not None:
        titles = ", ".join(clip.title or "?" for clip in outcome.result.clips)
        return f"ok      task {outcome.task_id}  [{source}]  {titles}"
    error = f"{type(outcome.error).__name__}: {outcome.error}"
    return f"failed  task {outcome.task_id}  [{source}]  {error}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prompts = read_prompts(args.prompts) if args.prompts is not None else built_in_prompts()
    requests = [
        {"custom_mode": False, "mv": "sonic-v5", "gpt_description_prompt": prompt}
        for prompt in prompts
    ]
    print(f"{len(requests)} prompts, journal {args.journal}")

    ok = failed = from_journal = 0
    with (
        client() as api,
        api.sonic.generate_many(
            requests, concurrency=args.concurrency, journal=args.journal
        ) as outcomes,
    ):
        for outcome in outcomes:
            print(describe(outcome))
            ok += outcome.ok
            failed += not outcome.ok
            from_journal += outcome.from_journal
        box = sandbox()
        creates = f", {box.stats.creates} create requests sent" if box is not None else ""

    now = ok + failed - from_journal
    print(
        f"summary: {ok + failed} jobs, {ok} ok, {failed} failed; "
        f"{from_journal} from the journal, {now} finished in this run{creates}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
