"""Bounded memory for a long-running server: Gradio's per-session bookkeeping, malloc's arenas.

Gradio 6 keeps a record of each of the last 10,000 events for its monitoring dashboard (about 1 KB
each, so the server grew through the first 10,000 answers); 1,000 are kept here. It also keeps
three things per session: its component state (`state_holder`, bounded by
`state_session_capacity`), a message queue (`pending_messages_per_session`, an LRU of 2,000) and
a set of pending event ids (`pending_event_ids_session`, a plain dict that keeps an empty set
after every finished session). The last two outlive the first: every chat API client or browser
tab that ever asked leaves them behind, and the server grew with the number of sessions seen
(`bench/load.py`). The conversations themselves live in the conversation store, so what a session
that has nothing pending and no live state left behind can go.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

SWEEP_SECONDS = 10.0
ANALYTICS_EVENTS = 1_000
_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas (as MALLOC_ARENA_MAX does) before the server's threads start.

    Under load every worker thread may get an arena of its own and keep what it freed: with 20
    sessions for 4 minutes the server grew 408 -> 456 MB with the default and stayed at 434-436 MB
    after its first minute with two arenas. Returns whether the cap was set (not on other libcs)."""
    libc = _libc() if arenas > 0 else None
    try:
        return bool(libc and libc.mallopt(_M_ARENA_MAX, arenas))
    except AttributeError:
        return False


def forget_finished_sessions(blocks: gr.Blocks) -> int:
    """Drop the queue bookkeeping of sessions with no pending event whose state Gradio has already
    evicted (or never kept); returns how many were dropped. Run it on the server's event loop,
    where Gradio changes these structures."""
    queue = blocks._queue
    live = blocks.state_holder.session_data if hasattr(blocks, "state_holder") else {}
    finished = [
        session
        for session, pending in list(queue.pending_event_ids_session.items())
        if not pending and session not in live
    ]
    for session in finished:
        queue.pending_event_ids_session.pop(session, None)
        queue.pending_messages_per_session.pop(session, None)
    return len(finished)


@functools.cache  # loaded once, not at every sweep
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def return_freed_memory() -> bool:
    """Give the heap's free pages back to the system (glibc's `malloc_trim`): what the server
    freed after a burst of requests otherwise stays in its RSS, scattered among live blocks."""
    libc = _libc()
    try:
        return bool(libc and libc.malloc_trim(0))
    except AttributeError:
        return False


async def _sweep_forever(blocks: gr.Blocks, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        forget_finished_sessions(blocks)
        await asyncio.to_thread(return_freed_memory)


def sweep_sessions(app: Any, blocks: gr.Blocks, every: float = SWEEP_SECONDS) -> None:
    """Run `forget_finished_sessions` every `every` seconds while `app` (a FastAPI app with
    `blocks` mounted) is serving, and keep fewer events for Gradio's monitoring."""
    blocks._queue.ANALYTICS_MAX_EVENTS = min(blocks._queue.ANALYTICS_MAX_EVENTS, ANALYTICS_EVENTS)
    serving = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with serving(app_) as state:
            task = asyncio.create_task(_sweep_forever(blocks, every))
            try:
                yield state
            finally:
                task.cancel()

    app.router.lifespan_context = lifespan
