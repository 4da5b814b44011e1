"""What the config store announces on the event bus, and what it keeps quiet about."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edge_voice.config.events import ConfigChanged, LastGoodChanged
from edge_voice.config.rules import ConfigChangeError
from edge_voice.config.store import ConfigStore
from edge_voice.events import Event, EventBus
from tests.unit.config_store_support import API_KEY, PREVIEW


def announced(make_store: Callable[..., ConfigStore]) -> tuple[ConfigStore, list[Event]]:
    bus = EventBus()
    events: list[Event] = []
    bus.on(Event, events.append)
    return make_store(bus=bus), events


def test_every_change_is_announced_with_version_source_diff_and_the_new_config(
    make_store: Callable[..., ConfigStore],
) -> None:
    store, events = announced(make_store)
    store.set_model(PREVIEW)
    store.apply_patch({"budget": {"daily_usd": 2.5}}, source="test")
    store.rollback("legacy")
    assert [(e.version, e.source) for e in events if isinstance(e, ConfigChanged)] == [
        (1, "mqtt:model/set"),
        (2, "test"),
        (3, "rollback:legacy"),
    ]
    first = events[0]
    assert isinstance(first, ConfigChanged)
    assert first.diff == {"openai.model": ("gpt-realtime", PREVIEW)}
    assert first.config.openai.model == PREVIEW
    assert first.note is not None, "a model change can change the voice: the note says"
    assert API_KEY not in repr(first), "the config in the event is left out of its repr"
    last = events[-1]
    assert isinstance(last, ConfigChanged) and last.config is store.effective


def test_requests_already_in_effect_and_refusals_announce_nothing(
    make_store: Callable[..., ConfigStore],
) -> None:
    store, events = announced(make_store)
    store.set_model("gpt-realtime")
    with pytest.raises(ConfigChangeError):
        store.set_model("no-such-model")
    with pytest.raises(ConfigChangeError):
        store.apply_patch({"mqtt": {"host": "evil"}})
    assert events == [] and store.version == 0


def test_last_good_is_announced_only_when_it_moves(
    make_store: Callable[..., ConfigStore],
) -> None:
    store, events = announced(make_store)
    assert store.mark_good(0)
    assert not store.mark_good(0)  # already the last good one
    store.set_model(PREVIEW)
    assert not store.mark_good(0), "a conversation under version 0 proves nothing about 1"
    assert store.mark_good(1)
    assert [e.version for e in events if isinstance(e, LastGoodChanged)] == [0, 1]


def test_without_a_bus_the_store_announces_to_nobody(
    make_store: Callable[..., ConfigStore],
) -> None:
    store = make_store()
    store.set_model(PREVIEW)  # the `config` command line: nothing listens, nothing breaks
    assert store.version == 1
