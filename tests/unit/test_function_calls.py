"""Tools and calls in flight: first valid result wins, deadlines, built-ins, undeclared tools."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

import pytest

from edge_voice.config.schema import ToolConfig
from edge_voice.conversation.function_calls import FunctionCallBroker, ToolRegistry
from edge_voice.events import ErrorOccurred, EventBus, FunctionCallRequested
from edge_voice.mqtt.commands import CommandError, ErrorCode

LIGHT = ToolConfig(name="set_light", description="Switch a light")


def broker(deadline_ms: int = 5000) -> tuple[FunctionCallBroker, asyncio.Queue[object]]:
    bus = EventBus()
    queue = bus.subscribe()
    fixed = dt.datetime(2026, 11, 24, 10, 15, tzinfo=dt.UTC)
    return FunctionCallBroker(
        ToolRegistry([LIGHT]), bus, deadline_ms=deadline_ms, now=lambda: fixed
    ), queue  # type: ignore[return-value]


async def test_result_from_mqtt_goes_back_to_the_model() -> None:
    calls, published = broker()
    task = asyncio.create_task(
        calls.call("call_1", "set_light", '{"room":"kitchen"}', "gpt-realtime")
    )
    event = await asyncio.wait_for(published.get(), 5)
    assert isinstance(event, FunctionCallRequested)
    assert (event.call_id, event.name, event.deadline_ms, event.model) == (
        "call_1",
        "set_light",
        5000,
        "gpt-realtime",
    )
    calls.result("call_1", '{"ok":true}', None)
    assert await asyncio.wait_for(task, 5) == '{"ok":true}'
    with pytest.raises(CommandError) as info:  # a second answer is refused
        calls.result("call_1", '{"ok":false}', None)
    assert info.value.code is ErrorCode.UNKNOWN_CALL


async def test_error_result_is_wrapped_for_the_model() -> None:
    calls, published = broker()
    task = asyncio.create_task(calls.call("c2", "set_light", "{}", "gpt-realtime"))
    await asyncio.wait_for(published.get(), 5)
    calls.result("c2", None, "the bulb is unreachable")
    assert json.loads(await task) == {"error": "the bulb is unreachable"}


async def test_deadline_gives_the_model_an_error_and_late_results_are_refused() -> None:
    calls, _ = broker(deadline_ms=100)
    output = await asyncio.wait_for(calls.call("c3", "set_light", "{}", "gpt-realtime"), 5)
    assert json.loads(output) == {"error": "no answer from set_light within 100 ms"}
    with pytest.raises(CommandError, match="no pending function call 'c3'"):
        calls.result("c3", "{}", None)


def test_unknown_call_id_is_refused() -> None:
    calls, _ = broker()
    with pytest.raises(CommandError) as info:
        calls.result("nope", "{}", None)
    assert info.value.code is ErrorCode.UNKNOWN_CALL


def _only_undeclared_error(published: asyncio.Queue[object], name: str) -> None:
    """Nothing but one `undeclared_tool` error was published: no FunctionCallRequested."""
    events = []
    while not published.empty():
        events.append(published.get_nowait())
    assert len(events) == 1 and isinstance(events[0], ErrorOccurred), events
    assert (events[0].code, events[0].name) == ("undeclared_tool", name)


async def test_undeclared_tool_never_runs() -> None:
    calls, published = broker()
    output = await calls.call("c4", "unlock_front_door", "{}", "gpt-realtime")
    assert json.loads(output)["error"].startswith("unknown tool 'unlock_front_door'")
    _only_undeclared_error(published, "unlock_front_door")


async def test_a_declared_tool_the_session_was_not_offered_never_runs() -> None:
    calls, published = broker()
    output = await calls.call("c6", "set_light", "{}", "gpt-realtime", offered={"get_time"})
    assert json.loads(output)["error"].startswith("unknown tool 'set_light'")
    _only_undeclared_error(published, "set_light")
    assert calls.pending == []


async def test_a_call_of_an_mcp_tool_whose_server_went_away_says_so() -> None:
    # A replayed history can make the model call a tool the session offered before its MCP
    # server went away: refused like any undeclared tool, but the message says why.
    calls, published = broker()
    forecast = {"mcp_home_forecast": ("the forecast", {"type": "object"})}
    calls.registry.set_local(forecast)
    calls.registry.set_local({})
    await calls.call("c7", "mcp_home_forecast", "{}", "gpt-realtime")
    event = published.get_nowait()
    assert isinstance(event, ErrorOccurred) and event.code == "undeclared_tool"
    assert "its server no longer offers (the server is away)" in event.message
    calls.registry.set_local(forecast)  # back: no longer withdrawn
    assert not calls.registry.withdrawn("mcp_home_forecast")
    calls.registry.set_local({})
    await calls.call("c8", "mcp_home_never", "{}", "gpt-realtime")
    event = published.get_nowait()
    assert isinstance(event, ErrorOccurred) and "'mcp_home_never', not declared" in event.message


async def test_builtins_answer_locally() -> None:
    calls, published = broker()
    assert json.loads(await calls.call("c5", "get_time", "{}", "m")) == {
        "local_time": "2026-11-24T10:15+00:00",
        "weekday": "Tuesday",
    }
    assert not calls.end_requested
    assert json.loads(await calls.call("c6", "end_conversation", "{}", "m")) == {"ok": True}
    assert calls.end_requested
    assert published.empty()


def test_registry_layers_and_session_shape() -> None:
    registry = ToolRegistry([LIGHT])
    registry.set_declared(
        {
            "set_light": ("from a flow", {"type": "object", "properties": {"x": {}}}),
            "read_sensor": ("", {"type": "object"}),
        }
    )
    tools = registry.tools()
    assert set(tools) == {"get_time", "end_conversation", "set_light", "read_sensor"}
    assert tools["set_light"].source == "mqtt" and tools["set_light"].description == "from a flow"
    assert registry.session_tools()[0] == {
        "type": "function",
        "name": "get_time",
        "description": "The current local date and time of the home.",
        "parameters": {"type": "object", "properties": {}},
    }


def test_setting_the_same_tools_again_is_no_change() -> None:
    # The caller retires the warm session only on a change: a first MQTT sync that finds no
    # declaration must not cut off the conversation that started before it.
    registry = ToolRegistry([LIGHT])
    sensor = {"read_sensor": ("read it", {"type": "object"})}
    assert registry.set_declared({}) is False
    assert registry.set_declared(sensor) is True
    assert registry.set_declared(dict(sensor)) is False
    assert registry.set_declared({"read_sensor": ("read it now", {"type": "object"})}) is True
    assert registry.set_local({}) is False
    assert registry.set_local(sensor) is True and registry.set_local({}) is True


async def test_two_answers_in_one_tick_first_wins_and_the_second_is_an_unknown_call() -> None:
    calls, published = broker()
    task = asyncio.create_task(calls.call("c9", "set_light", "{}", "gpt-realtime"))
    await asyncio.wait_for(published.get(), 5)
    calls.result("c9", '{"first":true}', None)  # no await in between: the call is still pending
    with pytest.raises(CommandError) as info:
        calls.result("c9", '{"second":true}', None)
    assert info.value.code is ErrorCode.UNKNOWN_CALL
    assert await asyncio.wait_for(task, 5) == '{"first":true}'


async def test_an_answer_in_the_tick_of_the_deadline_is_an_unknown_call() -> None:
    calls, published = broker(deadline_ms=50)
    task = asyncio.create_task(calls.call("c10", "set_light", "{}", "gpt-realtime"))
    await asyncio.wait_for(published.get(), 5)
    task.cancel()  # what the deadline does to the waiting call, before it can clean up
    with pytest.raises(CommandError) as info:
        calls.result("c10", "{}", None)
    assert info.value.code is ErrorCode.UNKNOWN_CALL
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_missed_deadline_is_published_as_an_error_naming_call_tool_and_model() -> None:
    calls, published = broker(deadline_ms=50)
    output = await asyncio.wait_for(calls.call("c9", "set_light", "{}", "gpt-realtime"), 5)
    assert json.loads(output) == {"error": "no answer from set_light within 50 ms"}
    events = [published.get_nowait() for _ in range(published.qsize())]
    errors = [e for e in events if isinstance(e, ErrorOccurred)]
    assert [(e.code, e.call_id, e.name, e.model) for e in errors] == [
        ("function_call_timeout", "c9", "set_light", "gpt-realtime")
    ]
    assert "c9" in errors[0].message and "set_light" in errors[0].message


async def test_calls_and_results_are_logged_at_info_clipped_and_without_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    queue = bus.subscribe()
    calls = FunctionCallBroker(ToolRegistry([LIGHT]), bus, secrets=["hunter2-mqtt-password"])
    arguments = json.dumps({"pw": "hunter2-mqtt-password", "room": "kitchen", "note": "x" * 500})
    caplog.set_level(logging.INFO, logger="edge_voice.conversation.function_calls")
    task = asyncio.create_task(calls.call("c10", "set_light", arguments, "gpt-realtime"))
    await asyncio.wait_for(queue.get(), 5)
    calls.result("c10", json.dumps({"ok": True, "key": "sk-proj-abcdefghijklmnop"}), None)
    await asyncio.wait_for(task, 5)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 2, lines
    request, result = lines
    assert "c10" in request and "set_light" in request and "kitchen" in request
    assert len(request) < 400 and "(" in request and "chars)" in request  # clipped
    assert "c10" in result and '"ok": true' in result
    text = caplog.text
    assert "hunter2-mqtt-password" not in text and "sk-proj-abcdefghijklmnop" not in text
