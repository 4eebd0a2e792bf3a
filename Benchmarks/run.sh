#!/usr/bin/env bash
# make bench: prepare the reference Python environments (gymnasium, EnvPool, PyTorch; dm-reverb) when possible,
# then let colony-bench measure Colony and the references in the same run and print one table.
set -uo pipefail
bin="$1"; venv="$2"
cd "$(dirname "$0")/.."
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import gymnasium, envpool, torch" 2>/dev/null; then
  echo "setting up reference packages in $venv (gymnasium, envpool, torch; several minutes the first time)..."
  python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check gymnasium envpool torch numpy \
    || echo "note: some reference packages did not install; their columns will say so"
fi
# Reverb (the replay reference) in its own environment: TensorFlow 2.15 needs numpy < 2, which the
# packages above do not. Wheels exist for Python 3.11 on x86-64 Linux; elsewhere the table says why not.
reverb_venv="$(dirname "$venv")/.venv-reverb"
if [ ! -x "$reverb_venv/bin/python" ] || ! "$reverb_venv/bin/python" -c "import reverb" 2>/dev/null; then
  echo "setting up dm-reverb 0.14.0 and tensorflow-cpu 2.15.0 in $reverb_venv (the replay reference)..."
  py311="$(command -v python3.11 || command -v python3)"
  { "$py311" -m venv "$reverb_venv" && "$reverb_venv/bin/pip" install -q --disable-pip-version-check dm-reverb==0.14.0 tensorflow-cpu==2.15.0; } \
    || echo "note: dm-reverb did not install; the replay table will say so"
fi
python=""
[ -x "$venv/bin/python" ] && python="$venv/bin/python"
reverb_python=""
[ -x "$reverb_venv/bin/python" ] && reverb_python="$reverb_venv/bin/python"
exec "$bin/colony-bench" all --reference-python "$python" --reverb-python "$reverb_python"
