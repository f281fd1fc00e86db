#!/usr/bin/env bash
# Install everything the tests need — Chromium (Debian), the package with its test extras (which builds the
# front-end bundle with npm + esbuild), the JS dev packages — then run every test: JS unit tests, then pytest
# (kernel core, wire, widget, notebooks, and the real-browser tests in tests/ui). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# torch is pinned here: an unpinned requirement can pull a multi-GB CUDA build.
python -m pip install --quiet --disable-pip-version-check "torch==2.13.0" -e ".[test]"

(cd js && npm ci --no-audit --no-fund --loglevel=error && npm test)

python -m pytest "$@"
