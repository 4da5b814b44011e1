"""Shared fixtures: a real MQTT broker for the whole session, and a restartable one per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.broker import (
    BrokerAddress,
    ContainerMosquitto,
    LocalMosquitto,
    docker_available,
)


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[BrokerAddress]:
    """A running broker shared by the session: testcontainers if Docker answers, else local."""
    broker: ContainerMosquitto | LocalMosquitto
    broker = ContainerMosquitto() if docker_available() else LocalMosquitto()
    broker.start()
    try:
        yield broker.address
    finally:
        broker.close()


@pytest.fixture
def restartable_broker() -> Iterator[LocalMosquitto]:
    """A local broker of this test's own, which the test may stop and start again."""
    broker = LocalMosquitto()
    broker.start()
    try:
        yield broker
    finally:
        broker.close()
