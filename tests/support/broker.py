"""A real Mosquitto broker for tests: testcontainers when Docker answers, else the local binary."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

READY_TIMEOUT_S = 15.0
POLL_S = 0.01


@dataclass(frozen=True)
class BrokerAddress:
    """Where a test broker listens."""

    host: str
    port: int


class Broker(Protocol):
    """A broker the tests can stop and start again (to test reconnects)."""

    address: BrokerAddress

    def start(self) -> None: ...
    def stop(self) -> None: ...


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalMosquitto:
    """The `mosquitto` binary on a free loopback port, stoppable and restartable on that port."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError(
                "mosquitto is not installed: apt-get install mosquitto (or run .ci/run)"
            )
        self._binary = binary
        self.address = BrokerAddress("127.0.0.1", port or free_port())
        self._dir = tempfile.TemporaryDirectory(prefix="edge_voice_mosquitto_")
        self._conf = Path(self._dir.name) / "mosquitto.conf"
        self._conf.write_text(
            f"listener {self.address.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "max_packet_size 1048576\n"
            "set_tcp_nodelay true\n"
            # Mosquitto drops what a subscriber has not acknowledged beyond 1000 queued
            # messages (its default); a storm test's observer may fall that far behind.
            "max_queued_messages 100000\n"
        )
        self._proc: subprocess.Popen[bytes] | None = None
        #: Where the broker runs: relative paths in its config are relative to it.
        self.cwd: Path | None = None
        #: The broker's stderr (its log), across restarts. A file, never a pipe: nobody reads
        #: a pipe after start-up, and a full one (~280 connections of log) stalls the broker.
        self.log_path = Path(self._dir.name) / "mosquitto.log"

    def start(self) -> None:
        """Start the broker and return once it logs that it listens."""
        if self._proc is not None:
            return
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self._proc = subprocess.Popen(
                [self._binary, "-c", str(self._conf)],
                cwd=self.cwd,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        self._wait_ready(offset)

    def log_text(self) -> str:
        """Everything the broker logged so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _wait_ready(self, offset: int) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen = ""
        while time.monotonic() < deadline and self._proc.poll() is None:
            seen = self.log_text()[offset:]
            if "Opening ipv4 listen socket" in seen and "running" in seen:
                return
            time.sleep(POLL_S)  # a process's log file has no readiness event to wait on
        seen = self.log_text()[offset:]
        self.stop()
        raise RuntimeError(f"mosquitto did not start: {seen[-500:]}")

    def stop(self) -> None:
        """Stop the broker process (clients see the connection drop)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """Stop and remove the temporary files."""
        self.stop()
        self._dir.cleanup()


class ContainerMosquitto:
    """testcontainers' Mosquitto, for machines where a Docker engine answers."""

    def __init__(self) -> None:
        from testcontainers.mqtt import MosquittoContainer

        self._container = MosquittoContainer()
        self._container.start()
        host = self._container.get_container_host_ip()
        port = int(self._container.get_exposed_port(self._container.MQTT_PORT))
        self.address = BrokerAddress(host, port)

    def start(self) -> None:
        """Start the container again after stop()."""
        self._container.get_wrapped_container().start()

    def stop(self) -> None:
        """Stop the container (its port mapping is kept by Docker on restart)."""
        self._container.get_wrapped_container().stop()

    def close(self) -> None:
        """Remove the container."""
        self._container.stop()


def docker_available() -> bool:
    """Whether a Docker engine answers (the client alone is not enough)."""
    if os.environ.get("EDGE_VOICE_TEST_NO_DOCKER"):
        return False
    with contextlib.suppress(Exception):
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    return False
