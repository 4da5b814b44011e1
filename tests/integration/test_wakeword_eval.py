"""`edge-voice wakeword eval` on small corpora, with the real engines."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from edge_voice.cli.main import main
from edge_voice.wakeword_eval import corpus
from edge_voice.wakeword_eval.corpus import PHRASES, Utterance, render, write_wav
from tests.support.speech import require_espeak


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Positives foldered (hey_jarvis/, one of them stereo at 44.1 kHz) and prefixed
    (okay_nabu_*.wav), one unrelated file; ~20 s of negatives."""
    require_espeak()
    root = tmp_path_factory.mktemp("eval")
    positive = root / "positive"
    (positive / "Hey-Jarvis").mkdir(parents=True)
    write_wav(positive / "Hey-Jarvis" / "one.wav", render(Utterance(PHRASES["hey_jarvis"], "en")))
    stereo = np.repeat(render(Utterance(PHRASES["hey_jarvis"], "en-us", 140)), 2)
    write_wav(positive / "Hey-Jarvis" / "two.wav", stereo, corpus.RATE, 2)
    for i, voice in enumerate(("en-us", "en-gb-scotland")):
        write_wav(positive / f"okay_nabu_{i}.wav", render(Utterance(PHRASES["okay_nabu"], voice)))
    write_wav(positive / "shopping_list.wav", render(Utterance("milk and bread")))
    negative = corpus.make_negatives(root / "negative", corpus.CorpusSize(negative_s=20.0))
    return positive, negative


def rows(table: str) -> list[list[str]]:
    """The printed table's rows, split into cells."""
    return [line.split() for line in table.splitlines()]


def test_both_engines_side_by_side_on_the_users_folders(
    folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    positive, negative = folders
    report = tmp_path / "report.json"
    argv = ["wakeword", "eval", "--positive", str(positive), "--negative", str(negative)]
    code = main([*argv, "--model", "hey_jarvis", "--model", "okay_nabu", "--json", str(report)])
    out, err = capsys.readouterr()
    assert code == 0, err
    models = {(m["model"], m["engine"]): m for m in json.loads(report.read_text())["models"]}
    assert set(models) == {
        (w, e) for w in ("hey_jarvis", "okay_nabu") for e in ("openwakeword", "microwakeword")
    }
    at_default = {
        k: next(p for p in m["points"] if p["threshold"] == m["default_threshold"])
        for k, m in models.items()
    }
    assert at_default[("hey_jarvis", "openwakeword")]["recall"] == 1.0
    assert at_default[("okay_nabu", "microwakeword")]["recall"] == 1.0
    assert at_default[("hey_jarvis", "microwakeword")]["recall"] == 0.0  # its known weak spot
    assert models[("hey_jarvis", "openwakeword")]["positives"] == 2
    assert models[("okay_nabu", "microwakeword")]["positives"] == 2
    assert models[("okay_nabu", "microwakeword")]["default_threshold"] == 0.85
    assert all(p["false_accepts"] == 0 for p in at_default.values())
    assert 15 / 3600 < models[("okay_nabu", "microwakeword")]["negative_hours"] < 25 / 3600
    recalls = [p["recall"] for p in models[("hey_jarvis", "openwakeword")]["points"]]
    assert recalls == sorted(recalls, reverse=True)  # a sweep: recall falls as t rises
    assert ["hey_jarvis", "openwakeword", "0.50*", "100.0%", "(2/2)", "0", "0.00"] in rows(out)
    assert "1 positive files named after no selected model: skipped" in err
    assert "[#" not in err  # no progress bar: stderr is not a terminal


def test_with_no_folders_a_synthetic_corpus_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    require_espeak()
    det = tmp_path / "det.png"
    argv = ["wakeword", "eval", "--quick", "--model", "okay_nabu", "--engine", "microwakeword"]
    code = main([*argv, "--det", str(det), "--progress", "--corpus-dir", str(tmp_path / "c")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "synthetic positives" in err and "synthetic negatives" in err
    assert len(list((tmp_path / "c" / "positive" / "okay_nabu").glob("*.wav"))) == 4
    assert any(row[:3] == ["okay_nabu", "microwakeword", "0.85*"] for row in rows(out))
    assert "openwakeword" not in out
    assert "[##############################]" in err
    assert det.read_bytes().startswith(b"\x89PNG")


def test_without_matplotlib_the_table_comes_with_a_note(
    folders: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an absent package looks like
    positive, negative = folders
    argv = ["wakeword", "eval", "--positive", str(positive), "--negative", str(negative)]
    code = main([*argv, "--engine", "microwakeword", "--det", str(tmp_path / "det.png")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "no DET curve: matplotlib is not installed (pip install 'edge-voice[eval]')" in err
    assert not (tmp_path / "det.png").exists()
    assert {"alexa", "hey_jarvis", "hey_mycroft", "okay_nabu"} == {
        row[0] for row in rows(out) if row[1:2] == ["microwakeword"]
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", "hey_siri"], "unknown wake word model 'hey_siri'"),
        (["--model", "okay_nabu.tflite", "--engine", "microwakeword"], ".json manifest"),
        (["--model", "/nonexistent/word.json"], "file not found: /nonexistent/word.json"),
        (["--positive", "/nonexistent"], "error: /nonexistent: no such folder"),
    ],
)
def test_a_model_or_folder_that_cannot_be_used_is_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["wakeword", "eval", *argv]) == 2
    assert message in capsys.readouterr().err
