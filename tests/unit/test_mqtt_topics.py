"""The topic contract: every topic from one place, subscriptions and classification."""

from __future__ import annotations

import pytest

from edge_voice.config.loading import validate_config
from edge_voice.mqtt.topics import EVENT_KINDS, REQUEST_KINDS, CommandKind, Route, Topics


@pytest.fixture
def topics() -> Topics:
    cfg = validate_config({"device_id": "kitchen", "wakeword": {"arbitration_group": "down"}})
    return Topics.for_config(cfg)


def _matches(filter_: str, topic: str) -> bool:
    f_parts, t_parts = filter_.split("/"), topic.split("/")
    if f_parts[-1] == "#":
        return t_parts[: len(f_parts) - 1] == f_parts[:-1]
    return len(f_parts) == len(t_parts) and all(
        f in ("+", t) for f, t in zip(f_parts, t_parts, strict=True)
    )


def test_every_contract_topic(topics: Topics) -> None:
    assert topics.base == "edge_voice/kitchen"
    assert topics.availability == "edge_voice/kitchen/availability"
    assert topics.state == "edge_voice/kitchen/state"
    assert topics.metrics == "edge_voice/kitchen/metrics"
    assert topics.config == "edge_voice/kitchen/config"
    assert topics.config_last_good == "edge_voice/kitchen/config/last_good"
    assert topics.response == "edge_voice/kitchen/response"
    assert topics.event("wake") == "edge_voice/kitchen/event/wake"
    assert topics.event("function_call") == "edge_voice/kitchen/event/function_call"
    assert {topics.command(k) for k in REQUEST_KINDS} == {
        "edge_voice/kitchen/model/set",
        "edge_voice/kitchen/model_selection/set",
        "edge_voice/kitchen/say",
        "edge_voice/kitchen/memory/clear",
        "edge_voice/kitchen/voice/set",
        "edge_voice/kitchen/config/set",
        "edge_voice/kitchen/config/rollback",
        "edge_voice/kitchen/config/reset",
        "edge_voice/kitchen/function_call/result",
        "edge_voice/kitchen/conversation/start",
        "edge_voice/kitchen/conversation/stop",
    }
    assert topics.tool("set_light") == "edge_voice/kitchen/tools/set_light"
    assert topics.shared_tool("set_light") == "edge_voice/tools/set_light"
    assert topics.arbitration() == "edge_voice/arbitration/down"
    assert (
        topics.discovery("sensor", "cost_total")
        == "homeassistant/sensor/edge_voice_kitchen/cost_total/config"
    )
    assert topics.discovery_filter == "homeassistant/+/edge_voice_kitchen/+/config"


def test_multi_level_base_topic() -> None:
    topics = Topics("home/voice", "hall", "ha", "ha/status")
    assert topics.state == "home/voice/hall/state"
    assert topics.shared_tool("x") == "home/voice/tools/x"
    assert topics.classify("home/voice/hall/voice/set") == Route(CommandKind.VOICE_SET)


def test_subscriptions_cover_every_input_and_every_typo_and_outputs_are_known(
    topics: Topics,
) -> None:
    subs = topics.subscriptions()
    inputs = [topics.command(k) for k in REQUEST_KINDS] + [
        topics.tool("a"),
        topics.shared_tool("a"),
        topics.arbitration(),
        topics.ha_status_topic,
    ]
    typos = [f"{topics.base}/config/rolback", f"{topics.base}/say", f"{topics.base}/a/b/c"]
    for topic in inputs + typos:
        assert any(_matches(f, topic) for f in subs), topic
        assert not topics.is_output(topic), topic
    for topic in typos:
        assert topics.expects_answer(topic), topic
    outputs = [
        topics.availability,
        topics.state,
        topics.metrics,
        topics.config,
        topics.config_last_good,
        topics.response,
        *(topics.event(k) for k in EVENT_KINDS),
        f"{topics.sync_prefix}0123",
    ]
    for topic in outputs:
        # `<base>/#` brings our own publications back: they are known, and never answered.
        assert topics.is_output(topic) and not topics.expects_answer(topic), topic
    assert not any(_matches(f, topics.discovery("sensor", "cost_total")) for f in subs)
    assert len(subs) == len(set(subs))


def test_no_arbitration_subscription_without_a_group() -> None:
    topics = Topics("edge_voice", "kitchen")
    assert not any("arbitration" in f for f in topics.subscriptions())
    with pytest.raises(ValueError, match="no arbitration group"):
        topics.arbitration()


@pytest.mark.parametrize(
    ("topic", "route"),
    [
        ("edge_voice/kitchen/model/set", Route(CommandKind.MODEL_SET)),
        ("edge_voice/kitchen/model_selection/set", Route(CommandKind.MODEL_SELECTION_SET)),
        ("edge_voice/kitchen/voice/set", Route(CommandKind.VOICE_SET)),
        ("edge_voice/kitchen/config/set", Route(CommandKind.CONFIG_SET)),
        ("edge_voice/kitchen/config/rollback", Route(CommandKind.CONFIG_ROLLBACK)),
        ("edge_voice/kitchen/function_call/result", Route(CommandKind.FUNCTION_CALL_RESULT)),
        ("edge_voice/kitchen/conversation/start", Route(CommandKind.CONVERSATION_START)),
        ("edge_voice/kitchen/conversation/stop", Route(CommandKind.CONVERSATION_STOP)),
        ("edge_voice/kitchen/tools/set_light", Route(CommandKind.TOOL, "set_light")),
        ("edge_voice/tools/read_sensor", Route(CommandKind.SHARED_TOOL, "read_sensor")),
        ("edge_voice/arbitration/down", Route(CommandKind.ARBITRATION, "down")),
        ("homeassistant/status", Route(CommandKind.HA_STATUS)),
        ("edge_voice/kitchen/tools/bad name", Route(CommandKind.TOOL, "bad name")),
        ("edge_voice/kitchen/modle/set", None),
        ("edge_voice/kitchen/state", None),
        ("edge_voice/kitchen/tools", None),
        ("edge_voice/kitchen/tools/", None),
        ("edge_voice/kitchen/tools/a/b", None),
        ("edge_voice/kitchen/tools/shared_tools", Route(CommandKind.TOOL, "shared_tools")),
        ("edge_voice/kitchen/tools/set", Route(CommandKind.TOOL, "set")),
        ("edge_voice/kitchen/ha_status", None),
        ("edge_voice/kitchen/arbitration", None),
        ("edge_voice/hall/model/set", None),
        ("other/kitchen/model/set", None),
    ],
)
def test_classify(topics: Topics, topic: str, route: Route | None) -> None:
    assert topics.classify(topic) == route


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_topic": "edge/+", "device_id": "a"}, "mqtt.base_topic"),
        ({"base_topic": "edge/#", "device_id": "a"}, "without"),
        ({"base_topic": "edge//x", "device_id": "a"}, "empty level"),
        ({"base_topic": "$SYS", "device_id": "a"}, "'\\$'"),
        ({"base_topic": "edge", "device_id": "a/b"}, "device_id"),
        ({"base_topic": "edge", "device_id": "a+"}, "device_id"),
        ({"base_topic": "edge", "device_id": "tools"}, "reserved"),
        ({"base_topic": "edge", "device_id": "arbitration"}, "reserved"),
        ({"base_topic": "edge", "device_id": "a", "discovery_prefix": "edge"}, "must differ"),
        ({"base_topic": "edge", "device_id": "a", "ha_status_topic": "ha/#"}, "ha_status"),
        ({"base_topic": "edge", "device_id": "a", "ha_status_topic": "edge/a/x"}, "one of this"),
        ({"base_topic": "edge", "device_id": "a", "arbitration_group": "x/y"}, "arbitration"),
    ],
)
def test_invalid_segments_are_refused(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Topics(**kwargs)


def test_tool_names_and_event_kinds_are_validated(topics: Topics) -> None:
    with pytest.raises(ValueError, match="tool name"):
        topics.tool("a/#")
    with pytest.raises(ValueError, match="unknown event kind"):
        topics.event("nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no fixed command topic"):
        topics.command(CommandKind.TOOL)


def test_two_devices_share_no_topic() -> None:
    a, b = Topics("edge_voice", "kitchen"), Topics("edge_voice", "hall")

    def own(t: Topics) -> set[str]:
        return {
            t.availability,
            t.state,
            t.metrics,
            t.config,
            t.response,
            t.event("wake"),
            t.tool("x"),
            t.discovery("sensor", "cost_total"),
            *(t.command(k) for k in REQUEST_KINDS),
        }

    assert not own(a) & own(b)
    assert a.classify(b.command(CommandKind.MODEL_SET)) is None
    assert a.shared_tool("x") == b.shared_tool("x")
