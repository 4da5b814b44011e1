"""The contract as docs/MQTT_API.md writes it: its JSON schemas and which topic carries which."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

DOC = Path(__file__).resolve().parents[2] / "docs" / "MQTT_API.md"


@dataclass(frozen=True)
class DocumentedContract:
    """Schemas by model name, and per topic pattern the model its payload follows."""

    schemas: dict[str, dict[str, Any]]
    topics: list[tuple[re.Pattern[str], str, str]]  # (topic pattern, direction, model name)

    def model_for(self, topic: str, direction: str) -> str | None:
        """The documented payload model of `topic` ("in" or "out"), None if it has none."""
        for pattern, way, model in self.topics:
            if direction in way.split("/") and pattern.fullmatch(topic):
                return model
        return None

    def errors(self, model: str, payload: Any) -> list[str]:
        """Why `payload` does not follow the documented schema of `model` (empty: it does)."""
        validator = Draft202012Validator(self.schemas[model])
        return [
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(payload)
        ]


def _schemas(text: str) -> dict[str, dict[str, Any]]:
    section = text[text.index("<!-- schemas ") : text.index("<!-- /schemas -->")]
    found = re.findall(r"^`(\w+)`\n\n```json\n(.*?)\n```", section, re.S | re.M)
    return {name: json.loads(body) for name, body in found}


def _topics(text: str, base: str, base_topic: str, names: set[str]) -> list[Any]:
    section = text[text.index("<!-- topics_table ") : text.index("<!-- /topics_table -->")]
    rows = []
    for topic, direction, payload in re.findall(
        r"^\| `([^`]+)` \| ([a-z/]+) \| [^|]+ \| \d \| ([^|]+) \|$", section, re.M
    ):
        model = next((w for w in re.findall(r"\w+", payload) if w in names), None)
        if model is None:
            continue
        parts = re.split(r"(<base>|<mqtt\.base_topic>|<[a-z_]+>)", topic)
        pattern = "".join(
            re.escape(base)
            if p == "<base>"
            else re.escape(base_topic)
            if p == "<mqtt.base_topic>"
            else "[^/]+"
            if p.startswith("<")
            else re.escape(p)
            for p in parts
        )
        rows.append((re.compile(pattern), direction, model))
    return rows


def documented_contract(base: str, base_topic: str) -> DocumentedContract:
    """The contract of a device with topics under `base` (and shared ones under `base_topic`)."""
    text = DOC.read_text(encoding="utf-8")
    schemas = _schemas(text)
    return DocumentedContract(schemas, _topics(text, base, base_topic, set(schemas)))
