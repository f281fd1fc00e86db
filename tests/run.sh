#!/usr/bin/env bash
# Install everything the tests need — Chromium (Debian), the package with its test extras (which builds the
# front-end bundle with npm + esbuild), the JS dev packages, the npm copies of nbconvert's CDN files — then run
# the linters (ruff check and ruff format --check on the Python, Biome on the JS) and every test: JS unit tests, then pytest (kernel core, wire, widget, notebooks, nbconvert, and the real-browser tests
# in tests/ui: JupyterLab, Notebook 7, marimo, exported and nbconvert HTML). Extra arguments go to pytest.
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

python -m ruff check .
python -m ruff format --check .
(cd js && npm ci --no-audit --no-fund --loglevel=error && npm run lint && npm test)
# Local copies of the CDN files that nbconvert's HTML loads (require.js, @jupyter-widgets/html-manager), for
# tests/ui/test_nbconvert_html.py, which answers the page's CDN requests from them (no network at test time).
(cd tests/ui/cdn && npm ci --no-audit --no-fund --loglevel=error --ignore-scripts)

python -m pytest "$@"
