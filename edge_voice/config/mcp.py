"""Native MCP servers (`openai.mcp_servers`): the model calls them itself, from OpenAI's cloud.

The config names where a server's credentials are (a file, an environment variable), never the
credentials themselves, so `config check`, the state file and MQTT never see them. They are read
when a session is built and carried as `Redacted`, whose repr hides them from logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from edge_voice.config.secret_sources import read_secret_env, read_secret_file
from edge_voice.realtime.session_builders import Redacted

_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class McpSecretError(ValueError):
    """A server's credential could not be read; the message names where, never the value."""


class McpServerConfig(BaseModel):
    """One remote MCP server offered to the model as an `mcp` tool (reference §4)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    server_label: str
    server_url: str
    server_description: str | None = None
    #: Tools the model may see; None offers all the server lists.
    allowed_tools: list[str] | None = None
    #: `always`: every call waits for an approval, answered from `approved_tools`.
    require_approval: Literal["always", "never"] = "always"
    #: The allow-list for approval requests: these tools are approved, every other is denied.
    approved_tools: list[str] = Field(default_factory=list)
    #: The bearer token (OAuth access token) from a file or an environment variable.
    authorization_file: Path | None = None
    authorization_env: str | None = None
    #: Extra HTTP headers: header name → environment variable holding its value.
    headers_env: dict[str, str] = Field(default_factory=dict)

    @field_validator("server_label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.match(value):
            raise ValueError("must be 1-64 characters of letters, digits, '_' or '-'")
        return value

    @field_validator("server_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http://)")
        return value

    @field_validator("authorization_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("must be an environment variable name")
        return value

    @field_validator("headers_env")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for header, env in value.items():
            if not _ENV_NAME.match(env):
                raise ValueError(f"{header}: {env!r} is not an environment variable name")
            if header.lower() == "authorization":
                raise ValueError("use authorization_file or authorization_env for Authorization")
        return value

    @model_validator(mode="after")
    def _one_authorization(self) -> McpServerConfig:
        if self.authorization_file is not None and self.authorization_env is not None:
            raise ValueError("set authorization_file or authorization_env, not both")
        return self

    def approves(self, tool: str) -> bool:
        """Whether an approval request for `tool` is answered yes."""
        return tool in self.approved_tools

    def tool_entry(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The `mcp` tool sent in session.update, with its credentials read now."""
        env = os.environ if env is None else env
        entry: dict[str, Any] = {
            "type": "mcp",
            "server_label": self.server_label,
            "server_url": self.server_url,
        }
        if self.server_description:
            entry["server_description"] = self.server_description
        if self.allowed_tools is not None:
            entry["allowed_tools"] = list(self.allowed_tools)
        entry["require_approval"] = self.require_approval
        authorization = self._authorization(env)
        if authorization is not None:
            entry["authorization"] = authorization
        if self.headers_env:
            entry["headers"] = {
                name: self._env_secret(var, f"headers_env.{name}", env)
                for name, var in self.headers_env.items()
            }
        return entry

    def _where(self, key: str) -> str:
        return f"openai.mcp_servers[{self.server_label}].{key}"

    def _env_secret(self, var: str, key: str, env: Mapping[str, str]) -> Redacted:
        return Redacted(read_secret_env(env, var, self._where(key), McpSecretError))

    def _authorization(self, env: Mapping[str, str]) -> Redacted | None:
        if self.authorization_env is not None:
            return self._env_secret(self.authorization_env, "authorization_env", env)
        if self.authorization_file is None:
            return None
        where = self._where("authorization_file")
        return Redacted(read_secret_file(self.authorization_file, where, McpSecretError))


def approval_policy(servers: list[McpServerConfig]) -> dict[str, frozenset[str]]:
    """server_label → the tools its approval requests are answered yes for."""
    return {s.server_label: frozenset(s.approved_tools) for s in servers}
