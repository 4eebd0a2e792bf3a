#!/usr/bin/env bash
# A 12-cell grid on the local 3-node Slurm cluster against the same 12 cells one after another
# (`colony experiment run --parallel 1`; also --parallel 2, the cores, and 6, the cluster's slots), and each
# cell's overhead from submission to its first training frame.
#
#   slurm/benchmark.sh [COLONY_BINARY]          (default: the release build, `swift build -c release`)
#
# BENCH_AGENTS (random), BENCH_ENVS (Acrobot-v1,MountainCar-v0), BENCH_SEEDS (6), BENCH_FRAMES (3000000),
# BENCH_DIR (a new directory under /tmp). Needs root for the cluster (slurm/local-cluster.sh up).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
COLONY="${1:-$(swift build -c release --show-bin-path)/colony}"
COLONY="$(realpath "$COLONY")"
AGENTS="${BENCH_AGENTS:-random}"
ENVS="${BENCH_ENVS:-Acrobot-v1,MountainCar-v0}"
SEEDS="${BENCH_SEEDS:-6}"
FRAMES="${BENCH_FRAMES:-3000000}"
WORK="${BENCH_DIR:-$(mktemp -d /tmp/colony-slurm-bench.XXXXXX)}"
mkdir -p "$WORK"

bash "$REPO/slurm/local-cluster.sh" up >/dev/null
eval "$(bash "$REPO/slurm/local-cluster.sh" env)"
cd "$WORK"
GRID=(--agents "$AGENTS" --envs "$ENVS" --seeds "$SEEDS" --frames "$FRAMES" --test-episodes 10)
now() { date +%s.%N; }
wait_done() {
    until "$COLONY" experiment status "$1" --json | python3 -c '
import json, sys
cells = json.load(sys.stdin)["cells"]
bad = [c for c in cells if c["state"] == "failed"]
if bad: sys.exit("failed cells: %s" % [c["index"] for c in bad])
sys.exit(0 if all(c["state"] == "done" for c in cells) else 1)'; do sleep 0.2; done
}

echo "grid: agents $AGENTS, envs $ENVS, $SEEDS seeds, $FRAMES frames per cell; colony $COLONY; work $WORK"
echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. Overhead on an idle cluster: six tiny cells, one per slot, all start at once.
"$COLONY" experiment submit --agents "$AGENTS" --envs "${ENVS%%,*}" --seeds 6 --frames 1000 --test-episodes 1 --name overhead >/dev/null
wait_done runs/overhead

# 2. The 12-cell grid on the cluster (6 slots on the host's cores).
start=$(now)
"$COLONY" experiment submit "${GRID[@]}" --name slurm >/dev/null
wait_done runs/slurm
slurm_wall=$(python3 - "$start" runs/slurm <<'EOF'
import json, glob, sys
start = float(sys.argv[1])
ends = [json.load(open(f))["attempts"][-1]["ended"] for f in glob.glob(sys.argv[2] + "/slurm/cells/*.json")]
print("%.2f" % (max(ends) - start))
EOF
)

# 3. The same cells one after another, then two at a time, on this machine without Slurm.
start=$(now); "$COLONY" experiment run "${GRID[@]}" --name sequential --parallel 1 >/dev/null; sequential_wall=$(python3 -c "print('%.2f' % ($(now) - $start))")
start=$(now); "$COLONY" experiment run "${GRID[@]}" --name parallel2 --parallel 2 >/dev/null; parallel_wall=$(python3 -c "print('%.2f' % ($(now) - $start))")
# As many processes at once as the cluster runs: what is left between it and Slurm is Slurm's own cost.
start=$(now); "$COLONY" experiment run "${GRID[@]}" --name parallel6 --parallel 6 >/dev/null; parallel6_wall=$(python3 -c "print('%.2f' % ($(now) - $start))")

python3 - "$slurm_wall" "$sequential_wall" "$parallel_wall" "$parallel6_wall" <<'EOF'
import json, glob, statistics, sys
slurm, sequential, parallel, parallel6 = map(float, sys.argv[1:5])
def starts(grid):
    submitted = {}
    for array in json.load(open(grid + "/slurm/jobs.json"))["arrays"]:
        for cell in array["array"]["taskIDs"]:
            submitted[cell + array["array"]["offset"]] = array["submitted"]
    rows = []
    for path in glob.glob(grid + "/slurm/cells/*.json"):
        record = json.load(open(path))
        first = record["attempts"][0]
        rows.append((submitted[record["index"]], first["started"], first.get("firstFrame"), first["ended"]))
    return rows
def describe(values):
    return "median %.2f s, min %.2f s, max %.2f s" % (statistics.median(values), min(values), max(values))
overhead = starts("runs/overhead")
print("\noverhead per cell (6 cells on an idle cluster, one per slot):")
print("  submission -> first training frame:  " + describe([f - s for s, _, f, _ in overhead]))
print("    submission -> cell process start:   " + describe([t - s for s, t, _, _ in overhead]))
print("    process start -> first frame:       " + describe([f - t for _, t, f, _ in overhead]))
grid = starts("runs/slurm")
training = [e - f for _, _, f, e in grid]
print("\n12-cell grid:")
print("  Slurm, 3 nodes x 2 CPUs (6 tasks on the host's cores): %.1f s" % slurm)
print("  colony experiment run --parallel 1:                     %.1f s   (Slurm speed-up %.2fx)" % (sequential, sequential / slurm))
print("  colony experiment run --parallel 2:                     %.1f s   (Slurm vs it %.2fx)" % (parallel, parallel / slurm))
print("  colony experiment run --parallel 6 (no Slurm):          %.1f s   (Slurm vs it %.2fx)" % (parallel6, parallel6 / slurm))
print("  per cell under Slurm: first frame -> end " + describe(training))
print("  cells' first frames spread over %.1f s after submission (6 slots, 12 cells)" % (max(f - s for s, _, f, _ in grid)))
EOF
