"""Out-of-band responses: the `response` object of `response.create` that speaks a given text
(an announcement) without entering the conversation, for both wire flavours.

`conversation: "none"` keeps the response out of the default conversation and `input: []`
gives it no context (nothing of the conversation is billed again); the instructions ask for the
text word for word. `metadata` marks the response, so its `response.created` is recognised.
The simulator reads the same instructions back (`verbatim_text`) to say exactly that text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from edge_voice.realtime.model_spec import WireProtocol

#: The instructions' fixed part; the text follows it on the same line.
VERBATIM_PREFIX: Final = (
    "Say the following text to the user, exactly as written, word for word, in the language "
    "it is written in, and nothing else. Do not answer it, comment on it or add to it. Text: "
)
#: The `metadata` key of the responses marked here, and their kinds.
KIND_KEY: Final = "edge_voice_kind"
ANNOUNCEMENT: Final = "announcement"
SUMMARY: Final = "summary"


def verbatim_instructions(text: str) -> str:
    """Instructions that make the model say `text` verbatim."""
    return VERBATIM_PREFIX + text


def verbatim_text(instructions: str) -> str | None:
    """The text `verbatim_instructions` asks to say, or None for other instructions."""
    if not instructions.startswith(VERBATIM_PREFIX):
        return None
    return instructions[len(VERBATIM_PREFIX) :] or None


def announcement_response(
    text: str, protocol: WireProtocol, voice: str | None = None
) -> dict[str, Any]:
    """The `response` object of an out-of-band response that speaks `text` (GA or beta)."""
    response: dict[str, Any] = {
        "conversation": "none",
        "input": [],
        "instructions": verbatim_instructions(text),
        "metadata": {KIND_KEY: ANNOUNCEMENT},
    }
    if protocol == "ga":
        response["output_modalities"] = ["audio"]  # audio always carries its transcript
        if voice is not None:
            response["audio"] = {"output": {"voice": voice}}
    else:
        response["modalities"] = ["audio", "text"]
        if voice is not None:
            response["voice"] = voice
    return response


def summary_response(instructions: str, protocol: WireProtocol, max_tokens: int) -> dict[str, Any]:
    """The `response` object of a text-only out-of-band response over the conversation (its
    default context): a summary that is not written back into it."""
    tokens_key = "max_output_tokens" if protocol == "ga" else "max_response_output_tokens"
    modalities_key = "output_modalities" if protocol == "ga" else "modalities"
    return {
        "conversation": "none",
        "instructions": instructions,
        modalities_key: ["text"],
        tokens_key: max_tokens,
        "metadata": {KIND_KEY: SUMMARY},
    }


def response_kind(response: Mapping[str, Any]) -> str | None:
    """The kind a `response.created`'s response was marked with (None: an ordinary one)."""
    metadata = response.get("metadata")
    if isinstance(metadata, dict) and isinstance(kind := metadata.get(KIND_KEY), str):
        return kind
    return None
