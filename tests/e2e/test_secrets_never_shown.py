"""Secrets in a full run: the API key, the MQTT password and both MCP tokens are never shown.

`edge-voice run -vv` on the simulator with a WAV, against the shipped broker deployment
(mosquitto/ with logins), a native MCP server (the simulator calls it with the token the device
sends) and an MCP bridge server (the device calls it with its own token). Each secret is a
recognisable canary; none may appear, raw or encoded, in the run's logs, on the broker (the
`homeassistant` login reads everything a device may publish: `edge_voice/#` and
`homeassistant/#`), in the state files, in `config check` output, or in the error of a refused
connect (wrong key, wrong MQTT password).
"""

from __future__ import annotations

import asyncio
import base64
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.integration.test_native_mcp import SCENARIO
from tests.support.broker import BrokerAddress
from tests.support.cli_process import demo_run, edge_voice
from tests.support.deployed_broker import LOGINS, DeployedMosquitto
from tests.support.mcp_server import mcp_server
from tests.support.mqtt_observer import observer

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

API_KEY = "sk-canary-4f7d21c9e0b8a6"
NATIVE_TOKEN = "mcp-native-canary-93ab17"
BRIDGE_TOKEN = "mcp-bridge-canary-5c02e8"
BASE = "edge_voice/kitchen"


def encodings(secret: str) -> list[bytes]:
    """`secret` as it could leak: raw, base64 (alone and as in Basic auth), URL-quoted, hex."""
    raw = secret.encode()
    forms = [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        base64.b64encode(b"edge_voice:" + raw),
        urllib.parse.quote(secret, safe="").encode(),
        raw.hex().encode(),
    ]
    # A base64 prefix catches the secret base64-encoded inside a longer string.
    forms.append(base64.b64encode(raw)[: len(raw)])
    return forms


def leaks(blob: bytes, secrets: list[str]) -> list[str]:
    """The secrets (and the form) found in `blob`."""
    return [f"{s} as {f!r}" for s in secrets for f in encodings(s) if f in blob]


@pytest.fixture
def deployed() -> Iterator[BrokerAddress]:
    broker = DeployedMosquitto()
    broker.start()
    try:
        yield broker.address
    finally:
        broker.close()


def write_config(
    tmp_path: Path, broker: BrokerAddress, sim_url: str, native_url: str, bridge_url: str
) -> Path:
    """A config with every secret from a file or the config itself, as a user would write it."""
    (tmp_path / "native.token").write_text(NATIVE_TOKEN + "\n", encoding="utf-8")
    (tmp_path / "bridge.token").write_text(BRIDGE_TOKEN + "\n", encoding="utf-8")
    (tmp_path / "openai.key").write_text(API_KEY + "\n", encoding="utf-8")
    login = LOGINS["edge_voice"]
    raw: dict[str, Any] = {
        "device_id": "kitchen",
        "state_dir": str(tmp_path / "state"),
        "openai": {
            "base_url": sim_url,
            "api_key_file": str(tmp_path / "openai.key"),
            "mcp_servers": [
                {
                    "server_label": "home",
                    "server_url": native_url,
                    "approved_tools": ["set_light"],
                    "authorization_file": str(tmp_path / "native.token"),
                }
            ],
        },
        "mcp_bridge": {
            "servers": [
                {"name": "lan", "url": bridge_url, "token_file": str(tmp_path / "bridge.token")}
            ]
        },
        "mqtt": {
            "host": broker.host,
            "port": broker.port,
            "username": login.user,
            "password": login.password,
            "discovery_prefix": "homeassistant",
        },
        "conversation": {"follow_up_s": 1},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def run_args(config: Path) -> tuple[str, ...]:
    """The demo conversation, logged at debug level: the most a log ever shows."""
    return ("-vv", *demo_run(config), "--fast", "--exit-on-eof")


async def communicate(*args: str, key: str | None = None, within: float = 60) -> bytes:
    """Run the CLI to its end; its stdout and stderr together."""
    proc = await edge_voice(*args, key=key)
    out, err = await asyncio.wait_for(proc.communicate(), within)
    return out + err


async def test_no_secret_in_logs_traffic_files_or_config_check(
    deployed: BrokerAddress, tmp_path: Path
) -> None:
    password = LOGINS["edge_voice"].password
    secrets = [API_KEY, password, NATIVE_TOKEN, BRIDGE_TOKEN]
    ha = LOGINS["homeassistant"]
    async with (
        RealtimeSimulator(SimConfig(pacing=0, api_keys={API_KEY}), scenario=SCENARIO) as sim,
        mcp_server() as native,
        mcp_server() as bridge,
        observer(
            deployed, "edge_voice/#", "homeassistant/#", username=ha.user, password=ha.password
        ) as obs,
    ):
        config = write_config(tmp_path, deployed, sim.url, native.url, bridge.url)
        log = await communicate(*run_args(config))
        await obs.expect(f"{BASE}/availability", lambda m: m.payload == b"offline", within=10)
        # The run really used every secret: the key, the login, both tokens.
        said = [m.json()["text"] for m in obs.on(f"{BASE}/event/transcript")]
        assert "Done: kitchen light is on." in said, log[-3000:].decode()
        assert set(native.home.authorizations) == {f"Bearer {NATIVE_TOKEN}"}
        assert f"Bearer {BRIDGE_TOKEN}" in bridge.home.authorizations
        assert obs.on(f"{BASE}/event/response")

        assert leaks(log, secrets) == [], log.decode()[-3000:]
        traffic = [(m.topic, leaks(m.topic.encode() + m.payload, secrets)) for m in obs.messages]
        assert [t for t in traffic if t[1]] == []
        state_files = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
        assert any(p.name == "cost_ledger.jsonl" for p in state_files)
        assert any(p.name == "runtime_state.json" for p in state_files)
        assert [
            (p.name, leaks(p.read_bytes(), secrets))
            for p in state_files
            if leaks(p.read_bytes(), secrets)
        ] == []

        checked = await communicate("-vv", "config", "check", str(config))
        assert b"kitchen" in checked
        assert leaks(checked, secrets) == [], checked.decode()


async def test_no_secret_in_the_error_of_a_refused_connect(
    deployed: BrokerAddress, tmp_path: Path
) -> None:
    wrong_key = "sk-canary-wrong-77e1a0"
    wrong_password = "mqtt-canary-wrong-31d9"
    async with (
        RealtimeSimulator(SimConfig(pacing=0, api_keys={API_KEY})) as sim,
        mcp_server() as native,
        mcp_server() as bridge,
    ):
        config = write_config(tmp_path, deployed, sim.url, native.url, bridge.url)
        (tmp_path / "openai.key").write_text(wrong_key, encoding="utf-8")
        log = await communicate(*run_args(config))
        assert b"invalid_api_key" in log, log.decode()[-3000:]
        assert leaks(log, [wrong_key]) == [], log.decode()[-3000:]

        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["mqtt"]["password"] = wrong_password
        config.write_text(yaml.safe_dump(raw), encoding="utf-8")
        proc = await edge_voice(*run_args(config), key=None)
        assert proc.stderr is not None
        seen = b""
        try:
            async with asyncio.timeout(30):
                while b"not authori" not in seen.lower() and b"refused" not in seen.lower():
                    line = await proc.stderr.readline()
                    if not line:
                        break
                    seen += line
        finally:
            if proc.returncode is None:
                proc.terminate()
            out, err = await proc.communicate()
        seen += out + err
        assert b"mqtt" in seen.lower(), seen.decode()[-3000:]
        assert leaks(seen, [wrong_password, wrong_key]) == [], seen.decode()[-3000:]
