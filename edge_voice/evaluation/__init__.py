"""`edge-voice eval`: models side by side on function calls, instructions, latency, cost."""
