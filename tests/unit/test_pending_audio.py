"""The copy of the server's uncommitted input audio: bounded, cleared on commit, and the gate
that holds new audio while a replacement session is made."""

from __future__ import annotations

import asyncio

from edge_voice.conversation.pending_audio import PendingAudio


def test_it_keeps_what_is_uncommitted_oldest_first_within_its_bound() -> None:
    pending = PendingAudio(max_bytes=10)
    for chunk in (b"aaaa", b"bbbb", b"cccc"):
        pending.add(chunk)
    assert pending.held() == [b"bbbb", b"cccc"]  # 12 bytes > 10: the oldest went
    assert pending.held_ms == 8 / 48
    pending.committed()
    assert pending.held() == [] and pending.held_ms == 0


async def test_new_audio_waits_while_held_and_flows_when_released() -> None:
    pending = PendingAudio()
    await asyncio.wait_for(pending.flowing(), 1)  # flowing at first
    pending.hold()
    waiting = asyncio.ensure_future(pending.flowing())
    await asyncio.sleep(0)  # one loop turn: the waiter is parked on the gate
    assert not waiting.done()
    pending.release()
    await asyncio.wait_for(waiting, 1)
