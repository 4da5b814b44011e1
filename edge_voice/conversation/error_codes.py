"""The `event/error` codes the conversation itself raises (realtime errors have their own)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class ConversationErrorCode(StrEnum):
    """What went wrong in a conversation, as a flow sees it in `event/error.code`."""

    FUNCTION_CALL_TIMEOUT = "function_call_timeout"
    BUDGET_EXCEEDED = "budget_exceeded"
    WAKEWORD_UNAVAILABLE = "wakeword_unavailable"
    AUDIO_DROPPED = "audio_dropped"
    MCP_LIST_TOOLS_FAILED = "mcp_list_tools_failed"
    UNDECLARED_TOOL = "undeclared_tool"
    ANNOUNCEMENT_FAILED = "announcement_failed"


#: What each code means, for the generated error table of docs/MQTT_API.md.
DESCRIPTIONS: Final[dict[ConversationErrorCode, str]] = {
    ConversationErrorCode.FUNCTION_CALL_TIMEOUT: "no result for a function call (answered on "
    "MQTT or by the MCP bridge) within `conversation.function_deadline_ms`; the event carries "
    "`call_id`, `name` and `model`, and the model is told the call failed",
    ConversationErrorCode.BUDGET_EXCEEDED: "today's cost reached `budget.daily_usd` with "
    "`budget.action: refuse`: no new conversation",
    ConversationErrorCode.WAKEWORD_UNAVAILABLE: "a changed wake-word setting could not be loaded; "
    "the device keeps listening with the previous one",
    ConversationErrorCode.AUDIO_DROPPED: "microphone audio was lost while the session opened or "
    "stalled (one event per episode)",
    ConversationErrorCode.MCP_LIST_TOOLS_FAILED: "OpenAI could not list a native MCP server's "
    "tools; the model goes on without them",
    ConversationErrorCode.UNDECLARED_TOOL: "the model called a tool the conversation does not "
    "offer (none declared by that name, left out by the wake word's profile, or an MCP tool "
    "whose server went away, which the message says): it was not run, "
    "neither published on `event/function_call` nor sent to an MCP server, and the model got an "
    "error result; the event carries `call_id`, `name` and `model`",
    ConversationErrorCode.ANNOUNCEMENT_FAILED: "an announcement (`say`) could not be spoken: no "
    "session, or the model did not start its response in time",
}
