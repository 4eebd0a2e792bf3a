#!/usr/bin/env bash
# make bench: prepare the reference Python environment (gymnasium, EnvPool, PyTorch) when possible,
# then let colony-bench measure Colony and the references in the same run and print one table.
set -uo pipefail
bin="$1"; venv="$2"
cd "$(dirname "$0")/.."
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import gymnasium, envpool, torch" 2>/dev/null; then
  echo "setting up reference packages in $venv (gymnasium, envpool, torch; several minutes the first time)..."
  python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check gymnasium envpool torch numpy \
    || echo "note: some reference packages did not install; their columns will say so"
fi
python=""
[ -x "$venv/bin/python" ] && python="$venv/bin/python"
exec "$bin/colony-bench" all --reference-python "$python"
