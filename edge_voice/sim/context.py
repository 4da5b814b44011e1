"""The model's context window and the GA `truncation` setting: what a response reads.

Modelled on the published description of `truncation` (reference §3): the input limit is the
context window minus the model's maximum output; when the conversation after the instructions
and tools outgrows it, the oldest items leave the model's context.

- ``"auto"``: just enough of the oldest items go to fit, so once a conversation is at the limit
  nearly every turn cuts and the cached prefix ends at the instructions.
- ``{"type": "retention_ratio", "retention_ratio": r}``: cut down to ``r`` of the limit
  (``token_limits.post_instructions`` replaces the limit), so cuts are rare and the cached prefix
  stays stable between them.
- ``"disabled"``: nothing is cut; a response whose input does not fit fails.

Assumed (not documented): cut items stay in the conversation (retrievable, no event is sent),
the cut is by whole items, and the failed response's error code is ``context_length_exceeded``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from edge_voice.models.catalog import ModelInfo
from edge_voice.realtime.model_spec import WireProtocol as Protocol
from edge_voice.sim import wire
from edge_voice.sim.conversation import Conversation, TokenCounts
from edge_voice.sim.response_options import ResponseOptions
from edge_voice.sim.truncation import parse_truncation

#: The maximum output when the catalog has none (the 32k models' 4,096, reference §9).
DEFAULT_MAX_OUTPUT = 4096
CONTEXT_EXCEEDED = "context_length_exceeded"


def input_limit(model: ModelInfo) -> int | None:
    """Input tokens a response may read: the context window minus the maximum output."""
    if model.context_window is None:
        return None
    return model.context_window - (model.max_output_tokens or DEFAULT_MAX_OUTPUT)


@dataclass(frozen=True)
class Fit:
    """The outcome of fitting the conversation: how many items were cut, or that it overflows."""

    cut: int = 0
    overflow: bool = False


def fit_context(
    conversation: Conversation, truncation: Any, model: ModelInfo, prefix: TokenCounts
) -> Fit:
    """Cut the oldest items out of the context as `truncation` says; report an overflow."""
    limit = input_limit(model)
    policy = parse_truncation(truncation, "session.truncation")
    if limit is None:
        return Fit()
    post_limit = limit - prefix.total
    if policy.post_instructions is not None:
        post_limit = min(post_limit, policy.post_instructions)
    if conversation.tokens().total <= post_limit:
        return Fit()
    if policy.mode == "disabled":
        return Fit(overflow=True)
    target = post_limit * policy.ratio if policy.mode == "retention_ratio" else post_limit
    return Fit(cut=conversation.cut_oldest(int(target)))


async def refuse_response(
    send: Callable[[dict[str, Any]], Awaitable[None]],
    model: ModelInfo,
    protocol: Protocol,
    opts: ResponseOptions,
    needed: int,
) -> None:
    """`response.created`, then `response.done` failed: the input does not fit the context."""
    view = wire.ResponseView(
        id=wire.new_id("resp"),
        audio_out=opts.audio_out,
        voice=opts.voice,
        in_conversation=opts.in_conversation,
        metadata=opts.metadata,
        max_output_tokens=opts.max_output_tokens,
    )
    await send({"type": "response.created", "response": wire.render_response(view, protocol)})
    view.status = "failed"
    done = wire.render_response(view, protocol)
    done["status_details"] = _failed_details(model, needed)
    await send({"type": "response.done", "response": done})


def _failed_details(model: ModelInfo, needed: int) -> dict[str, Any]:
    return {
        "type": "failed",
        "error": {
            "type": "invalid_request_error",
            "code": CONTEXT_EXCEEDED,
            "message": (
                f"The conversation needs {needed} input tokens, more than {model.name} reads "
                f"({input_limit(model)}); truncation is disabled."
            ),
        },
    }
