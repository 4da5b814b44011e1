"""Suite files of `edge-voice eval`: the bundled one, and mistakes refused by case and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge_voice.evaluation.suite import SuiteError, default_suite, load_suite, parse_suite

TOOLS = [
    {
        "name": "set_light",
        "parameters": {
            "type": "object",
            "properties": {"room": {"type": "string"}},
            "required": ["room"],
        },
    }
]
GOOD = {
    "id": "light_on",
    "category": "home_control",
    "input": {"text": "Light on"},
    "expect": {"calls": [{"name": "set_light", "arguments": {"room": "kitchen"}}]},
}


def suite_text(*cases: dict[str, object], tools: list[dict[str, object]] = TOOLS) -> str:
    return yaml.safe_dump({"name": "t", "tools": tools, "cases": list(cases)})


def refusal(text: str) -> str:
    with pytest.raises(SuiteError) as info:
        parse_suite(text, "my.yaml")
    return str(info.value)


def test_the_bundled_suite_has_every_kind_of_case() -> None:
    suite = default_suite()
    assert len(suite.cases) >= 40
    categories = {c.category for c in suite.cases}
    assert categories == {
        "home_control",
        "distractor",
        "arguments",
        "multi_call",
        "refusal",
        "brevity",
        "language",
        "no_markdown",
    }
    assert {c.input.kind for c in suite.cases} == {"text", "audio"}
    assert {t.source for t in suite.tools} == {"node-red", "mcp"}
    assert any(c.expect.calls == [] for c in suite.cases)
    assert any(len(c.expect.calls or []) > 1 for c in suite.cases)


def test_a_bad_field_is_refused_naming_the_case_and_the_field() -> None:
    bad = {**GOOD, "id": "too_chatty", "expect": {"say": {"max_words": 0}}}
    message = refusal(suite_text(GOOD, bad))
    assert "my.yaml: case 'too_chatty' (cases[1]): expect.say.max_words" in message
    assert "greater than 0" in message


def test_an_unknown_field_is_refused_naming_it() -> None:
    bad = {**GOOD, "expect": {"calls": [], "say": {"max_wrds": 5}}}
    message = refusal(suite_text(bad))
    assert "case 'light_on' (cases[0]): expect.say.max_wrds: Extra inputs" in message


def test_a_call_to_an_undeclared_tool_is_refused() -> None:
    bad = {**GOOD, "expect": {"calls": [{"name": "unlock_door"}]}}
    message = refusal(suite_text(bad))
    assert "case 'light_on' (cases[0]): expect.calls[0].name: tool 'unlock_door'" in message


def test_two_inputs_are_refused() -> None:
    bad = {**GOOD, "input": {"text": "a", "speak": "b"}}
    assert "case 'light_on' (cases[0]): input: Value error, give exactly one" in refusal(
        suite_text(bad)
    )


def test_a_case_without_an_id_is_named_by_position() -> None:
    bad = {k: v for k, v in GOOD.items() if k != "id"}
    assert "my.yaml: cases[1]: id: Field required" in refusal(suite_text(GOOD, bad))


def test_duplicate_ids_and_bad_schemas_are_refused() -> None:
    assert "case 'light_on' (cases[1]): id: duplicate case id" in refusal(suite_text(GOOD, GOOD))
    broken = [{"name": "set_light", "parameters": {"type": "objekt"}}]
    assert "tools[0].parameters" in refusal(suite_text(GOOD, tools=broken))


def test_a_case_must_check_something() -> None:
    bad = {**GOOD, "expect": {}}
    assert "case 'light_on' (cases[0]): expect: Value error" in refusal(suite_text(bad))


def test_not_yaml_is_refused() -> None:
    assert "not valid YAML" in refusal("cases: [")


def test_a_file_keeps_its_folder_for_wav_paths(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(suite_text({**GOOD, "input": {"wav": "light.wav"}}))
    suite = load_suite(path)
    assert suite.base_dir == tmp_path
    assert suite.cases[0].input.kind == "audio"
