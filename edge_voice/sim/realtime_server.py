"""Offline stand-in for the OpenAI Realtime endpoint: the websocket server, auth and refusals.

Usage::

    async with RealtimeSimulator(SimConfig(pacing=0)) as sim:
        url = f"{sim.url}?model=gpt-realtime"   # ws://127.0.0.1:<port>/v1/realtime

The simulator follows a calendar (`SimConfig.today`, default the real date): a model past its
catalog shutdown gets `model_not_found` then close 4000, and the `OpenAI-Beta: realtime=v1`
header past the beta interface's shutdown gets `beta_api_shape_disabled` then close 4000.

The wire shape follows the `OpenAI-Beta: realtime=v1` header, as the real service did: with it
the beta shape, without it GA. A beta-protocol model (the previews) reached without the header is
served in the GA shape; proxies that kept the previews alive behaved that way, and it lets the
fallback path be tested on either shape.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from edge_voice.models.catalog import Lifecycle, ModelCatalog, default_catalog
from edge_voice.sim import wire
from edge_voice.sim.config import SimConfig
from edge_voice.sim.connection import RealtimeConnection
from edge_voice.sim.observe import ConnectionRecord, Observer, redact_key
from edge_voice.sim.scenario import Scenario, default_scenario

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Append events may carry up to 15 MiB of base64 audio.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class Refusal(Exception):
    """A connect-time refusal: one error event, then a close with `close_code`."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


class RealtimeSimulator:
    """The simulator server; an async context manager, or start()/stop()."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        catalog: ModelCatalog | None = None,
        scenario: Scenario | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self.catalog = catalog or default_catalog()
        #: Used by connections opened after it is set.
        self.scenario = scenario or default_scenario()
        self.observer = Observer()
        self._server: Server | None = None
        self._live: set[RealtimeConnection] = set()

    async def __aenter__(self) -> RealtimeSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on config.host:config.port (0: a free port)."""
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            max_size=MAX_MESSAGE_BYTES,
        )
        log.info("simulator listening on %s", self.url)

    async def stop(self) -> None:
        """Close every connection (1001) and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        """Serve until cancelled (start() first, or use it inside `async with`)."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    @property
    def port(self) -> int:
        """The port actually listened on."""
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def url(self) -> str:
        """ws://host:port/v1/realtime; append `?model=...`."""
        host = self.config.host
        if host in ("", "0.0.0.0", "::"):  # noqa: S104 — naming the wildcard, not binding it
            host = "127.0.0.1"
        return f"ws://{host}:{self.port}/v1/realtime"

    def expire_sessions(self) -> int:
        """End every open session now as the 60-minute limit does (`session_expired`, 1001);
        how many there were."""
        fresh = [conn for conn in self._live if not conn.expire_now.is_set()]
        for conn in fresh:
            conn.expire_now.set()
        return len(fresh)

    @property
    def connections(self) -> list[ConnectionRecord]:
        """Every connection attempt so far, oldest first (refused ones included)."""
        return self.observer.connections

    @property
    def connection_count(self) -> int:
        """How many connections were attempted."""
        return len(self.observer.connections)

    @property
    def received(self) -> list[tuple[int, dict[str, Any]]]:
        """(connection id, client event) for every valid JSON event received, per connection."""
        return [(c.id, e) for c in self.observer.connections for e in c.received]

    async def wait_for(self, condition: Callable[[], T | None], within: float = 5.0) -> T:
        """Wait until `condition()` is truthy (re-checked on every recorded event)."""
        return await self.observer.wait_for(condition, within)

    async def wait_for_received(
        self, event_type: str, within: float = 5.0, count: int = 1
    ) -> list[tuple[int, dict[str, Any]]]:
        """Wait until `count` client events of `event_type` have arrived; return them."""

        def matches() -> list[tuple[int, dict[str, Any]]] | None:
            """The matching events once there are enough."""
            found = [(cid, e) for cid, e in self.received if e.get("type") == event_type]
            return found if len(found) >= count else None

        return await self.wait_for(matches, within)

    def _new_record(self, request: Request, refused: str | None = None) -> ConnectionRecord:
        query = parse_qs(urlsplit(request.path).query)
        record = ConnectionRecord(
            id=len(self.observer.connections) + 1,
            path=request.path,
            model=query.get("model", [None])[0],
            protocol="beta" if _is_beta(request.headers) else "ga",
            headers=_safe_headers(request.headers),
            refused=refused,
            closed=refused is not None,
        )
        self.observer.connections.append(record)
        self.observer.notify()
        return record

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path.rstrip("/")
        if not path.endswith("/realtime"):
            return _json_response(connection, HTTPStatus.NOT_FOUND, "not_found", "Not found.")
        model = parse_qs(urlsplit(request.path).query).get("model", [None])[0]
        if model is not None and model in self.config.forbid_models:
            self._new_record(request, refused="forbidden")
            log.info("fault: HTTP 403 for model %s", model)
            return _json_response(
                connection,
                HTTPStatus.FORBIDDEN,
                "model_not_found",
                f"The model `{model}` does not exist or you do not have access to it.",
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None  # the handshake is over when the handler runs
        record = self._new_record(request)
        try:
            model = self._admit(request, record)
            if model in self.config.stall_models:
                record.refused = "stalled"
                await ws.wait_closed()
                return
            conn = RealtimeConnection(
                ws,
                record,
                self.observer,
                self.config,
                self.catalog.get(model),
                "beta" if record.protocol == "beta" else "ga",
                self.scenario,
            )
            self._live.add(conn)
            try:
                await conn.run()
            finally:
                self._live.discard(conn)
        except Refusal as refusal:
            record.refused = refusal.code
            log.info("refusing connection %d: %s", record.id, refusal.code)
            event = {"event_id": wire.new_id("event")}
            event.update(wire.error_event(refusal.code, refusal.message))
            record.sent.append(event)
            try:
                await ws.send(json.dumps(event))
                await ws.close(refusal.close_code, f"invalid_request_error.{refusal.code}")
            except ConnectionClosed:
                pass
        finally:
            record.closed = True
            self.observer.notify()

    def _admit(self, request: Request, record: ConnectionRecord) -> str:
        """The model to serve, or a Refusal in the order the real service checks."""
        cfg = self.config
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not key:
            raise Refusal(
                "invalid_api_key",
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                3000,
            )
        if cfg.api_keys is not None and key not in cfg.api_keys:
            raise Refusal(
                "invalid_api_key",
                f"Incorrect API key provided: {redact_key(key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                3000,
            )
        today = cfg.date()
        beta_gone = _past(self.catalog.protocol_lifecycle("beta"), today)
        if record.protocol == "beta" and (cfg.beta_disabled or beta_gone):
            raise Refusal(
                "beta_api_shape_disabled",
                "The Realtime Beta API is no longer supported. "
                "Please use /v1/realtime for the GA API.",
                4000,
            )
        model = record.model
        if not model:
            raise Refusal("missing_model", "Missing required parameter: 'model'.", 4000)
        if model in cfg.refuse_models or model not in self.catalog:
            raise Refusal(
                "invalid_model", f'Model "{model}" is not supported in realtime mode.', 4000
            )
        if model in cfg.not_found_models or _past(self.catalog.get(model).lifecycle, today):
            raise Refusal(
                "model_not_found",
                f"The model `{model}` does not exist or you do not have access to it.",
                4000,
            )
        return model


def _past(lifecycle: Lifecycle, today: dt.date) -> bool:
    """Whether the real service no longer serves it on `today` (shut down)."""
    return lifecycle.shutdown is not None and today >= lifecycle.shutdown


def _is_beta(headers: Headers) -> bool:
    values = headers.get_all("OpenAI-Beta")
    return any("realtime=v1" in v.replace(" ", "").lower() for v in values)


def _safe_headers(headers: Headers) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.raw_items():
        if name.lower() == "authorization":
            scheme, _, key = value.partition(" ")
            value = f"{scheme} {redact_key(key.strip())}"
        out[name] = value
    return out


def _json_response(
    connection: ServerConnection, status: HTTPStatus, code: str, message: str
) -> Response:
    body = {"error": {"type": "invalid_request_error", "code": code, "message": message}}
    response = connection.respond(status, json.dumps(body) + "\n")
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response
