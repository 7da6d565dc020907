"""A base for the app's small ASGI middlewares that only edit a response's start (its headers)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

StartEditor = Callable[[Message], None]


class ResponseStartMiddleware:
    """Calls :meth:`prepare` for each HTTP request; the editor it returns (if any) changes the
    ``http.response.start`` message before it is sent. Other scopes pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def prepare(self, scope: Scope) -> StartEditor | None:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        edit = self.prepare(scope) if scope["type"] == "http" else None
        if edit is None:
            await self.app(scope, receive, send)
            return

        async def send_edited(message: Message) -> None:
            if message["type"] == "http.response.start":
                edit(message)
            await send(message)

        await self.app(scope, receive, send_edited)
