"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.broker import BrokerAddress
from tests.support.deployed_broker import DeployedMosquitto
from tests.support.home_assistant import own_broker
from tests.support.node_red import require_node_red


@pytest.fixture
def deployed() -> Iterator[BrokerAddress]:
    """The shipped mosquitto/ deployment (logins, ACL) on a free port, for the Node-RED tests."""
    require_node_red()
    broker = DeployedMosquitto()
    broker.start()
    try:
        yield broker.address
    finally:
        broker.close()


@pytest.fixture
def broker() -> Iterator[BrokerAddress]:
    """A broker of this test's own (the Home Assistant tests: its discovery prefix is global)."""
    with own_broker() as address:
        yield address
