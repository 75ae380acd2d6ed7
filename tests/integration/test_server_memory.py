"""Gradio's per-session bookkeeping stays bounded: a real Gradio app mounted on FastAPI, served by
uvicorn on 127.0.0.1, asked by many `gradio_client` sessions that each come once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import gradio as gr
import pytest
import uvicorn
from fastapi import FastAPI
from gradio_client import Client

from assistant.server_memory import limit_malloc_arenas, sweep_sessions
from tests.servers import free_port


@pytest.fixture
def served_echo() -> Iterator[tuple[str, gr.Blocks]]:
    with gr.Blocks() as blocks:
        box = gr.Textbox()
        out = gr.Textbox()
        box.submit(lambda text: text.upper(), box, out, api_name="shout")
    blocks.state_session_capacity = 10
    app = gr.mount_gradio_app(FastAPI(), blocks, path="/")
    sweep_sessions(app, blocks, every=0.2)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", blocks
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_sessions_that_came_and_went_leave_no_queue_bookkeeping(served_echo: tuple[str, gr.Blocks]) -> None:
    url, blocks = served_echo
    client = Client(url, verbose=False)
    for n in range(30):
        assert client.predict(f"hello {n}", api_name="/shout") == f"HELLO {n}"
        client.reset_session()  # the next question comes from a new session
    time.sleep(1.0)  # a few sweeps
    queue = blocks._queue
    live = set(blocks.state_holder.session_data)
    assert len(live) <= 10
    assert set(queue.pending_event_ids_session) <= live  # without the sweep: all 30 sessions
    assert set(queue.pending_messages_per_session) <= live
    assert queue.ANALYTICS_MAX_EVENTS == 1_000  # Gradio's default: 10,000 events, ~1 KB each


def test_the_malloc_arena_cap_is_set_on_glibc_and_can_be_left_alone() -> None:
    assert limit_malloc_arenas(0) is False
    assert limit_malloc_arenas(2) is True  # Debian's glibc
