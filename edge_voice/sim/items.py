"""conversation.item.create / truncate / delete / retrieve."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from edge_voice.sim import wire
from edge_voice.sim.conversation import Item, Part
from edge_voice.sim.errors import ClientError, invalid_type, invalid_value, missing_parameter
from edge_voice.sim.responses import word_cut
from edge_voice.sim.session_fields import check_keys, integer, string

if TYPE_CHECKING:
    from edge_voice.sim.connection import RealtimeConnection

_ITEM_KEYS = {
    "id",
    "type",
    "object",
    "status",
    "role",
    "content",
    "call_id",
    "name",
    "arguments",
    "output",
    "approval_request_id",
    "approve",
    "reason",
}


async def create(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    """Add a client item, announce it, and feed the dialogue."""
    raw = event.get("item")
    if raw is None:
        raise missing_parameter("item")
    if not isinstance(raw, dict):
        raise invalid_type("item", "an object", raw)
    check_keys(raw, _ITEM_KEYS, "item")
    if "type" not in raw:
        raise missing_parameter("item.type")
    kind = raw["type"]
    build = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if build is None:
        raise invalid_value("item.type", kind, list(_BUILDERS))
    item = build(conn, raw, raw.get("id") or wire.new_id("item"))
    previous_id = event.get("previous_item_id")
    previous = conn.conversation.add(item, previous_id if isinstance(previous_id, str) else None)
    await conn.announce_item(item, previous)
    _feed_dialogue(conn, item)


def _feed_dialogue(conn: RealtimeConnection, item: Item) -> None:
    if item.type == "mcp_approval_response":
        conn.mcp.approval_answered(item)
    elif item.type == "function_call_output" and item.call_id:
        conn.dialogue.call_output(item.call_id, item.output or "")
    elif item.type == "message" and item.role == "user":
        texts = [p.text for p in item.parts if p.text and p.kind in ("input_text", "input_audio")]
        if texts:
            conn.dialogue.user_text(" ".join(texts))
        elif any(p.kind == "input_audio" for p in item.parts):
            conn.dialogue.user_audio()


def _function_call(conn: RealtimeConnection, raw: dict[str, Any], item_id: str) -> Item:
    return Item(
        id=item_id,
        type="function_call",
        call_id=string(_required(raw, "call_id"), "item.call_id"),
        name=string(_required(raw, "name"), "item.name"),
        arguments=string(raw.get("arguments", ""), "item.arguments"),
    )


def _function_call_output(conn: RealtimeConnection, raw: dict[str, Any], item_id: str) -> Item:
    call_id = string(_required(raw, "call_id"), "item.call_id")
    if conn.conversation.find_call(call_id) is None:
        raise ClientError(
            "invalid_value",
            f"Tool call ID '{call_id}' not found in conversation.",
            param="item.call_id",
        )
    output = string(_required(raw, "output"), "item.output")
    return Item(id=item_id, type="function_call_output", call_id=call_id, output=output)


def _mcp_approval_response(conn: RealtimeConnection, raw: dict[str, Any], item_id: str) -> Item:
    request_id = string(_required(raw, "approval_request_id"), "item.approval_request_id")
    approve = _required(raw, "approve")
    if not isinstance(approve, bool):
        raise invalid_type("item.approve", "a boolean", approve)
    conn.mcp.check_request(request_id)
    fields: dict[str, Any] = {"approval_request_id": request_id, "approve": approve}
    if raw.get("reason") is not None:
        fields["reason"] = string(raw["reason"], "item.reason")
    return Item(id=item_id, type="mcp_approval_response", mcp=fields)


def _required(raw: dict[str, Any], key: str) -> Any:
    if key not in raw:
        raise missing_parameter(f"item.{key}")
    return raw[key]


def _message(conn: RealtimeConnection, raw: dict[str, Any], item_id: str) -> Item:
    role = _required(raw, "role")
    if role not in ("user", "system", "assistant"):
        raise invalid_value("item.role", role, ["user", "assistant", "system"])
    content = _required(raw, "content")
    if not isinstance(content, list):
        raise invalid_type("item.content", "an array", content)
    ga = conn.protocol == "ga"
    if role == "assistant":
        allowed = ["output_text", "output_audio"] if ga else ["text", "audio"]
    elif role == "system":
        allowed = ["input_text"]
    else:
        allowed = ["input_text", "input_audio"]
        if ga and "image_input" in conn.model.features:
            allowed.append("input_image")
    parts: list[Part] = []
    for index, entry in enumerate(content):
        p = f"item.content[{index}]"
        if not isinstance(entry, dict):
            raise invalid_type(p, "an object", entry)
        kind = entry.get("type")
        if kind not in allowed:
            raise invalid_value(f"{p}.type", kind, allowed)
        parts.append(_part(entry, str(kind), p))
    return Item(id=item_id, type="message", role=role, parts=parts)


#: Item type → how a client item of that type is read (in the order errors list them).
_BUILDERS: dict[str, Callable[[RealtimeConnection, dict[str, Any], str], Item]] = {
    "message": _message,
    "function_call": _function_call,
    "function_call_output": _function_call_output,
    "mcp_approval_response": _mcp_approval_response,
}


def _part(entry: dict[str, Any], kind: str, p: str) -> Part:
    if kind in ("input_text", "output_text", "text"):
        text = string(_field(entry, "text", p), f"{p}.text")
        return Part(kind="input_text" if kind == "input_text" else "text", text=text)
    if kind == "input_image":
        url = string(_field(entry, "image_url", p), f"{p}.image_url")
        if not url.startswith(("data:image/png;base64,", "data:image/jpeg;base64,")):
            raise ClientError(
                "invalid_value",
                "Invalid 'image_url'. Expected a base64-encoded data URL with an image MIME type "
                "(image/png or image/jpeg).",
                param=f"{p}.image_url",
            )
        return Part(kind="input_image", detail=entry.get("detail", "auto"))
    transcript = entry.get("transcript")
    audio_ms = 0
    if entry.get("audio") is not None:
        try:
            audio_ms = len(base64.b64decode(string(entry["audio"], f"{p}.audio"), validate=True))
        except (binascii.Error, ValueError):
            raise ClientError(
                "invalid_value", "Invalid 'audio'. Expected base64.", param=f"{p}.audio"
            ) from None
        audio_ms //= 48
    return Part(
        kind="input_audio" if kind == "input_audio" else "audio",
        text=transcript if isinstance(transcript, str) else None,
        audio_ms=audio_ms,
    )


def _field(entry: dict[str, Any], key: str, p: str) -> Any:
    if key not in entry:
        raise missing_parameter(f"{p}.{key}")
    return entry[key]


async def truncate(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    """Cut an assistant audio item back to what the client played."""
    for key in ("item_id", "content_index", "audio_end_ms"):
        if key not in event:
            raise missing_parameter(key)
    item = conn.conversation.get(string(event["item_id"], "item_id"))
    index = integer(event["content_index"], 0, 1_000, "content_index")
    end_ms = integer(event["audio_end_ms"], 0, 2**31, "audio_end_ms")
    if item.role != "assistant" or index >= len(item.parts) or item.parts[index].kind != "audio":
        raise ClientError(
            "invalid_value",
            "Only assistant messages with audio content can be truncated.",
            param="item_id",
        )
    part = item.parts[index]
    if end_ms > part.audio_ms:
        raise ClientError(
            "invalid_value",
            f"Audio content of {part.audio_ms}ms is already shorter than {end_ms}ms",
            param="audio_end_ms",
        )
    # The unplayed part of the transcript goes too (reference §5).
    if part.text and part.audio_ms:
        part.text = part.text[: word_cut(part.text, end_ms / part.audio_ms)]
    part.audio_ms = end_ms
    await conn.send(
        {
            "type": "conversation.item.truncated",
            "item_id": item.id,
            "content_index": index,
            "audio_end_ms": end_ms,
        }
    )


async def delete(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    """Remove an item."""
    if "item_id" not in event:
        raise missing_parameter("item_id")
    item_id = string(event["item_id"], "item_id")
    conn.conversation.delete(item_id)
    await conn.send({"type": "conversation.item.deleted", "item_id": item_id})


async def retrieve(conn: RealtimeConnection, event: dict[str, Any]) -> None:
    """Send an item back."""
    if "item_id" not in event:
        raise missing_parameter("item_id")
    item = conn.conversation.get(string(event["item_id"], "item_id"))
    await conn.send(
        {"type": "conversation.item.retrieved", "item": wire.render_item(item, conn.protocol)}
    )
