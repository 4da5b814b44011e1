"""How the simulator reads an `mcp` tool entry: the tools it lists, the calls needing approval."""

from __future__ import annotations

from typing import Any

import pytest

from edge_voice.sim.mcp_client import request_headers
from edge_voice.sim.mcp_session import allowed, needs_approval


@pytest.mark.parametrize(
    ("rule", "tool", "expected"),
    [
        (None, "a", True),
        (["a"], "a", True),
        (["a"], "b", False),
        ({"tool_names": ["b"]}, "b", True),
        ({"tool_names": ["b"]}, "a", False),
        ({"read_only": True}, "a", True),
    ],
)
def test_allowed_tools_as_a_list_or_a_filter(rule: Any, tool: str, expected: bool) -> None:
    assert allowed({"allowed_tools": rule}, tool) is expected


@pytest.mark.parametrize(
    ("rule", "tool", "expected"),
    [
        ("always", "a", True),
        ("never", "a", False),
        ({"never": {"tool_names": ["a"]}}, "a", False),
        ({"never": {"tool_names": ["a"]}}, "b", True),
        ({"always": {"tool_names": ["b"]}}, "b", True),
    ],
)
def test_require_approval_as_a_word_or_a_filter(rule: Any, tool: str, expected: bool) -> None:
    assert needs_approval({"require_approval": rule}, tool) is expected


def test_approval_is_required_unless_the_entry_says_never() -> None:
    assert needs_approval({}, "a")


def test_authorization_is_sent_as_a_bearer_with_the_entrys_headers() -> None:
    entry = {"authorization": "tok", "headers": {"X-Key": "k"}}
    assert request_headers(entry) == {"X-Key": "k", "Authorization": "Bearer tok"}
    assert request_headers({}) == {}
