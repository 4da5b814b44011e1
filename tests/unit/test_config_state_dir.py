"""State per device: the default state_dir, adopting an unscoped old state, foreign state files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from edge_voice.audio.sinks import NullSink
from edge_voice.config.loading import ConfigError
from edge_voice.config.overrides import stored_overrides
from edge_voice.config.state_location import STATE_FILE_NAME
from edge_voice.config.store import ConfigStore
from edge_voice.metrics.cost import TokenUsage
from edge_voice.metrics.cost_ledger import CostLedger, LedgerEntry
from edge_voice.service import build_service
from tests.unit.config_store_support import PREVIEW, file_config

LEDGER = "cost_ledger.jsonl"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home directory, so the default `~/.local/state/...` lands in tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def state_root(home: Path) -> Path:
    return home / ".local" / "state" / "edge_voice"


def spend(path: Path, usd: float) -> int:
    """Append one response of `usd` to the ledger at `path`; its total in nano-dollars."""
    ledger = CostLedger(path, fsync=False)
    ledger.append(
        LedgerEntry(
            response_id=f"resp_{usd}",
            model="gpt-realtime",
            tokens=TokenUsage(audio_in=100),
            cost_usd=usd,
            ts=dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC),
            date=dt.date(2026, 11, 24),
        )
    )
    return ledger.total_nusd


def test_the_default_state_dir_is_one_per_device(home: Path) -> None:
    kitchen = ConfigStore(file_config(device_id="kitchen"))
    hall = ConfigStore(file_config(device_id="hall"))
    assert kitchen.state_path == state_root(home) / "kitchen" / STATE_FILE_NAME
    assert hall.state_path == state_root(home) / "hall" / STATE_FILE_NAME
    assert kitchen.ledger_path == state_root(home) / "kitchen" / LEDGER
    assert hall.ledger_path != kitchen.ledger_path


def test_a_model_chosen_for_one_device_does_not_move_another(home: Path) -> None:
    ConfigStore(file_config(device_id="kitchen")).set_model(PREVIEW)
    hall = ConfigStore(file_config(device_id="hall"))  # another config, same host, next start
    assert hall.effective.openai.model == "gpt-realtime"
    assert ConfigStore(file_config(device_id="kitchen")).effective.openai.model == PREVIEW


def test_the_service_keeps_its_cost_ledger_in_the_device_state_dir(home: Path) -> None:
    kitchen = build_service(file_config(device_id="kitchen"), api_key=None, sink=NullSink())
    hall = build_service(file_config(device_id="hall"), api_key=None, sink=NullSink())
    assert kitchen.metrics.ledger.path == state_root(home) / "kitchen" / LEDGER
    assert hall.metrics.ledger.path == state_root(home) / "hall" / LEDGER


def test_an_explicit_state_dir_is_used_as_it_is(tmp_path: Path) -> None:
    store = ConfigStore(file_config(device_id="kitchen", state_dir=str(tmp_path / "sd")))
    assert store.state_path == tmp_path / "sd" / STATE_FILE_NAME
    assert store.ledger_path == tmp_path / "sd" / LEDGER


def test_a_state_dir_may_name_the_device(tmp_path: Path) -> None:
    cfg = file_config(device_id="hall", state_dir=str(tmp_path / "ev" / "{device_id}"))
    assert ConfigStore(cfg).state_path == tmp_path / "ev" / "hall" / STATE_FILE_NAME


def test_the_state_file_records_its_device(home: Path) -> None:
    store = ConfigStore(file_config(device_id="kitchen"))
    assert json.loads(store.state_path.read_text())["device_id"] == "kitchen"


def unscoped_install(home: Path, device_id: str, usd: float) -> tuple[Path, int]:
    """The state an older release left in the unscoped default dir, written by `device_id`."""
    root = state_root(home)
    old = ConfigStore(file_config(device_id=device_id), root / STATE_FILE_NAME)
    old.set_model(PREVIEW)
    data = json.loads(old.state_path.read_text())
    del data["device_id"]  # older releases recorded the device only in the snapshot
    old.state_path.write_text(json.dumps(data))
    return root, spend(root / LEDGER, usd)


def test_an_unscoped_state_of_this_device_is_moved_into_its_dir(home: Path) -> None:
    root, total = unscoped_install(home, "kitchen", 0.25)
    store = ConfigStore(file_config(device_id="kitchen"))
    assert store.effective.openai.model == PREVIEW  # the runtime choice survived the upgrade
    assert store.version == 1
    assert CostLedger(store.ledger_path).total_nusd == total  # and so did the cost totals
    assert not (root / STATE_FILE_NAME).exists()
    assert not (root / LEDGER).exists()
    assert any("moved" in w and str(root) in w for w in store.load_warnings)
    again = ConfigStore(file_config(device_id="kitchen"))
    assert again.effective.openai.model == PREVIEW
    assert again.load_warnings == ()


def test_config_check_shows_the_unscoped_overrides_run_would_move_in(home: Path) -> None:
    root, _total = unscoped_install(home, "kitchen", 0.25)
    view = stored_overrides(file_config(device_id="kitchen"))
    assert view.path == root / STATE_FILE_NAME
    assert [(o.key, o.value) for o in view.overrides] == [("openai.model", PREVIEW)]
    assert "is moved to" in view.problems[0]
    assert (root / STATE_FILE_NAME).exists()  # only `run` moves it
    assert stored_overrides(file_config(device_id="hall")).overrides == []


def test_an_unscoped_state_of_another_device_stays_for_that_device(home: Path) -> None:
    root, total = unscoped_install(home, "kitchen", 0.5)
    hall = ConfigStore(file_config(device_id="hall"))
    assert hall.effective.openai.model == "gpt-realtime"
    assert CostLedger(hall.ledger_path).total_nusd == 0
    assert (root / STATE_FILE_NAME).exists()
    assert (root / LEDGER).exists()
    kitchen = ConfigStore(file_config(device_id="kitchen"))
    assert kitchen.effective.openai.model == PREVIEW
    assert CostLedger(kitchen.ledger_path).total_nusd == total


def test_an_unscoped_state_never_replaces_a_scoped_one(home: Path) -> None:
    scoped = ConfigStore(file_config(device_id="kitchen"))
    scoped.set_voice("ash")
    root, _total = unscoped_install(home, "kitchen", 0.5)
    again = ConfigStore(file_config(device_id="kitchen"))
    assert again.effective.voice.primary == "ash"
    assert again.effective.openai.model == "gpt-realtime"
    assert (root / STATE_FILE_NAME).exists()  # left alone, and said so
    assert any(str(root / STATE_FILE_NAME) in w for w in again.load_warnings)


def test_an_unscoped_state_of_another_device_is_no_concern_of_this_one(home: Path) -> None:
    ConfigStore(file_config(device_id="hall"))
    unscoped_install(home, "kitchen", 0.5)
    assert ConfigStore(file_config(device_id="hall")).load_warnings == ()


def test_a_state_file_of_another_device_is_refused(tmp_path: Path) -> None:
    shared = str(tmp_path / "shared")
    kitchen = ConfigStore(file_config(device_id="kitchen", state_dir=shared))
    kitchen.set_model(PREVIEW)
    before = kitchen.state_path.read_text()
    with pytest.raises(ConfigError) as info:
        ConfigStore(file_config(device_id="hall", state_dir=shared))
    message = str(info.value)
    assert str(kitchen.state_path) in message
    assert "written for device 'kitchen', not 'hall'" in message
    assert "state_dir" in message
    assert kitchen.state_path.read_text() == before  # nothing of kitchen's state is touched


def test_an_old_state_file_of_another_device_is_refused_by_its_snapshot(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILE_NAME
    ConfigStore(file_config(device_id="kitchen"), path).set_model(PREVIEW)
    data = json.loads(path.read_text())
    del data["device_id"]
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="written for device 'kitchen', not 'hall'"):
        ConfigStore(file_config(device_id="hall"), path)
