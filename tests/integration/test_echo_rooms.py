"""Echo cancellation on a synthetic room through the service's audio path (sink tap, far-end
blocks, room echo, canceller) into the simulator's server VAD: the figures bench.echo_rooms
prints, asserted with a margin on one short clip."""

from __future__ import annotations

import pytest

from bench.echo_rooms import ROOMS, measure

pytestmark = pytest.mark.timeout(120)

LIVING = ROOMS[1]  # 5x4x2.7 m, RT60 0.4 s
REPLY_S = 5.0  # the user starts at 3 s


@pytest.mark.parametrize("ser_db", [-5.0, 5.0])
async def test_webrtc_cancels_the_echo_and_speech_over_the_answer_still_barges_in(
    ser_db: float,
) -> None:
    result = await measure(LIVING, ser_db, "webrtc", reply_s=REPLY_S)
    # Measured: 33.5 dB on this clip (33.6 on bench.echo_rooms' full one), barge-in 160 ms
    # after the onset at -5 dB SER, 40 ms at +5.
    assert result.erle_db >= 25.0
    assert not result.self_trigger  # the reply alone never starts speech at the server
    assert result.barge_in  # the user's words over it do
    assert result.barge_in_ms is not None and result.barge_in_ms <= 400


async def test_without_cancellation_the_echo_alone_starts_speech_at_the_server() -> None:
    result = await measure(LIVING, -5.0, "none", reply_s=REPLY_S)
    assert result.erle_db == 0.0
    assert result.self_trigger  # why the mic is gated without a canceller
