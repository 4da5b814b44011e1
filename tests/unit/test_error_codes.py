"""`event/error` codes are one snake_case vocabulary: every code the device can publish."""

from __future__ import annotations

import pytest

import edge_voice.service  # noqa: F401  (every module, so every error class is defined)
from edge_voice.conversation.error_codes import DESCRIPTIONS, ConversationErrorCode
from edge_voice.conversation.resilient_session import RealtimeUnstableError
from edge_voice.models.attempts import AllModelsFailedError, fallback_reason
from edge_voice.mqtt.command_router import INTERNAL_ERROR
from edge_voice.mqtt.commands import ErrorCode
from edge_voice.realtime import errors
from edge_voice.realtime.error_codes import CODE_PATTERN, error_classes
from edge_voice.realtime.normalized import ServerError


def _instance(cls: type[errors.RealtimeError]) -> errors.RealtimeError:
    """One instance of `cls` without a server code, built through its own constructor."""
    if cls is errors.VoiceNotSupportedError:
        return cls("robot", "gpt-realtime", ["cedar"])  # type: ignore[call-arg]
    if cls is errors.FeatureNotSupportedError:
        return cls("mcp", "gpt-realtime", field="tools")  # type: ignore[call-arg]
    if cls is RealtimeUnstableError:
        return cls("it kept failing")
    if cls is AllModelsFailedError:
        return cls([("gpt-realtime", errors.ConnectError("refused"))])  # type: ignore[call-arg]
    kw: dict[str, object] = {}
    if issubclass(cls, errors.ConnectTimeout):
        kw["phase"] = "handshake"
    if issubclass(cls, errors.HandshakeError):
        kw["status_code"] = 403
    if issubclass(cls, errors.SettingError):
        kw["field"] = "voice"
    return cls("it failed", **kw)  # type: ignore[arg-type]


REALTIME_CLASSES = error_classes()


def test_the_enumeration_finds_every_realtime_error_class() -> None:
    names = {cls.__name__ for cls in REALTIME_CLASSES}
    assert {"ConnectError", "AllModelsFailedError", "RealtimeUnstableError"} <= names
    assert len(REALTIME_CLASSES) >= 19


@pytest.mark.parametrize("cls", REALTIME_CLASSES, ids=lambda c: c.__name__)
def test_every_realtime_error_without_a_server_code_publishes_a_snake_case_code(
    cls: type[errors.RealtimeError],
) -> None:
    exc = _instance(cls)
    assert CODE_PATTERN.match(exc.error_code), exc.error_code
    assert exc.error_code != cls.__name__
    assert CODE_PATTERN.match(fallback_reason(exc)), fallback_reason(exc)


def test_each_error_class_below_the_base_has_a_code_of_its_own_or_its_parents() -> None:
    inherited = [c for c in REALTIME_CLASSES[1:] if c.default_code == "realtime_error"]
    assert inherited == []


def test_commands_and_conversations_codes_are_snake_case_and_described() -> None:
    codes = (
        [c.value for c in ErrorCode] + [INTERNAL_ERROR] + [c.value for c in ConversationErrorCode]
    )
    assert all(CODE_PATTERN.match(code) for code in codes), codes
    assert set(DESCRIPTIONS) == set(ConversationErrorCode)


@pytest.mark.parametrize(
    ("server_code", "published"),
    [
        ("invalid_api_key", "invalid_api_key"),
        ("model_not_found", "model_not_found"),
        ("Invalid-Model", "invalid_model"),
        ("rate limit.exceeded", "rate_limit_exceeded"),
        ("429", None),  # nothing of it is a code: the class's own
        ("  ", None),
    ],
)
def test_a_servers_code_is_kept_and_made_snake_case(
    server_code: str, published: str | None
) -> None:
    exc = errors.classify_error(
        ServerError(type="invalid_request_error", code=server_code, message="no"), phase="session"
    )
    assert exc.error_code == (published or exc.default_code)
    assert CODE_PATTERN.match(exc.error_code)


def test_the_closed_port_error_is_connect_failed_not_its_class_name() -> None:
    exc = errors.ConnectError("cannot open ws://127.0.0.1:9: ConnectionRefusedError")
    assert exc.code is None and exc.error_code == "connect_failed"


@pytest.mark.parametrize(
    ("close_code", "reason"),
    [(1006, ""), (3000, ""), (4000, "invalid_request_error.invalid_model"), (1000, "bye")],
)
def test_classified_closes_publish_snake_case_codes(close_code: int, reason: str) -> None:
    for phase in ("handshake", "setup", "session"):
        exc = errors.classify_error(None, close_code, reason, phase=phase)  # type: ignore[arg-type]
        assert CODE_PATTERN.match(exc.error_code), (phase, exc.error_code)
        assert CODE_PATTERN.match(fallback_reason(exc)), (phase, fallback_reason(exc))
