"""Typed errors of the realtime client, and their classification from the server's behaviour.

Every failure the client can meet maps to one class, with two flags the fallback logic reads:
`retryable` (the same request may work later) and `fallback_worthy` (another model may work
where this one did not). The classification follows what the real service does (reference
§1, §7): the upgrade succeeds, then an `error` event, then a close with 3000 (bad key) or
4000 (unknown model, beta shape disabled, ...).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable
from typing import Any, Literal

from edge_voice.realtime.normalized import ServerError

#: RFC 6455 close codes after which reconnecting is reasonable (as the OpenAI SDK does).
RECOVERABLE_CLOSE_CODES: frozenset[int] = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})
AUTH_CLOSE_CODE = 3000
REQUEST_CLOSE_CODE = 4000
#: Error codes meaning "this model (or this protocol flavour) is not available here".
MODEL_REFUSAL_CODES: frozenset[str] = frozenset(
    {"invalid_model", "model_not_found", "missing_model", "beta_api_shape_disabled"}
)

Phase = Literal["handshake", "setup", "session"]

# OpenAI keys (sk-, sk-proj-, ek_ ephemeral, rk- restricted); servers echo masked fragments.
_KEY_RE = re.compile(r"\b(?:sk|rk|ek)[-_][A-Za-z0-9_*\-.]{6,}")
_RETRY_AFTER_RE = re.compile(r"try again in ([0-9.]+)\s*(ms|s)\b", re.IGNORECASE)
_NOT_CODE_RE = re.compile(r"[^a-z0-9]+")


def snake_code(text: str, default: str = "server_error") -> str:
    """`text` (a server's error code or type) as a snake_case code; `default` if none is left."""
    code = _NOT_CODE_RE.sub("_", text.lower()).strip("_").lstrip("0123456789_")
    return code or default


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secrets and anything shaped like an OpenAI key replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_RE.sub("***", text)


class RedactAuthorization(logging.Filter):
    """Masks the bearer token in websockets' debug dump of the upgrade request headers."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite `> Authorization: Bearer <key>` records; never drops a record."""
        args = record.args
        if (
            isinstance(args, tuple)
            and len(args) == 2
            and isinstance(args[0], str)
            and args[0].lower() == "authorization"
        ):
            record.args = (args[0], "Bearer ***")
        return True


class RealtimeError(Exception):
    """Base of every realtime client error; never carries the API key."""

    retryable: bool = False
    fallback_worthy: bool = False
    #: The public code when the server named none (one per class: the vocabulary's owner).
    default_code: str = "realtime_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        close_code: int | None = None,
        close_reason: str | None = None,
        status_code: int | None = None,
        model: str | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.message = redact(message, secrets)
        self.code = code
        self.param = param
        self.close_code = close_code
        self.close_reason = redact(close_reason, secrets) if close_reason else close_reason
        self.status_code = status_code
        self.model = model
        super().__init__(self.message)

    @property
    def error_code(self) -> str:
        """The code published for this error: the server's (snake_case), else the class's."""
        return snake_code(self.code, self.default_code) if self.code else self.default_code

    def __repr__(self) -> str:
        parts = [
            f"{name}={value!r}"
            for name, value in (
                ("code", self.code),
                ("param", self.param),
                ("status_code", self.status_code),
                ("close_code", self.close_code),
                ("model", self.model),
            )
            if value is not None
        ]
        parts.append(f"message={self.message!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class ConnectError(RealtimeError):
    """The socket could not be opened (DNS, refused, TLS): every model on this host is affected."""

    default_code = "connect_failed"
    retryable = True


class ConnectTimeout(RealtimeError, TimeoutError):
    """No answer in time: at the upgrade, waiting for session.created or for session.updated."""

    default_code = "connect_timeout"
    retryable = True
    fallback_worthy = True

    def __init__(self, message: str, *, phase: str, **kw: Any) -> None:
        self.phase = phase
        super().__init__(message, **kw)


class HandshakeError(RealtimeError):
    """The HTTP upgrade was refused with a status (403: no access to the model/endpoint)."""

    default_code = "handshake_refused"

    def __init__(self, message: str, *, status_code: int, body: Any = None, **kw: Any) -> None:
        self.body = body
        super().__init__(message, status_code=status_code, **kw)
        self.retryable = status_code >= 500 or status_code in (408, 409)
        self.fallback_worthy = (
            status_code in (403, 404) or status_code >= 500 or self.code in MODEL_REFUSAL_CODES
        )


class AuthenticationError(RealtimeError):
    """Bad or revoked API key (`invalid_api_key`, close 3000, or HTTP 401): no model would work."""

    default_code = "authentication_failed"


class ModelRefusedError(RealtimeError):
    """The server refused this model or protocol flavour (close 4000): try another model."""

    default_code = "model_refused"
    fallback_worthy = True


class SessionSettingError(RealtimeError):
    """An `error` answered our initial session.update (e.g. invalid_value for the voice)."""

    default_code = "session_setting_refused"
    fallback_worthy = True


class ServerClosedError(RealtimeError):
    """The server closed the socket when we did not ask for it."""

    default_code = "server_closed"

    def __init__(self, message: str, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retryable = self.recoverable

    @property
    def recoverable(self) -> bool:
        """Whether the close code is one after which reconnecting is reasonable."""
        return self.close_code in RECOVERABLE_CLOSE_CODES


class SessionExpiredError(RealtimeError):
    """The session hit its maximum duration (60 min GA): a new one is opened quietly."""

    default_code = "session_expired"
    retryable = True


class QuotaError(RealtimeError):
    """`insufficient_quota`: billing, not load; permanent until someone pays."""

    default_code = "insufficient_quota"


class RateLimitError(RealtimeError):
    """`rate_limit_exceeded`: an answer is asked again once within the server's hint (<= 5 s)."""

    default_code = "rate_limit_exceeded"
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float | None = None, **kw: Any) -> None:
        self.retry_after_s = retry_after_s if retry_after_s is not None else retry_after(message)
        super().__init__(message, **kw)


class ServerSideError(RealtimeError):
    """A `server_error` from the service before the session was ready."""

    default_code = "server_error"
    retryable = True


class SessionClosedError(RealtimeError):
    """The session was used after `close()` or before `connect()`."""

    default_code = "session_closed"


class SettingError(RealtimeError, ValueError):
    """A session setting that is invalid or that the target model cannot take (never sent)."""

    default_code = "invalid_setting"

    def __init__(self, message: str, *, field: str, **kw: Any) -> None:
        self.field = field
        super().__init__(message, **kw)


class InvalidSettingError(SettingError):
    """A setting with a value no model accepts (out of range, unknown enum, malformed tool)."""

    default_code = "invalid_setting"


class UnsupportedSettingError(SettingError):
    """A valid setting that the target model does not support."""

    default_code = "unsupported_setting"


class VoiceNotSupportedError(UnsupportedSettingError):
    """The model does not have this voice (e.g. `cedar` on a preview model)."""

    default_code = "voice_not_supported"

    def __init__(self, voice: str, model: str, available: Iterable[str]) -> None:
        self.voice = voice
        self.available = tuple(available)
        super().__init__(
            f"voice {voice!r} is not available on {model}; available: {', '.join(self.available)}",
            field="voice",
            model=model,
        )


class FeatureNotSupportedError(UnsupportedSettingError):
    """The setting needs a catalog feature the model lacks (mcp, semantic_vad, reasoning...)."""

    default_code = "feature_not_supported"

    def __init__(self, feature: str, model: str, *, field: str) -> None:
        self.feature = feature
        super().__init__(
            f"{field} needs feature {feature!r}, which {model} does not have",
            field=field,
            model=model,
        )


def retry_after(message: str) -> float | None:
    """The wait in seconds a rate-limit message asks for ("try again in 1.2s"/"in 20ms")."""
    match = _RETRY_AFTER_RE.search(message)
    if match is None:
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2).lower() == "ms" else value


def _split_close_reason(reason: str) -> tuple[str | None, str | None]:
    # The service closes with reason "<type>.<code>", e.g. invalid_request_error.invalid_model.
    if "." in reason and " " not in reason:
        etype, _, code = reason.partition(".")
        return etype or None, code or None
    return None, None


def classify_error(
    error: ServerError | None,
    close_code: int | None = None,
    close_reason: str = "",
    *,
    phase: Phase,
    model: str | None = None,
    secrets: Iterable[str] = (),
) -> RealtimeError:
    """The typed error for a server `error` event and/or a close, in a connection phase."""
    reason_type, reason_code = _split_close_reason(close_reason or "")
    code = (error.code if error else None) or reason_code
    etype = (error.type if error else None) or reason_type
    cls = _class_by_code(code, etype, close_code) or _class_by_phase(
        etype, close_code, phase, has_error=error is not None
    )
    return cls(
        _message(error, close_code, close_reason),
        code=code,
        param=error.param if error else None,
        close_code=close_code,
        close_reason=close_reason or None,
        model=model,
        secrets=tuple(secrets),
    )


def _message(error: ServerError | None, close_code: int | None, close_reason: str) -> str:
    if error is not None and error.message:
        return error.message
    if close_reason:
        return close_reason
    return f"connection closed with code {close_code}" if close_code else "server error"


def _class_by_code(
    code: str | None, etype: str | None, close_code: int | None
) -> type[RealtimeError] | None:
    """The class the error's code or type names, whatever the phase; None if they name none."""
    if code == "invalid_api_key" or (close_code == AUTH_CLOSE_CODE and code is None):
        return AuthenticationError
    if code in MODEL_REFUSAL_CODES:
        return ModelRefusedError
    if code == "session_expired":
        return SessionExpiredError
    if "insufficient_quota" in (code, etype):
        return QuotaError
    if code == "rate_limit_exceeded" or etype in ("rate_limit_error", "rate_limit_exceeded"):
        return RateLimitError
    return None


def _class_by_phase(
    etype: str | None, close_code: int | None, phase: Phase, *, has_error: bool
) -> type[RealtimeError]:
    """The class for an error no code explains, from when it happened."""
    if phase == "handshake" and close_code == REQUEST_CLOSE_CODE:
        # Refused before the session started, for a reason we do not know by name.
        return ModelRefusedError
    if phase == "setup" and has_error and etype != "server_error":
        return SessionSettingError
    if etype == "server_error" and phase != "session":
        return ServerSideError
    if close_code is not None:
        return ServerClosedError
    return RealtimeError


def classify_http_status(
    status_code: int,
    body: bytes | bytearray | memoryview | str | None,
    *,
    model: str | None = None,
    secrets: Iterable[str] = (),
) -> RealtimeError:
    """The typed error for a refused HTTP upgrade (status and, if JSON, the OpenAI error body)."""
    secrets = tuple(secrets)
    if isinstance(body, bytes | bytearray | memoryview):
        text = bytes(body).decode("utf-8", "replace")
    else:
        text = body or ""
    text = redact(text[:2000], secrets)
    parsed: Any = text
    code = etype = param = None
    message = f"HTTP {status_code} at the websocket upgrade"
    with contextlib.suppress(ValueError):
        parsed = json.loads(text) if text else None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        err = parsed["error"]
        code, etype, param = err.get("code"), err.get("type"), err.get("param")
        if err.get("message"):
            message = f"{message}: {err['message']}"
    elif text:
        message = f"{message}: {text[:200]}"
    code = code if isinstance(code, str) else None
    kw: dict[str, Any] = {
        "code": code,
        "param": param if isinstance(param, str) else None,
        "status_code": status_code,
        "model": model,
        "secrets": secrets,
    }
    if status_code == 401 or code == "invalid_api_key":
        return AuthenticationError(message, **kw)
    if status_code == 429 or code in ("insufficient_quota", "rate_limit_exceeded"):
        if "insufficient_quota" in (code, etype):
            return QuotaError(message, **kw)
        return RateLimitError(message, **kw)
    return HandshakeError(message, body=parsed, **kw)
