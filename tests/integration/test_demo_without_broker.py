"""The demo with no broker and no embedded one to start: one clear line, no traceback."""

from __future__ import annotations

import importlib.util
import socket

import pytest

from edge_voice.cli.main import main
from tests.support.deployed_broker import DeployedMosquitto


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(
    importlib.util.find_spec("amqtt") is not None, reason="aMQTT installed: it would start"
)
def test_no_broker_and_no_amqtt_is_one_error_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    argv = ["demo", "--fast", "--mqtt-host", "127.0.0.1", "--mqtt-port", str(_free_port())]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "error: no MQTT broker answers at 127.0.0.1:" in err
    assert "and aMQTT is not installed" in err
    assert "Traceback" not in err


@pytest.mark.skipif(
    importlib.util.find_spec("amqtt") is not None, reason="aMQTT installed: it would start"
)
def test_a_broker_that_wants_a_login_is_named_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    broker = DeployedMosquitto()  # the shipped mosquitto/ config: no anonymous logins
    broker.start()
    try:
        host, port = broker.address.host, str(broker.address.port)
        assert main(["demo", "--fast", "--mqtt-host", host, "--mqtt-port", port]) == 1
    finally:
        broker.close()
    err = capsys.readouterr().err
    assert f"error: the broker at {host}:{port} refused an anonymous login (" in err
    assert "and aMQTT is not installed" in err
    assert "Traceback" not in err
