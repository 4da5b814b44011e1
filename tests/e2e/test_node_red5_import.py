"""Every shipped flow file also imports and runs in Node-RED 5 (what most Home Assistant add-on
users run).

Node-RED 5 needs Node.js >= 22.9; tests/nodered5 brings both from npm (node-red 5.0.7, the
palettes of flows/package.json and the Node.js binary package of this machine's arch), so the
check runs on a machine whose own Node.js is older. All flows/*.json are merged as the 4.1
harness merges them and started on the shipped broker config with the `nodered` login: no
missing types, no unexpanded `${...}`, no error in the log, and the broker link is up (the
flows' birth message arrives). They are loaded from a flows file as the headless runs do, and
deployed by the admin API with their credentials inline as the editor's import does.
"""

from __future__ import annotations

import pytest

from tests.support.deployed_broker import LOGINS, DeployedMosquitto
from tests.support.node_red import NodeRed, flow_files, importable, require_node_red5

pytestmark = pytest.mark.timeout(120)


async def test_every_flow_file_starts_in_node_red_5() -> None:
    node, red_js = require_node_red5()
    flows = flow_files()
    assert "function-calls.json" in flows
    broker = DeployedMosquitto()
    broker.start()
    node_red = NodeRed(
        flows, broker.address, login=LOGINS["nodered"], red_js=red_js, node=str(node)
    )
    try:
        await node_red.start()  # fails at once on missing types or an unexpanded ${...}
        version = await node_red.wait_log("Node-RED version:")
        assert "v5." in version, version
        await node_red.wait_log("Started flows")
        errors = [line for line in node_red.log if "[error]" in line]
        assert errors == [], "\n".join(node_red.log)
    finally:
        await node_red.stop()
        broker.close()


async def test_every_flow_file_imports_into_node_red_5() -> None:
    node, red_js = require_node_red5()
    broker = DeployedMosquitto()
    broker.start()
    # No flows and no credentials at start: the login can only come from the import itself.
    node_red = NodeRed([], broker.address, login=LOGINS["nodered"], red_js=red_js, node=str(node))
    try:
        await node_red.start(birth=False)
        await node_red.deploy(importable(flow_files()))
        await node_red.await_birth()  # the imported broker node logged in as nodered
        errors = [line for line in node_red.log if "[error]" in line]
        assert errors == [], "\n".join(node_red.log)
    finally:
        await node_red.stop()
        broker.close()
