#!/usr/bin/env bash
# Install seqgen with its test extras (and the system packages rendering needs), then run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v fluidsynth >/dev/null || [ ! -e /usr/share/sounds/sf2/TimGM6mb.sf2 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fluidsynth timgm6mb-soundfont >/dev/null
  else
    echo "note: fluidsynth and timgm6mb-soundfont are not installed; render tests will be skipped" >&2
  fi
fi

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "note: chromium and chromium-driver are not installed; the studio's browser test will be skipped" >&2
  fi
fi

# The CPU training stack is installed (the test extra holds the train extra); the GPU one is only resolved.
python3 -m pip install -q -e ".[test,beam]" -e plugins/drums
python3 scripts/check_gpu_extra.py
python3 -m pytest -q "$@"
