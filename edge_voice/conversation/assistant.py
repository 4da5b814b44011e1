"""The assistant: wake word → session → play the answer → follow-up, one state machine."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from edge_voice.audio.sinks import AudioSink
from edge_voice.audio.wakeword import WakeWordDetector
from edge_voice.config.choices import current_model, model_options, voice_options
from edge_voice.config.events import ConfigChanged
from edge_voice.config.rules import voice_for_next_session
from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.store import ConfigStore
from edge_voice.conversation.announcements import Announcement, AnnouncementQueueFull, Announcer
from edge_voice.conversation.cues import Cues
from edge_voice.conversation.error_codes import ConversationErrorCode as Code
from edge_voice.conversation.false_wakes import FalseWakeWatch
from edge_voice.conversation.function_calls import FunctionCallBroker
from edge_voice.conversation.memory import Memory
from edge_voice.conversation.microphone import Arbitrate, Detection, Microphone, WakeWord
from edge_voice.conversation.opening import SessionOpening
from edge_voice.conversation.playback import PlaybackTracker, Truncation
from edge_voice.conversation.resilient_session import ResilientSession
from edge_voice.conversation.session_events import Downlink
from edge_voice.conversation.session_settings import migration_settings
from edge_voice.conversation.states import ConversationStateMachine, Status, Trigger
from edge_voice.conversation.timers import StateTimer
from edge_voice.conversation.uplink import Uplink
from edge_voice.conversation.wake_profiles import profile_name, wakeword_tuning
from edge_voice.events import (
    ErrorOccurred,
    EventBus,
    FallbackOccurred,
    MetricsUpdated,
    ServiceState,
)
from edge_voice.metrics.performance import PerformanceMetrics
from edge_voice.models.migration import ModelMigration
from edge_voice.mqtt.commands import CommandError, ErrorCode, ToolDeclaration
from edge_voice.mqtt.commands import FunctionCallImage as Img
from edge_voice.realtime.errors import RealtimeError
from edge_voice.realtime.session import RealtimeSession

log = logging.getLogger(__name__)

#: After the wake word, how long to wait for the user to start speaking at least.
MIN_LISTEN_S = 5.0


class Assistant:
    """Runs conversations, implements the bridge's controls; the only producer of `state`."""

    def __init__(
        self,
        *,
        store: ConfigStore,
        migration: ModelMigration[RealtimeSession],
        bus: EventBus,
        metrics: PerformanceMetrics,
        calls: FunctionCallBroker,
        wake: WakeWord,
        sink: AudioSink,
        arbitrate: Arbitrate | None = None,
    ) -> None:
        self.store = store
        self.migration = migration
        self.bus = bus
        self.metrics = metrics
        self.calls = calls
        self.sink = sink
        #: The config version the current (or last) conversation began under.
        self.conversation_version = store.version
        self.machine = ConversationStateMachine(self._state_changed)
        self.link: ResilientSession | None = None
        self.tracker = PlaybackTracker()
        self.uplink = Uplink(lambda: self.link, self.report_error)
        self.downlink = Downlink(self)
        self.mic = Microphone(self, wake, arbitrate)
        self.opening = SessionOpening(self)
        self.false_wakes = FalseWakeWatch(self)
        self.announcer = Announcer(self)
        self.cues = Cues(self)  # the earcons (a bad sound file is refused here, at start)
        self.memory = Memory(self)
        #: The wake word whose profile the conversation uses (None: the global settings).
        self.profile: str | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.timer = StateTimer(self)
        self._pending_config: dict[str, str] = {}
        self._session_outdated = False
        self.source_ended = False
        self.completed_in_conversation = False
        self.idle = asyncio.Event()
        self.idle.set()
        bus.on(ConfigChanged, self.config_changed)
        bus.on(FallbackOccurred, lambda _: self.publish_metrics())

    @property
    def status(self) -> Status:
        """The state machine's status."""
        return self.machine.status

    @property
    def config(self) -> EdgeVoiceConfig:
        """The effective config (owned by the config store)."""
        return self.store.effective

    @property
    def calls_settled(self) -> bool:
        """No function call is pending and no late result's answer is due."""
        return self.downlink.handler.calls.quiet.is_set()

    @property
    def wake_word(self) -> WakeWord:
        """The wake word detector listening now."""
        return self.mic.wake

    # --- the audio path ----------------------------------------------------------------------

    async def run(self, source: AsyncIterator[bytes], *, exit_on_eof: bool = False) -> None:
        """The audio path on its own (the service adds the MQTT bridge): until the source ends."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.uplink.run(), name="edge_voice.uplink")
            tasks.create_task(self.downlink.run(), name="edge_voice.downlink")
            tasks.create_task(
                self.mic.listen(source, exit_on_eof=exit_on_eof), name="edge_voice.source"
            )

    # --- conversation lifecycle --------------------------------------------------------------

    async def wake(self) -> None:
        """Start a conversation (wake word or conversation/start)."""
        if self.status is not Status.IDLE:
            if self.machine.fire_if_possible(Trigger.WAKE):
                await self.barge_in_cleanup()
            return
        self.begin()

    def begin(self, heard: Detection | None = None) -> None:
        """From idle: open the session (the wake word `heard` may be answered; None: started
        without one). A wake word with a profile gives the conversation its settings."""
        self.mic.wake.reset()  # forget the wake word itself
        wakeword = heard.name if heard is not None else None
        self.profile = profile_name(self.config, wakeword)
        self.false_wakes.woke(wakeword, float(heard.score) if heard is not None else 0.0)
        self.machine.fire(Trigger.WAKE)
        self.spawn(self.opening.open(wakeword))

    async def barge_in(self) -> None:
        """The user spoke over the answer: stop playback, truncate to what was heard, cancel."""
        if self.machine.fire_if_possible(Trigger.BARGE_IN):
            await self.barge_in_cleanup()

    def interrupt(self) -> None:
        """The wake word over the answer: stop playing now, tell the server in the background."""
        if self.machine.fire_if_possible(Trigger.BARGE_IN):
            self.spawn(self._retract(self._cut_playback()))

    async def barge_in_cleanup(self) -> None:
        """Stop playing and tell the server what the user actually heard."""
        await self._retract(self._cut_playback())

    def _cut_playback(self) -> Truncation | None:
        """Stop playing at once; where to cut the answer for what was heard."""
        cut = self.tracker.truncation(self.sink.flush_now())
        self.tracker.reset()
        self.uplink.restart_stream()
        return cut

    async def _retract(self, cut: Truncation | None) -> None:
        """Tell the server: the answer was heard only up to `cut`, and stop generating it."""
        if self.link is None:
            return
        with contextlib.suppress(RealtimeError):
            if cut is not None and not self.announcer.owns_item(cut.item_id):
                await self.link.truncate(cut.item_id, cut.audio_end_ms)
            if self.link.response_active:
                await self.link.cancel_response()

    async def answered(self) -> None:
        """A response finished and no answer is due now: play out, then follow up."""
        await self.sink.drain()
        if self.status is not Status.RESPONDING or (self.link and self.link.response_active):
            return  # barged in, or a late function result's answer began meanwhile
        # With a function call still pending (async calls) the conversation is not complete.
        if not self.completed_in_conversation and self.calls_settled:
            self.completed_in_conversation = True
            self.store.mark_good(self.conversation_version)
        if self.calls.end_requested:
            await self.end_conversation()
            return
        self.machine.fire(Trigger.ANSWERED)

    async def end_conversation(self, *, close_link: bool = False) -> None:
        """Back to idle: forget pending calls, stop playback, optionally drop the session."""
        self.calls.cancel_all()
        self.calls.end_requested = False
        self.downlink.handler.calls.conversation_ended()
        self.downlink.handler.rate_limits.cancel()
        if self.status is Status.RESPONDING:
            await self.barge_in_cleanup()
        self.machine.fire_if_possible(Trigger.STOP)
        if close_link:
            await self.close_link()

    async def close_link(self) -> None:
        """Close the warm session (idle timeout, stop, fatal error)."""
        link, self.link = self.link, None
        if link is not None:
            await link.close()
        self.publish_state()

    def _drop_link(self) -> None:
        """Detach the warm session at once (nothing can reuse it) and close it in the background."""
        link, self.link = self.link, None
        if link is not None:
            self.spawn(link.close())

    async def finish(self) -> None:
        """After the source ended: wait for the conversation to complete."""
        if self.status is Status.FOLLOW_UP:
            self.set_timer(0.0)  # at once, unless a function call is pending
        await self.idle.wait()

    async def close(self) -> None:
        """Stop everything: session, downlink and uplink, own tasks, sink, detector."""
        self.cancel_timer()
        await self.memory.settle()  # the last conversation's summary is still kept
        await self.close_link()
        self.downlink.close()  # at once, even in the middle of a reconnect
        self.uplink.close()
        await self.cues.settle()  # a due offline notice still plays before the sink closes
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.sink.close()
        self.mic.close()

    # --- controls for the MQTT bridge --------------------------------------------------------

    async def start(self) -> None:
        """conversation/start."""
        await self.wake()

    async def stop(self) -> None:
        """conversation/stop."""
        await self.end_conversation(close_link=True)

    def say(self, text: str, voice: str | None, start_conversation: bool) -> None:
        """`say`: speak `text` when idle (CommandError when too many wait)."""
        try:
            self.announcer.say(Announcement(text, voice, start_conversation))
        except AnnouncementQueueFull as exc:
            raise CommandError(ErrorCode.QUEUE_FULL, f"say: {exc}; try again later") from None

    def clear_memory(self) -> None:
        """`memory/clear`: forget the summary of earlier conversations."""
        self.memory.clear()

    def function_result(
        self, call_id: str, output: str | None, error: str | None, image: Img | None = None
    ) -> None:
        """function_call/result (CommandError for an unknown or expired call, a bad image)."""
        self.calls.result(call_id, output, error, image)

    def tools_changed(self, tools: Mapping[str, ToolDeclaration]) -> None:
        """The MQTT-declared tools changed; they apply from the next session."""
        self.calls.registry.set_declared(
            {n: (t.description, t.parameters) for n, t in tools.items()}
        )
        self.retire_warm_session()

    def replace_wake_word(self, wake: WakeWord) -> None:
        """Listen with another wake word detector from now on (wakeword.* changed)."""
        self.mic.replace(wake)

    def config_changed(self, event: ConfigChanged) -> None:
        """The store announced a new config: the next session uses it, the wake word at once."""
        cfg = event.config
        if any(key.startswith("wakeword.") for key in event.diff):
            try:
                self.replace_wake_word(WakeWordDetector.from_config(cfg.wakeword))
            except ValueError as exc:  # a WakeWordModelError too: keep listening with the old
                self.report_error(Code.WAKEWORD_UNAVAILABLE, str(exc))
        self.migration.update(migration_settings(cfg), cfg.catalog())
        self.calls.registry.set_config_tools(cfg.tools)
        self.calls.deadline_ms = cfg.conversation.function_deadline_ms
        self.calls.max_image_bytes = cfg.conversation.max_image_bytes
        if "memory.enabled" in event.diff:  # switched off: the retained summary says so
            self.memory.publish()
        if self.status is not Status.IDLE:
            self._pending_config = {"model": cfg.openai.model, "voice": cfg.voice.primary}
        self.retire_warm_session()
        self.publish_state()

    def retire_warm_session(self) -> None:
        """Let the warm session (old model, voice, tools) go now, or when this conversation ends."""
        if self.status is not Status.IDLE:
            self._session_outdated = True
        elif self.link is not None:
            self._drop_link()

    # --- state, timers, tasks ----------------------------------------------------------------

    def _state_changed(self, old: Status, new: Status, trigger: Trigger) -> None:
        self.cancel_timer()
        self.false_wakes.changed(old, new, trigger)  # before the conversation's accounting ends
        self.cues.changed(old, new)
        self.memory.changed(old, new)  # while the session is still there
        if new is Status.LISTENING:
            self.set_timer(self.false_wakes.listen_timeout_s(trigger))
        elif new is Status.FOLLOW_UP:
            # Once the source has ended nobody can speak again: end the window at once.
            self.set_timer(0.0 if self.source_ended else self.config.conversation.follow_up_s)
        if new is Status.IDLE:
            self.uplink.reset()  # nothing said from now on goes out without a wake word
            self.metrics.end_conversation()
            if self._session_outdated:
                self._drop_link()  # the config or the tools changed during the conversation
            self._session_outdated = False
            self._pending_config = {}
            self.profile = None
            self.idle.set()
            if self.link is not None:
                self.timer.expire_link(self.config.conversation.idle_timeout_s)
        else:
            self.idle.clear()
        self.publish_state()
        if new is Status.IDLE:
            self.publish_metrics()  # the conversation's cost and count

    @property
    def listen_timeout_s(self) -> float:
        """How long to wait for the user to speak (or for the answer to start)."""
        return max(self.config.conversation.follow_up_s, MIN_LISTEN_S)

    def publish_state(self) -> None:
        """Publish the retained state."""
        cfg, link, mig = self.config, self.link, self.migration
        own = link is not None and link.profile == self.profile  # not a warm one of another
        voice = link.result.fitted.voice.voice if link and own else voice_for_next_session(cfg)
        self.bus.publish(
            ServiceState(
                status=self.status.value,
                model=cfg.openai.model,
                active_model=link.result.model.name if link is not None else mig.active_model,
                model_selection=cfg.openai.model_selection,
                voice=voice,
                connected=link is not None,
                fallback_active=mig.fallback_active,
                api_key_problem=mig.api_key_problem,
                model_chain=tuple(mig.chain()),
                pending=dict(self._pending_config),
                profile=self.profile,
                wakewords=wakeword_tuning(cfg),
                models=tuple(model_options(cfg, current=cfg.openai.model)),
                voices=tuple(voice_options(cfg.catalog(), current_model(cfg))),
            )
        )

    def publish_metrics(self) -> None:
        """Publish the retained metrics (after a response, a fallback, a conversation)."""
        self.bus.publish(MetricsUpdated(metrics=self.metrics.snapshot()))

    def report_error(self, code: str, message: str) -> None:
        """Publish an error event (and log it: a terminal has no MQTT client)."""
        log.warning("%s: %s", code, message)
        self.cues.error(code)
        self.bus.publish(ErrorOccurred(code=code, message=message))

    def set_timer(self, seconds: float) -> None:
        """Fire TIMEOUT after `seconds` unless the state changes first."""
        self.timer.timeout(seconds)

    def cancel_timer(self) -> None:
        """Cancel the pending state timeout."""
        self.timer.cancel()

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run `coro` as a task the assistant owns (cancelled on close)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("assistant task failed", exc_info=task.exception())
