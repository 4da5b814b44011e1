"""`edge-voice eval` as a user runs it offline: a few cases, two models, both reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from edge_voice.evaluation.report import schema_errors

pytestmark = pytest.mark.timeout(120)

CASES = "light_kitchen_on,multi_two_lights_off,refuse_pizza,lang_de_light_off,speak_brief_capital"


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "edge_voice", "eval", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=110,
        check=False,
    )


def test_eval_offline_prints_the_table_and_writes_valid_reports(tmp_path: Path) -> None:
    if not any((Path(p) / "espeak-ng").exists() for p in os.environ["PATH"].split(os.pathsep)):
        pytest.skip("espeak-ng is not installed (a case is spoken)")
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    done = run_cli(
        "--models",
        "gpt-realtime,gpt-4o-realtime-preview",
        "--cases",
        CASES,
        "--sim-error-rate",
        "0.2",
        "--report",
        str(out_json),
        "--markdown",
        str(out_md),
        "--progress",
    )
    assert done.returncode == 0, done.stderr
    assert "backend: simulator (offline)" in done.stdout
    assert "gpt-4o-realtime-preview is retired: shut down on 2026-05-07" in done.stdout
    assert "pass: function calling" in done.stdout and "cost per interaction" in done.stdout
    assert "[##############################] 10/10" in done.stderr  # the progress bar
    report = json.loads(out_json.read_text())
    assert schema_errors(report) == []
    assert report["backend"]["kind"] == "simulator"
    assert [m["model"] for m in report["models"]] == ["gpt-realtime", "gpt-4o-realtime-preview"]
    # 0.2 × 5 cases: exactly one wrong answer per model.
    assert [m["pass"]["all"]["successes"] for m in report["models"]] == [4, 4]
    assert "| | gpt-realtime | gpt-4o-realtime-preview |" in out_md.read_text()


def test_a_suite_with_a_mistake_is_refused_naming_case_and_field(tmp_path: Path) -> None:
    suite = tmp_path / "mine.yaml"
    suite.write_text(
        yaml.safe_dump(
            {
                "name": "mine",
                "cases": [
                    {
                        "id": "short",
                        "category": "brevity",
                        "input": {"text": "Hi"},
                        "expect": {"say": {"max_words": -3}},
                    }
                ],
            }
        )
    )
    done = run_cli("--suite", str(suite))
    assert done.returncode == 2
    assert "case 'short' (cases[0]): expect.say.max_words" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_model_is_refused_with_the_known_ones() -> None:
    done = run_cli("--models", "gpt-realtime,gpt-5-voice")
    assert done.returncode == 2
    assert "unknown model 'gpt-5-voice'" in done.stderr and "gpt-realtime-2.1" in done.stderr
