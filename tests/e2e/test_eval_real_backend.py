"""`edge-voice eval` with an API key: sessions go to the config's base_url, retired models not.

The "real service" here is the project's simulator on loopback with its default scenario, so
the sessions, the key and the base_url are real; the answers are not the suite's, and the
report must say backend `openai` all the same.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
import yaml

from edge_voice.evaluation.report import schema_errors
from edge_voice.sim.realtime_server import RealtimeSimulator

pytestmark = pytest.mark.timeout(90)

KEY = "sk-test-eval-real-0001"


async def test_with_a_key_it_uses_the_configs_base_url_and_skips_retired_models(
    sim: RealtimeSimulator, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"openai": {"base_url": sim.url}}))
    out = tmp_path / "r.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "edge_voice",
        "eval",
        "--config",
        str(config),
        "--models",
        "gpt-realtime,gpt-4o-realtime-preview",
        "--cases",
        "light_kitchen_on,refuse_pizza",
        "--today",
        "2026-12-02",
        "--report",
        str(out),
        env={**os.environ, "OPENAI_API_KEY": KEY},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 80)
    assert proc.returncode == 0, stderr.decode()
    text = stdout.decode()
    assert "backend: OpenAI Realtime API" in text
    assert "gpt-4o-realtime-preview is retired: shut down on 2026-05-07 (successor: " in text
    assert "not run against the real service" in text
    report = json.loads(out.read_text())
    assert schema_errors(report) == []
    assert report["backend"] == {
        "kind": "openai",
        "base_url": sim.url,
        "error_rate": None,
        "connect_failure_rate": None,
        "seed": None,
        "calendar": None,
    }
    assert [m["model"] for m in report["models"]] == ["gpt-realtime"]
    # The sessions reached the "service" with the key, one per case, none for the preview.
    assert [c.model for c in sim.connections] == ["gpt-realtime", "gpt-realtime"]
    assert all(c.headers.get("Authorization", "").startswith("Bearer ") for c in sim.connections)
    assert KEY not in stdout.decode() + stderr.decode() + out.read_text()
    assert report["models"][0]["connection_success"]["rate"] == 1
