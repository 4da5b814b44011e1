"""A real Mosquitto broker for tests: testcontainers when Docker answers, else the local binary."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

READY_TIMEOUT_S = 15.0


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
        )
        self._proc: subprocess.Popen[bytes] | None = None
        self._drain: subprocess.Popen[bytes] | None = None
        #: The broker's log once it runs (every start appends).
        self.log_path = Path(self._dir.name) / "mosquitto.log"
        #: Where the broker runs: relative paths in its config are relative to it.
        self.cwd: Path | None = None

    def start(self) -> None:
        """Start the broker and return once it logs that it listens."""
        if self._proc is not None:
            return
        self._proc = subprocess.Popen(
            [self._binary, "-c", str(self._conf)],
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        seen = b""
        fd = self._proc.stderr.fileno()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            seen += chunk
            if b"Opening ipv4 listen socket" in seen and b"running" in seen:
                self._drain_log(seen)
                return
        self.stop()
        raise RuntimeError(f"mosquitto did not start: {seen.decode(errors='replace')[-500:]}")

    def _drain_log(self, seen: bytes) -> None:
        """Keep reading the broker's log into `log_path` (a `cat` of the pipe).

        Nobody reads the pipe once the broker runs: full (64 KiB, a few hundred client
        connections of log lines), it would block the broker's next log write and with it
        the whole broker.
        """
        assert self._proc is not None and self._proc.stderr is not None
        with self.log_path.open("ab") as log:
            log.write(seen)
            log.flush()
            self._drain = subprocess.Popen(["cat"], stdin=self._proc.stderr, stdout=log)

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
        if proc.stderr is not None:
            proc.stderr.close()
        drain, self._drain = self._drain, None
        if drain is not None:
            drain.wait(timeout=10)  # the broker is gone: `cat` reads the pipe's end

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
