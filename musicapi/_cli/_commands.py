"""The small commands and `generate`: `credits`, `get`, `wait` and `generate`.

Each is a coroutine given the `Command` of its run; it returns the exit status, and an
API error it does not handle itself propagates to `main`, which prints it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from musicapi._cli._exits import EXIT_JOB_FAILED, EXIT_OK, worst
from musicapi._cli._text import clip_json, clip_line, print_json, shown
from musicapi._errors import MusicAPIError
from musicapi._models import TaskState

if TYPE_CHECKING:
    from musicapi._cli._command import Command, Song

__all__ = ["credits", "generate", "get", "wait"]


async def credits(command: Command) -> int:
    """`musicapi credits`: both pools and their total."""
    balance = await command.client.get_credits()
    if command.json:
        print_json(
            {
                "credits": balance.credits,
                "extra_credits": balance.extra_credits,
                "total": balance.total,
            }
        )
    else:
        print(f"credits:       {balance.credits:g}")
        print(f"extra credits: {balance.extra_credits:g}")
        print(f"total:         {balance.total:g}")
    return EXIT_OK


async def get(command: Command) -> int:
    """`musicapi get`: one poll; a failed task exits 3, like every failed job."""
    task = await command.client.sonic.get(command.args.task_id)
    if command.json:
        print_json(
            {
                "task_id": task.task_id,
                "state": task.state,
                "reason": task.reason,
                "clips": [clip_json(clip) for clip in task.clips],
            }
        )
    else:
        reason = f" ({shown(task.reason, 200)})" if task.reason else ""
        print(f"task {task.task_id}: {task.state}{reason}")
        for clip in task.clips:
            print(clip_line(clip))
    return EXIT_JOB_FAILED if task.state == TaskState.FAILED else EXIT_OK


async def wait(command: Command) -> int:
    """`musicapi wait`: poll until done, drawing progress; print the songs' URLs."""
    with command.display:
        result = await command.wait(command.args.task_id)
    if command.json:
        print_json(
            {
                "task_id": result.task_id,
                "state": TaskState.SUCCEEDED,
                "clips": [clip_json(clip) for clip in result.clips],
            }
        )
    else:
        print(f"task {result.task_id}: succeeded")
        for clip in result.clips:
            print(clip_line(clip))
    return EXIT_OK


async def generate(command: Command, fields: dict[str, Any]) -> int:
    """`musicapi generate`: create, wait with progress, save, and sum up.

    Creates are sent one by one and each task id is kept as soon as it is known
    (Ctrl-C prints them); then every task is waited for at once, and a task that
    fails does not stop the others.
    """
    before = await command.balance()
    songs: list[Song] = []
    with command.display:
        await _submit(command, fields)
        async with anyio.create_task_group() as group:
            for task_id in command.session.submitted:
                group.start_soon(_finish_task, command, task_id, songs)
    after = await command.balance()
    summary = command.credits_summary(before, after)
    saved = sum(1 for song in songs if song.files)
    out = command.args.out
    if command.json:
        print_json(
            {
                "task_ids": command.session.submitted,
                "songs": [song.as_json(command.session.sandbox) for song in songs],
                "saved": saved,
                "out": out,
                **summary,
            }
        )
    else:
        print(f"{saved} songs saved in {out}; {command.credits_text(summary)}")
    return worst(command.codes)


async def _submit(command: Command, fields: dict[str, Any]) -> None:
    """Create the generations one after another, remembering each task id at once."""
    for _ in range(command.args.count):
        try:
            submission = await command.client.sonic.create(**fields)
        except MusicAPIError as exc:
            if not command.session.submitted:
                raise
            command.fail(exc)
            return
        command.session.submitted.append(submission.task_id)
        command.display.note(f"submitted task {submission.task_id}")


async def _finish_task(command: Command, task_id: str, songs: list[Song]) -> None:
    """Wait for one task and save its songs, printing each as it is saved."""
    try:
        result = await command.wait(task_id)
    except MusicAPIError as exc:
        command.fail(exc)
        return
    for clip in result.clips:
        song = await command.save(task_id, clip, ("audio",))
        songs.append(song)
        if not command.json and song.files:
            command.display.result(song.line())
