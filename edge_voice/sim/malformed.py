"""Malformed server events, for `SimConfig.malformed_events`: what a broken upstream could send.

Each is sent before a response begins, as raw text on the socket: invalid JSON, JSON that is
not an event, unknown event types, known types with missing fields or fields of the wrong type
(for a response that is not the one in progress, so a robust client ignores them all).
"""

from __future__ import annotations

import json
from typing import Final

MALFORMED_EVENTS: Final[tuple[str, ...]] = (
    "{not json",
    "\u0000\u0001",  # control characters, not JSON
    "[]",
    '"just a string"',
    "42",
    json.dumps({"no_type": True}),
    json.dumps({"type": 7}),
    json.dumps({"type": None}),
    json.dumps({"type": "response.made_up_event", "response_id": "resp_x"}),
    json.dumps({"type": "conversation.item.unknown_thing"}),
    json.dumps({"type": "response.output_audio.delta"}),
    json.dumps({"type": "response.output_audio.delta", "response_id": "resp_x", "delta": 5}),
    json.dumps({"type": "response.output_audio.delta", "response_id": "resp_x", "delta": "@@@"}),
    json.dumps({"type": "response.audio.delta", "response_id": 1, "delta": None}),
    json.dumps({"type": "response.output_audio_transcript.delta", "delta": ["x"]}),
    json.dumps({"type": "response.function_call_arguments.done", "call_id": 3}),
    json.dumps({"type": "error"}),
    json.dumps({"type": "error", "error": "not an object"}),
    json.dumps({"type": "rate_limits.updated", "rate_limits": "lots"}),
    json.dumps({"type": "session.updated", "session": []}),
    json.dumps({"type": "response.done", "response": {"id": "resp_x", "usage": "free"}}),
    json.dumps({"type": "response.done", "response": None}),
    json.dumps({"type": "input_audio_buffer.speech_started", "audio_start_ms": "soon"}),
)
