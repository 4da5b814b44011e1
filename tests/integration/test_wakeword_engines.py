"""The detector over both engines: microWakeWord models, mixed engines, resets, bad model files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pymicro_wakeword
import pyopen_wakeword
import pytest

from edge_voice.audio.pcm import FRAME_BYTES, SILENCE_FRAME, SOURCE_RATE
from edge_voice.audio.resample import resample
from edge_voice.audio.wakeword import Detection, WakeWordDetector, WakeWordModelError
from edge_voice.audio.wakeword_names import MICRO_BUILTIN_MODELS
from edge_voice.config.schema import WakewordConfig
from edge_voice.config.wakeword_schema import WakeWordEntry
from edge_voice.wakeword_eval.corpus import PHRASES, RATE, Utterance, render
from tests.support.speech import require_espeak

MICRO_MODELS = Path(pymicro_wakeword.__file__).parent / "models"
OWW_MODELS = Path(pyopen_wakeword.__file__).parent / "models"
GAP = bytes(FRAME_BYTES * 12)  # ~1 s of silence


def frames_of(*utterances: Utterance) -> list[bytes]:
    """The utterances one after the other, ~1 s apart, as 80 ms frames at 16 kHz."""
    require_espeak()
    pcm = GAP + b"".join(resample(render(u), RATE, SOURCE_RATE).tobytes() + GAP for u in utterances)
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


NABU = Utterance(PHRASES["okay_nabu"], "en-us", 160)
JARVIS = Utterance(PHRASES["hey_jarvis"], "en", 150)


def micro(name: str, **options: object) -> WakeWordDetector:
    """A detector with one microWakeWord model, as the config builds it."""
    words = {name: {"engine": "microwakeword", **options}}
    return WakeWordDetector.from_config(WakewordConfig(models=[name], words=words))


def run(detector: WakeWordDetector, frames: list[bytes]) -> list[Detection]:
    detector.reset()
    return [d for frame in frames for d in detector.process(frame)]


def trace(detector: WakeWordDetector, frames: list[bytes], name: str) -> list[float]:
    scores = []
    for frame in frames:
        detector.process(frame)
        scores.append(detector.last_scores[name])
    return scores


@pytest.mark.parametrize("name", MICRO_BUILTIN_MODELS)
def test_micro_builtins_load_with_their_manifest_cutoff(name: str) -> None:
    manifest = json.loads((MICRO_MODELS / f"{name}.json").read_text())
    with micro(name) as detector:
        assert detector.names == (name,)
        assert detector.engines == {name: "microwakeword"}
        assert detector.thresholds == {name: manifest["micro"]["probability_cutoff"]}


def test_a_configured_threshold_and_refractory_override_the_manifest() -> None:
    with micro("okay_nabu", threshold=0.6, refractory_s=0.5) as detector:
        assert (detector.thresholds, detector.refractory) == (
            {"okay_nabu": 0.6},
            {"okay_nabu": 0.5},
        )


def test_one_detector_hears_each_word_with_its_own_engine() -> None:
    config = WakewordConfig(
        models=["hey_jarvis", "okay_nabu"], words={"okay_nabu": {"engine": "microwakeword"}}
    )
    with WakeWordDetector.from_config(config) as detector:
        assert detector.engines == {"hey_jarvis": "openwakeword", "okay_nabu": "microwakeword"}
        found = run(detector, frames_of(JARVIS, NABU, JARVIS))
    assert [(d.name, d.engine) for d in found] == [
        ("hey_jarvis", "openwakeword"),
        ("okay_nabu", "microwakeword"),
        ("hey_jarvis", "openwakeword"),
    ]
    assert found[0].time_s < found[1].time_s < found[2].time_s


def test_micro_reset_forgets_the_wake_word_and_equals_a_fresh_detector() -> None:
    frames = frames_of(NABU)
    with micro("okay_nabu", refractory_s=0.0) as detector:
        fresh = trace(detector, frames, "okay_nabu")
        detector.reset()
        hit = next(i for i, frame in enumerate(frames) if detector.process(frame))
        detector.reset()
        assert detector.process(SILENCE_FRAME) == []
        detector.reset()
        again = trace(detector, frames, "okay_nabu")
    assert hit < len(frames) - 1
    assert again == fresh
    assert max(fresh) > 0.85


def test_threshold_and_refractory_change_without_a_reload() -> None:
    frames = frames_of(NABU, NABU)  # two utterances ~2 s apart
    with micro("okay_nabu", refractory_s=10.0) as detector:
        assert len(run(detector, frames)) == 1
        detector.set_refractory("okay_nabu", 0.5)  # from the next detection on:
        for _ in range(140):  # let the running 10 s block end
            detector.process(SILENCE_FRAME)
        assert len(run(detector, frames)) == 2
        best = max(trace(detector, frames, "okay_nabu"))
        detector.set_threshold("okay_nabu", min(0.999, best + 0.001))
        assert run(detector, frames) == []
        detector.set_threshold("okay_nabu", best)
        assert run(detector, frames) != []
        for bad in (0.0, 1.0, 1.5):
            with pytest.raises(ValueError, match="between 0 and 1"):
                detector.set_threshold("okay_nabu", bad)
        with pytest.raises(ValueError, match=">= 0"):
            detector.set_refractory("okay_nabu", -1)
        with pytest.raises(ValueError, match="no wake word 'alexa'"):
            detector.set_threshold("alexa", 0.5)


def test_a_manifest_file_loads_and_detects_under_its_file_name(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, "my_word.json", model="nabu.tflite")
    shutil.copy(MICRO_MODELS / "okay_nabu.tflite", tmp_path / "nabu.tflite")
    with WakeWordDetector([str(manifest)], refractory_s=5.0) as detector:
        assert detector.engines == {"my_word": "microwakeword"}
        assert detector.thresholds == {"my_word": 0.85}
        assert [d.name for d in run(detector, frames_of(NABU))] == ["my_word"]


def _manifest(directory: Path, name: str = "word.json", **fields: object) -> Path:
    body = json.loads((MICRO_MODELS / "okay_nabu.json").read_text())
    body.update({k: v for k, v in fields.items() if k != "micro"})
    body["micro"].update(fields.get("micro", {}))  # type: ignore[call-overload]
    path = directory / name
    path.write_text(json.dumps(body))
    return path


def _with_tflite(directory: Path, source: Path) -> Path:
    shutil.copy(source, directory / "model.tflite")
    return _manifest(directory, model="model.tflite")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d / "missing.json", "file not found"),
        (lambda d: _write(d / "word.json", b"{not json"), "not a JSON manifest"),
        (lambda d: _write(d / "word.json", b'{"model": "x.tflite"}'), "broken manifest"),
        (lambda d: _manifest(d, micro={"probability_cutoff": 2}), "probability_cutoff"),
        (lambda d: _manifest(d, model="gone.tflite"), "file not found"),
        (
            lambda d: _write(d / "m.tflite", b"junk") and _manifest(d, model="m.tflite"),
            "not a valid TFLite",
        ),
        (lambda d: _with_tflite(d, OWW_MODELS / "hey_jarvis.tflite"), "not a microWakeWord model"),
        (lambda d: _write(d / "word.tflite", b"x"), "nor a .json manifest"),
    ],
    ids=[
        "missing",
        "not-json",
        "no-cutoff",
        "bad-cutoff",
        "missing-tflite",
        "garbage-tflite",
        "openwakeword-tflite",
        "not-json-suffix",
    ],
)
def test_bad_micro_models_give_a_clear_error(
    tmp_path: Path, make: Callable[[Path], Path], reason: str
) -> None:
    spec = str(make(tmp_path))
    good = WakeWordEntry("alexa", "alexa", "microwakeword", None, 2.0, None)
    bad = WakeWordEntry(Path(spec).stem, spec, "microwakeword", None, 2.0, None)
    with pytest.raises(WakeWordModelError) as info:
        WakeWordDetector([good, bad])
    message = str(info.value)
    assert spec in message and reason in message and "microwakeword" in message
    assert all(name in message for name in MICRO_BUILTIN_MODELS)


def test_a_micro_tflite_is_not_an_openwakeword_classifier(tmp_path: Path) -> None:
    model = Path(shutil.copy(MICRO_MODELS / "okay_nabu.tflite", tmp_path / "nabu.tflite"))
    with pytest.raises(WakeWordModelError, match="not an openWakeWord classifier"):
        WakeWordDetector([str(model)])


def test_the_same_name_on_two_engines_is_refused() -> None:
    entries = [
        WakeWordEntry("hey_jarvis", "hey_jarvis", e, None, 2.0, None)
        for e in ("openwakeword", "microwakeword")
    ]
    with pytest.raises(WakeWordModelError, match="already loaded"):
        WakeWordDetector(entries)


def test_the_service_listens_with_every_configured_engine(tmp_path: Path) -> None:
    from edge_voice.audio.sinks import NullSink
    from edge_voice.service import build_service
    from tests.unit.config_store_support import file_config

    cfg = file_config(
        state_dir=str(tmp_path / "state"),
        wakeword={
            "models": ["hey_jarvis", "okay_nabu"],
            "words": {"okay_nabu": {"engine": "microwakeword", "refractory_s": 4.0}},
        },
    )
    detector = build_service(cfg, api_key=None, sink=NullSink()).assistant.wake_word
    assert isinstance(detector, WakeWordDetector)
    assert detector.engines == {"hey_jarvis": "openwakeword", "okay_nabu": "microwakeword"}
    assert detector.thresholds == {"hey_jarvis": 0.5, "okay_nabu": 0.85}
    assert detector.refractory == {"hey_jarvis": 2.0, "okay_nabu": 4.0}
    detector.close()
