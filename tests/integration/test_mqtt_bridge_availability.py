"""Availability of the running service: `online` on every connect, retained `offline` as Last
Will and at shutdown; the latest retained values come back after a broker restart."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from edge_voice.mqtt.connection import describe
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.broker import BrokerAddress, LocalMosquitto
from tests.support.mqtt_observer import TIMEOUT, observer, unique_base
from tests.support.service_device import API_KEY, ask, build_device, make_config, running

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]


async def test_online_on_connect_and_offline_retained_after_graceful_stop(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base = unique_base()
    device = build_device(make_config(mqtt_broker, tmp_path, base=base))
    availability = device.topics.availability
    async with observer(mqtt_broker, availability) as obs:
        async with running(device):
            await obs.expect(availability, lambda m: m.payload == b"online")
        await obs.expect(availability, lambda m: m.payload == b"offline")
    # A client arriving later (HA after a restart) finds the retained `offline`.
    async with observer(mqtt_broker, availability) as late:
        seen = await late.expect(availability)
        assert (seen.payload, seen.retain) == (b"offline", True)


async def test_last_will_marks_a_killed_device_offline(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    base = unique_base()
    cfg = make_config(mqtt_broker, tmp_path, base=base)
    availability = f"{base}/{cfg.device_id}/availability"
    async with observer(mqtt_broker, availability) as obs:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            mqtt_broker.host,
            str(mqtt_broker.port),
            base,
            str(tmp_path),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            await obs.expect(availability, lambda m: m.payload == b"online", within=20)
            child.send_signal(signal.SIGKILL)  # no DISCONNECT: only the broker's will can tell
            await obs.expect(availability, lambda m: m.payload == b"offline")
        finally:
            if child.returncode is None:
                child.kill()
            await child.wait()
    async with observer(mqtt_broker, availability) as late:
        assert (await late.expect(availability)).retain


async def test_reconnect_republishes_online_and_the_latest_retained_values(
    restartable_broker: LocalMosquitto,
    sim: RealtimeSimulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="edge_voice.mqtt")
    broker = restartable_broker.address
    device = build_device(make_config(broker, tmp_path, base=unique_base(), sim=sim))
    topics = device.topics
    async with running(device):
        async with observer(broker, f"{topics.base}/#") as obs:
            assert (await obs.request(device, "voice/set", {"voice": "marin"}))["status"] == "ok"
            await ask(obs, device)  # a conversation moves the metrics
            await obs.expect(topics.event("response"))
            await obs.status(device, "idle")
            await obs.barrier(device)  # the metrics of the conversation's end have arrived
            metrics = obs.on(topics.metrics)[-1].json()
            assert metrics["conversations"] == 1 and metrics["cost_total_usd"] > 0
        restartable_broker.stop()  # no persistence: the broker forgets every retained message
        restartable_broker.start()
        async with observer(broker, f"{topics.base}/#") as obs:
            # The observer may connect before the device: wait for what the device re-publishes.
            await obs.expect(topics.availability, lambda m: m.payload == b"online")
            state = (await obs.expect(topics.state)).json()
            assert (state["status"], state["voice"], state["active_model"]) == (
                "idle",
                "marin",
                "gpt-realtime",
            )
            again = (await obs.expect(topics.metrics)).json()
            assert {k: v for k, v in again.items() if k != "ts"} == {
                k: v for k, v in metrics.items() if k != "ts"
            }
            assert (await obs.expect(topics.config)).json()["version"] == device.store.version
            assert (await obs.expect(topics.config_last_good)).json()["version"] == 1
        assert device.bridge.connections >= 2
    # One line to start, one line per retry (naming the failure), not three.
    said = [r.getMessage() for r in caplog.records if r.name == "edge_voice.mqtt.connection"]
    assert [m for m in said if "connecting to" in m and "reconnecting" not in m] == [said[0]]
    retries = [m for m in said if "reconnecting in" in m]
    assert retries and all(m.startswith("MQTT: mqtt://") for m in retries), said
    assert len(said) == 1 + len(retries), said


async def test_credentials_are_used_but_the_password_is_never_logged_or_published(
    mqtt_broker: BrokerAddress, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "pw-" + unique_base()
    cfg = make_config(
        mqtt_broker,
        tmp_path,
        base=unique_base(),
        mqtt={"username": "edge_voice", "password": password},
    )
    device = build_device(cfg)
    async with observer(mqtt_broker, f"{device.topics.base}/#") as obs, running(device):
        config = await obs.expect(device.topics.config)
    assert password.encode() not in config.payload
    assert "mqtt" in config.json() and "password" not in config.json()["mqtt"]
    assert password not in caplog.text and API_KEY not in caplog.text
    assert "edge_voice@" in describe(cfg.mqtt) and password not in describe(cfg.mqtt)


def _child(host: str, port: str, base: str, state_dir: str) -> None:
    """The service of the LWT test, in a process of its own so the test can SIGKILL it."""
    cfg = make_config(BrokerAddress(host, int(port)), Path(state_dir), base=base)
    device = build_device(cfg)

    async def main() -> None:
        async with asyncio.timeout(TIMEOUT * 12):
            await device.service.run(device.mic.frames())

    asyncio.run(main())


if __name__ == "__main__":
    _child(*sys.argv[1:])
