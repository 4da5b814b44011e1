"""A function result delivered to the model: its output, then any image as a user item."""

from __future__ import annotations

import logging

from edge_voice.conversation.images import IMAGE_NOT_SHOWN, ResultImage, note_on_output
from edge_voice.conversation.resilient_session import ResilientSession
from edge_voice.realtime.protocol import ConversationItemCreate

log = logging.getLogger(__name__)

_refused_on: set[str] = set()


def image_item(image: ResultImage) -> dict[str, object]:
    """The GA user message that shows `image` to the model."""
    content = [{"type": "input_image", "image_url": image.data_url, "detail": "auto"}]
    return {"type": "message", "role": "user", "content": content}


async def deliver_result(
    link: ResilientSession, call_id: str, output: str, image: ResultImage | None
) -> None:
    """Send the output; an image goes in as an `input_image` item where the model takes one."""
    if image is None:
        await link.send_function_output(call_id, output)
        return
    model = link.result.model.name
    if "image_input" not in link.result.fitted.features:
        if model not in _refused_on:  # reported once per model
            _refused_on.add(model)
            log.warning("%s takes no images: a function result's image was not shown", model)
        await link.send_function_output(call_id, note_on_output(output, IMAGE_NOT_SHOWN))
        return
    await link.send_function_output(call_id, output)
    await link.session.send_event(ConversationItemCreate(item=image_item(image)))
