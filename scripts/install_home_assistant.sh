#!/usr/bin/env bash
# Install the newest Home Assistant release the chosen Python supports into its own venv, from
# that release's pinned set (scripts/hass/<release>/constraints.txt: HA, the requirements of the
# integrations it sets up by default, MQTT and the frontend), so that `hass --skip-pip` starts
# without network. Used by the tests/e2e/test_home_assistant*.py:
#   scripts/install_home_assistant.sh /tmp/hass_venv
#   EDGE_VOICE_HASS=/tmp/hass_venv/bin/hass pytest tests/e2e/test_home_assistant.py
# PYTHON chooses the interpreter (default python3). The table Python -> release is in
# tools/hass_release.py: 3.11 -> 2024.3.3, 3.12 -> 2025.1.4, 3.13.0-3.13.1 -> 2025.4.4,
# 3.13.2+ -> 2026.2.3. The 2026.2.3 set was resolved by pip for Python 3.13.5, not run: no such
# Python was at hand where it was made. The venv records what it holds (.edge_voice_hass); one
# of another release or Python is replaced, a current one is kept (then this exits at once).
# Needs PyPI only; ~3-6 min and ~700 MB-1 GB the first time.
set -euo pipefail

VENV="${1:?usage: $0 VENV_DIR}"
PYTHON="${PYTHON:-python3}"
here="$(cd "$(dirname "$0")" && pwd)"

release="$("$PYTHON" "$here/../tools/hass_release.py")"
pins="$here/hass/$release/constraints.txt"
want="homeassistant $release python $("$PYTHON" -c 'import platform; print(platform.python_version())')"
stamp="$VENV/.edge_voice_hass"
if [ -x "$VENV/bin/hass" ] && [ ! -f "$stamp" ]; then
  # A venv from before the record (the same 2024.3.3 set): adopt it when it is what we want.
  have="homeassistant $("$VENV/bin/hass" --version 2>/dev/null || true)"
  have="$have python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
  [ "$have" != "$want" ] || echo "$want" >"$stamp"
fi
if [ -x "$VENV/bin/hass" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
  [ ! "$pins" -nt "$stamp" ]; then
  exit 0
fi
echo "install_home_assistant: $want into $VENV (pinned: scripts/hass/$release/constraints.txt)" >&2
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
# The pinned set is complete (a freeze): installed as requirements it leaves pip nothing to pick.
"$VENV/bin/pip" install --quiet -c "$pins" -r "$pins"
"$VENV/bin/hass" --version
[ "$("$VENV/bin/hass" --version)" = "$release" ] || {
  echo "install_home_assistant: $VENV/bin/hass is not $release" >&2
  exit 1
}
echo "$want" >"$stamp"
