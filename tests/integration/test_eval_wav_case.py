"""A suite of your own with a recorded WAV case, run on the simulator through the server VAD."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from edge_voice.evaluation.audio_input import TRAILING_SILENCE_S, case_audio
from edge_voice.evaluation.runner import run_suite
from edge_voice.evaluation.simulated import SimulatedBackend
from edge_voice.evaluation.suite import load_suite
from edge_voice.models.catalog import default_catalog
from edge_voice.realtime.session_builders import SAMPLE_RATE
from tests.support.speech import Speech, SpeechCache


async def test_a_wav_case_goes_in_as_audio_and_is_scored(tmp_path: Path) -> None:
    wav = SpeechCache(tmp_path).wav(Speech("turn on the kitchen light"))  # 16 kHz, like a mic
    suite_file = tmp_path / "mine.yaml"
    suite_file.write_text(
        yaml.safe_dump(
            {
                "name": "mine",
                "tools": [
                    {
                        "name": "set_light",
                        "parameters": {
                            "type": "object",
                            "properties": {"room": {"type": "string"}},
                            "required": ["room"],
                        },
                    }
                ],
                "cases": [
                    {
                        "id": "recorded",
                        "category": "home_control",
                        "input": {"wav": wav.name},
                        "expect": {
                            "calls": [{"name": "set_light", "arguments": {"room": "kitchen"}}],
                            "say": {"include": ["kitchen"]},
                        },
                        "reference": {"say": "The kitchen light is on."},
                    }
                ],
            }
        )
    )
    suite = load_suite(suite_file)
    pcm = case_audio(suite.cases[0].input, suite.base_dir)
    seconds = len(pcm) / 2 / SAMPLE_RATE
    assert seconds > TRAILING_SILENCE_S + 1.0  # the speech, resampled to 24 kHz, then silence
    catalog = default_catalog()
    async with SimulatedBackend(suite, today=dt.date(2026, 12, 2)) as sim:
        (run,) = await run_suite(
            suite, [catalog.get("gpt-realtime")], sim, catalog=catalog, audio={"recorded": pcm}
        )
        committed = [e for _, e in sim.sim.received if e["type"] == "input_audio_buffer.append"]
    assert run.input == "audio" and run.passed, (run.error, run.score)
    assert run.observed.text == "The kitchen light is on."
    assert "first_delta" in run.latency_ms and run.usage.audio_in > 0
    assert committed  # the audio went over the wire, not a text stand-in
