"""TLS and username/password against a real Mosquitto that requires both."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import BrokerAddress, LocalMosquitto
from tests.support.mqtt_observer import unique_base
from tests.support.pki import make_pki
from tests.support.service_device import build_device, make_config, running

pytestmark = [
    pytest.mark.broker,
    pytest.mark.skipif(
        not (shutil.which("openssl") and shutil.which("mosquitto_passwd")),
        reason="needs openssl and mosquitto_passwd",
    ),
]
USER, PASSWORD = "edge_voice", "tls-pw-7f3a"


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(args, cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def secure_broker(tmp_path: Path) -> Iterator[tuple[BrokerAddress, Path]]:
    """A broker with a TLS listener (our own CA) and a password file; (address, CA file)."""
    pki = tmp_path / "pki"
    make_pki(pki)
    _run("mosquitto_passwd", "-b", "-c", "passwd", USER, PASSWORD, cwd=pki)
    broker = LocalMosquitto()
    # As root, mosquitto would switch to its own user, who cannot read pytest's tmp_path.
    user = "user root\n" if os.geteuid() == 0 else ""
    broker._conf.write_text(
        f"{user}listener {broker.address.port} 127.0.0.1\n"
        f"cafile {pki / 'ca.pem'}\ncertfile {pki / 'server.pem'}\nkeyfile {pki / 'server.key'}\n"
        f"allow_anonymous false\npassword_file {pki / 'passwd'}\npersistence false\n"
        "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n"
        "log_type information\n"
    )
    broker.start()
    try:
        yield broker.address, pki / "ca.pem"
    finally:
        broker.close()


async def test_tls_with_username_and_password_connects(
    secure_broker: tuple[BrokerAddress, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    address, ca = secure_broker
    mqtt = {"username": USER, "password": PASSWORD, "tls": {"ca_file": str(ca)}}
    device = build_device(make_config(address, tmp_path, base=unique_base(), mqtt=mqtt))
    async with running(device):
        assert device.bridge.connected
    assert "(tls)" in caplog.text and PASSWORD not in caplog.text


async def test_a_refused_login_is_retried_with_backoff_and_never_crashes(
    secure_broker: tuple[BrokerAddress, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="edge_voice.mqtt")
    address, ca = secure_broker
    wrong = "not-" + PASSWORD
    mqtt = {"username": USER, "password": wrong, "tls": {"ca_file": str(ca)}}
    device = build_device(make_config(address, tmp_path, base=unique_base(), mqtt=mqtt))
    refused = asyncio.Event()

    class Count(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.failures = 0

        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING and "MQTT:" in record.getMessage():
                self.failures += 1
                if self.failures >= 3:
                    refused.set()

    counter = Count()
    logging.getLogger("edge_voice.mqtt").addHandler(counter)
    try:
        async with running(device, connected=False):
            async with asyncio.timeout(10):
                await refused.wait()
            assert not device.bridge.connected
    finally:
        logging.getLogger("edge_voice.mqtt").removeHandler(counter)
    assert wrong not in caplog.text
    assert sum("reconnecting in" in r.getMessage() for r in caplog.records) >= 3
