"""The entity table of docs/HOME_ASSISTANT.md, from the discovery code (a test keeps it in step).

The entities, their names, topics and classes come from `edge_voice.mqtt.discovery`; only what
each one is for is written here, and a unit test fails when an entity has no such line.
`python -m tools.ha_doc [docs/HOME_ASSISTANT.md]` rewrites the block; `--check` only reports
whether it is current (exit 1 when stale).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from edge_voice.config.loading import validate_config
from edge_voice.conversation.states import Status
from edge_voice.mqtt import discovery
from tools import generated
from tools.mqtt_api_examples import BASE, EXAMPLE_CFG, EXAMPLE_TS

#: The example device, with memory on: the table lists its two entities too.
ENTITIES_CFG: Final = {**EXAMPLE_CFG, "memory": {"enabled": True}}
_STATUSES = ", ".join(f"`{s}`" for s in Status)
_QUANTILE = {"p50": "Median", "p95": "95th percentile"}

#: What each entity is for, by discovery key (the latency sensors are described below).
PURPOSES: Final[dict[str, str]] = {
    "model": "The model of the next conversation; choosing one sends `model/set`.",
    "voice": "The voice of the next conversation; the options are the voices of the model in use.",
    "model_selection": "`auto` (the model, falling back when it fails), `new` (the model only) "
    "or `legacy` (the legacy model only).",
    "status": f"What the device does now: {_STATUSES}.",
    "active_model": "The model of the running (or last) session; attribute `model_chain`: the "
    "fallback chain in use.",
    "cost_total": "Money this device spent, kept across restarts (for long-term statistics).",
    "cost_today": "Money spent today (resets at local midnight).",
    "cost_last": "What the last conversation cost.",
    "latency": "Time from the end of your speech to the first audio of the answer, newest.",
    "latency_p50": "Median of that time over the last 100 answers.",
    "latency_p95": "95th percentile of that time over the last 100 answers.",
    "connection_success": "Share of connection attempts to `openai.model` that succeeded.",
    "connection_success_legacy": "The same for `openai.legacy_model`.",
    "tokens": "Tokens this device used, kept across restarts.",
    "last_transcript": "The newest transcript line (yours or the assistant's; all of it in the "
    "attributes).",
    "model_shutdown": "When the model in use shuts down; attributes `successor` and `shutdown`.",
    "connected": "A session with the Realtime API is open.",
    "fallback_active": "The device runs on a fallback model, not the one it asks for.",
    "api_key_problem": "The API key was refused (on until a connection succeeds).",
    "wake_word": "Fires `detected` when a wake word is heard (an automation trigger), "
    "`false_wake` when no speech followed it, and `yielded` when a nearer device of the "
    "arbitration group answers it.",
    "profile": "The wake-word profile of the running (or last) conversation; `global` when "
    "none (`wakeword.words.<name>.profile`).",
    "false_wakes_today": "Probable false wakes today: a wake word with no speech after it "
    "(`wakeword.no_speech_timeout_s`).",
    "false_wakes": "Probable false wakes, kept across restarts.",
    "rollback": "Back to the last known good config (the config of the last completed "
    "conversation).",
    "reset_overrides": "Drops every runtime override (a select, rollback or `config/set`): "
    "the config file applies again.",
    "start_conversation": "Starts a conversation without the wake word.",
    "memory": "When the summary kept across conversations was written (`memory.enabled`); the "
    "summary is its `summary` attribute.",
    "forget": "Forgets the summary kept across conversations (sends `memory/clear`).",
    "announce": "`notify.send_message` to it speaks the message (an announcement, sent to "
    "`say`; HA 2024.5 or newer).",
}


def purpose(key: str) -> str:
    """What the entity `key` is for; the p50/p95 latency sensors are described by their measure."""
    found = re.fullmatch(r"latency_(\w+)_(p50|p95)", key)
    if found and found.group(1) in discovery.LATENCY_SENSORS:
        name = discovery.LATENCY_SENSORS[found.group(1)].lower()
        return f"{_QUANTILE[found.group(2)]} of the {name} over the last 100 samples."
    tuned = re.fullmatch(r"wakeword_(\w+)_(threshold|refractory)", key)
    if tuned:
        what = "detection threshold (or microWakeWord's cutoff)"
        if tuned.group(2) == "refractory":
            what = "refractory time (seconds it stays silent after a detection)"
        return f"This wake word's {what}; a runtime override, kept across restarts."
    return PURPOSES[key]


def entity_id(component: str, name: str) -> str:
    """The entity id Home Assistant derives from "<device name> <entity name>" (device kitchen)."""
    return f"{component}.edge_voice_kitchen_{re.sub(r'[^a-z0-9]+', '_', name.lower())}"


def _generic(topic: str) -> str:
    return topic.replace(BASE, "<base>")


def _reads(p: dict[str, Any]) -> str:
    source = p.get("state_topic")
    if source is None:
        return "–"
    found = re.search(r"value_json\.(\w+(?:\.\w+)*)", p.get("value_template", ""))
    field = found.group(1).removesuffix(".get") if found else None
    return f"`{_generic(source)}`" + (f" `{field}`" if field else "")


def _sends(p: dict[str, Any]) -> str:
    command = p.get("command_topic")
    if command is None:
        return "–"
    press = f" `{p['payload_press']}`" if "payload_press" in p else ""
    return f"`{_generic(command)}`{press}"


def entities_table() -> str:
    """Every entity of one device (device_id `kitchen`): id, name, purpose, topics, class."""
    cfg = validate_config(ENTITIES_CFG)
    configs = discovery.discovery_configs(cfg, today=EXAMPLE_TS.date())
    rows = [
        "| entity | name | what it does | reads | sends | class / unit |",
        "|---|---|---|---|---|---|",
    ]
    for topic, p in configs.items():
        component, key = topic.split("/")[1], topic.split("/")[3]
        klass = " ".join(
            str(p[k]) for k in ("device_class", "state_class", "unit_of_measurement") if k in p
        )
        diagnostic = " (diagnostic)" if p.get("entity_category") == "diagnostic" else ""
        rows.append(
            f"| `{entity_id(component, p['name'])}` | {p['name']}{diagnostic} | {purpose(key)} "
            f"| {_reads(p)} | {_sends(p)} | {klass or '–'} |"
        )
    return "\n".join(rows)


SECTIONS: Final[dict[str, Callable[[], str]]] = {"entities_table": entities_table}


def render(text: str) -> str:
    """`text` with every generated section replaced by the current output."""
    return generated.render(text, SECTIONS)


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or `--check`) the generated sections of docs/HOME_ASSISTANT.md."""
    return generated.rewrite_main(argv, "docs/HOME_ASSISTANT.md", SECTIONS)


if __name__ == "__main__":
    raise SystemExit(main())
