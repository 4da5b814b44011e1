"""Images that function results carry: checked (PNG/JPEG by magic bytes, size) before any use."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

#: What each accepted MIME type's data starts with.
_MAGIC: dict[str, bytes] = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
}

#: Added to a function output when the model of the session cannot take images.
IMAGE_NOT_SHOWN = (
    "an image came with this result but could not be shown: this model takes no images"
)


@dataclass(frozen=True)
class ResultImage:
    """A checked image from a function result, ready for an `input_image` item."""

    mime: str
    data_base64: str
    size: int

    @property
    def data_url(self) -> str:
        """The base64 data URL the realtime API takes."""
        return f"data:{self.mime};base64,{self.data_base64}"


def check_image(mime: str, data_base64: str, max_bytes: int) -> ResultImage:
    """A usable image, or ValueError saying what is wrong with it."""
    mime = mime.strip().lower()
    if mime == "image/jpg":
        mime = "image/jpeg"
    magic = _MAGIC.get(mime)
    if magic is None:
        raise ValueError(f"image.mime must be image/png or image/jpeg, got {mime!r}")
    if len(data_base64) > (max_bytes + 2) // 3 * 4 + 4:  # refuse before decoding a huge string
        raise ValueError(
            f"the image is larger than {max_bytes} bytes (conversation.max_image_bytes)"
        )
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("image.data_base64 is not valid base64") from None
    if len(data) > max_bytes:
        raise ValueError(
            f"the image is {len(data)} bytes, more than {max_bytes} (conversation.max_image_bytes)"
        )
    if not data.startswith(magic):
        kind = next((m for m, b in _MAGIC.items() if data.startswith(b)), None)
        found = f"{kind} data" if kind else "neither PNG nor JPEG data"
        raise ValueError(f"image.mime says {mime} but the data is {found}")
    canonical = base64.b64encode(data).decode("ascii")
    return ResultImage(mime, canonical, len(data))


def note_on_output(output: str, note: str) -> str:
    """`output` with a note for the model (kept JSON when the output is a JSON object)."""
    try:
        data = json.loads(output)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return json.dumps({**data, "image": note})
    return json.dumps({"output": output, "image": note})
