"""The soak's real parts around the service: a restartable Mosquitto, an MCP server that can go
away and come back, and the flow (observer and function-call answerer) on the broker."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import uvicorn
from mcp.server.mcpserver import MCPServer

from bench.broker import free_port

#: A message as the soak counts it: its topic and a digest of its payload (whole payloads of
#: thousands of events would be the soak's own memory growth, inside the figure).
Key = tuple[str, bytes]


def message_key(topic: str, payload: bytes) -> Key:
    """The identity of one message: topic and payload digest (the payload has `ts` and ids)."""
    return topic, hashlib.blake2b(payload, digest_size=16).digest()


#: Faults of the function-call answerer (a Node-RED flow stand-in), applied to one call each.
FUNCTION_FAULTS = ("fn_slow", "fn_missing", "fn_duplicate", "fn_late")


class SoakBroker:
    """Mosquitto on a fixed loopback port, stopped (SIGTERM) and started again on that port.

    Persistence is on so that a persistent (clean_session=False) subscriber's session and its
    queued QoS 1 messages survive the restart, as they would on a deployed broker: what the
    device flushes right after it reconnects is queued for the observer until it is back.
    Each stop checks that the broker saved its database: one that could not (started as root,
    mosquitto drops to the `mosquitto` user, who cannot write the temp dir) forgets the
    observer's session, and the events queued for it would count as lost.
    """

    def __init__(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        self.binary = binary
        self.host, self.port = "127.0.0.1", free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="edge_voice_soak_mqtt_")
        self.conf = Path(self._dir.name) / "mosquitto.conf"
        self.database = Path(self._dir.name) / "mosquitto.db"
        user = "user root\n" if os.geteuid() == 0 else ""
        self.conf.write_text(
            f"{user}listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"persistence true\npersistence_location {self._dir.name}/\n"
            "max_queued_messages 100000\nset_tcp_nodelay true\n"
        )
        self._proc: asyncio.subprocess.Process | None = None
        #: monotonic times each stopped broker exited, for telling QoS 1 redeliveries apart.
        self.stops: list[float] = []

    async def start(self) -> None:
        """Start the broker; return once it accepts connections (10 s at most)."""
        self._proc = await asyncio.create_subprocess_exec(
            self.binary, "-c", str(self.conf),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with asyncio.timeout(10):
            while True:
                try:
                    _, writer = await asyncio.open_connection(self.host, self.port)
                except OSError:
                    await asyncio.sleep(0.05)  # polling a port that is not open yet
                    continue
                writer.close()
                await writer.wait_closed()
                return

    async def stop(self) -> None:
        """Stop it as a service manager would (SIGTERM: it saves its persistence and exits)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        saved = self.database.stat().st_mtime_ns if self.database.exists() else -1
        proc.terminate()
        try:
            async with asyncio.timeout(10):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
        # When it is gone, not when it was told to go: until it exits it still takes
        # publications (PUBACKs never sent), and their copies after the restart are its doing.
        self.stops.append(time.monotonic())
        if not self.database.exists() or self.database.stat().st_mtime_ns == saved:
            raise RuntimeError(f"mosquitto did not save its database ({self.database})")

    async def close(self) -> None:
        """Stop and remove its files."""
        await self.stop()
        self._dir.cleanup()


def _home_server(lights: dict[str, bool]) -> MCPServer:
    """A small home on MCP: a temperature sensor and a light switch."""
    mcp = MCPServer("soak-home")

    @mcp.tool(description="The living room temperature.")
    def get_temperature() -> str:
        return "21 degrees"

    @mcp.tool(description="Turn a light on or off.")
    def set_light(room: str, on: bool) -> str:
        lights[room] = on
        return f"{room} light is {'on' if on else 'off'}"

    return mcp


class McpHome:
    """A real MCP server (streamable HTTP, uvicorn) on a fixed port, taken away and brought back."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.lights: dict[str, bool] = {}
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def up(self) -> bool:
        """Whether it is serving."""
        return self._server is not None

    async def start(self) -> None:
        """Serve on the port; connections wait in the listening socket's backlog until then."""
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        app = _home_server(self.lights).streamable_http_app()
        # A short graceful stop, not force_exit: that skips the lifespan shutdown, and the
        # session manager of every stopped server would live on (in this process).
        config = uvicorn.Config(
            app, log_level="critical", lifespan="on", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        self._server = server
        self._task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))

    async def stop(self) -> None:
        """Take it away (the host went down): open streams are cut."""
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class Flow:
    """A Node-RED flow on the broker: records every event the device publishes and answers its
    function calls, with one armed fault at a time. A persistent session (clean_session=False,
    QoS 1) so nothing published while it reconnects after a broker restart is missed."""

    host: str
    port: int
    base: str
    deadline_s: float
    #: message key → monotonic arrival times, for every event and command answer seen.
    arrivals: dict[Key, list[float]] = field(default_factory=dict)
    #: Payloads of messages that arrived more than once (for the report).
    copies: dict[Key, str] = field(default_factory=dict)
    #: Distinct `event/response` messages and their costs summed (nano-USD).
    response_messages: int = 0
    response_cost_nusd: int = 0
    armed: list[str] = field(default_factory=list)
    applied: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    connects: int = 0
    _client: aiomqtt.Client | None = None
    _outgoing: asyncio.Queue[tuple[str, bytes]] = field(default_factory=asyncio.Queue)
    _pending: set[asyncio.Task[None]] = field(default_factory=set)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _identifier: str = field(default_factory=lambda: f"soak-flow-{uuid.uuid4().hex[:8]}")

    async def run(self) -> None:
        """Stay connected (reconnecting after a broker restart) until cancelled."""
        while True:
            try:
                async with aiomqtt.Client(
                    self.host, self.port, identifier=self._identifier, clean_session=False
                ) as client:
                    self._client = client
                    self.connects += 1
                    await client.subscribe(
                        [(f"{self.base}/event/#", 1), (f"{self.base}/response", 1)]
                    )
                    sender = asyncio.create_task(self._send(client))
                    try:
                        async for message in client.messages:
                            self._receive(message)
                    finally:
                        sender.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await sender
            except aiomqtt.MqttError:
                self._client = None
                await asyncio.sleep(0.1)  # reconnect backoff while the broker is away

    async def _send(self, client: aiomqtt.Client) -> None:
        # Answers wait here while the broker is away; one that fails is sent again.
        while True:
            topic, payload = await self._outgoing.get()
            try:
                await client.publish(topic, payload, qos=1)
            except aiomqtt.MqttError:
                self._outgoing.put_nowait((topic, payload))
                raise
            finally:
                self._outgoing.task_done()

    def _receive(self, message: aiomqtt.Message) -> None:
        payload = message.payload if isinstance(message.payload, bytes) else b""
        topic = message.topic.value
        key = message_key(topic, payload)
        times = self.arrivals.setdefault(key, [])
        times.append(time.monotonic())
        self._arrived.set()
        if len(times) > 1:
            self.copies[key] = payload.decode(errors="replace")[:300]
            return
        if topic == f"{self.base}/event/response":
            self.response_messages += 1
            self.response_cost_nusd += round(json.loads(payload)["cost_usd"] * 1e9)
        elif topic == f"{self.base}/event/function_call":
            self._call(json.loads(payload))

    def _call(self, call: dict[str, Any]) -> None:
        if call.get("answered_by") == "mcp":
            return  # run on the local MCP server: nobody on MQTT answers it
        self.calls += 1
        fault = self.armed.pop(0) if self.armed else "none"
        self.applied[fault] += 1
        task = asyncio.create_task(self._answer(call["call_id"], fault))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _answer(self, call_id: str, fault: str) -> None:
        # The sleeps are the flow's own timing (the fault being injected), not synchronisation.
        topic = f"{self.base}/function_call/result"
        payload = json.dumps({"call_id": call_id, "output": {"done": True}}).encode()
        if fault == "fn_missing":
            return
        if fault == "fn_slow":
            await asyncio.sleep(self.deadline_s * 0.6)
        elif fault == "fn_late":
            await asyncio.sleep(self.deadline_s + 0.5)
        self._outgoing.put_nowait((topic, payload))
        if fault == "fn_duplicate":
            self._outgoing.put_nowait((topic, payload))

    async def settled(self) -> None:
        """Return once every answer is sent (late ones included)."""
        while self._pending:
            await asyncio.wait(set(self._pending))
        await self._outgoing.join()

    async def wait_for(self, done: Any, within: float) -> bool:
        """Whether `done()` held within `within` seconds (checked as messages arrive)."""
        try:
            async with asyncio.timeout(within):
                while not done():
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            return False
        return True


#: The soak's conversation: one MQTT-answered call, one MCP call, each with its fallback.
SCENARIO = """
name: soak
loop: true
turns:
  - user: "Turn on the kitchen light."
    call: {name: set_light, arguments: {room: kitchen, state: "on"}}
    after_call: "The kitchen light is on."
    otherwise: "I can't control the lights from here."
  - user: "What's the temperature?"
    call: {name: mcp_home_get_temperature, arguments: {}}
    after_call: "It is {output}."
    otherwise: "I can't read the temperature right now."
"""
