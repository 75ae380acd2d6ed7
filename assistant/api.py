"""The web server: FastAPI routes (health, the article view, the OpenAI-compatible API under /v1)
with the Gradio chat mounted at `/`. OpenAPI schema at /docs.

One process, one `ModelChains`: the UI and the HTTP routes share its chains, index and models.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import gradio as gr
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.routing import Mount

from assistant.articles import load_article, render_article, render_missing
from assistant.auth import Authorizer, remember_visitor
from assistant.conversations import ConversationStore
from assistant.llm import describe_generator
from assistant.openai_api import create_router
from assistant.server_memory import sweep_sessions
from assistant.service import ModelChains
from assistant.settings import Settings
from assistant.ui import build_ui


def create_app(settings: Settings, models: ModelChains | None = None) -> FastAPI:
    models = models or ModelChains(settings)
    store = ConversationStore(settings.conversations_file)
    authorize = Authorizer(settings)
    app = FastAPI(title="Articles assistant", description="Cited answers about a collection of articles.")
    app.include_router(create_router(models, store), dependencies=[Depends(authorize)])

    if settings.credentials is None:

        @app.middleware("http")
        async def visitor_cookie(
            request: Request, call_next: Callable[[Request], Awaitable[Response]]
        ) -> Response:
            response = await call_next(request)
            remember_visitor(request, response)
            return response

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {
            "status": "ok",
            "generator": settings.generator,
            "model": describe_generator(settings),
            "default_model": models.default_id,
        }

    @app.get("/articles/{source_id}", response_class=HTMLResponse, dependencies=[Depends(authorize)])
    def article(
        source_id: str,
        start: int | None = Query(None, ge=0),
        end: int | None = Query(None, ge=0),
        quote_start: int | None = Query(None, ge=0),
        quote_end: int | None = Query(None, ge=0),
    ) -> HTMLResponse:
        found = load_article(settings, source_id, start, end, quote_start, quote_end)
        if found is None:
            return HTMLResponse(render_missing(source_id), status_code=404)
        return HTMLResponse(render_article(found))

    blocks = build_ui(settings, models, store)
    app = gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        auth=settings.credentials,
        auth_message="Sign in to ask the articles.",
    )
    authorize.gradio = next(route.app for route in app.routes if isinstance(route, Mount))
    sweep_sessions(app, blocks)
    return app
