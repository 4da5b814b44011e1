"""Incoming MQTT messages → ConfigStore / ConversationControl, answered on `<base>/response`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Final

from pydantic import JsonValue

from edge_voice.config.rules import ChangeCode, ConfigChangeError
from edge_voice.mqtt import snapshots
from edge_voice.mqtt.commands import (
    ArbitrationClaim,
    Command,
    CommandError,
    ConfigReset,
    ConfigRollback,
    ConfigSet,
    ConversationStart,
    ConversationStop,
    ErrorCode,
    FunctionCallResult,
    MemoryClear,
    ModelSelectionSet,
    ModelSet,
    Say,
    ToolDeclaration,
    ToolRemoval,
    VoiceSet,
    WakewordSetting,
)
from edge_voice.mqtt.control import ConversationControl
from edge_voice.mqtt.parsing import (
    extract_transaction,
    parse_arbitration,
    parse_command,
    parse_ha_status,
)
from edge_voice.mqtt.payloads import (
    ErrorPayload,
    Publication,
    command_error_payload,
    encode,
    iso,
    response_payload,
)
from edge_voice.mqtt.topics import ANSWERED_KINDS, CommandKind, Route, Topics

log = logging.getLogger(__name__)

#: Retained commands already answered (topic, payload); answered once, not on every reconnect.
_ANSWERED_LIMIT: Final = 1024
#: The code of `event/error` for a failure that is a bug, not the sender's fault.
INTERNAL_ERROR: Final = "internal_error"


@dataclass
class Dispatch:
    """What handling one message produced: publications, in order, and signals for the bridge."""

    publications: list[Publication] = field(default_factory=list)
    ha_online: bool = False
    claim: ArbitrationClaim | None = None


class ToolBook:
    """MQTT-declared tools: device ones override shared ones of the same name."""

    def __init__(self) -> None:
        self._device: dict[str, ToolDeclaration] = {}
        self._shared: dict[str, ToolDeclaration] = {}
        self._staged: tuple[dict[str, ToolDeclaration], dict[str, ToolDeclaration]] | None = None
        self._announced: dict[str, ToolDeclaration] | None = None

    def begin_resync(self) -> None:
        """A new subscription replays every retained declaration: collect them afresh."""
        self._staged = ({}, {})

    def end_resync(self) -> dict[str, ToolDeclaration] | None:
        """All retained declarations arrived; the new tool set if it changed, else None."""
        if self._staged is not None:
            self._device, self._shared = self._staged
            self._staged = None
        return self._changed()

    def apply(self, command: ToolDeclaration | ToolRemoval) -> dict[str, ToolDeclaration] | None:
        """Add or remove one declaration; the new tool set if it changed (and not resyncing)."""
        device, shared = self._staged or (self._device, self._shared)
        book = device if command.scope == "device" else shared
        if isinstance(command, ToolRemoval):
            book.pop(command.name, None)
        else:
            book[command.name] = command
        return None if self._staged is not None else self._changed()

    def effective(self) -> dict[str, ToolDeclaration]:
        """The tools in force, device declarations winning over shared ones."""
        return {**self._shared, **self._device}

    def _changed(self) -> dict[str, ToolDeclaration] | None:
        tools = self.effective()
        if tools == self._announced:
            return None
        self._announced = tools
        return tools


class CommandRouter:
    """Parses, validates and applies one incoming message; never raises for bad input.

    A config command only answers here: the store announces the change on the event bus, and
    the bridge publishes the config (and the assistant the state) from that announcement.
    """

    def __init__(
        self,
        *,
        store: snapshots.ConfigSource,
        control: ConversationControl,
        retained: snapshots.RetainedConfig,
    ) -> None:
        self.store = store
        self.control = control
        self.retained = retained
        self.tools = ToolBook()
        self._answered_retained: set[tuple[str, bytes]] = set()

    @property
    def topics(self) -> Topics:
        """The device's topics (they follow the config: see `RetainedConfig.topics`)."""
        return self.retained.topics

    @property
    def _max_bytes(self) -> int:
        return self.store.effective.mqtt.max_payload_bytes

    def _limit(self, kind: CommandKind) -> int:
        if kind is not CommandKind.FUNCTION_CALL_RESULT:
            return self._max_bytes
        # Room for the largest image a result may carry, base64-encoded, and its text.
        image = self.store.effective.conversation.max_image_bytes
        return max(self._max_bytes, image * 4 // 3 + self._max_bytes)

    async def handle(self, topic: str, payload: bytes, *, retained: bool = False) -> Dispatch:
        """Handle one message from a subscription; bad input yields error publications."""
        route = self.topics.classify(topic)
        if route is None:
            if not self.topics.expects_answer(topic):
                return Dispatch()  # what we publish ourselves, or not one of our topics
            return self._unknown_command(topic, payload, retained=retained)
        if route.kind is CommandKind.HA_STATUS:
            return Dispatch(ha_online=parse_ha_status(payload) == "online")
        if route.kind is CommandKind.ARBITRATION:
            return self._arbitration(route, payload)
        if route.kind in (CommandKind.TOOL, CommandKind.SHARED_TOOL):
            return self._tool(topic, route, payload)
        if route.kind in ANSWERED_KINDS:
            return await self._request(topic, route, payload, retained=retained)
        return Dispatch()  # pragma: no cover - every kind is handled above

    def tools_resynced(self) -> None:
        """The retained tool declarations of a new subscription have all arrived."""
        self._notify_tools(self.tools.end_resync())

    # -- non-request messages ----------------------------------------------------------------

    def _arbitration(self, route: Route, payload: bytes) -> Dispatch:
        if route.name != self.topics.arbitration_group:
            return Dispatch()
        try:
            claim = parse_arbitration(payload, max_bytes=self._max_bytes)
        except CommandError as exc:
            log.warning("ignoring a bad arbitration claim: %s", exc.message)
            return Dispatch()
        return Dispatch(claim=claim)

    def _tool(self, topic: str, route: Route, payload: bytes) -> Dispatch:
        try:
            command = parse_command(route, payload, max_bytes=self._max_bytes)
        except CommandError as exc:
            log.warning("ignoring a bad tool declaration on %s: %s", topic, exc.message)
            return Dispatch([self._error_event(exc, topic)])
        assert isinstance(command, ToolDeclaration | ToolRemoval)
        self._notify_tools(self.tools.apply(command))
        return Dispatch()

    def _notify_tools(self, tools: dict[str, ToolDeclaration] | None) -> None:
        if tools is not None:
            log.info("MQTT-declared tools: %s", ", ".join(sorted(tools)) or "none")
            self.control.tools_changed(tools)

    # -- requests ------------------------------------------------------------------------------

    def _unknown_command(self, topic: str, payload: bytes, *, retained: bool) -> Dispatch:
        if retained and not self._first_answer(topic, payload):
            return Dispatch()
        tx = extract_transaction(payload, self._max_bytes)
        commands = ", ".join(sorted(k.value for k in ANSWERED_KINDS))
        error = CommandError(
            ErrorCode.UNKNOWN_COMMAND,
            f"{topic}: not a command; commands under {self.topics.base}/: {commands}",
            tx,
        )
        return Dispatch(self._rejected(topic, error))

    async def _request(
        self, topic: str, route: Route, payload: bytes, *, retained: bool
    ) -> Dispatch:
        tx = extract_transaction(payload, self._limit(route.kind))
        if retained:
            if not self._first_answer(topic, payload):
                return Dispatch()
            error = CommandError(
                ErrorCode.RETAINED_COMMAND,
                f"{route.kind.value}: retained commands are ignored; publish without retain "
                "(and clear this one with an empty retained payload)",
                tx,
            )
            return Dispatch(self._rejected(topic, error))
        try:
            catalog = self.store.effective.catalog()
            limit = self._limit(route.kind)
            command = parse_command(route, payload, max_bytes=limit, catalog=catalog)
            tx = command.transaction if command.transaction is not None else tx
            await self._apply(command)
        except CommandError as exc:
            exc.transaction = exc.transaction if exc.transaction is not None else tx
            return Dispatch(self._rejected(topic, exc))
        except ConfigChangeError as exc:
            return Dispatch(self._rejected(topic, _command_error(exc, route.kind.value, tx)))
        except Exception as exc:  # a bug below us must not take the bridge down
            log.exception("command on %s failed", topic)
            return Dispatch(self._internal_error(topic, exc, tx))
        return Dispatch([self._response(topic, None, tx)])

    async def _apply(self, command: Command) -> None:
        match command:
            case WakewordSetting():
                self._tune_wakeword(command)
            case FunctionCallResult():
                self.control.function_result(
                    command.call_id, command.output, command.error, command.image
                )
            case ConversationStart():
                await self.control.start()
            case ConversationStop():
                await self.control.stop()
            case MemoryClear():
                self.control.clear_memory()
            case Say():
                self.control.say(command.text, command.voice, command.start_conversation)
            case _:
                self._change_config(command)

    def _change_config(self, command: Command) -> None:
        store = self.store
        match command:
            case ModelSet():
                store.set_model(command.model)
            case ModelSelectionSet():
                store.set_model_selection(command.model_selection)
            case VoiceSet():
                store.set_voice(command.voice)
            case ConfigSet():
                store.apply_patch(command.changes)
            case ConfigRollback():
                store.rollback(command.target)
            case ConfigReset():
                store.reset_overrides(command.keys or ())
            case _:  # pragma: no cover - tools are routed before requests
                raise TypeError(f"not a request: {type(command).__name__}")

    def _tune_wakeword(self, command: WakewordSetting) -> None:
        """A wake word's threshold or refractory time: a runtime override like any other."""
        name, setting = command.wakeword, command.setting
        what = f"wakeword/{name}/{setting}/set"
        listening = [entry.name for entry in self.store.effective.wakeword.entries()]
        if name not in listening:
            raise CommandError(
                ErrorCode.UNKNOWN_VALUE,
                f"{what}: no wake word {name!r} is listening; wakeword.models: "
                f"{', '.join(listening)}",
                command.transaction,
            )
        patch = {"wakeword": {"words": {name: {setting: command.value}}}}
        self.store.apply_patch(patch, source=f"mqtt:{what}")

    # -- answers -------------------------------------------------------------------------------

    def _first_answer(self, topic: str, payload: bytes) -> bool:
        key = (topic, payload)
        if key in self._answered_retained:
            return False
        if len(self._answered_retained) >= _ANSWERED_LIMIT:
            self._answered_retained.clear()
        self._answered_retained.add(key)
        return True

    def _response(self, topic: str, error: CommandError | str | None, tx: JsonValue) -> Publication:
        payload = response_payload(topic, error, tx)
        return Publication(self.topics.response, encode(payload), retain=False)

    def _error_event(self, error: CommandError, topic: str) -> Publication:
        payload = command_error_payload(error, topic)
        return Publication(self.topics.event("error"), encode(payload), retain=False)

    def _rejected(self, topic: str, error: CommandError) -> list[Publication]:
        log.info("rejected %s: %s", topic, error.message)
        return [self._response(topic, error, error.transaction), self._error_event(error, topic)]

    def _internal_error(self, topic: str, exc: Exception, tx: JsonValue) -> list[Publication]:
        message = f"{topic}: internal error ({type(exc).__name__}); see the device log"
        event = ErrorPayload(
            code=INTERNAL_ERROR, message=message, source_topic=topic, transaction=tx, ts=iso()
        )
        event_pub = Publication(self.topics.event("error"), encode(event), retain=False)
        return [self._response(topic, message, tx), event_pub]


#: The store's refusal codes in the contract's vocabulary (docs/MQTT_API.md, error codes).
_CHANGE_CODES: Final[dict[ChangeCode, ErrorCode]] = {
    ChangeCode.INVALID_CONFIG: ErrorCode.INVALID_VALUE,
    ChangeCode.UNKNOWN_KEY: ErrorCode.UNKNOWN_FIELD,
    ChangeCode.UNKNOWN_MODEL: ErrorCode.UNKNOWN_VALUE,
    ChangeCode.UNKNOWN_VOICE: ErrorCode.UNKNOWN_VALUE,
    ChangeCode.VOICE_NOT_ON_MODEL: ErrorCode.UNKNOWN_VALUE,
    ChangeCode.FORBIDDEN: ErrorCode.FORBIDDEN,
    ChangeCode.NOTHING_TO_ROLL_BACK: ErrorCode.INVALID_VALUE,
    ChangeCode.UNKNOWN_TARGET: ErrorCode.UNKNOWN_VALUE,
}


def _command_error(exc: ConfigChangeError, what: str, tx: JsonValue) -> CommandError:
    code = _CHANGE_CODES.get(exc.code, ErrorCode.INVALID_VALUE)
    return CommandError(code, f"{what}: {exc.message}", tx)
