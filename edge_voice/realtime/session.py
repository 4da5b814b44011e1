"""RealtimeSession: the websocket client for the OpenAI Realtime API (GA and beta) or the simulator.

Only the URL differs between the real endpoint and the simulator. `connect()` opens the socket,
waits for `session.created`, sends the session.update built for the model's protocol and waits
for `session.updated`; every way this can fail raises one typed error from `errors`. After
that, `events()` yields normalized internal events; recoverable server errors arrive as
`ServerError` events and never end the session.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Final, Literal, Self

from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from edge_voice import __version__
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.errors import (
    MODEL_REFUSAL_CODES,
    ConnectError,
    ConnectTimeout,
    Phase,
    RealtimeError,
    RedactAuthorization,
    SessionClosedError,
    SessionExpiredError,
    classify_error,
    classify_http_status,
)
from edge_voice.realtime.model_spec import WireModel
from edge_voice.realtime.protocol import (
    DEFAULT_BASE_URL,
    ClientEvent,
    ConversationItemCreate,
    ConversationItemTruncate,
    Normalizer,
    ResponseCancel,
    ResponseCreate,
    SessionUpdate,
    append_audio_json,
    build_headers,
    build_url,
    function_call_output_item,
    text_item,
)
from edge_voice.realtime.session_builders import SessionSettings, build_session_update

log = logging.getLogger(__name__)

#: Errors after which the service closes the socket right away (reference §1, §7).
_CLOSING_CODES = MODEL_REFUSAL_CODES | {"invalid_api_key", "session_expired"}
_MAX_MESSAGE_BYTES = 16 * 2**20  # retrieved items can carry whole audio clips


#: The websocket library's frame dumps (every audio chunk): a logger of their own, so DEBUG
#: stays readable; `-vv` shows them.
FRAME_LOGGER: Final = f"{__name__}.websocket"
_WS_LOGGER = logging.getLogger(FRAME_LOGGER)
_WS_LOGGER.addFilter(RedactAuthorization())


class RealtimeSession:
    """One realtime conversation session over a websocket; usable as `async with`."""

    def __init__(
        self,
        settings: SessionSettings,
        model: WireModel,
        *,
        api_key: SecretStr | str | None,
        base_url: str = DEFAULT_BASE_URL,
        connect_timeout_s: float = 10.0,
        setup_timeout_s: float = 10.0,
        close_grace_s: float = 2.0,
        ping_interval_s: float | None = 20.0,
        ping_timeout_s: float | None = 20.0,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.url = build_url(base_url, model.name)
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key or "")
        self._extra_headers = dict(extra_headers or {})
        self._connect_timeout_s = connect_timeout_s
        self._setup_timeout_s = setup_timeout_s
        self._close_grace_s = close_grace_s
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s
        self._ws: ClientConnection | None = None
        self._normalizer = Normalizer()
        self._pending: deque[ev.RealtimeEvent] = deque()
        self._last_error: ev.ServerError | None = None
        self._closing = False
        #: Seconds from the start of connect() to the websocket being open (TCP+TLS+upgrade).
        self.connect_time_s: float | None = None
        #: Seconds from the start of connect() to session.updated: the session is usable.
        self.session_ready_time_s: float | None = None
        self.close_code: int | None = None

    def __repr__(self) -> str:
        state = "open" if self.connected else "closed"
        return f"RealtimeSession(model={self.model.name!r}, url={self.url!r}, {state})"

    @property
    def connected(self) -> bool:
        """Whether the socket is open and not being closed by us."""
        return self._ws is not None and not self._closing and self.close_code is None

    # --- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _secrets(self) -> tuple[str, ...]:
        key = self._api_key.get_secret_value()
        return (key,) if key else ()

    async def connect(self) -> None:
        """Open the socket, await session.created, apply the settings, await session.updated."""
        if self._ws is not None or self._closing:
            raise SessionClosedError(
                "a RealtimeSession connects once; make a new one", model=self.model.name
            )
        update = SessionUpdate(session=build_session_update(self.settings, self.model)["session"])
        headers = build_headers(self._api_key.get_secret_value() or None, self.model.protocol)
        headers.update(self._extra_headers)
        started = time.monotonic()
        self._ws = await self._open(headers)
        self.connect_time_s = time.monotonic() - started
        try:
            await self._await_setup(ev.SessionCreated, "handshake")
            await self._ws.send(update.to_json())
            await self._await_setup(ev.SessionUpdated, "setup")
        except ConnectionClosed as exc:  # closed while we were sending the update
            await self._abort()
            raise self._closed_error(exc, "setup") from None
        except BaseException:
            await self._abort()
            raise
        self.session_ready_time_s = time.monotonic() - started
        log.info(
            "realtime: %s session ready in %.3f s (socket %.3f s)",
            self.model.name,
            self.session_ready_time_s,
            self.connect_time_s,
        )

    async def _open(self, headers: dict[str, str]) -> ClientConnection:
        secrets, name = self._secrets(), self.model.name
        try:
            return await connect(
                self.url,
                additional_headers=headers,
                user_agent_header=f"edge-voice/{__version__}",
                open_timeout=self._connect_timeout_s,
                ping_interval=self._ping_interval_s,
                ping_timeout=self._ping_timeout_s,
                # Base64 PCM barely compresses; deflate would only cost CPU on a Pi.
                compression=None,
                max_size=_MAX_MESSAGE_BYTES,
                logger=_WS_LOGGER,
            )
        except InvalidStatus as exc:
            response = exc.response
            raise classify_http_status(
                response.status_code, response.body, model=name, secrets=secrets
            ) from None
        except TimeoutError:
            raise ConnectTimeout(
                f"no websocket upgrade from {self.url} within {self._connect_timeout_s} s",
                phase="connect",
                model=name,
            ) from None
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            raise ConnectError(
                f"cannot open {self.url}: {type(exc).__name__}: {exc}", model=name, secrets=secrets
            ) from None

    async def _await_setup(
        self, wanted: type[ev.SessionCreated | ev.SessionUpdated], phase: Phase
    ) -> None:
        assert self._ws is not None
        waiting_for = "session.created" if phase == "handshake" else "session.updated"
        try:
            async with asyncio.timeout(self._setup_timeout_s):
                while True:
                    event = self._normalizer.feed(await self._ws.recv())
                    if event is None:
                        continue
                    if isinstance(event, ev.ServerError):
                        failure = event
                        break
                    self._pending.append(event)
                    if isinstance(event, wanted):
                        return
        except ConnectionClosed as exc:
            raise self._closed_error(exc, phase) from None
        except TimeoutError:
            raise ConnectTimeout(
                f"no {waiting_for} within {self._setup_timeout_s} s",
                phase=waiting_for,
                model=self.model.name,
            ) from None
        # Outside the setup timeout, so the close that follows the error is still read.
        raise await self._setup_failure(failure, phase)

    async def _setup_failure(self, error: ev.ServerError, phase: Phase) -> RealtimeError:
        """Classify an error event during connect, after reading the close that may follow."""
        assert self._ws is not None
        code: int | None = None
        reason = ""
        if phase == "handshake" or error.code in _CLOSING_CODES:
            # The service sends the error, then closes (3000/4000); the code refines the class.
            try:
                async with asyncio.timeout(self._close_grace_s):
                    while True:
                        await self._ws.recv()
            except ConnectionClosed as exc:
                code, reason = _close_info(exc)
                self.close_code = code
            except TimeoutError:
                pass
        log.warning(
            "realtime: %s refused during %s: %s/%s (close %s)",
            self.model.name,
            phase,
            error.type,
            error.code,
            code,
        )
        return classify_error(
            error, code, reason, phase=phase, model=self.model.name, secrets=self._secrets()
        )

    def _closed_error(self, exc: ConnectionClosed, phase: Phase) -> RealtimeError:
        code, reason = _close_info(exc)
        self.close_code = code
        return classify_error(
            self._last_error,
            code,
            reason,
            phase=phase,
            model=self.model.name,
            secrets=self._secrets(),
        )

    async def _abort(self) -> None:
        ws, self._closing = self._ws, True
        if ws is not None:
            try:
                async with asyncio.timeout(self._close_grace_s):
                    await ws.close()
            except (TimeoutError, OSError, ConnectionClosed):
                ws.transport.abort()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the session cleanly (idempotent); `events()` then ends without an error."""
        if self._ws is None or self._closing:
            self._closing = True
            return
        self._closing = True
        try:
            await self._ws.close(code, reason)
        finally:
            if self.close_code is None:
                self.close_code = code

    # --- receiving ----------------------------------------------------------------------------

    async def events(self) -> AsyncIterator[ev.RealtimeEvent]:
        """Normalized server events until close(); raises the typed error if the server closes."""
        ws = self._require_ws()
        while self._pending:
            yield self._pending.popleft()
        while True:
            try:
                message = await ws.recv()
            except ConnectionClosed as exc:
                if self._closing:
                    return
                error = self._closed_error(exc, "session")
                # The maximum duration is routine: the caller opens a new session.
                level = logging.INFO if isinstance(error, SessionExpiredError) else logging.WARNING
                log.log(level, "realtime: %s session ended: %r", self.model.name, error)
                raise error from None
            event = self._normalizer.feed(message)
            if event is None:
                continue
            if isinstance(event, ev.ServerError):
                # Only an error right before a close explains the close.
                self._last_error = event
                log.info("realtime: server error %s/%s: %s", event.type, event.code, event.message)
            else:
                self._last_error = None
            yield event

    # --- sending ------------------------------------------------------------------------------

    def _require_ws(self) -> ClientConnection:
        if self._ws is None:
            raise SessionClosedError("session is not connected", model=self.model.name)
        if self._closing:
            raise SessionClosedError("session is closed", model=self.model.name)
        return self._ws

    async def _send(self, text: str) -> None:
        ws = self._require_ws()
        try:
            await ws.send(text)
        except ConnectionClosed as exc:
            if self._closing:
                raise SessionClosedError("session is closed", model=self.model.name) from None
            raise self._closed_error(exc, "session") from None

    async def send_event(self, event: ClientEvent) -> None:
        """Send any typed client event (for what has no helper: MCP approvals, images...)."""
        await self._send(event.to_json())

    async def append_audio(self, pcm: bytes) -> None:
        """Stream user audio: 24 kHz mono PCM16 little-endian bytes."""
        if len(pcm) % 2:
            raise ValueError(f"PCM16 audio needs an even number of bytes, got {len(pcm)}")
        if pcm:
            await self._send(append_audio_json(pcm))

    async def create_text_item(
        self, text: str, role: Literal["user", "assistant", "system"] = "user"
    ) -> None:
        """Add a text message to the conversation."""
        item = text_item(text, role, self.model.protocol)
        await self.send_event(ConversationItemCreate(item=item))

    async def create_function_call_output(self, call_id: str, output: str) -> None:
        """Answer a function call; follow with create_response() for the model to speak."""
        await self.send_event(
            ConversationItemCreate(item=function_call_output_item(call_id, output))
        )

    async def create_response(self, response: dict[str, Any] | None = None) -> None:
        """Ask the model to respond with the session's settings (`response`: overrides)."""
        await self.send_event(ResponseCreate(response=response))

    async def cancel_response(self, response_id: str | None = None) -> None:
        """Stop the active response (or the given one)."""
        await self.send_event(ResponseCancel(response_id=response_id))

    async def truncate_item(self, item_id: str, audio_end_ms: int, content_index: int = 0) -> None:
        """Cut an assistant audio item back to what was actually played (barge-in)."""
        await self.send_event(
            ConversationItemTruncate(
                item_id=item_id, content_index=content_index, audio_end_ms=max(0, audio_end_ms)
            )
        )


def _close_info(exc: ConnectionClosed) -> tuple[int, str]:
    # No close frame received means the connection dropped: RFC 6455 calls that 1006.
    if exc.rcvd is not None:
        return exc.rcvd.code, exc.rcvd.reason
    return 1006, ""
