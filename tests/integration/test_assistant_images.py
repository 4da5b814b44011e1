"""A function result with an image, through the real assistant on the simulator."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import pytest

from edge_voice.events import FunctionCallRequested, ResponseCompleted
from edge_voice.mqtt.commands import CommandError, FunctionCallImage
from edge_voice.sim.config import SimConfig
from edge_voice.sim.realtime_server import RealtimeSimulator
from tests.support.assistant_rig import Rig, build_rig, demo_wav, frames_of, make_config

pytestmark = pytest.mark.timeout(60)
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode()


async def _answer(rig: Rig, image: FunctionCallImage) -> list[Exception]:
    errors: list[Exception] = []
    queue = rig.bus.subscribe()
    while True:
        event = await queue.get()
        if isinstance(event, FunctionCallRequested):
            try:
                rig.assistant.function_result(event.call_id, '{"ok": true}', None, image)
            except CommandError as exc:
                errors.append(exc)


async def _run(
    tmp_path: Path, image: FunctionCallImage, **openai: object
) -> tuple[Rig, list[dict[str, Any]]]:
    async with RealtimeSimulator(SimConfig(pacing=0)) as sim:
        cfg = make_config(sim.url, tmp_path, openai={"base_url": sim.url, **openai})
        rig = build_rig(cfg, tmp_path / "reply.wav")
        answering = asyncio.create_task(_answer(rig, image))
        async with asyncio.timeout(30):
            await rig.assistant.run(
                frames_of(demo_wav("hey_jarvis_kitchen_light.wav")), exit_on_eof=True
            )
        answering.cancel()
        return rig, [e for _, e in sim.received if e["type"] == "conversation.item.create"]


async def test_an_image_result_is_shown_and_priced(tmp_path: Path) -> None:
    rig, items = await _run(tmp_path, FunctionCallImage(mime="image/png", data_base64=PNG))
    shown = [i["item"] for i in items if i["item"]["type"] == "message"]
    assert shown[0]["content"][0]["type"] == "input_image"
    last = rig.of(ResponseCompleted)[-1]
    assert last.usage["image_in"] > 0 and last.cost_usd > 0


async def test_a_bad_image_gives_the_model_an_error_result(tmp_path: Path) -> None:
    _rig, items = await _run(tmp_path, FunctionCallImage(mime="image/png", data_base64="!!"))
    outputs = [i["item"]["output"] for i in items if i["item"]["type"] == "function_call_output"]
    assert "not valid base64" in outputs[0]
    assert not [i for i in items if i["item"]["type"] == "message"]


async def test_a_model_without_image_input_is_told_the_image_was_not_shown(
    tmp_path: Path,
) -> None:
    image = FunctionCallImage(mime="image/png", data_base64=PNG)
    _rig, items = await _run(tmp_path, image, disable_new_features=True)
    outputs = [i["item"]["output"] for i in items if i["item"]["type"] == "function_call_output"]
    assert "could not be shown" in outputs[0]
    assert not [i for i in items if i["item"]["type"] == "message"]
