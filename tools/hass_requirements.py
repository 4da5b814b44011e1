"""Print the PyPI requirements `hass --skip-pip` needs for the e2e tests, for the installed release.

Give it the `homeassistant` package directory (of a venv, or of the unpacked wheel: it imports
nothing from it, so the wheel of a release for another Python works too). It walks the
integration manifests from what Home Assistant's bootstrap always sets up, `default_config`,
MQTT and the integrations the tests configure, through their `dependencies` (not
`after_dependencies`: those load only when they are set up themselves), and prints every
`requirements` entry once. Used when making a release's pinned set (scripts/hass/README.md);
the install itself uses only the frozen constraints.txt.

    python tools/hass_requirements.py VENV/lib/python3.12/site-packages/homeassistant
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

#: What the tests set up beyond the defaults: MQTT (its config entry), and the ducking test's
#: configuration.yaml (input_number, the universal media player, scene, automation, blueprint).
TESTED = {"mqtt", "input_number", "media_player", "universal", "scene", "automation", "blueprint"}


def _always(bootstrap: Path) -> set[str]:
    """Every `*_INTEGRATIONS = {...}` set literal in bootstrap.py (names vary between releases)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(bootstrap.read_text())):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if any(n.endswith("_INTEGRATIONS") for n in names) and isinstance(node.value, ast.Set):
                found |= {
                    e.value
                    for e in node.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                }
    return found


def requirements(components: Path, roots: set[str]) -> list[str]:
    """The requirements of `roots` and everything they depend on, in first-seen order."""
    seen: set[str] = set()
    todo = sorted(roots)
    reqs: dict[str, None] = {}
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = components / domain / "manifest.json"
        if not manifest.is_file():
            continue
        data = json.loads(manifest.read_text())
        for req in data.get("requirements", []):
            reqs.setdefault(req, None)
        todo += data.get("dependencies", [])
    return list(reqs)


def main(argv: list[str]) -> int:
    """Print the requirements, one a line."""
    package = Path(argv[0])
    roots = _always(package / "bootstrap.py") | {"default_config"} | TESTED
    for req in requirements(package / "components", roots):
        print(req)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
