"""MCP tools as the model sees them: names, results as text, the token kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import types
from pydantic import ValidationError

from edge_voice.config.loading import ConfigError, validate_config
from edge_voice.config.mcp_schema import McpServerConfig
from edge_voice.config.rules import locked_paths_in
from edge_voice.mcp.naming import (
    MAX_NAME,
    TokenError,
    ToolResult,
    exposed_name,
    output_text,
    read_token,
    tool_result,
)

SECRET = "eyJ-very-secret-token"


def server(**fields: object) -> McpServerConfig:
    return McpServerConfig.model_validate({"name": "ha", "url": "http://ha:8123/api/mcp", **fields})


def test_names_are_prefixed_safe_and_short() -> None:
    assert exposed_name("ha", "HassTurnOn", set()) == "mcp_ha_HassTurnOn"
    assert exposed_name("ha", "light.turn on/off", set()) == "mcp_ha_light_turn_on_off"
    long = exposed_name("ha", "x" * 100, set())
    assert len(long) == MAX_NAME
    assert long != exposed_name("ha", "x" * 99, set())


def test_a_clash_after_making_names_safe_gets_a_distinct_name() -> None:
    first = exposed_name("ha", "a.b", set())
    second = exposed_name("ha", "a/b", {first})
    assert first == "mcp_ha_a_b"
    assert second != first and second.startswith("mcp_ha_a_b_")


def test_text_content_is_the_output_and_a_tool_error_the_error() -> None:
    ok = types.CallToolResult(content=[types.TextContent(type="text", text="on")])
    assert output_text(ok) == ("on", None)
    failed = types.CallToolResult(
        content=[types.TextContent(type="text", text="unreachable")], is_error=True
    )
    assert output_text(failed) == (None, "unreachable")
    structured = types.CallToolResult(content=[], structured_content={"temp": 21})
    assert output_text(structured) == ('{"temp": 21}', None)


def test_an_image_content_part_comes_with_the_result_unless_the_tool_failed() -> None:
    image = types.ImageContent(type="image", data="iVBORw0K", mime_type="image/png")
    text = types.TextContent(type="text", text="door camera")
    shown = types.CallToolResult(content=[text, image])
    assert tool_result(shown) == ToolResult("door camera", None, ("image/png", "iVBORw0K"))
    failed = types.CallToolResult(content=[text, image], is_error=True)
    assert tool_result(failed) == ToolResult(None, "door camera")


def test_the_token_comes_from_its_file_or_variable(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text(f"{SECRET}\n")
    token = read_token(server(token_file=str(file)))
    assert token is not None and token.get_secret_value() == SECRET
    token = read_token(server(token_env="HA_TOKEN"), env={"HA_TOKEN": SECRET})
    assert token is not None and token.get_secret_value() == SECRET
    assert SECRET not in repr(token)
    assert read_token(server()) is None


def test_a_missing_token_names_where_it_should_be(tmp_path: Path) -> None:
    with pytest.raises(TokenError, match=r"token_file: cannot read .*/missing"):
        read_token(server(token_file=str(tmp_path / "missing")))
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(TokenError, match="is empty"):
        read_token(server(token_file=str(tmp_path / "empty")))
    with pytest.raises(TokenError, match="HA_TOKEN is not set"):
        read_token(server(token_env="HA_TOKEN"), env={})


def test_config_checks_the_server_entries() -> None:
    with pytest.raises(ValidationError, match="token_file or token_env, not both"):
        server(token_file="/t", token_env="T")
    with pytest.raises(ValidationError, match="http:// or https://"):
        server(url="ws://ha:8123/api/mcp")
    with pytest.raises(ConfigError, match="duplicate server names"):
        validate_config({"mcp_bridge": {"servers": [{"name": "ha", "url": "http://a"}] * 2}})
    assert server().transport == "streamable_http"


def test_the_servers_are_never_set_over_mqtt() -> None:
    # A remote url would receive the token: the whole section stays local.
    assert locked_paths_in({"mcp_bridge": {"servers": []}}) == [("mcp_bridge",)]
