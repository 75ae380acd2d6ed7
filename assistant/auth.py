"""Optional access control (`ASSISTANT_AUTH=user:password`): Gradio's login form for the chat,
and the same credentials for the app's own routes — HTTP basic, a bearer token (what OpenAI
clients send as their API key), or the session cookie Gradio's login set in the browser."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from fastapi import HTTPException, Request

from assistant.settings import Settings


class Authorizer:
    def __init__(self, settings: Settings) -> None:
        self.credentials = settings.credentials
        self.gradio: Any = None  # the mounted Gradio app, for its login cookies

    def __call__(self, request: Request) -> None:
        if self.credentials is None or self._header_ok(request.headers.get("authorization", "")):
            return
        if self.gradio is not None:
            cookie_id = self.gradio.cookie_id
            token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
                f"access-token-unsecure-{cookie_id}"
            )
            if token and token in self.gradio.tokens:
                return
        raise HTTPException(
            401, "authentication required", headers={"WWW-Authenticate": 'Basic realm="assistant"'}
        )

    def _header_ok(self, header: str) -> bool:
        assert self.credentials is not None
        user, password = self.credentials
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return secrets.compare_digest(value.strip(), password) or secrets.compare_digest(
                value.strip(), f"{user}:{password}"
            )
        if scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            return secrets.compare_digest(given, f"{user}:{password}")
        return False
