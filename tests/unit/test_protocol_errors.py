"""Error classification from (error event, close code, phase) and HTTP refusals; no secrets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from edge_voice.realtime.errors import (
    AuthenticationError,
    ConnectError,
    ConnectTimeout,
    HandshakeError,
    ModelRefusedError,
    QuotaError,
    RateLimitError,
    RealtimeError,
    ServerClosedError,
    ServerSideError,
    SessionExpiredError,
    SessionSettingError,
    classify_error,
    classify_http_status,
    redact,
)
from edge_voice.realtime.normalized import ServerError

KEY = "sk-proj-Abc123SECRETxyz789"


def err(
    code: str | None,
    message: str = "msg",
    etype: str = "invalid_request_error",
    param: str | None = None,
) -> ServerError:
    return ServerError(etype, code, message, param, None)


@pytest.mark.parametrize(
    ("error", "close", "reason", "phase", "cls"),
    [
        (
            err("invalid_api_key"),
            3000,
            "invalid_request_error.invalid_api_key",
            "handshake",
            AuthenticationError,
        ),
        (None, 3000, "", "handshake", AuthenticationError),
        (None, 3000, "invalid_request_error.invalid_api_key", "session", AuthenticationError),
        (
            err("invalid_model"),
            4000,
            "invalid_request_error.invalid_model",
            "handshake",
            ModelRefusedError,
        ),
        (err("model_not_found"), 4000, "", "handshake", ModelRefusedError),
        (err("missing_model"), 4000, "", "handshake", ModelRefusedError),
        (err("beta_api_shape_disabled"), 4000, "", "handshake", ModelRefusedError),
        (err("beta_api_shape_disabled"), None, "", "setup", ModelRefusedError),
        (None, 4000, "invalid_request_error.invalid_model", "handshake", ModelRefusedError),
        (err("something_new"), 4000, "", "handshake", ModelRefusedError),
        (
            err("invalid_value", param="session.audio.output.voice"),
            None,
            "",
            "setup",
            SessionSettingError,
        ),
        (
            err("unknown_parameter", param="session.temperature"),
            None,
            "",
            "setup",
            SessionSettingError,
        ),
        (err("session_expired"), 1001, "", "session", SessionExpiredError),
        (err("insufficient_quota", etype="insufficient_quota"), 4000, "", "handshake", QuotaError),
        (err("rate_limit_exceeded", etype="rate_limit_error"), None, "", "setup", RateLimitError),
        (err(None, etype="server_error"), None, "", "setup", ServerSideError),
        (None, 1006, "", "session", ServerClosedError),
        (None, 1000, "", "session", ServerClosedError),
        (err("invalid_value"), 4000, "", "session", ServerClosedError),
        (err("weird"), None, "", "handshake", RealtimeError),
    ],
)
def test_classification(
    error: ServerError | None, close: int | None, reason: str, phase: Any, cls: type
) -> None:
    out = classify_error(error, close, reason, phase=phase, model="gpt-realtime")
    assert type(out) is cls
    assert out.close_code == close
    assert out.model == "gpt-realtime"
    if error is not None and error.code:
        assert out.code == error.code
        assert out.message == error.message


def test_message_and_code_fall_back_to_the_close_reason_then_the_close_code() -> None:
    by_reason = classify_error(None, 4000, "invalid_request_error.invalid_model", phase="session")
    assert type(by_reason) is ModelRefusedError
    assert by_reason.message == "invalid_request_error.invalid_model"
    assert by_reason.code == "invalid_model" and by_reason.close_reason == by_reason.message
    empty = classify_error(err("weird", ""), 1011, "going away", phase="session")
    assert empty.message == "going away" and empty.code == "weird"
    assert classify_error(err(None, ""), 1011, phase="session").message == (
        "connection closed with code 1011"
    )
    assert classify_error(None, None, phase="session").message == "server error"
    assert type(classify_error(None, None, phase="session")) is RealtimeError


def test_fallback_and_retry_flags() -> None:
    auth = classify_error(err("invalid_api_key"), 3000, phase="handshake")
    assert not auth.fallback_worthy and not auth.retryable
    refused = classify_error(
        err("invalid_model", 'Model "x" is not supported'), 4000, phase="handshake"
    )
    assert refused.fallback_worthy and not refused.retryable
    assert refused.message == 'Model "x" is not supported'
    setting = classify_error(
        err("invalid_value", param="session.audio.output.voice"), None, phase="setup"
    )
    assert isinstance(setting, SessionSettingError)
    assert setting.fallback_worthy and setting.param == "session.audio.output.voice"
    quota = classify_error(err("insufficient_quota"), None, phase="setup")
    assert not quota.retryable and not quota.fallback_worthy
    expired = classify_error(err("session_expired"), 1001, phase="session")
    assert expired.retryable and not expired.fallback_worthy


def test_close_code_recoverability() -> None:
    for code in (1001, 1005, 1006, 1011, 1012, 1013, 1015):
        closed = classify_error(None, code, phase="session")
        assert isinstance(closed, ServerClosedError) and closed.recoverable and closed.retryable
    for code in (1000, 1002, 1008, 4000):
        closed = classify_error(None, code, phase="session")
        assert isinstance(closed, ServerClosedError)
        assert not closed.recoverable and not closed.retryable
    assert "1006" in str(classify_error(None, 1006, phase="session"))


def test_rate_limit_retry_after_is_parsed() -> None:
    slow = classify_error(
        err("rate_limit_exceeded", "Rate limit reached. Please try again in 1.5s."),
        None,
        phase="setup",
    )
    assert isinstance(slow, RateLimitError)
    assert slow.retryable and slow.retry_after_s == 1.5
    fast = RateLimitError("Please try again in 250ms")
    assert fast.retry_after_s == 0.25
    assert RateLimitError("busy").retry_after_s is None


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            401,
            b'{"error":{"type":"invalid_request_error","code":"invalid_api_key",'
            b'"message":"bad key"}}',
            AuthenticationError,
        ),
        (
            403,
            b'{"error":{"type":"invalid_request_error","code":"model_not_allowed",'
            b'"message":"no access"}}',
            HandshakeError,
        ),
        (403, b"Forbidden", HandshakeError),
        (404, b"", HandshakeError),
        (
            429,
            b'{"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"pay"}}',
            QuotaError,
        ),
        (429, b'{"error":{"code":"rate_limit_exceeded","message":"slow down"}}', RateLimitError),
        (400, b'{"error":{"code":"invalid_model","message":"nope"}}', HandshakeError),
        (502, b"<html>bad gateway</html>", HandshakeError),
    ],
)
def test_http_status_classification(status: int, body: bytes, cls: type) -> None:
    out = classify_http_status(status, body, model="gpt-realtime")
    assert type(out) is cls
    assert out.status_code == status
    assert f"HTTP {status}" in str(out)


def test_handshake_error_body_and_flags() -> None:
    forbidden = classify_http_status(
        403, b'{"error":{"code":"model_not_allowed","message":"no access"}}'
    )
    assert isinstance(forbidden, HandshakeError)
    assert forbidden.body == {"error": {"code": "model_not_allowed", "message": "no access"}}
    assert forbidden.code == "model_not_allowed"
    assert forbidden.fallback_worthy and not forbidden.retryable
    text = classify_http_status(403, "plain text")
    assert isinstance(text, HandshakeError) and text.body == "plain text"
    unavailable = classify_http_status(503, None)
    assert unavailable.retryable and unavailable.fallback_worthy
    bad_request = classify_http_status(400, b"{}")
    assert not bad_request.retryable and not bad_request.fallback_worthy
    no_model = classify_http_status(400, b'{"error":{"code":"invalid_model","message":"x"}}')
    assert no_model.fallback_worthy and no_model.code == "invalid_model"


def test_connect_errors_flags() -> None:
    timeout = ConnectTimeout("slow", phase="session.created")
    assert isinstance(timeout, TimeoutError)
    assert timeout.retryable and timeout.fallback_worthy and timeout.phase == "session.created"
    refused = ConnectError("refused")
    assert refused.retryable and not refused.fallback_worthy


def _all_errors() -> list[RealtimeError]:
    masked = f"Incorrect API key provided: {KEY}. You can find your API key at ..."
    errors: list[RealtimeError] = [
        classify_error(
            err("invalid_api_key", masked), 3000, f"reason {KEY}", phase="handshake", secrets=[KEY]
        ),
        classify_error(
            err("invalid_model", f"model refused for {KEY}"), 4000, phase="handshake", secrets=[KEY]
        ),
        classify_error(err("invalid_value", f"x {KEY}"), None, phase="setup", secrets=[KEY]),
        classify_error(None, 1006, f"dropped {KEY}", phase="session", secrets=[KEY]),
        classify_http_status(
            403, json.dumps({"error": {"message": f"key {KEY}"}}).encode(), secrets=[KEY]
        ),
        classify_http_status(401, f"Bearer {KEY}", secrets=[KEY]),
        ConnectError(f"cannot open wss://x?key={KEY}", secrets=[KEY]),
    ]
    return errors


@pytest.mark.parametrize("error", _all_errors(), ids=lambda e: type(e).__name__)
def test_secret_never_in_str_repr_or_fields(error: RealtimeError) -> None:
    rendered = [str(error), repr(error), str(error.args), str(vars(error))]
    for text in rendered:
        assert KEY not in text
        assert "SECRET" not in text


def test_redact_masks_key_shaped_tokens_without_knowing_them() -> None:
    assert redact("key sk-live-0123456789abcdef used") == "key *** used"
    assert redact("ek_68a1b2c3d4e5 expired") == "*** expired"
    assert redact("token hunter2-long", ["hunter2-long"]) == "token ***"
    assert redact("nothing secret here") == "nothing secret here"
