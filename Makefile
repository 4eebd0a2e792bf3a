# Colony — every entry point a person or CI uses. `make demo` and `make test` work on a fresh Debian machine with Swift.
SHELL := /bin/bash
.DEFAULT_GOAL := help

APT_PACKAGES := libzmq3-dev libopenblas-dev libhdf5-dev pkg-config binutils
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian's libzmq.pc pulls a krb5 -isystem flag that SwiftPM rejects with a warning; see Sources/CZeroMQ/pkgconfig.
export PKG_CONFIG_PATH := $(CURDIR)/Sources/CZeroMQ/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))
SWIFT_BUILD_FLAGS ?=
RELEASE_BIN = $(shell swift build -c release --show-bin-path)
REFERENCE_VENV := .venv-ref
BENCH_VENV := Benchmarks/.venv

.PHONY: help deps build test demo bench bench-atari bench-cnn bench-learning bench-pbt bench-pong bench-sb3 bench-targets reference-python envhost slurm-up slurm-down clean

help:
	@echo "make demo   - train an agent (the main job) on an embedded default configuration"
	@echo "make test   - install native dependencies and run every test"
	@echo "make build  - release build of every executable (portable: x86-64-v2; COLONY_TARGET_CPU=native tunes for this CPU)"
	@echo "make bench  - throughput benchmarks against gymnasium, EnvPool, PyTorch, raw libzmq, Reverb and in-process Python (environment host)"
	@echo "make bench-learning / bench-sb3 - learning thresholds; SAC HalfCheetah and PPO LunarLander against Stable-Baselines3 in the same run"
	@echo "make bench-cnn - the Nature-DQN CNN and the IMPALA ResNet forward and forward+backward against PyTorch, on 1 and 2 threads"
	@echo "make bench-atari - PPO, an IMPALA cluster and Ape-X DQN on Pong to their 10M-step budgets (days on 2 cores; ATARI_FRAMES=N for less), then returns and curves"
	@echo "make bench-pong - IMPALA on Pong frames (one process, clusters of 1 and 2 workers) against Sample Factory APPO in the same run"
	@echo "make bench-pbt - DQN populations (tournament, truncation, none) against AgileRL 2.58's train_off_policy, until the elite reaches the target"
	@echo "make bench-targets - the portable build against one tuned for this CPU (COLONY_TARGET_CPU=native), in one run"
	@echo "make envhost - python/.venv for gym: environments (gymnasium, ale-py, mujoco, minigrid; docs/envhost.md)"
	@echo "make deps   - install libzmq3-dev, libopenblas-dev, libhdf5-dev with apt-get when missing"
	@echo "make slurm-up / slurm-down - a real 3-node Slurm cluster on this host (slurm/local-cluster.sh; root)"

# Idempotent and quiet when everything is present.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	swift build -c release $(SWIFT_BUILD_FLAGS)

# Python with h5py lets the tests check that users' own tools read Colony's files; the tests skip those checks without it.
reference-python:
	@if [ ! -x $(REFERENCE_VENV)/bin/python ] || ! $(REFERENCE_VENV)/bin/python -c "import h5py, numpy, tensorboard" 2>/dev/null; then \
	  python3 -m venv $(REFERENCE_VENV) && $(REFERENCE_VENV)/bin/pip install -q --disable-pip-version-check h5py numpy tensorboard \
	  || echo "warning: could not set up $(REFERENCE_VENV); file-compatibility tests will be skipped"; \
	fi

# The environment host's Python (docs/envhost.md): gym: ids use python/.venv unless --python or COLONY_PYTHON says otherwise.
# Where pip cannot reach the index, the host's tests skip and say why.
ENVHOST_VENV := python/.venv
envhost:
	@if [ ! -x $(ENVHOST_VENV)/bin/python ] || ! $(ENVHOST_VENV)/bin/python -c "import gymnasium, zmq, numpy, ale_py, cv2, minigrid, mujoco, Box2D, imageio" 2>/dev/null; then \
	  python3 -m venv $(ENVHOST_VENV) && $(ENVHOST_VENV)/bin/pip install -q --disable-pip-version-check -r python/requirements-envhost.txt \
	  || echo "warning: could not set up $(ENVHOST_VENV); gym: environments need --python or COLONY_PYTHON, and their tests will be skipped"; \
	fi

# Tests run optimised: the learning tests train real agents (seconds in release, minutes in debug).
TEST_FLAGS := -c release -Xswiftc -enable-testing $(SWIFT_BUILD_FLAGS)

# A real three-node Slurm cluster on this host (installs slurm-wlm and munge when missing; needs root).
# Its files live in $COLONY_SLURM_DIR (default /tmp/colony-slurm); clients need the SLURM_CONF it prints.
slurm-up:
	@bash slurm/local-cluster.sh up

slurm-down:
	@bash slurm/local-cluster.sh down

# The Slurm tests submit to the local cluster: it is up before the tests and stopped after, unless it was
# already up (then it stays). Where it cannot start (not root), those tests skip and say why. The environment
# host's own checks (python/tests/check_envhost.py: protocol, failures, orphaned hosts) run after the Swift tests.
test: deps reference-python envhost
	swift build --build-tests $(TEST_FLAGS)
	@was_up=$$(bash slurm/local-cluster.sh is-up && echo yes); \
	bash slurm/local-cluster.sh up || echo "warning: no local Slurm cluster; the Slurm tests will try once more, then skip"; \
	swift test --skip-build $(TEST_FLAGS); status=$$?; \
	if [ -x $(ENVHOST_VENV)/bin/python ]; then PYTHONPATH=python:python/tests $(ENVHOST_VENV)/bin/python python/tests/check_envhost.py || status=1; fi; \
	[ "$$was_up" = yes ] || bash slurm/local-cluster.sh down; \
	exit $$status

# The main job on an embedded default: IMPALA on CartPole-v1 as a local cluster (coordinator, learner,
# 2 workers as separate processes). `colony train --agent ppo --env CartPole-v1` is the one-process form.
demo: build
	rm -rf runs/cluster/impala/CartPole-v1
	$(RELEASE_BIN)/colony cluster up cluster/impala-cartpole.toml

bench: build
	@bash Benchmarks/run.sh "$(RELEASE_BIN)" "$(BENCH_VENV)"

# The Nature-DQN CNN against PyTorch on one thread, then on two (OpenBLAS's and PyTorch's thread counts alike).
bench-cnn: build
	@bash Benchmarks/run.sh "$(RELEASE_BIN)" "$(BENCH_VENV)" cnn --seconds 4
	@OPENBLAS_NUM_THREADS=2 bash Benchmarks/run.sh "$(RELEASE_BIN)" "$(BENCH_VENV)" cnn --seconds 4

# Every learning threshold of the agents over 5 seeds: success rate, frames and wall-clock, with SB3 on the
# zoo cases in the same run (tens of minutes).
bench-learning: build
	@bash Benchmarks/run.sh "$(RELEASE_BIN)" "$(BENCH_VENV)" learning --seeds 5

# Population-based training against AgileRL (its own venv: agilerl 2.58 pulls torch, peft and more; about 90× slower
# than Colony here, so its seeds dominate the hours this takes; colony-bench pbt --help for smaller settings).
bench-pbt: build
	@bash Benchmarks/run.sh "$(RELEASE_BIN)" "$(BENCH_VENV)" pbt --seeds 5

# IMPALA on Pong's frames in one process and as clusters of 1 and 2 workers, beside Sample Factory's APPO (its own
# venv, Benchmarks/.venv-sf) in the same run: agent steps/s (several minutes; colony-bench cluster --help).
# The Atari results: PPO (one process), IMPALA (a local cluster) and Ape-X DQN (a cluster with colony-replay) on
# Pong, one after another, each to 10M agent steps unless ATARI_FRAMES says otherwise (Benchmarks/atari.sh).
bench-atari: build envhost
	@bash Benchmarks/atari.sh "$(RELEASE_BIN)"

bench-pong: build
	@bash Benchmarks/run.sh "$(RELEASE_BIN)" "$(BENCH_VENV)" pong --pong-frames 10000

# SAC on HalfCheetah-v5 (200k frames) and PPO on LunarLander-v3 (1M frames), 3 seeds, Colony and SB3 in the
# same run (hours on a small machine; colony-bench sb3 --help for smaller settings).
bench-sb3: build
	@bash Benchmarks/run.sh "$(RELEASE_BIN)" "$(BENCH_VENV)" sb3

# The portable release build (x86-64-v2) against one tuned for this CPU, built into .build-native.
bench-targets: build
	COLONY_TARGET_CPU=native swift build -c release --build-path .build-native --product colony-bench $(SWIFT_BUILD_FLAGS)
	$(RELEASE_BIN)/colony-bench targets --other .build-native/release/colony-bench

clean:
	rm -rf .build .build-* .build-native runs
