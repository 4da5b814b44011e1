"""Audio I/O: sources (16 kHz frames), sinks (24 kHz), resampling, the wake-word detector."""
