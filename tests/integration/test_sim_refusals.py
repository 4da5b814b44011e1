"""Connect-time refusals and session expiry, shaped like the real service's (reference §1)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from edge_voice.sim import RealtimeSimulator, SimConfig
from tests.support.sim_client import SimClient

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
async def sim() -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(SimConfig(pacing=0, api_keys={"sk-good-key-0001"})) as server:
        yield server


async def refusal(
    sim: RealtimeSimulator,
    model: str | None,
    *,
    key: str | None = "sk-good-key-0001",
    beta: bool = False,
) -> tuple[dict[str, object], int | None, str | None, list[str]]:
    """Connect, read the single error and the close; (error, close code, reason, all types)."""
    client = await SimClient.connect(sim.url, model, key=key, beta=beta)
    error = await client.wait_for("error")
    code, reason = await client.wait_closed()
    return error["error"], code, reason, client.types()


async def test_bad_key_gets_error_then_close_3000(sim: RealtimeSimulator) -> None:
    error, code, reason, types = await refusal(sim, "gpt-realtime", key="sk-wrong-key-98765")
    assert types == ["error"]  # no session.created first
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_api_key"
    message = str(error["message"])
    assert message.startswith("Incorrect API key provided: sk-")
    assert "wrong-key" not in message and message.count("8765") == 1
    assert (code, reason) == (3000, "invalid_request_error.invalid_api_key")
    assert sim.connections[0].refused == "invalid_api_key"
    assert "wrong" not in sim.connections[0].headers["Authorization"]


async def test_missing_key_is_refused_like_a_bad_one(sim: RealtimeSimulator) -> None:
    error, code, _, _ = await refusal(sim, "gpt-realtime", key=None)
    assert error["code"] == "invalid_api_key"
    assert code == 3000


async def test_any_key_accepted_when_no_key_set_is_configured() -> None:
    async with (
        RealtimeSimulator(SimConfig(pacing=0)) as open_sim,
        await SimClient.connect(open_sim.url, key="anything") as c,
    ):
        assert (await c.wait_for("session.created"))["session"]["model"] == "gpt-realtime"


async def test_unknown_model_gets_invalid_model_and_4000(sim: RealtimeSimulator) -> None:
    error, code, reason, _ = await refusal(sim, "gpt-live-1")
    assert error["code"] == "invalid_model"
    assert error["message"] == 'Model "gpt-live-1" is not supported in realtime mode.'
    assert (code, reason) == (4000, "invalid_request_error.invalid_model")


async def test_missing_model_gets_missing_model_and_4000(sim: RealtimeSimulator) -> None:
    error, code, _, _ = await refusal(sim, None)
    assert error["code"] == "missing_model"
    assert code == 4000


async def test_refused_model_can_be_switched_at_runtime(sim: RealtimeSimulator) -> None:
    sim.config.refuse_models.add("gpt-realtime")
    error, code, _, _ = await refusal(sim, "gpt-realtime")
    assert (error["code"], code) == ("invalid_model", 4000)
    sim.config.refuse_models.clear()
    async with await SimClient.connect(sim.url, "gpt-realtime", key="sk-good-key-0001") as c:
        await c.wait_for("session.created")
    assert sim.connection_count == 2


async def test_model_not_found_fault(sim: RealtimeSimulator) -> None:
    sim.config.not_found_models.add("gpt-realtime")
    error, code, _, _ = await refusal(sim, "gpt-realtime")
    assert (error["code"], code) == ("model_not_found", 4000)


async def test_forbidden_model_gets_http_403_with_json_body(sim: RealtimeSimulator) -> None:
    sim.config.forbid_models.add("gpt-realtime")
    headers = {"Authorization": "Bearer sk-good-key-0001"}
    with pytest.raises(InvalidStatus) as info:
        await connect(f"{sim.url}?model=gpt-realtime", additional_headers=headers, proxy=None)
    response = info.value.response
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert json.loads(response.body)["error"]["code"] == "model_not_found"
    assert sim.connections[0].refused == "forbidden"


async def test_path_must_end_in_realtime(sim: RealtimeSimulator) -> None:
    with pytest.raises(InvalidStatus) as info:
        await connect(sim.url.replace("/realtime", "/chat") + "?model=gpt-realtime", proxy=None)
    assert info.value.response.status_code == 404


async def test_beta_header_refused_when_beta_disabled(sim: RealtimeSimulator) -> None:
    sim.config.beta_disabled = True
    error, code, _, _ = await refusal(sim, "gpt-4o-realtime-preview", beta=True)
    assert error["code"] == "beta_api_shape_disabled"
    assert error["message"] == (
        "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API."
    )
    assert code == 4000
    # The GA shape is still served, even for a beta-protocol model.
    async with await SimClient.connect(
        sim.url, "gpt-4o-realtime-preview", key="sk-good-key-0001"
    ) as c:
        session = (await c.wait_for("session.created"))["session"]
        assert session["type"] == "realtime"


async def test_session_expires_with_error_then_1001() -> None:
    async with RealtimeSimulator(SimConfig(pacing=0, session_max_s=0.2)) as sim:
        client = await SimClient.connect(sim.url, "gpt-realtime")
        await client.wait_for("session.created")
        error = (await client.wait_for("error"))["error"]
        assert error["code"] == "session_expired"
        assert error["message"] == "Your session hit the maximum duration of 60 minutes."
        code, _ = await client.wait_closed()
        assert code == 1001
