"""Scoring of `edge-voice eval` on hand-made answers: passes, failures and partial multi-calls."""

from __future__ import annotations

import json
import random

import pytest

from edge_voice.evaluation.checks import detect_language, markdown_found, speech_checks
from edge_voice.evaluation.scoring import Observed, ObservedCall, score
from edge_voice.evaluation.simulated import reference_answer, wrong_answer
from edge_voice.evaluation.suite import Case, SpeechChecks, Suite, default_suite

SUITE = default_suite()


def case(case_id: str) -> Case:
    return next(c for c in SUITE.cases if c.id == case_id)


def call(name: str, **arguments: object) -> ObservedCall:
    return ObservedCall(name, json.dumps(arguments))


def test_the_right_call_and_a_short_answer_pass() -> None:
    got = score(
        case("light_kitchen_on"),
        Observed((call("set_light", room="Kitchen", state="on"),), "The kitchen light is on."),
        SUITE,
    )
    assert got.passed and got.function_calling and got.instruction_following
    assert not got.partial


def test_a_wrong_value_fails_function_calling_and_says_which() -> None:
    got = score(
        case("light_kitchen_on"),
        Observed((call("set_light", room="kitchen", state="off"),), "Done."),
        SUITE,
    )
    assert not got.passed
    assert got.function_calling is False and got.instruction_following is True
    assert "state='off', expected 'on'" in " ".join(got.failures())


def test_arguments_outside_the_tools_schema_fail() -> None:
    got = score(
        case("args_dim_living_room_30"),
        Observed((call("set_light", room="living room", state="on", brightness=300),), "Ok."),
        SUITE,
    )
    assert got.function_calling is False
    assert any("schema: brightness" in f for f in got.failures())


def test_invalid_json_arguments_fail() -> None:
    got = score(
        case("light_kitchen_on"), Observed((ObservedCall("set_light", "{room"),), "Ok"), SUITE
    )
    assert any("not valid JSON" in f for f in got.failures())


def test_a_pattern_accepts_each_spelling() -> None:
    for room in ("living_room", "Living Room", "livingroom"):
        got = score(
            case("sensor_living_room_temperature"),
            Observed((call("get_sensor", sensor=room),), "It is 21 degrees."),
            SUITE,
        )
        assert got.function_calling, room
    wrong = score(
        case("sensor_living_room_temperature"),
        Observed((call("get_sensor", sensor="kitchen"),), "It is 21 degrees."),
        SUITE,
    )
    assert wrong.function_calling is False


def test_one_of_two_calls_is_partial() -> None:
    got = score(
        case("multi_two_lights_off"),
        Observed((call("set_light", room="kitchen", state="off"),), "The kitchen light is off."),
        SUITE,
    )
    assert not got.passed and got.partial
    assert (got.calls_matched, got.calls_expected) == (1, 2)


def test_both_calls_in_any_order_pass() -> None:
    got = score(
        case("multi_two_lights_off"),
        Observed(
            (
                call("set_light", room="bedroom", state="off"),
                call("set_light", room="kitchen", state="off"),
            ),
            "Both lights are off.",
        ),
        SUITE,
    )
    assert got.passed and not got.partial


def test_a_call_where_none_is_wanted_fails() -> None:
    refusal = case("refuse_unlock_front_door")
    ok = score(refusal, Observed((), "Sorry, I can't unlock doors."), SUITE)
    assert ok.passed
    bad = score(
        refusal,
        Observed((call("call_ha_service", domain="lock", service="unlock"),), "I can't."),
        SUITE,
    )
    assert bad.function_calling is False
    assert "called call_ha_service" in " ".join(bad.failures())


def test_claiming_the_refused_action_fails_instruction_following() -> None:
    got = score(case("refuse_unlock_front_door"), Observed((), "The door is unlocked."), SUITE)
    assert got.function_calling is True and got.instruction_following is False


def test_an_extra_call_fails_even_with_the_expected_one() -> None:
    got = score(
        case("light_kitchen_on"),
        Observed(
            (call("set_light", room="kitchen", state="on"), call("get_sensor", sensor="x")),
            "On.",
        ),
        SUITE,
    )
    assert got.function_calling is False and not got.partial


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Das Licht in der Küche ist jetzt aus.", "de"),
        ("La lumière du salon est allumée.", "fr"),
        ("En el dormitorio hay diecinueve grados.", "es"),
        ("Het licht in de keuken is nu uit.", "nl"),
        ("Di niente, è stato un piacere.", "it"),
        ("The kitchen light is on now.", "en"),
        ("42", "unknown"),
    ],
)
def test_the_language_heuristic(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Take **sunscreen** and water.", ["emphasis"]),
        ("You need:\n- sunscreen\n- a towel", ["list"]),
        ("## Pancakes\nMix it.", ["heading"]),
        ("Run `ls` now.", ["code"]),
        ("See [the docs](https://example.org).", ["link"]),
        ("It is 5 - 3 = 2, and 2 * 3 is 6.", []),
        ("Take sunscreen, a towel and water.", []),
    ],
)
def test_markdown_detection(text: str, found: list[str]) -> None:
    assert markdown_found(text) == found


def test_length_and_phrase_checks() -> None:
    spec = SpeechChecks(max_words=5, max_chars=30, include=["Paris"], exclude=["London"])
    assert all(c.passed for c in speech_checks(spec, "It is Paris."))
    failed = {c.name for c in speech_checks(spec, "It is not London but Paris, France, of course")}
    assert failed >= {"≤ 5 words", "≤ 30 chars", "avoids 'London'"}
    assert "says 'Paris'" not in {c.name for c in speech_checks(spec, "Paris") if not c.passed}
    assert not next(c for c in speech_checks(spec, "") if c.name == "said something").passed


def test_every_reference_answer_of_the_default_suite_passes() -> None:
    for c in SUITE.cases:
        got = score(c, reference_answer(c).observed(), SUITE)
        assert got.passed, (c.id, got.failures())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_simulated_mistake_fails_its_case(seed: int) -> None:
    kinds = set()
    for c in SUITE.cases:
        wrong = wrong_answer(c, SUITE, random.Random(f"{seed}:{c.id}"))
        kinds.add(wrong.mistake)
        assert not score(c, wrong.observed(), SUITE).passed, (c.id, wrong.mistake)
    assert len(kinds) >= 5  # the mistakes vary, not one kind for everything


def test_a_suite_of_one_case_selects_by_id() -> None:
    small: Suite = SUITE.select(["refuse_pizza", "light_kitchen_on"])
    assert [c.id for c in small.cases] == ["refuse_pizza", "light_kitchen_on"]
