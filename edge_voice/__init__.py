"""edge_voice: a realtime voice assistant for the smart home."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edge-voice")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
