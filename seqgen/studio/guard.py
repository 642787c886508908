"""The studio's guard: only same-origin requests change anything. :class:`Guard` refuses a cross-site ``Origin``
or ``Sec-Fetch-Site``, every POST must carry a type no HTML form or no-cors fetch can send (``application/json``,
or ``audio/midi`` for a dropped file), a request body may not stall, and every answer carries the security
headers (a content security policy that loads nothing from elsewhere).
"""

import asyncio

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse


READ_TIMEOUT = 10.0  # seconds a request body may pause
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class Guard:
    """ASGI middleware: security headers on every answer, cross-site requests that change anything refused
    (403), and request bodies that pause longer than READ_TIMEOUT refused (408)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_guarded(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        refusal = self._refusal(scope)
        if refusal:
            return await JSONResponse({"error": refusal}, status_code=403)(scope, receive, send_guarded)
        body_done = False

        async def receive_in_time():
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), READ_TIMEOUT)
            except TimeoutError:
                raise HTTPException(
                    408, f"the request body did not arrive within {READ_TIMEOUT:g} s", headers={"connection": "close"}
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_in_time, send_guarded)

    @staticmethod
    def _refusal(scope) -> str:
        """Why a request from another site is refused; empty when it is same-origin or changes nothing."""
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return ""
        headers = Headers(scope=scope)
        site = headers.get("sec-fetch-site")
        if site is not None and site != "same-origin":
            return f"requests from other sites ({site[:20]}) cannot change anything here"
        origin = headers.get("origin")
        if origin is not None and origin != f"{scope.get('scheme', 'http')}://{headers.get('host', '')}":
            return f"requests from {origin[:60]} cannot change anything here"
        return ""
