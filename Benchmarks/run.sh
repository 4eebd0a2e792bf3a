#!/usr/bin/env bash
# make bench: prepare the reference Python environments (gymnasium, EnvPool, PyTorch, Stable-Baselines3;
# dm-reverb) when possible, then let colony-bench measure Colony and the references in the same run and
# print the tables. A third argument picks the subcommand (default all; make bench-learning passes
# `learning --seeds 5`, make bench-sb3 `sb3`); the rest are passed on.
set -uo pipefail
bin="$1"; venv="$2"; shift 2
command="${1:-all}"; [ $# -gt 0 ] && shift
cd "$(dirname "$0")/.."
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import gymnasium, envpool, torch, stable_baselines3, mujoco, Box2D" 2>/dev/null; then
  echo "setting up reference packages in $venv (gymnasium with mujoco, box2d, envpool, torch, stable-baselines3; several minutes the first time)..."
  python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check \
      "gymnasium[classic-control,mujoco]==1.2.*" box2d envpool torch numpy stable-baselines3 \
    || echo "note: some reference packages did not install; their columns will say so"
fi
python=""
[ -x "$venv/bin/python" ] && python="$venv/bin/python"
# The environment host's own Python (make envhost): the host benchmark's reference runs there too.
if [ ! -x python/.venv/bin/python ] || ! python/.venv/bin/python -c "import gymnasium, zmq, ale_py" 2>/dev/null; then
  echo "setting up python/.venv for the environment hosts (make envhost)..."
  { python3 -m venv python/.venv && python/.venv/bin/pip install -q --disable-pip-version-check -r python/requirements-envhost.txt; } \
    || echo "note: python/.venv did not install; the environment host table will say why"
fi
case "$command" in
  all)
    # Reverb (the replay reference) in its own environment: TensorFlow 2.15 needs numpy < 2, which the
    # packages above do not. Wheels exist for Python 3.11 on x86-64 Linux; elsewhere the table says why not.
    reverb_venv="$(dirname "$venv")/.venv-reverb"
    if [ ! -x "$reverb_venv/bin/python" ] || ! "$reverb_venv/bin/python" -c "import reverb" 2>/dev/null; then
      echo "setting up dm-reverb 0.14.0 and tensorflow-cpu 2.15.0 in $reverb_venv (the replay reference)..."
      py311="$(command -v python3.11 || command -v python3)"
      { "$py311" -m venv "$reverb_venv" && "$reverb_venv/bin/pip" install -q --disable-pip-version-check dm-reverb==0.14.0 tensorflow-cpu==2.15.0; } \
        || echo "note: dm-reverb did not install; the replay table will say so"
    fi
    reverb_python=""
    [ -x "$reverb_venv/bin/python" ] && reverb_python="$reverb_venv/bin/python"
    exec "$bin/colony-bench" all --reference-python "$python" --reverb-python "$reverb_python" "$@" ;;
  pbt)
    # AgileRL in its own environment: 2.58 pins torch and pulls peft, jax, minari and wandb.
    agilerl_venv="$(dirname "$venv")/.venv-agilerl"
    if [ ! -x "$agilerl_venv/bin/python" ] || ! "$agilerl_venv/bin/python" -c "import agilerl.training.train_off_policy" 2>/dev/null; then
      echo "setting up agilerl 2.58.0 in $agilerl_venv (the population reference; several minutes the first time)..."
      { python3 -m venv "$agilerl_venv" && "$agilerl_venv/bin/pip" install -q --disable-pip-version-check agilerl==2.58.0 peft "gymnasium[classic-control]"; } \
        || echo "note: agilerl did not install; its rows will say so"
    fi
    exec "$bin/colony-bench" pbt --agilerl-python "$agilerl_venv/bin/python" "$@" ;;
  pong)
    # Sample Factory 2.1 in its own environment: it pins gymnasium < 1.0 and numpy < 2 (PyPI's torch wheel, ~6 GB).
    sf_venv="$(dirname "$venv")/.venv-sf"
    if [ ! -x "$sf_venv/bin/python" ] || ! "$sf_venv/bin/python" -c "import sample_factory, ale_py" 2>/dev/null; then
      echo "setting up sample-factory 2.1.1 in $sf_venv (the IMPALA-on-Pong reference; a few minutes the first time)..."
      { python3 -m venv "$sf_venv" && "$sf_venv/bin/pip" install -q --disable-pip-version-check -r Benchmarks/reference/sample_factory_requirements.txt; } \
        || echo "note: sample-factory did not install; its row will say so"
    fi
    exec "$bin/colony-bench" cluster --frames 0 --double-buffer-frames 0 --sample-factory-python "$sf_venv/bin/python" "$@" ;;
  envhost)
    # Its reference runs in the hosts' own interpreter (python/.venv), not in $venv.
    exec "$bin/colony-bench" envhost "$@" ;;
  *)
    exec "$bin/colony-bench" "$command" --reference-python "$python" "$@" ;;
esac
