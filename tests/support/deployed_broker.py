"""The shipped broker deployment (mosquitto/) on a free port: its config, ACL and make-passwd.

The files are copied into a temporary directory laid out like the repository (the config's
paths are relative to where the broker starts), only the listener's port is changed, and the
password file is made by `mosquitto/make-passwd` with the passwords of `LOGINS`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import aiomqtt

from tests.support.broker import BrokerAddress, LocalMosquitto

MOSQUITTO_DIR = Path(__file__).resolve().parents[2] / "mosquitto"
MAKE_PASSWD = MOSQUITTO_DIR / "make-passwd"
PLAIN_LISTENER = "listener 1883\n"


@dataclass(frozen=True)
class Login:
    """A user of mosquitto/acl and the password the test gave it."""

    user: str
    password: str

    def client(self, broker: BrokerAddress, **kwargs: object) -> aiomqtt.Client:
        """An aiomqtt client logged in as this user."""
        return aiomqtt.Client(
            broker.host,
            broker.port,
            username=self.user,
            password=self.password,
            **kwargs,  # type: ignore[arg-type]
        )


LOGINS: Mapping[str, Login] = {
    user: Login(user, f"{user}-pw-{i}")
    for i, user in enumerate(("edge_voice", "homeassistant", "nodered"))
}
#: make-passwd's env var for each user's password.
PASSWORD_VARS = {
    "edge_voice": "MQTT_PASSWORD_EDGE_VOICE",
    "homeassistant": "MQTT_PASSWORD_HOMEASSISTANT",
    "nodered": "MQTT_PASSWORD_NODERED",
}


def make_passwd(
    path: Path, logins: Mapping[str, Login] = LOGINS
) -> subprocess.CompletedProcess[str]:
    """Run mosquitto/make-passwd for `path` with the passwords in its env vars (no terminal)."""
    env = {k: v for k, v in os.environ.items() if k not in PASSWORD_VARS.values()}
    env.update({PASSWORD_VARS[user]: login.password for user, login in logins.items()})
    return subprocess.run(
        [str(MAKE_PASSWD), str(path)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


class DeployedMosquitto(LocalMosquitto):
    """mosquitto/mosquitto.conf (plus `extra` config text) with a temp passwd, on a free port."""

    def __init__(self, extra: str = "") -> None:
        super().__init__()
        root = Path(self._dir.name)
        conf_dir = root / "mosquitto"
        conf_dir.mkdir()
        (conf_dir / "data").mkdir()
        shutil.copy(MOSQUITTO_DIR / "acl", conf_dir / "acl")
        made = make_passwd(conf_dir / "passwd")
        if made.returncode != 0:
            raise RuntimeError(f"make-passwd failed: {made.stderr}")
        shipped = (MOSQUITTO_DIR / "mosquitto.conf").read_text(encoding="utf-8")
        assert shipped.count(PLAIN_LISTENER) == 1, "mosquitto.conf: one `listener 1883` line"
        conf = shipped.replace(PLAIN_LISTENER, f"listener {self.address.port} 127.0.0.1\n")
        # Started as root, mosquitto drops to the `mosquitto` user, who cannot read the temp dir.
        user = "user root\n" if os.geteuid() == 0 else ""
        self._conf = conf_dir / "mosquitto.conf"
        self._conf.write_text(user + conf + extra, encoding="utf-8")
        self.root = root
        self.cwd = root
