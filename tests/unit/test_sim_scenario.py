"""Scenario files, turn matching, the dialogue's call logic, and CLI option handling."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from edge_voice.sim.cli import add_arguments, config_from_args
from edge_voice.sim.config import SimConfig
from edge_voice.sim.dialogue import Dialogue
from edge_voice.sim.scenario import (
    FaultSettings,
    ScenarioCursor,
    default_scenario,
    load_scenario,
    parse_scenario,
)

SCRIPT = """
name: test
turns:
  - user: "turn on the kitchen light"
    match: "kitchen"
    call: {name: set_light, arguments: {room: kitchen}}
    after_call: "Done, kitchen."
    otherwise: "No lights here."
  - user: "what time is it"
    say: "Ten."
"""


def test_default_scenario_calls_set_light_then_confirms() -> None:
    scenario = default_scenario()
    first = scenario.turns[0]
    assert first.call is not None
    assert first.call.name == "set_light"
    assert first.call.arguments == {"room": "kitchen", "state": "on"}
    assert first.after_call == "The kitchen light is on."
    assert scenario.faults is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("turns: [{user: hi}]", "needs `say`, `call`"),
        ("turns: [{user: hi, say: x, after_call: y}]", "`after_call` needs `call`"),
        ("turns: [{user: hi, say: x, on_error: y}]", "`on_error` needs `mcp`"),
        (
            "turns: [{user: hi, call: {name: f}, mcp: {server_label: s, name: t}}]",
            "not both",
        ),
        ("turns: [{user: hi, mcp: {name: t}}]", "server_label"),
        ("turns: [{user: hi, say: x, match: '('}]", "missing"),
        ("turns: [{user: hi, say: x, shout: y}]", "shout"),
        ("turns: []", "at least 1"),
        ("- just a list", "a mapping"),
        ("turns: [", "not valid YAML"),
        ("turns: [{user: hi, say: x}]\nfaults: {rate_limit_responses: -1}", "greater than"),
    ],
)
def test_bad_scenarios_are_rejected_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        parse_scenario(text, source="bad.yaml")
    assert str(info.value).startswith("bad.yaml")


def test_load_scenario_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    assert load_scenario(path).name == "test"


def test_text_matches_by_regex_or_by_the_users_words() -> None:
    cursor = ScenarioCursor(parse_scenario(SCRIPT))
    assert cursor.for_text("KITCHEN please").user == "turn on the kitchen light"
    assert cursor.for_text("What time is it?").say == "Ten."
    assert cursor.for_text("sing a song").say == "Sorry, I didn't catch that."


def test_audio_turns_go_in_order_and_loop() -> None:
    cursor = ScenarioCursor(parse_scenario(SCRIPT))
    users = [cursor.next_for_audio().user for _ in range(3)]
    assert users == ["turn on the kitchen light", "what time is it", "turn on the kitchen light"]


def test_without_loop_the_fallback_follows_the_last_turn() -> None:
    cursor = ScenarioCursor(parse_scenario(SCRIPT + "loop: false\n"))
    cursor.next_for_audio()
    cursor.next_for_audio()
    assert cursor.next_for_audio().say == "Sorry, I didn't catch that."


def test_dialogue_calls_only_declared_tools() -> None:
    dialogue = Dialogue(parse_scenario(SCRIPT))
    turn = dialogue.user_text("kitchen light")
    assert dialogue.next_reply(set(), "auto", async_functions=True).say == "No lights here."
    dialogue.user_text("kitchen light")
    assert dialogue.next_reply({"set_light"}, "none", async_functions=True).call is None
    dialogue.user_text("kitchen light")
    reply = dialogue.next_reply({"set_light"}, "auto", async_functions=True)
    assert reply.call is not None
    assert reply.turn is turn
    dialogue.call_made(turn, "call_1")
    waiting = dialogue.next_reply({"set_light"}, "auto", async_functions=True)
    assert waiting.say == "I'm still waiting for that to finish."
    dialogue.call_output("call_other")
    assert dialogue.next_reply(set(), "auto", async_functions=False).say == "How can I help?"
    dialogue.call_output("call_1")
    assert dialogue.next_reply(set(), "auto", async_functions=False).say == "Done, kitchen."


def test_fault_settings_apply_only_what_is_set() -> None:
    config = SimConfig(first_audio_delay_ms=5)
    FaultSettings(refuse_models=["gpt-realtime"], rate_limit_responses=2).apply_to(config)
    assert config.refuse_models == {"gpt-realtime"}
    assert config.rate_limit_responses == 2
    assert config.first_audio_delay_ms == 5


def test_cli_flags_override_scenario_faults(tmp_path: Path) -> None:
    path = tmp_path / "faulty.yaml"
    path.write_text(
        SCRIPT + "faults: {rate_limit_responses: 3, first_audio_delay_ms: 100}\n", "utf-8"
    )
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        ["--port", "0", "--scenario", str(path), "--rate-limit", "1", "--refuse-model", "m1"]
    )
    config, scenario = config_from_args(args)
    assert scenario.name == "test"
    assert config.rate_limit_responses == 1
    assert config.first_audio_delay_ms == 100
    assert config.refuse_models == {"m1"}
    assert config.beta_disabled is False


def test_async_models_answer_a_user_turn_with_the_placeholder_while_a_call_has_no_output() -> None:
    dialogue = Dialogue(parse_scenario(SCRIPT))
    turn = dialogue.user_text("kitchen light")
    assert dialogue.next_reply({"set_light"}, "auto", async_functions=True).call is not None
    dialogue.call_made(turn, "call_1")
    dialogue.user_text("what time is it")
    waiting = dialogue.next_reply({"set_light"}, "auto", async_functions=True)
    assert (waiting.say, waiting.call) == ("I'm still waiting for that to finish.", None)
    dialogue.call_output("call_1")
    assert dialogue.next_reply({"set_light"}, "auto", async_functions=True).say == "Done, kitchen."


def test_models_without_async_calls_answer_the_user_turn_itself_while_a_call_is_open() -> None:
    dialogue = Dialogue(parse_scenario(SCRIPT))
    turn = dialogue.user_text("kitchen light")
    dialogue.next_reply({"set_light"}, "auto", async_functions=False)
    dialogue.call_made(turn, "call_1")
    dialogue.user_text("what time is it")
    assert dialogue.next_reply({"set_light"}, "auto", async_functions=False).say == "Ten."


def test_several_open_calls_are_each_answered_when_their_output_comes() -> None:
    dialogue = Dialogue(parse_scenario(SCRIPT))
    first = dialogue.user_text("kitchen light")
    dialogue.next_reply({"set_light"}, "auto", async_functions=True)
    dialogue.call_made(first, "call_1")
    second = dialogue.user_text("kitchen light")
    assert dialogue.next_reply({"set_light"}, "auto", async_functions=True).call is not None
    dialogue.call_made(second, "call_2")
    dialogue.call_output("call_2")
    assert dialogue.next_reply(set(), "auto", async_functions=True).say == "Done, kitchen."
    waiting = dialogue.next_reply(set(), "auto", async_functions=True)
    assert waiting.say == "I'm still waiting for that to finish."
    dialogue.call_output("call_1")
    assert dialogue.next_reply(set(), "auto", async_functions=True).say == "Done, kitchen."
    assert dialogue.next_reply(set(), "auto", async_functions=True).say == "How can I help?"
