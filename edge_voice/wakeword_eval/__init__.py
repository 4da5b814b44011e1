"""`edge-voice wakeword eval`: recall and false accepts per model, engine and threshold."""
