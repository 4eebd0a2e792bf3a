#!/usr/bin/env bash
# make bench-atari: the pixels issue's Atari results on gym:ALE/Pong-v5, one run after another (they share the
# machine's cores): PPO in one process (Benchmarks/atari/ppo-pong.toml, CleanRL's ppo_atari settings), IMPALA as a
# local cluster (cluster/impala-pong.toml: coordinator, learner, 2 workers running environment hosts) and Ape-X DQN
# through colony-replay (cluster/apex-dqn-pong.toml). Each trains to its file's budget (10M agent steps) unless
# ATARI_FRAMES says otherwise; then a table of frames, wall-clock, the last training returns and the greedy test
# returns over full games, and colony plot's learning curves. Rerunning resumes unfinished runs from their checkpoints.
#   ATARI_FRAMES   agent steps per run (default: each file's own)
#   ATARI_ONLY     which runs, of "ppo impala apex" (default: all three)
#   ATARI_RUNS     where the runs go (default: runs/atari)
#   ATARI_TEST_EPISODES   greedy full games after PPO's training (default 20)
set -uo pipefail
bin="$1"
cd "$(dirname "$0")/.."
frames="${ATARI_FRAMES:-}"
only="${ATARI_ONLY:-ppo impala apex}"
runs="${ATARI_RUNS:-runs/atari}"
test_episodes="${ATARI_TEST_EPISODES:-20}"
mkdir -p "$runs/configs"

# A copy of a configuration file with the frame budget (and the learning-rate schedule's) set to ATARI_FRAMES and its
# runs under $runs.
configure() {
  local target="$runs/configs/$(basename "$1")"
  if [ -n "$frames" ]; then
    sed -E "s/^(frames|total_frames) = .*/\1 = $frames/" "$1" > "$target.tmp"
  else
    cp "$1" "$target.tmp"
  fi
  sed -E "s|^runs_dir = .*|runs_dir = \"$runs\"|" "$target.tmp" > "$target" && rm -f "$target.tmp"
  echo "$target"
}

declare -A seconds
for run in $only; do
  start=$(date +%s)
  case "$run" in
    ppo)
      echo "== PPO on Pong, one process ($(configure Benchmarks/atari/ppo-pong.toml))"
      "$bin/colony" train --config "$runs/configs/ppo-pong.toml" --runs-dir "$runs" --test-episodes "$test_episodes" \
        || echo "note: the PPO run ended with status $?" ;;
    impala)
      echo "== IMPALA on Pong, local cluster ($(configure cluster/impala-pong.toml))"
      "$bin/colony" cluster up "$runs/configs/impala-pong.toml" || echo "note: the IMPALA cluster ended with status $?" ;;
    apex)
      echo "== Ape-X DQN on Pong, local cluster with colony-replay ($(configure cluster/apex-dqn-pong.toml))"
      "$bin/colony" cluster up "$runs/configs/apex-dqn-pong.toml" || echo "note: the Ape-X cluster ended with status $?" ;;
    *) echo "unknown run '$run' in ATARI_ONLY (ppo, impala, apex)"; exit 2 ;;
  esac
  seconds[$run]=$(( $(date +%s) - start ))
done

echo
echo "## Pong (gym:ALE/Pong-v5, 4 × 84 × 84 uint8 frames), goal: a mean return of 18 over full games"
echo
echo "| run | agent steps | wall-clock (this invocation) | last training episodes, mean | greedy test games, mean | ≥ 18 |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
for run in $only; do
  case "$run" in ppo) pattern="/ppo/" ;; impala) pattern="/impala/" ;; apex) pattern="/apex_dqn/" ;; esac
  status=$(find "$runs" -name status.json -path "*$pattern*" 2>/dev/null | head -1)
  if [ -z "$status" ]; then
    echo "| $run | no run directory under $runs | ${seconds[$run]:-0} s | — | — | — |"
    continue
  fi
  python3 - "$status" "$run" "${seconds[$run]:-0}" <<'PYTHON'
import json, sys
status = json.load(open(sys.argv[1]))
def show(value):
    return "—" if value is None else f"{value:.1f}"
last, test = status.get("lastMeanReturn"), status.get("testMeanReturn")
best = test if test is not None else last
print(f"| {sys.argv[2]} | {status.get('frames', 0):,} | {int(sys.argv[3])} s | {show(last)} | {show(test)} | "
      f"{'yes' if best is not None and best >= 18 else 'no'} |")
PYTHON
done
"$bin/colony" plot "$runs" -o "$runs/pong-learning-curves.svg" >/dev/null 2>&1 \
  && echo "- learning curves: $runs/pong-learning-curves.svg" \
  || echo "- no learning curves yet (returns100.csv is written every 100 episodes)"
