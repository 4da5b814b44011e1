"""Every shipped flow file imports side by side with the others into one Node-RED runtime.

Checked across all flows/*.json: ids unique across files except shared config nodes, which are
identical wherever they appear; every node named; every reference (`z`, `g`, `group`, `broker`,
`ui`, `page`, `theme`, wires, catch/status scopes) resolves within its own file (each file is
imported alone too); no secrets (credentials only as `${ENV}` references); no hard-coded hosts.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

FLOWS_DIR = Path(__file__).resolve().parents[2] / "flows"
FILES = sorted(FLOWS_DIR.glob("*.json"))
#: package.json and its lockfile are npm's, not flows.
FLOW_FILES = [p for p in FILES if p.name not in {"package.json", "package-lock.json"}]
#: Properties that point at another node, and the type that node must have.
REFERENCES = {
    "z": ("tab", "subflow"),
    "g": ("group",),
    "group": ("ui-group",),
    "broker": ("mqtt-broker",),
    "ui": ("ui-base",),
    "page": ("ui-page",),
    "theme": ("ui-theme",),
}
#: Node types with no canvas position: config nodes (shared across files by id).
CONFIG_TYPES = {"mqtt-broker", "ui-base", "ui-theme", "ui-page", "ui-group", "tls-config"}
ENV_REF = re.compile(r"^\$\{[A-Z][A-Z0-9_]*\}$")
HOST = re.compile(
    r"localhost|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[a-z][a-z0-9+.-]*://(?!\$\{)[^\s\"'`]+",
    re.IGNORECASE,
)
#: Prose meant for people (examples such as http://homeassistant.local:8123 are fine there).
DOC_FIELDS = {"info"}


def load(path: Path) -> list[dict[str, Any]]:
    """The nodes of a flow file."""
    nodes = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(nodes, list), f"{path.name}: a flow file is a JSON array"
    return nodes


def strings(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every string in a node with the property it is under (prose fields left out)."""
    if key in DOC_FIELDS:
        return []
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v, key)]
    return []


def test_there_are_flow_files() -> None:
    names = {p.name for p in FLOW_FILES}
    assert {"function-calls.json", "model-control.json", "cost-dashboard.json"} <= names


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.name)
def test_a_file_is_one_tab_with_unique_ids(path: Path) -> None:
    nodes = load(path)
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids)), (
        f"duplicate ids: {sorted({i for i in ids if ids.count(i) > 1})}"
    )
    assert [n["type"] for n in nodes].count("tab") == 1


def test_ids_are_unique_across_files_and_shared_nodes_identical() -> None:
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in FLOW_FILES:
        for node in load(path):
            if node["id"] not in seen:
                seen[node["id"]] = (path.name, node)
                continue
            first, known = seen[node["id"]]
            assert node["type"] in CONFIG_TYPES, f"{path.name}: id {node['id']} also in {first}"
            assert node == known, f"{path.name}: config node {node['id']} differs from {first}'s"


def test_the_broker_node_is_the_same_everywhere() -> None:
    brokers = {
        json.dumps(n, sort_keys=True)
        for path in FLOW_FILES
        for n in load(path)
        if n["type"] == "mqtt-broker"
    }
    assert len(brokers) == 1
    broker = json.loads(brokers.pop())
    assert broker["id"] == "edge_voice_broker"
    assert broker["broker"] == "${MQTT_HOST}" and broker["port"] == "${MQTT_PORT}"


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.name)
def test_every_node_is_named(path: Path) -> None:
    for node in load(path):
        name = node.get("label") if node["type"] == "tab" else node.get("name")
        assert isinstance(name, str) and name.strip(), f"{node['type']} {node['id']} has no name"


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.name)
def test_every_reference_resolves_in_its_file(path: Path) -> None:
    nodes = load(path)
    types = {n["id"]: n["type"] for n in nodes}
    for node in nodes:
        where = f"{node['type']} {node['id']}"
        for prop, allowed in REFERENCES.items():
            # An mqtt-broker's own `broker` is its host, not a reference.
            if node.get(prop) and not (prop == "broker" and node["type"] == "mqtt-broker"):
                assert types.get(node[prop]) in allowed, f"{where}: {prop} {node[prop]!r}"
        for output in node.get("wires", []):
            for target in output:
                assert target in types, f"{where}: wired to unknown node {target!r}"
        if node["type"] in {"catch", "status", "complete"} and node.get("scope"):
            for target in node["scope"]:
                assert target in types, f"{where}: scope names unknown node {target!r}"
        if node["type"] == "function":
            assert len(node["wires"]) == node["outputs"], f"{where}: outputs != wires"


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.name)
def test_every_tab_has_a_comment_listing_topics_and_env_vars(path: Path) -> None:
    nodes = load(path)
    tab = next(n for n in nodes if n["type"] == "tab")
    comments = [n for n in nodes if n["type"] == "comment" and n.get("z") == tab["id"]]
    assert comments, f"{path.name}: no comment node on the tab"
    info = " ".join(c.get("info", "") for c in comments)
    assert "Topics" in info and "MQTT_HOST" in info


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.name)
def test_no_secrets_and_no_hard_coded_hosts(path: Path) -> None:
    for node in load(path):
        where = f"{node['type']} {node['id']}"
        # The import stores credentials; here they may only name env vars (the broker login).
        for key, value in (node.get("credentials") or {}).items():
            assert ENV_REF.match(value), f"{where}: credential {key} is not an ${{ENV}} reference"
        for key, value in strings(node):
            found = HOST.search(value)
            assert found is None, f"{where}: {key} hard-codes a host: {found.group(0)!r}"
        if node["type"] == "mqtt-broker":
            assert ENV_REF.match(node["broker"]) and ENV_REF.match(str(node["port"]))
