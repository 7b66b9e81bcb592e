"""The `musicapi` command: generate, get, wait, credits, download, batch and sandbox.

It is built on the SDK only: each command is one `anyio.run` of a coroutine that uses
one `AsyncMusicAPI`. The async client, not the sync facade, because a command runs
several things at once (waits, downloads, a batch and its display) and because Ctrl-C
then arrives as a cancellation of that one coroutine: `generate_many`'s `async with`
stops submitting, creates already on the wire finish and are journaled, partial
downloads are removed, and the command reports what was sent and how to resume.

Results go to stdout (text, or one JSON document with `--json`; a batch writes one JSON
line per job, then a summary line); progress, notes and errors go to stderr. With the
`cli` extra (rich) and stderr on a terminal, progress is drawn live; otherwise it is
plain lines, so logs and pipes stay readable. argparse is the only parser used (the
httpx `_main.py` way of keeping the command usable without its extra: rich is imported
only when it is installed and wanted).

The package, one module per concern:

* `_parser`: the argparse declarations (every command, option and default);
* `_inputs`: lyrics and batch files, and the checks made before any request;
* `_command`: one run's context (client, display, results) and the shared steps;
* `_commands`: `credits`, `get`, `wait`, `generate`; `_downloads`: `download`, with
  stems, WAV and MIDI; `_batch`: `batch`;
* `_display`: progress as plain lines or drawn live; `_text`: terminal-safe text, JSON;
* `_exits`: exit statuses, error messages and hints; `_session`: Ctrl-C's report;
* `_main`: `main`, which ties them together.

Exit statuses: 0 success, 1 an API or network error (the message names the class and
HTTP status), 2 a usage error (bad arguments or input, no API key), 3 a job failed
upstream, 4 a wait timed out (the job may still finish), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

from musicapi._cli._main import main

__all__ = ["main"]
