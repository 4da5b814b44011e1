"""The `mcp_bridge` section: local MCP servers whose tools edge_voice offers to the model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Section(BaseModel):
    """Like config.schema.Section (which imports this module): unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class McpServerConfig(Section):
    """A local MCP server (e.g. Home Assistant's MCP Server) whose tools the model may call."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,16}$")]
    url: str
    transport: Literal["streamable_http", "sse"] = "streamable_http"
    #: The bearer token is a secret: read from a file or an environment variable, never inline.
    token_file: Path | None = None
    token_env: str | None = None
    allowed_tools: list[str] | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _one_token_source(self) -> McpServerConfig:
        if self.token_file is not None and self.token_env is not None:
            raise ValueError("set token_file or token_env, not both")
        return self


class McpBridgeConfig(Section):
    """edge_voice as an MCP client: the tools of local servers offered to the model."""

    servers: list[McpServerConfig] = Field(default_factory=list)
    reconnect_max_s: float = Field(default=60.0, ge=1, le=3600)

    @field_validator("servers")
    @classmethod
    def _unique(cls, value: list[McpServerConfig]) -> list[McpServerConfig]:
        names = [server.name for server in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate server names {dupes}")
        return value
