"""PCM sample-format conversion and fixed-size framing."""

from __future__ import annotations

import numpy as np
import pytest

from edge_voice.audio.pcm import FRAME_BYTES, Framer, pcm_ms, to_mono_int16


@pytest.mark.parametrize(
    ("raw", "width", "expected"),
    [
        (np.array([0, 128, 255], np.uint8).tobytes(), 1, [-32768, 0, 32512]),
        (np.array([-2, 7], "<i2").tobytes(), 2, [-2, 7]),
        (bytes([0x00, 0x34, 0x12, 0xFF, 0xFF, 0xFF]), 3, [0x1234, -1]),
        (np.array([0x12345678, -65536], "<i4").tobytes(), 4, [0x1234, -1]),
    ],
    ids=["8-bit unsigned", "16-bit", "24-bit", "32-bit"],
)
def test_sample_widths_become_int16(raw: bytes, width: int, expected: list[int]) -> None:
    out = to_mono_int16(raw, width, 1)
    assert out.dtype == np.int16
    assert out.tolist() == expected


def test_channels_are_averaged() -> None:
    stereo = np.array([100, 300, -32768, -32768, 32767, -32767], "<i2").tobytes()
    assert to_mono_int16(stereo, 2, 2).tolist() == [200, -32768, 0]


def test_unsupported_width() -> None:
    with pytest.raises(ValueError, match="sample width"):
        to_mono_int16(b"\x00" * 10, 5, 1)


def test_framer_emits_whole_frames_and_pads_the_rest() -> None:
    framer = Framer()
    framer.push(b"\x01" * (FRAME_BYTES + 10))
    assert framer.pop() == b"\x01" * FRAME_BYTES
    assert framer.pop() is None
    assert len(framer) == 10
    assert framer.pop_padded() == (b"\x01" * 10).ljust(FRAME_BYTES, b"\x00")
    assert framer.pop_padded() is None


def test_pcm_ms() -> None:
    assert pcm_ms(48_000, 24_000) == 1_000
    assert pcm_ms(2_560, 16_000) == 80
