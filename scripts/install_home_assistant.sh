#!/usr/bin/env bash
# Install Home Assistant 2024.3.3 (the last release for Python 3.11) into its own venv, with the
# requirements of the integrations it sets up by default plus MQTT preinstalled, so that
# `hass --skip-pip` starts without network. Used by tests/e2e/test_home_assistant.py:
#   scripts/install_home_assistant.sh /tmp/hass_venv
#   EDGE_VOICE_HASS=/tmp/hass_venv/bin/hass pytest tests/e2e/test_home_assistant.py
# Needs PyPI only; ~4 min and ~680 MB.
set -euo pipefail

VENV="${1:?usage: $0 VENV_DIR}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet -c "$(dirname "$0")/hass-constraints.txt" \
    homeassistant==2024.3.3 \
    `# mqtt` \
    paho-mqtt==1.6.1 \
    `# http, frontend (critical: HA enters recovery mode without it) and its dependencies` \
    aiohttp_cors==0.7.0 aiohttp-fast-url-dispatcher==0.3.0 aiohttp-zlib-ng==0.3.1 \
    home-assistant-frontend==20240307.0 \
    SQLAlchemy==2.0.27 fnv-hash-fast==0.5.0 psutil-home-assistant==0.0.1 \
    Pillow==10.2.0 PyTurboJPEG==1.7.1 numpy==1.26.0 ha-ffmpeg==3.1.0 mutagen==1.47.0 \
    hass-nabucasa==0.78.0 hassil==1.6.1 home-assistant-intents==2024.3.12 \
    webrtc-noise-gain==1.2.3 ifaddr==0.2.0 janus==1.0.0 securetar==2024.2.1 \
    `# acme (via hass-nabucasa) breaks with josepy 2: "no attribute ComparableX509"` \
    'josepy<2'
"$VENV/bin/hass" --version
