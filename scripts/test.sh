#!/usr/bin/env bash
# Make (once) the repository's own virtual environment .venv, install seqgen with its test extras and the
# drums plugin into it, then run the checks (import layers, docs site, and what users install: both packages
# built and installed as wheels into a fresh venv by scripts/check_installed.py) and the tests (about 15 minutes
# on a 2-core machine).
# Nothing is installed into the python3 that runs this script: everything goes into .venv.
#
# System packages (Debian/Ubuntu, only when missing and only when run as root; otherwise the tests that need
# them are skipped and a note says so):
#   fluidsynth, timgm6mb-soundfont   seqgen render's FluidSynth path (without them it renders in-process;
#                                    the tests run both ways)
#   chromium, chromium-driver        the studio's browser test drives the web page in a headless Chromium
#   jackd2                           seqgen live's MIDI tests play through a JACK server (dummy driver)
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {  # apt_install WHY PACKAGE...
  local why=$1
  shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "scripts/test.sh: apt-get install $* ($why)" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "note: $* not installed ($why); those tests will be skipped" >&2
  fi
}

if ! command -v fluidsynth >/dev/null || [ ! -e /usr/share/sounds/sf2/TimGM6mb.sf2 ]; then
  apt_install "rendering MIDI to WAV" fluidsynth timgm6mb-soundfont
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  apt_install "the studio's browser test" chromium chromium-driver
fi
if ! command -v jackd >/dev/null; then
  apt_install "seqgen live's MIDI tests" jackd2
fi

VENV=.venv
if [ ! -x "$VENV/bin/python" ] && ! python3 -c "import ensurepip" 2>/dev/null; then
  apt_install "python3 -m venv needs it to make $VENV" python3-venv
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "scripts/test.sh: making the virtual environment $VENV" >&2
  python3 -m venv "$VENV"
fi
PYTHON="$VENV/bin/python"

# The CPU training stack is installed (the test extra holds the train, docs and lint extras); the GPU one is only
# resolved.
"$PYTHON" -m pip install -q -e ".[test,beam]" -e plugins/drums
"$PYTHON" scripts/check_gpu_extra.py
"$VENV/bin/lint-imports"                                                # the core's and the drums plugin's import layers, no circles
"$VENV/bin/mypy"                                                        # the plugin contracts' types ([tool.mypy])
"$VENV/bin/ruff" check --quiet .                                        # lint ([tool.ruff])
"$VENV/bin/ruff" format --check --quiet .                               # format ([tool.ruff.format])
"$VENV/bin/mkdocs" build --strict --quiet --site-dir "$VENV/site"       # the docs site, warnings as errors
"$PYTHON" scripts/check_installed.py     # the built wheels as a user installs them, in a fresh venv (not editable)
"$PYTHON" -m pytest -q "$@"
