"""A fuzzed config file never gives a traceback: `load_config` and `config check` raise only
ConfigError (printed as `error: …` by the CLI), whatever the YAML text or its structure."""

from __future__ import annotations

import argparse
import contextlib
import copy
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_voice.cli.main import cmd_config_check
from edge_voice.config.loading import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config.yaml.example"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
EXAMPLE_DATA: dict[str, Any] = yaml.safe_load(EXAMPLE_TEXT)
LINES = EXAMPLE_TEXT.splitlines()

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats()  # NaN and infinities too
    | st.text(max_size=30)
    | st.sampled_from(["", "~", "null", "1e999", "-0", "wss://", "../../etc/passwd", "\x00"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of `data` (mappings and lists), the example's structure."""
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += paths_of(value, (*prefix, i))
    return found


EXAMPLE_PATHS = paths_of(EXAMPLE_DATA)


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@st.composite
def mutated_configs(draw: st.DrawFn) -> Any:
    """The example config with some values replaced by anything (wrong types, edge values)."""
    data = copy.deepcopy(EXAMPLE_DATA)
    for path in draw(st.lists(st.sampled_from(EXAMPLE_PATHS), min_size=1, max_size=4)):
        with contextlib.suppress(KeyError, IndexError, TypeError):  # a parent was replaced
            _set(data, path, draw(values))
    if draw(st.booleans()):
        section = draw(st.sampled_from(sorted(data)))
        if isinstance(data[section], dict):
            data[section][draw(st.text(min_size=1, max_size=8))] = draw(values)
    return data


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    """The example file with lines dropped, duplicated, re-indented or garbled."""
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "indent", "tab", "garble", "cut"]))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = " " * draw(st.integers(1, 5)) + lines[i]
        elif action == "tab":
            lines[i] = "\t" + lines[i]
        elif action == "garble":
            lines[i] = draw(st.text(max_size=30))
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    return "\n".join(lines)


def check_only_config_errors(text: str | bytes) -> None:
    """`load_config` and `config check` on a file holding `text`: ConfigError or success."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        with contextlib.suppress(ConfigError):
            load_config(path, env={})
        with contextlib.suppress(ConfigError):
            cmd_config_check(argparse.Namespace(file=str(path), today="2026-05-01"))


@FUZZ
@given(mutated_configs())
def test_a_config_with_wrong_values_is_a_config_error(data: Any) -> None:
    check_only_config_errors(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(mutated_texts())
def test_a_garbled_config_file_is_a_config_error(text: str) -> None:
    check_only_config_errors(text)


@FUZZ
@given(st.binary(max_size=200) | values.map(lambda v: yaml.safe_dump(v)))
def test_any_bytes_or_yaml_document_is_a_config_error(blob: bytes | str) -> None:
    check_only_config_errors(blob)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["[" * 5000, "{a: " * 5000, "&a [*a]", "a: !!python/object:os.system x"]))
def test_deep_or_hostile_yaml_is_a_config_error(text: str) -> None:
    check_only_config_errors(text)
