"""Opening a conversation's session: the budget, the wake word's profile, the warm session."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from edge_voice.conversation.error_codes import ConversationErrorCode as Code
from edge_voice.conversation.resilient_session import ResilientSession
from edge_voice.conversation.session_settings import replay_limits
from edge_voice.conversation.states import Trigger
from edge_voice.conversation.wake_profiles import WakeProfiles
from edge_voice.realtime.errors import RealtimeError

if TYPE_CHECKING:
    from edge_voice.conversation.assistant import Assistant

log = logging.getLogger(__name__)


class SessionOpening:
    """Opens (or reuses) the session a new conversation runs on."""

    def __init__(self, assistant: Assistant) -> None:
        self.a = assistant
        self.profiles = WakeProfiles()

    async def open(self, wakeword: str | None) -> None:
        """From awake: connect (or reuse the warm session), then listen."""
        a = self.a
        version = a.store.version
        if not await self.connect(wakeword):
            a.machine.fire_if_possible(Trigger.CONNECT_FAILED)
            return
        a.metrics.begin_conversation()
        a.conversation_version = version
        a.completed_in_conversation = False
        if a.machine.fire_if_possible(Trigger.CONNECTED):  # else: stopped while connecting
            a.uplink.open()  # what was said since the wake word goes first

    async def connect(self, wakeword: str | None) -> bool:
        """Connect (or reuse the warm session) for the wake word's profile; False (the error
        published) if no session could be had."""
        a = self.a
        cfg = a.config
        allowed, preferred = await self._budget()
        if not allowed:
            return False
        profile = self.profiles.for_wakeword(cfg, a.calls.registry, wakeword)
        if a.link is not None and a.link.profile != profile.name:
            # The warm session carries another profile's model, voice, instructions and tools.
            await a.close_link()
        try:
            if a.link is None:
                link = ResilientSession(
                    a.migration,
                    a.memory.session_settings(profile.settings),  # and what it remembers
                    renew_after_s=cfg.conversation.session_renew_s,
                    limits=replay_limits(cfg),
                    voice=profile.voice,
                    profile=profile.name,
                )
                await link.connect(preferred or profile.model)
                a.link = link
                a.downlink.follow(link)
            else:
                await a.link.begin_conversation()
        except RealtimeError as exc:  # no model could be reached: say so
            a.report_error(exc.error_code, str(exc))
            a.cues.offline()
            return False
        return True

    async def _budget(self) -> tuple[bool, str | None]:
        """Whether a conversation may start, and the model to use instead of the primary."""
        a = self.a
        budget = a.config.budget
        if not a.metrics.over_budget(budget.daily_usd):
            return True, None
        spent = f"today's cost ${a.metrics.cost_today_usd:.4f} reached budget.daily_usd"
        if budget.action == "refuse":
            a.report_error(Code.BUDGET_EXCEEDED, f"{spent}: no new conversations until tomorrow")
            return False, None
        cheaper = a.migration.plan(budget.cheaper_model)[0]  # its live successor once dead
        if a.link is not None and a.link.result.model.name != cheaper:
            await a.close_link()  # the warm session is on the expensive model
        log.info("%s: using %s", spent, budget.cheaper_model)
        return True, budget.cheaper_model
