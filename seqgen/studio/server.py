"""uvicorn as the studio runs it: at most MAX_CONNECTIONS at once, and connections that do not send a whole
request head in time closed (uvicorn itself waits for ever; bodies are timed by the app's Guard)."""

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_CONNECTIONS = 64  # open connections and requests at once; more are answered 503
HEAD_TIMEOUT = 10.0  # seconds for a request's head, from the connection's start or its previous answer


class HeadTimeoutProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request head is not complete HEAD_TIMEOUT
    seconds after it opened or after its last response."""

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_late)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_timer.cancel()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._head_timer.cancel()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_late)

    def connection_lost(self, exc) -> None:
        self._head_timer.cancel()
        super().connection_lost(exc)

    def _head_late(self) -> None:
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def config(app, **options) -> uvicorn.Config:
    """The uvicorn config serving ``app`` (``options``: more uvicorn settings, such as host and port)."""
    return uvicorn.Config(
        app,
        http=HeadTimeoutProtocol,
        limit_concurrency=MAX_CONNECTIONS,
        log_level="warning",
        access_log=False,
        **options,
    )
