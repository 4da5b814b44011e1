"""`kill -9` of `edge-voice run` at random moments (seeded): nothing published is lost or doubled.

Each cycle starts the real CLI on the simulator with a WAV and a real broker, and SIGKILLs it
after a random number of its MQTT messages (during the conversation, so also around the ledger
appends). After every kill: the broker's will marked the device `offline`; the cost ledger holds
each `event/response` cost a subscriber saw, at most the in-flight one missing, none twice; the
state file parses with the same config. The last start runs to the end: `online` again, its
Home Assistant discovery configs republished, the ledger still whole.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge_voice.config.state_file import read_state
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import demo_wav
from tests.support.broker import BrokerAddress
from tests.support.cli_process import edge_voice
from tests.support.mqtt_observer import observer, unique_base

pytestmark = [pytest.mark.broker, pytest.mark.timeout(240)]

CYCLES = 5
SEED = 14


def ledger_lines(state_dir: Path) -> list[dict[str, Any]]:
    """The ledger's response lines (a torn last line is skipped, as the service skips it)."""
    (path,) = state_dir.rglob("cost_ledger.jsonl")
    lines = []
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if isinstance(record, dict) and "response_id" in record:
            lines.append(record)
    return lines


def stored_config(state_dir: Path) -> Any:
    """The state file, parsed (fails if it is torn), as plain data."""
    (path,) = state_dir.rglob("runtime_state.json")
    state = read_state(path)
    assert state is not None, f"{path}: unreadable"
    return json.loads(path.read_text(encoding="utf-8"))


async def test_kill_9_at_random_moments_loses_and_doubles_nothing(
    mqtt_broker: BrokerAddress, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    base_topic = unique_base()
    base = f"{base_topic}/kitchen"
    state_dir = tmp_path / "state"
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "device_id": "kitchen",
                "state_dir": str(state_dir),
                "mqtt": {
                    "host": mqtt_broker.host,
                    "port": mqtt_broker.port,
                    "base_topic": base_topic,
                    "discovery_prefix": f"{base_topic}_ha",
                    "ha_status_topic": f"{base_topic}_ha/status",
                },
                "conversation": {"follow_up_s": 1},
                "voice": {"speed": 1.1},
            }
        )
    )
    wav = demo_wav("hey_jarvis_kitchen_light.wav")
    async with (
        RealtimeSimulator(SimConfig(pacing=0.2)) as sim,
        observer(mqtt_broker, f"{base}/#", f"{base_topic}_ha/#") as obs,
    ):
        raw = yaml.safe_load(config.read_text(encoding="utf-8"))
        raw["openai"] = {"base_url": sim.url}
        config.write_text(yaml.safe_dump(raw), encoding="utf-8")
        args = ("run", "--today", "2026-05-01", "--config", str(config))
        args += ("--source", f"wav:{wav}", "--sink", "null", "--fast")
        last_good: Any = None
        lost: set[str] = set()
        unseen: set[str] = set()
        for cycle in range(CYCLES + 1):
            last = cycle == CYCLES
            start = len(obs.messages)
            proc = await edge_voice(*args, *(("--exit-on-eof",) if last else ()))
            await obs.expect(
                f"{base}/availability", lambda m: m.payload == b"online", since=start, within=30
            )
            if last:
                _, err = await asyncio.wait_for(proc.communicate(), 90)
                assert proc.returncode == 0, err.decode()[-2000:]
            else:
                assert proc.stderr is not None
                drain = asyncio.create_task(proc.stderr.read())  # a full pipe would block it
                count = rng.randint(2, 11)  # a conversation: about 12 of them
                await obs.wait_until(
                    lambda ms, n=count, s=start: sum(m.topic.startswith(base) for m in ms[s:]) >= n,
                    within=60,
                )
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                await drain
                await obs.expect(
                    f"{base}/availability",
                    lambda m: m.payload == b"offline",
                    since=start,
                    within=30,
                )
            published = {
                m.json()["response_id"]: m.json()["cost_usd"]
                for m in obs.on(f"{base}/event/response")
            }
            ledger = {r["response_id"]: r["cost_usd"] for r in ledger_lines(state_dir)}
            ids = [r["response_id"] for r in ledger_lines(state_dir)]
            assert len(ids) == len(set(ids)), f"cycle {cycle}: a response counted twice"
            # Published but not in the ledger / in the ledger but not published: in flight.
            lost |= set(published) - set(ledger)
            unseen |= set(ledger) - set(published)
            kills = cycle if last else cycle + 1  # this cycle's kill is already done
            assert len(lost) + len(unseen) <= kills, (cycle, lost, unseen)
            assert all(ledger[i] == published[i] for i in set(ledger) & set(published))
            state = stored_config(state_dir)
            assert state.get("overrides") == {}, cycle  # no override was ever made
            # last_good is written once the first connect succeeded; from then on, unchanged.
            last_good = last_good or state.get("last_good")
            assert state.get("last_good") in (None, last_good), cycle
        # The last run completed: online again, its entities republished, and the total it
        # loaded from the ledger is what was published (less what was in flight at a kill).
        assert len(published) > len(lost), "no response survived"
        metrics = obs.on(f"{base}/metrics")[-1].json()
        expected = sum(published.values()) - sum(published[i] for i in lost)
        expected += sum(ledger[i] for i in unseen)
        assert metrics["cost_total_usd"] == pytest.approx(expected, abs=1e-6)
        discovery = [m for m in obs.messages[start:] if m.topic.startswith(f"{base_topic}_ha/")]
        assert len(discovery) > 10, "discovery configs not republished"
        print(
            f"{CYCLES} kills: {len(published)} responses published, {len(ledger)} in the ledger, "
            f"{len(lost)} lost in flight, {len(unseen)} recorded but not yet published"
        )
