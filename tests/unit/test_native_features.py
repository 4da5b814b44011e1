"""Native MCP, reasoning effort and custom voices: config → fitted settings → exact JSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.conversation.function_calls import ToolRegistry
from edge_voice.conversation.session_settings import session_settings
from edge_voice.models.catalog import default_catalog
from edge_voice.models.features import DegradationReporter, VoicePreference, fit_settings
from edge_voice.realtime import normalized as ev
from edge_voice.realtime.protocol import Normalizer, SessionUpdate
from edge_voice.realtime.session_builders import build_session_update

CATALOG = default_catalog()
TOKEN = "tok-SECRET-123"


def config(tmp_path: Path, **openai: Any) -> EdgeVoiceConfig:
    token = tmp_path / "mcp.token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    server = {
        "server_label": "wiki",
        "server_url": "https://mcp.example/mcp",
        "allowed_tools": ["ask"],
        "approved_tools": ["ask"],
        "authorization_file": str(token),
    }
    return EdgeVoiceConfig.model_validate(
        {"openai": {"mcp_servers": [server], **openai}, "voice": {"primary": "voice_abc123"}}
    )


def wire(cfg: EdgeVoiceConfig, model: str, *, disable: bool = False) -> tuple[str, list[str]]:
    base = session_settings(cfg, ToolRegistry([]))
    pref = VoicePreference(cfg.voice.primary, cfg.voice.fallback, cfg.voice.auto_select)
    fitted = fit_settings(base, CATALOG.get(model), pref, disable_new_features=disable)
    update = build_session_update(fitted.settings, CATALOG.get(model))
    text = SessionUpdate(session=update["session"]).to_json()
    return text, [d.feature for d in fitted.degraded]


def test_gpt_realtime_2_1_gets_reasoning_mcp_and_the_custom_voice(tmp_path: Path) -> None:
    text, _ = wire(config(tmp_path, reasoning_effort="high"), "gpt-realtime-2.1")
    session = json.loads(text)["session"]
    assert session["audio"]["output"]["voice"] == {"id": "voice_abc123"}
    assert session["reasoning"] == {"effort": "high"}
    assert [t for t in session["tools"] if t["type"] == "mcp"] == [
        {
            "type": "mcp",
            "server_label": "wiki",
            "server_url": "https://mcp.example/mcp",
            "allowed_tools": ["ask"],
            "require_approval": "always",
            "authorization": TOKEN,
        }
    ]


def test_reasoning_dropped_and_reported_once_on_gpt_realtime(tmp_path: Path) -> None:
    cfg = config(tmp_path, reasoning_effort="low")
    text, degraded = wire(cfg, "gpt-realtime")
    assert "reasoning" not in json.loads(text)["session"]
    assert "reasoning" in degraded
    base = session_settings(cfg, ToolRegistry([]))
    reporter = DegradationReporter()
    fitted = fit_settings(base, CATALOG.get("gpt-realtime"), VoicePreference())
    assert [d.feature for d in reporter.new(fitted.degraded)].count("reasoning") == 1
    assert reporter.new(fitted.degraded) == []


def test_disable_new_features_turns_off_mcp_reasoning_and_custom_voice(tmp_path: Path) -> None:
    text, degraded = wire(
        config(tmp_path, reasoning_effort="high"), "gpt-realtime-2.1", disable=True
    )
    session = json.loads(text)["session"]
    assert "mcp" not in text and "reasoning" not in session
    assert session["audio"]["output"]["voice"] == "alloy"
    assert {"mcp", "reasoning", "custom_voice"} <= set(degraded)


def test_beta_model_gets_the_fallback_voice_and_no_mcp(tmp_path: Path) -> None:
    text, degraded = wire(config(tmp_path), "gpt-4o-realtime-preview")
    session = json.loads(text)["session"]
    assert session["voice"] == "alloy" and '"mcp"' not in text
    assert TOKEN not in text and "mcp" in degraded


def test_the_token_is_never_in_reprs_logs_or_config_dumps(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config(tmp_path)
    with caplog.at_level(logging.DEBUG):
        settings = session_settings(cfg, ToolRegistry([]))
        logging.getLogger("test").info("settings %s %r", settings, settings)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.mcp_servers)
    assert TOKEN not in cfg.model_dump_json()


def test_a_missing_token_leaves_the_server_out_with_an_error_naming_where(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config(tmp_path)
    assert cfg.openai.mcp_servers[0].authorization_file is not None
    cfg.openai.mcp_servers[0].authorization_file.unlink()
    with caplog.at_level(logging.ERROR):
        assert session_settings(cfg, ToolRegistry([])).mcp_servers == ()
    assert "authorization_file" in caplog.text


def test_mcp_items_normalise_once_each() -> None:
    n = Normalizer()
    approval = {
        "type": "mcp_approval_request",
        "id": "apr_1",
        "server_label": "wiki",
        "name": "ask",
        "arguments": "{}",
    }
    call = {
        "type": "mcp_call",
        "id": "mc_1",
        "server_label": "wiki",
        "name": "ask",
        "arguments": "{}",
        "output": "42",
    }
    listed = {
        "type": "mcp_list_tools",
        "id": "ml_1",
        "server_label": "wiki",
        "tools": [{"name": "ask", "input_schema": {}}],
    }
    out = [
        n.normalize({"type": "conversation.item.added", "item": approval}),
        n.normalize({"type": "conversation.item.done", "item": approval}),
        n.normalize(
            {"type": "response.mcp_call.in_progress", "item_id": "mc_1", "output_index": 0}
        ),
        n.normalize({"type": "response.output_item.done", "response_id": "r", "item": call}),
        n.normalize({"type": "conversation.item.done", "item": call}),
        n.normalize({"type": "conversation.item.done", "item": listed}),
        n.normalize({"type": "mcp_list_tools.failed", "item_id": "ml_2"}),
    ]
    assert out[0] == ev.McpApprovalRequest("apr_1", "wiki", "ask", "{}")
    assert isinstance(out[1], ev.ItemDone)
    assert out[2] == ev.McpCallProgress("mc_1", "in_progress")
    assert out[3] == ev.McpCallDone("mc_1", "wiki", "ask", "{}", "42", None)
    assert isinstance(out[4], ev.ItemDone)
    assert out[5] == ev.McpToolsListed("ml_1", "wiki", ("ask",))
    assert out[6] == ev.McpListToolsProgress("ml_2", "failed")


def test_voice_validation_accepts_custom_ids_only_as_primary() -> None:
    EdgeVoiceConfig.model_validate({"voice": {"primary": "voice_x1"}})
    with pytest.raises(ValueError, match=r"voice\.fallback"):
        EdgeVoiceConfig.model_validate({"voice": {"fallback": "voice_x1"}})
