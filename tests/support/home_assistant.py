"""A real Home Assistant (own venv) as a subprocess: an MQTT config entry and an API token, no YAML.

The config dir is written before the first start, as Home Assistant itself would have stored it
after onboarding and the MQTT config flow: the owner user with a long-lived access token in
`.storage/auth`, and the MQTT broker (discovery on) in `.storage/core.config_entries`.
`configuration.yaml` only pins the HTTP port and the core settings (no location lookup).
Install the venv with `scripts/install_home_assistant.sh`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress, LocalMosquitto, free_port
from tests.support.mqtt_observer import unique_base
from tests.support.service_device import make_config

DEFAULT_HASS = "/tmp/hass_venv/bin/hass"
START_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 10.0


def hass_binary(variable: str = "EDGE_VOICE_HASS") -> Path | None:
    """`$variable`'s `hass` (for EDGE_VOICE_HASS, else the default venv's), when it exists."""
    default = DEFAULT_HASS if variable == "EDGE_VOICE_HASS" else ""
    value = os.environ.get(variable, default)
    path = Path(value)
    return path if value and path.is_file() and os.access(path, os.X_OK) else None


def hass_release(binary: Path) -> tuple[int, int]:
    """The (year, month) release of an installed `hass`, without starting it: from the record
    scripts/install_home_assistant.sh leaves in the venv, else `hass --version` (seconds)."""
    stamp = binary.parent.parent / ".edge_voice_hass"  # "homeassistant 2025.4.4 python 3.13.0"
    words = stamp.read_text().split() if stamp.is_file() else []
    if len(words) >= 2 and words[0] == "homeassistant":
        version = words[1]
    else:
        version = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, check=True, timeout=60
        ).stdout.strip()
    year, month = version.split(".")[:2]
    return int(year), int(month)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_jwt(claims: dict[str, Any], key: str) -> str:
    """A JWT as Home Assistant signs its access tokens (HS256 with the refresh token's key)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def _store(key: str, data: dict[str, Any], *, version: int = 1, minor: int = 1) -> str:
    return json.dumps({"version": version, "minor_version": minor, "key": key, "data": data})


def write_config(config_dir: Path, broker: BrokerAddress, http_port: int, extra: str = "") -> str:
    """Write the config dir (`extra`: more configuration.yaml); return a long-lived access
    token for the REST API."""
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        "homeassistant:\n"
        "  name: edge_voice e2e\n"
        "  latitude: 0\n  longitude: 0\n  elevation: 0\n"
        "  unit_system: metric\n  time_zone: UTC\n  currency: USD\n  country: US\n"
        "http:\n"
        "  server_host: 127.0.0.1\n"
        f"  server_port: {http_port}\n"
        "api:\n"
        "logger:\n  default: warning\n  logs:\n    homeassistant.components.mqtt: debug\n" + extra
    )
    user_id, token_id = uuid.uuid4().hex, uuid.uuid4().hex
    jwt_key = secrets.token_hex(64)
    now = dt.datetime.now(dt.UTC)
    ten_years = 10 * 365 * 86400
    auth = {
        "users": [
            {
                "id": user_id,
                "group_ids": ["system-admin"],
                "is_owner": True,
                "is_active": True,
                "name": "edge_voice tests",
                "system_generated": False,
                "local_only": False,
            }
        ],
        "groups": [
            {"id": "system-admin", "name": "Administrators"},
            {"id": "system-users", "name": "Users"},
            {"id": "system-read-only", "name": "Read Only"},
        ],
        "credentials": [],
        "refresh_tokens": [
            {
                "id": token_id,
                "user_id": user_id,
                "client_id": None,
                "client_name": "edge_voice e2e",
                "client_icon": None,
                "token_type": "long_lived_access_token",
                "created_at": now.isoformat(),
                "access_token_expiration": ten_years,
                "token": secrets.token_hex(64),
                "jwt_key": jwt_key,
                "last_used_at": None,
                "last_used_ip": None,
                "credential_id": None,
                "version": "2024.3.3",
            }
        ],
    }
    (storage / "auth").write_text(_store("auth", auth))
    (storage / "onboarding").write_text(
        _store(
            "onboarding", {"done": ["user", "core_config", "analytics", "integration"]}, version=4
        )
    )
    mqtt_entry = {
        "entry_id": uuid.uuid4().hex,
        "version": 1,
        "minor_version": 1,
        "domain": "mqtt",
        "title": broker.host,
        "data": {
            "broker": broker.host,
            "port": broker.port,
            "discovery": True,
            "discovery_prefix": "homeassistant",
        },
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "unique_id": None,
        "disabled_by": None,
    }
    (storage / "core.config_entries").write_text(
        _store("core.config_entries", {"entries": [mqtt_entry]})
    )
    iat = int(now.timestamp())
    return hs256_jwt({"iss": token_id, "iat": iat, "exp": iat + ten_years}, jwt_key)


class HomeAssistant:
    """`hass -c <tmp> --skip-pip` on a free loopback port, with a REST client."""

    def __init__(self, binary: Path, broker: BrokerAddress, extra_config: str = "") -> None:
        self._binary = binary
        self._dir = tempfile.TemporaryDirectory(prefix="edge_voice_hass_")
        self.config_dir = Path(self._dir.name)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = write_config(self.config_dir, broker, self.port, extra_config)
        self._log = self.config_dir / "hass.out"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start Home Assistant and return once its REST API answers with our token."""
        with self._log.open("wb") as out:
            self._proc = subprocess.Popen(
                [str(self._binary), "-c", str(self.config_dir), "--skip-pip"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"hass exited ({self._proc.returncode}):\n{self.log_tail()}")
            try:
                if self.request("GET", "/api/").get("message") == "API running.":
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.25)  # readiness poll of a subprocess, bounded by the deadline
        self.stop()
        raise RuntimeError(f"hass did not answer within {START_TIMEOUT_S}s:\n{self.log_tail()}")

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """One authenticated REST call; the JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as resp:
            raw: bytes = resp.read()
            is_json = resp.headers.get_content_type() == "application/json"
        return json.loads(raw) if is_json else raw.decode()

    def version(self) -> tuple[int, int]:
        """Home Assistant's (year, month) release, from its REST API."""
        year, month = str(self.request("GET", "/api/config")["version"]).split(".")[:2]
        return int(year), int(month)

    def states(self) -> dict[str, dict[str, Any]]:
        """Every entity state by entity_id."""
        return {s["entity_id"]: s for s in self.request("GET", "/api/states")}

    def template(self, template: str) -> Any:
        """Render a template in Home Assistant (the REST way to read the device registry)."""
        rendered = self.request("POST", "/api/template", {"template": template})
        try:
            return json.loads(rendered)
        except (TypeError, ValueError):
            return rendered

    def call_service(self, domain: str, service: str, data: dict[str, Any]) -> Any:
        """Call a service as the UI would."""
        return self.request("POST", f"/api/services/{domain}/{service}", data)

    def log_tail(self, chars: int = 6000) -> str:
        """The end of Home Assistant's output (MQTT at debug level), for failure messages."""
        text = self._log.read_text(errors="replace") if self._log.exists() else ""
        return text[-chars:]

    def stop(self) -> None:
        """Stop Home Assistant (SIGTERM, then SIGKILL after a bound)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """Stop and remove the config dir."""
        self.stop()
        self._dir.cleanup()


#: `scripts/test` with EDGE_VOICE_WITH_HASS=1 (as CI runs it) installs HA: then a missing
#: install is a failure, never a silent skip.
HASS_REQUIRED = os.environ.get("EDGE_VOICE_WITH_HASS") == "1"
#: Why the tests that need Home Assistant skip without one.
NO_HASS = (
    "no Home Assistant venv: run scripts/install_home_assistant.sh /tmp/hass_venv "
    "or set EDGE_VOICE_HASS=/path/to/bin/hass"
)


@contextlib.contextmanager
def own_broker() -> Iterator[BrokerAddress]:
    """A broker of one test's own: Home Assistant's `homeassistant/` prefix is not shared."""
    mosquitto = LocalMosquitto()
    mosquitto.start()
    try:
        yield mosquitto.address
    finally:
        mosquitto.close()


@contextlib.contextmanager
def running_hass(ha: HomeAssistant) -> Iterator[HomeAssistant]:
    """`ha` started (MQTT connected), closed at the end whatever happened."""
    try:
        ha.start()
        yield ha
    finally:
        ha.close()


async def until(what: str, probe: Callable[[], Any], ha: HomeAssistant, within: float = 20) -> Any:
    """Poll `probe` (a REST read of HA, or the store) until it returns something truthy; bounded,
    failing with HA's log."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if result := await asyncio.to_thread(probe):
            return result
        await asyncio.sleep(0.2)  # HA offers no push for these reads: a bounded poll
    pytest.fail(f"timed out waiting for {what}\n--- Home Assistant log ---\n{ha.log_tail()}")


#: Where Home Assistant looks: its own discovery prefix and birth topic (not a test's own).
HA_MQTT: dict[str, str] = {
    "discovery_prefix": "homeassistant",
    "ha_status_topic": "homeassistant/status",
}


def ha_device_config(
    broker: BrokerAddress, state_dir: Path, sim: RealtimeSimulator, **sections: Any
) -> EdgeVoiceConfig:
    """A device of its own base topic that announces itself to the real Home Assistant."""
    return make_config(broker, state_dir, base=unique_base(), sim=sim, mqtt=HA_MQTT, **sections)
