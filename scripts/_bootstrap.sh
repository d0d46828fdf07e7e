# Sourced by the scripts: install uv if absent and sync the locked environment.
# uv uses this machine's Python 3.11; it never downloads an interpreter.
set -euo pipefail
export UV_PYTHON_DOWNLOADS=never
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "uv>=0.5"
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
uv sync --locked --all-extras --quiet
