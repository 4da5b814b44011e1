#!/usr/bin/env bash
# Regenerates the bundled demo audio in edge_voice/assets/audio/ with espeak-ng and sox.
# Output: 16 kHz mono PCM16 WAVs laid out as [lead silence][speech][tail silence] so the wake
# word and the server VAD both see a clean start and end.
#   hey_jarvis_kitchen_light.wav  0.5 s, "hey jarvis", 0.4 s pause, "turn on the kitchen light", 1.0 s
#   follow_up_time.wav            0.5 s, "what time is it", 1.0 s
# The pause lets the wake word fire before the request starts: the bundled hey_jarvis model
# scores this voice at ~0.99 and first crosses 0.5 in the frame ending 0.15 s after "jarvis",
# 0.25 s before "turn" (tests/integration/test_wakeword.py checks this).
# Needs: apt-get install espeak-ng sox
# Usage: scripts/make_demo_audio.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-edge_voice/assets/audio}
VOICE=en-us
SPEED=150   # words per minute
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# speak NAME TEXT: speech only, espeak's own leading/trailing silence trimmed, 16 kHz mono,
# no dither (-D) so a rerun gives the same bytes.
speak() {
  espeak-ng -v "$VOICE" -s "$SPEED" -w "$tmp/$1.raw.wav" "$2"
  sox -D "$tmp/$1.raw.wav" -r 16000 -c 1 -b 16 "$tmp/$1.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse
}

# silence NAME SECONDS
silence() {
  sox -D -n -r 16000 -c 1 -b 16 "$tmp/$1.wav" trim 0 "$2"
}

speak wake "hey jarvis"
speak light "turn on the kitchen light"
speak time "what time is it"
silence lead 0.5
silence pause 0.4
silence tail 1.0

sox -D "$tmp/lead.wav" "$tmp/wake.wav" "$tmp/pause.wav" "$tmp/light.wav" "$tmp/tail.wav" \
  "$OUT/hey_jarvis_kitchen_light.wav"
sox -D "$tmp/lead.wav" "$tmp/time.wav" "$tmp/tail.wav" "$OUT/follow_up_time.wav"

for f in "$OUT"/hey_jarvis_kitchen_light.wav "$OUT"/follow_up_time.wav; do
  printf '%s: %s s, %s bytes\n' "$f" "$(soxi -D "$f")" "$(stat -c %s "$f")"
done
