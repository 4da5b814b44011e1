"""Load, override from the environment, validate, report and save configuration files."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from edge_voice.config.schema import EdgeVoiceConfig
from edge_voice.config.secret_sources import read_secret_file

ENV_PREFIX = "EDGE_VOICE__"
REDACTED = "<redacted>"
SECRET_PATHS: tuple[tuple[str, ...], ...] = (("openai", "api_key"), ("mqtt", "password"))
_KEYED = re.compile(r"^(?P<key>[a-z_]+(?:\.[a-z_]+)*): (?P<msg>.*)$", re.DOTALL)


class ConfigError(Exception):
    """A config that cannot load; the message names the file, the key path and what is allowed."""

    def __init__(self, message: str, problems: Sequence[str] = (), *, unknown_keys: bool = False):
        super().__init__(message)
        #: One line per problem, without the source (for answers that name it themselves).
        self.problems = list(problems) or [message]
        #: Every problem is a key the schema does not have.
        self.unknown_keys = unknown_keys


def load_config(
    path: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None
) -> EdgeVoiceConfig:
    """Read a YAML file (or none: defaults), apply EDGE_VOICE__* overrides, validate."""
    env = os.environ if env is None else env
    source = str(path) if path is not None else "<defaults>"
    raw = read_yaml(path) if path is not None else {}
    overrides = env_overrides(env)
    for dotted, value in overrides.items():
        _set_path(raw, dotted.split("."), value, source)
    return validate_config(raw, source, env_keys=overrides)


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The YAML mapping in `path`, or a ConfigError saying what is wrong with the file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc.__class__.__name__}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # Never echo the offending line: it may hold an API key or a password.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{file}: broken YAML{where}: {problem}") from None
    except RecursionError:  # `[[[[…` thousands deep: PyYAML's parser recurses per level
        raise ConfigError(f"{file}: broken YAML: nested too deeply") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{file}: the top level must be a mapping of sections, not {type(data).__name__}"
        )
    return data


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """`EDGE_VOICE__SECTION__KEY=value` → {"section.key": value}, values parsed as YAML scalars."""
    found: dict[str, Any] = {}
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX) or len(name) == len(ENV_PREFIX):
            continue
        dotted = ".".join(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        try:
            found[dotted] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError:
            found[dotted] = text
        if dotted.endswith(("api_key", "password")):
            found[dotted] = text  # secrets stay strings, never parsed
    return found


def _set_path(raw: dict[str, Any], parts: Sequence[str], value: Any, source: str) -> None:
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: {'.'.join(parts)}: cannot override inside a non-mapping")
        node = child
    node[parts[-1]] = value


def validate_config(
    raw: Mapping[str, Any], source: str = "<config>", env_keys: Mapping[str, Any] | None = None
) -> EdgeVoiceConfig:
    """Validate a raw mapping as a whole; ConfigError lists every problem by key path."""
    try:
        return EdgeVoiceConfig.model_validate(dict(raw))
    except ValidationError as exc:
        errors = exc.errors(include_input=False)
        lines = [_describe(err, env_keys or {}) for err in errors]
        noun = "problem" if len(lines) == 1 else "problems"
        raise ConfigError(
            f"{source}: {len(lines)} {noun}:\n  " + "\n  ".join(lines),
            lines,
            unknown_keys=all(err["type"] == "extra_forbidden" for err in errors),
        ) from None


def _describe(err: Mapping[str, Any], env_keys: Mapping[str, Any]) -> str:
    loc = [str(p) for p in err["loc"]]
    msg = str(err["msg"]).removeprefix("Value error, ")
    named = _KEYED.match(msg)
    if not loc and named:
        # A check across sections names the key it refuses: report it under that key.
        loc, msg = named["key"].split("."), named["msg"]
    path = ".".join(loc) if loc else "(config)"
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        msg = f"unknown key; allowed here: {', '.join(allowed)}" if allowed else "unknown key"
    if path in env_keys:
        path += f" (from {ENV_PREFIX}{'__'.join(p.upper() for p in loc)})"
    return f"{path}: {msg}"


def _allowed_keys(loc: Sequence[str]) -> list[str]:
    model: type[BaseModel] | None = EdgeVoiceConfig
    for part in loc:
        if model is None or part.isdigit():
            continue
        field = model.model_fields.get(part)
        if field is None:
            # inside a dict (e.g. models.<name>): the value type is the next model
            continue
        model = _model_of(field.annotation)
    return sorted(k for k, f in (model.model_fields.items() if model else []) if not f.exclude)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def config_to_dict(
    cfg: EdgeVoiceConfig, *, secrets: str = "redact", only_set: bool = False
) -> dict[str, Any]:
    """Plain data of `cfg`; secrets are `redact`ed, `drop`ped or `reveal`ed (files only)."""
    data = cfg.model_dump(mode="python", exclude_unset=only_set)
    for path in SECRET_PATHS:
        node: Any = data
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or path[-1] not in node:
            continue
        value = node[path[-1]]
        if secrets == "drop":
            del node[path[-1]]
        elif secrets == "redact":
            node[path[-1]] = None if value is None else REDACTED
        elif isinstance(value, SecretStr):
            node[path[-1]] = value.get_secret_value()
    plain: dict[str, Any] = _plain(data)
    return plain


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, SecretStr):
        return REDACTED
    return value


def dump_yaml(data: Mapping[str, Any]) -> str:
    """YAML text in the order the schema defines, readable by humans."""
    return yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, default_flow_style=False)


def save_config(
    cfg: EdgeVoiceConfig, path: str | os.PathLike[str], *, only_set: bool = True
) -> None:
    """Write `cfg` as YAML atomically; secrets present in the config are kept in the file."""
    write_text_atomic(
        Path(path), dump_yaml(config_to_dict(cfg, secrets="reveal", only_set=only_set))
    )


def write_text_atomic(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace `path` with `text` so a crash leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resolve_api_key(cfg: EdgeVoiceConfig, env: Mapping[str, str] | None = None) -> SecretStr | None:
    """The API key: OPENAI_API_KEY, else openai.api_key_file, else (deprecated) openai.api_key."""
    env = os.environ if env is None else env
    if env.get("OPENAI_API_KEY"):
        return SecretStr(env["OPENAI_API_KEY"].strip())
    if cfg.openai.api_key_file is not None:
        return SecretStr(
            read_secret_file(cfg.openai.api_key_file, "openai.api_key_file", ConfigError)
        )
    # The deprecated inline key still works; config_warnings() tells the user to move it.
    return cfg.openai.api_key
