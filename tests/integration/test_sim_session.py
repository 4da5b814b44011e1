"""session.update and client event validation per flavour: real-shaped, recoverable errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge_voice.sim import RealtimeSimulator, SimConfig
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(20)

GA = {"type": "realtime"}


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as server:
        yield server


async def update_error(
    sim: RealtimeSimulator, model: str, session: dict[str, Any], *, beta: bool = False
) -> dict[str, Any]:
    """Send a session.update expected to fail; check the session survives; return the error."""
    async with await SimClient.connect(sim.url, model, beta=beta) as c:
        await c.wait_for("session.created")
        await c.send({"type": "session.update", "event_id": "upd_1", "session": session})
        error: dict[str, Any] = (await c.wait_for("error"))["error"]
        assert error["event_id"] == "upd_1"
        assert "session.updated" not in c.types()
        fine = {"instructions": "still here"} | ({} if beta else GA)
        await c.send({"type": "session.update", "session": fine})
        assert (await c.wait_for("session.updated"))["session"]["instructions"] == "still here"
        return error


async def test_beta_field_temperature_is_unknown_on_ga(sim: RealtimeSimulator) -> None:
    error = await update_error(sim, "gpt-realtime", GA | {"temperature": 0.8})
    assert error["code"] == "unknown_parameter"
    assert error["message"] == "Unknown parameter: 'session.temperature'."
    assert error["param"] == "session.temperature"


async def test_beta_modalities_is_unknown_on_ga(sim: RealtimeSimulator) -> None:
    error = await update_error(sim, "gpt-realtime", GA | {"modalities": ["audio", "text"]})
    assert error["param"] == "session.modalities"


async def test_ga_requires_session_type(sim: RealtimeSimulator) -> None:
    error = await update_error(sim, "gpt-realtime", {"instructions": "x"})
    assert error["code"] == "missing_required_parameter"
    assert error["param"] == "session.type"


async def test_cedar_on_a_preview_model_beta_shape(sim: RealtimeSimulator) -> None:
    error = await update_error(sim, "gpt-4o-realtime-preview", {"voice": "cedar"}, beta=True)
    assert error["code"] == "invalid_value"
    assert error["param"] == "session.voice"
    assert error["message"] == (
        "Invalid value: 'cedar'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', "
        "'echo', 'sage', 'shimmer', and 'verse'."
    )


async def test_cedar_on_a_preview_model_ga_shape(sim: RealtimeSimulator) -> None:
    session = GA | {"audio": {"output": {"voice": "cedar"}}}
    error = await update_error(sim, "gpt-4o-realtime-preview", session)
    assert error["param"] == "session.audio.output.voice"
    assert "'marin'" not in error["message"]


async def test_cedar_on_gpt_realtime_is_accepted(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        await c.send(
            {"type": "session.update", "session": GA | {"audio": {"output": {"voice": "cedar"}}}}
        )
        updated = await c.wait_for("session.updated")
        assert updated["session"]["audio"]["output"]["voice"] == "cedar"


async def test_voice_cannot_change_after_the_model_spoke(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        await c.send({"type": "response.create"})
        await c.wait_for("response.done")
        await c.send(
            {"type": "session.update", "session": GA | {"audio": {"output": {"voice": "marin"}}}}
        )
        error = (await c.wait_for("error"))["error"]
        assert error["code"] == "cannot_update_voice"
        assert error["param"] == "session.audio.output.voice"


@pytest.mark.parametrize(
    ("model", "session", "param"),
    [
        (
            "gpt-4o-realtime-preview",
            GA | {"tools": [{"type": "mcp", "server_label": "x", "server_url": "https://x"}]},
            "session.tools[0].type",
        ),
        (
            "gpt-4o-realtime-preview-2024-10-01",
            GA | {"audio": {"input": {"turn_detection": {"type": "semantic_vad"}}}},
            "session.audio.input.turn_detection.type",
        ),
        (
            "gpt-realtime",
            GA | {"audio": {"output": {"speed": 2.0}}},
            "session.audio.output.speed",
        ),
        ("gpt-realtime", GA | {"reasoning": {"effort": "low"}}, "session.reasoning"),
        ("gpt-realtime", GA | {"audio": {"input": {"vad": True}}}, "session.audio.input.vad"),
    ],
)
async def test_features_the_model_lacks_are_rejected(
    sim: RealtimeSimulator, model: str, session: dict[str, Any], param: str
) -> None:
    sim.config.today = dt.date(2025, 10, 1)  # the 2024-10-01 preview shut down on 2025-10-10
    error = await update_error(sim, model, session)
    assert error["param"] == param


async def test_mcp_and_semantic_vad_accepted_where_supported(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        session = GA | {
            "tools": [{"type": "mcp", "server_label": "ha", "server_url": "https://ha.local"}],
            "audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}},
        }
        await c.send({"type": "session.update", "session": session})
        updated = (await c.wait_for("session.updated"))["session"]
        assert updated["tools"][0]["type"] == "mcp"
        assert updated["audio"]["input"]["turn_detection"]["eagerness"] == "high"


async def test_beta_rejects_the_ga_session_type(sim: RealtimeSimulator) -> None:
    error = await update_error(sim, "gpt-4o-realtime-preview", GA, beta=True)
    assert error["param"] == "session.type"


async def test_beta_modalities_must_be_a_supported_combination(sim: RealtimeSimulator) -> None:
    error = await update_error(sim, "gpt-4o-realtime-preview", {"modalities": ["audio"]}, beta=True)
    assert error["param"] == "session.modalities"


async def test_input_image_on_a_model_without_image_input(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-4o-realtime-preview") as c:
        image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
        item = {"type": "message", "role": "user", "content": [image]}
        await c.send({"type": "conversation.item.create", "item": item})
        error = (await c.wait_for("error"))["error"]
        assert error["code"] == "invalid_value"
        assert error["param"] == "item.content[0].type"


async def test_input_image_accepted_on_gpt_realtime(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        image = {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}
        item = {"type": "message", "role": "user", "content": [image]}
        await c.send({"type": "conversation.item.create", "item": item})
        done = await c.wait_for("conversation.item.done")
        assert done["item"]["content"][0]["type"] == "input_image"


async def test_unknown_event_type_and_bad_json_keep_the_session(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        await c.send({"type": "response.fly", "event_id": "e9"})
        error = (await c.wait_for("error"))["error"]
        assert (error["code"], error["param"], error["event_id"]) == ("invalid_value", "type", "e9")
        assert "'response.create'" in error["message"]
        await c.ws.send("{not json")
        assert (await c.wait_for("error"))["error"]["code"] == "invalid_json"
        await c.send({"type": "conversation.item.create", "item": {"role": "user"}})
        error = (await c.wait_for("error"))["error"]
        assert error["message"] == "Missing required parameter: 'item.type'."
        await c.send({"type": "response.create"})
        assert (await c.wait_for("response.done"))["response"]["status"] == "completed"


async def test_item_delete_and_unknown_item(sim: RealtimeSimulator) -> None:
    async with await SimClient.connect(sim.url, "gpt-realtime") as c:
        text = {"type": "input_text", "text": "what time is it"}
        item = {"id": "item_mine", "type": "message", "role": "user", "content": [text]}
        await c.send({"type": "conversation.item.create", "item": item})
        await c.wait_for("conversation.item.done")
        await c.send({"type": "conversation.item.delete", "item_id": "item_mine"})
        assert (await c.wait_for("conversation.item.deleted"))["item_id"] == "item_mine"
        await c.send({"type": "conversation.item.delete", "item_id": "item_mine"})
        assert (await c.wait_for("error"))["error"]["code"] == "item_not_found"
