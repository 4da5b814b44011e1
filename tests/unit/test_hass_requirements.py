"""The requirements a pinned Home Assistant set must hold, read from a (made-up) HA package."""

from __future__ import annotations

import json
from pathlib import Path

from tools import hass_requirements


def _integration(
    root: Path,
    domain: str,
    reqs: list[str],
    deps: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
) -> None:
    folder = root / "components" / domain
    folder.mkdir(parents=True)
    manifest = {
        "domain": domain,
        "requirements": reqs,
        "dependencies": list(deps),
        "after_dependencies": list(after),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_dependencies_are_followed_and_after_dependencies_are_not(tmp_path: Path) -> None:
    (tmp_path / "bootstrap.py").write_text(
        'CORE_INTEGRATIONS = {"homeassistant", "persistent_notification"}\n'
        'STAGE_1_INTEGRATIONS = [("not", "a set")]\n'
        "DEFAULT_INTEGRATIONS: set[str] = {'frontend'}\n"
    )
    _integration(tmp_path, "homeassistant", [])
    _integration(tmp_path, "persistent_notification", [])
    _integration(tmp_path, "frontend", ["home-assistant-frontend==1"], deps=("http",))
    _integration(tmp_path, "http", ["aiohttp_cors==0.8"], after=("cloud",))
    _integration(tmp_path, "cloud", ["hass-nabucasa==9"])
    _integration(tmp_path, "default_config", [], deps=("sun", "http"))
    _integration(tmp_path, "sun", ["astral==2.2"])
    _integration(tmp_path, "mqtt", ["paho-mqtt==2.1.0"])

    always = hass_requirements._always(tmp_path / "bootstrap.py")
    assert always == {"homeassistant", "persistent_notification", "frontend"}
    reqs = hass_requirements.requirements(
        tmp_path / "components", always | {"default_config", "mqtt"}
    )
    assert sorted(reqs) == [
        "aiohttp_cors==0.8",
        "astral==2.2",
        "home-assistant-frontend==1",
        "paho-mqtt==2.1.0",
    ]  # each once, though http is reached twice; cloud only loads when set up itself
