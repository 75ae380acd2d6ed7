"""Optional access control (`ASSISTANT_AUTH=user:password[,user:password…]`): Gradio's login form
for the chat, and the same credentials for the app's own routes — HTTP basic, a bearer token (what
OpenAI clients send as their API key: the password, or `user:password`), or the session cookie
Gradio's login set in the browser. The user it finds is kept in `request.state.user` ("" when
the app is open), so conversations are kept per user.

Without sign-in, each browser still gets its own anonymous identity, a random cookie: it sees
only the conversations it saved, as it would in any chat product.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from fastapi import HTTPException, Request, Response

from assistant.settings import Settings


class Authorizer:
    def __init__(self, settings: Settings) -> None:
        self.credentials = settings.credentials
        self.gradio: Any = None  # the mounted Gradio app, for its login cookies

    def __call__(self, request: Request) -> None:
        user = self.user_of(request)
        if user is None:
            raise HTTPException(
                401, "authentication required", headers={"WWW-Authenticate": 'Basic realm="assistant"'}
            )
        request.state.user = user

    def user_of(self, request: Request) -> str | None:
        """Who sent `request`: "" when the app is open, None when nobody known did."""
        if self.credentials is None:
            return ""
        user = self._from_header(request.headers.get("authorization", ""))
        if user is None and self.gradio is not None:
            cookie_id = self.gradio.cookie_id
            token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(
                f"access-token-unsecure-{cookie_id}"
            )
            if token and token in self.gradio.tokens:
                user = str(self.gradio.tokens[token])
        return user

    def _from_header(self, header: str) -> str | None:
        assert self.credentials is not None
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            try:
                value = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
        elif scheme.lower() != "bearer":
            return None
        found = None
        for user, password in self.credentials:  # every pair compared: no early exit to time
            full = secrets.compare_digest(value, f"{user}:{password}")
            bare = scheme.lower() == "bearer" and secrets.compare_digest(value, password)
            if (full or bare) and found is None:
                found = user
        return found


VISITOR_COOKIE = "assistant_visitor"
VISITOR_PREFIX = "visitor:"
_VISITOR_SECONDS = 400 * 24 * 3600  # the longest lifetime browsers keep a cookie for


def visitor_of(cookies: dict[str, str]) -> str:
    """The anonymous identity a browser's cookie gives ("" without one: an API client, the CLI)."""
    token = cookies.get(VISITOR_COOKIE, "")
    return f"{VISITOR_PREFIX}{token}" if token.isalnum() and 16 <= len(token) <= 64 else ""


def remember_visitor(request: Request, response: Response) -> None:
    """Give a browser that has no identity cookie one (random, unguessable, not readable by scripts)."""
    if not visitor_of(dict(request.cookies)):
        response.set_cookie(
            VISITOR_COOKIE, secrets.token_hex(16), max_age=_VISITOR_SECONDS, httponly=True, samesite="lax"
        )
