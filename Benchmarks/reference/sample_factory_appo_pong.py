#!/usr/bin/env python3
"""Reference throughput: Sample Factory's APPO on Atari Pong, on the CPU.

Runs Sample Factory's own Atari example (sf_examples.atari, env `atari_pong` = PongNoFrameskip-v4 with its
wrappers and Atari defaults) with `--device=cpu` until its learner has counted at least `--frames`
environment frames, then prints one JSON line on stdout:

  {"frames": ..., "seconds": ..., "frames_per_second": ..., "workers": 2, "envs_per_worker": 8, ...}

Frames are counted the way Sample Factory counts them for Atari (summaries_use_frameskip=True): each
transition the learner consumes is one step of the MaxAndSkip wrapper, i.e. `env_frameskip` (4) emulator
frames; "agent_steps" is frames / 4. Training stops after the learner iteration that takes the count past
--frames, so "frames" overshoots the target by up to a few iterations (one iteration = batch_size 256 x
num_batches_per_epoch 4 = 1024 transitions = 4096 frames).

"seconds" is wall-clock from just before the runner is created (after all imports) until it returns, so it
INCLUDES Sample Factory's startup (env-info probe process, spawning the learner, inference and rollout
worker processes, each importing torch, creating the envs and the model) and its shutdown (final checkpoint,
joining processes). "sf_reported_fps" is Sample Factory's own end-of-run figure (frames / main loop, which
excludes runner.init() only); "steady_frames_per_second" uses the runner's 5-second (time, frames) samples
from the first frame learned to the last, excluding startup.

Further arguments are passed to Sample Factory unchanged (e.g. --batched_sampling=True). Sample Factory's
logs go to a temporary file (removed on success) or, with --verbose, to stderr. On failure the script
prints one line on stderr, naming the kept log, and exits 1.
"""
import argparse
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import time

# Imported at top level on purpose: Sample Factory starts its workers with the "spawn" method, which
# re-imports this module in every child. ale-py >= 0.9 registers PongNoFrameskip-v4 (and ships the ROM)
# only when imported, and gymnasium 0.29 does not import it by itself.
try:
    import ale_py  # noqa: F401
except ImportError as e:
    sys.exit(f"appo_pong: error: {e} (install Benchmarks/reference/sample_factory_requirements.txt)")

# Original stdout/stderr and the log path, set by main() before anything is redirected.
saved = {"stdout": None, "stderr": None, "log": None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20000, help="environment frames (agent steps x frameskip 4)")
    ap.add_argument("--workers", type=int, default=2, help="rollout worker processes (--num_workers)")
    ap.add_argument("--envs-per-worker", type=int, default=8, help="envs per rollout worker")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verbose", action="store_true", help="stream Sample Factory's logs to stderr")
    ap.add_argument("--keep-train-dir", action="store_true", help="do not delete the temporary train_dir")
    args, passthrough = ap.parse_known_args()

    # Keep stdout for the JSON line only. The redirection is at the file-descriptor level so that the
    # spawned worker processes, which inherit fds 1 and 2, follow it too.
    saved["stdout"] = os.fdopen(os.dup(1), "w")
    saved["stderr"] = os.fdopen(os.dup(2), "w")
    if args.verbose:
        os.dup2(2, 1)
    else:
        log_fd, saved["log"] = tempfile.mkstemp(prefix="sf_appo_pong_", suffix=".log")
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
    sys.stdout = sys.stderr

    from sample_factory.algo.utils.misc import ExperimentStatus
    from sample_factory.train import make_runner
    from sf_examples.atari.train_atari import parse_atari_args, register_atari_components

    train_dir = tempfile.mkdtemp(prefix="sf_appo_pong_")
    try:
        register_atari_components()
        sf_argv = [
            "--env=atari_pong",
            "--algo=APPO",
            "--device=cpu",
            f"--train_dir={train_dir}",
            "--experiment=appo_pong",
            f"--num_workers={args.workers}",
            f"--num_envs_per_worker={args.envs_per_worker}",
            f"--train_for_env_steps={args.frames}",  # compared against the frameskip-scaled count
            f"--seed={args.seed}",
            # The Atari example defaults to synchronous PPO (async_rl=False), which rejects 2 workers x 8 envs
            # x rollout 128 = 2048 samples per round against its 1024-sample training batch (the ratio must
            # be an integer). Asynchronous APPO is Sample Factory's general default and the analogue of
            # Colony's IMPALA learner; pass --async_rl=False --rollout=64 for the synchronous variant.
            "--async_rl=True",
            "--save_every_sec=100000",  # no periodic checkpoints in a short run (one is still saved at the end)
            "--with_wandb=False",
        ] + passthrough
        cfg = parse_atari_args(argv=sf_argv)

        start = time.perf_counter()  # imports excluded; Sample Factory's startup and shutdown included
        cfg, runner = make_runner(cfg)
        status = runner.init()
        if status == ExperimentStatus.SUCCESS:
            status = runner.run()
        seconds = time.perf_counter() - start

        if status != ExperimentStatus.SUCCESS:
            raise RuntimeError(f"Sample Factory finished with status {status}")
        frames = sum(runner.env_steps.values())  # the learner's count, frameskip included
        if frames < args.frames:
            raise RuntimeError(f"stopped at {frames} of {args.frames} frames")

        main_loop = runner.timing.get("main_loop", 0.0)
        samples = [(t, n) for t, n in runner.fps_stats if n > 0]  # (time, frames) every 5 s
        steady = None
        if len(samples) >= 2 and samples[-1][0] > samples[0][0]:
            steady = round((samples[-1][1] - samples[0][1]) / (samples[-1][0] - samples[0][0]), 1)
        result = {
            "frames": int(frames),
            "agent_steps": int(frames) // cfg.env_frameskip,
            "seconds": round(seconds, 3),
            "frames_per_second": round(frames / seconds, 1),
            "workers": args.workers,
            "envs_per_worker": args.envs_per_worker,
            "frameskip": cfg.env_frameskip,
            "async_rl": cfg.async_rl,
            "sf_reported_fps": round(runner.total_env_steps_since_resume / main_loop, 1) if main_loop else None,
            "steady_frames_per_second": steady,
            "sample_factory": importlib.metadata.version("sample-factory"),
        }
    finally:
        if not args.keep_train_dir:
            shutil.rmtree(train_dir, ignore_errors=True)

    saved["stdout"].write(json.dumps(result) + "\n")
    saved["stdout"].flush()
    if saved["log"]:
        os.remove(saved["log"])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as e:  # argparse errors and --help, or an explicit exit
        if e.code not in (0, None) and saved["log"]:
            with open(saved["log"], errors="replace") as f:
                last = ([ln.strip() for ln in f if ln.strip()] or [f"exit {e.code}"])[-1]
            print(f"appo_pong: error: {last} (log: {saved['log']})", file=saved["stderr"] or sys.stderr)
        raise
    except BaseException as e:
        line = f"appo_pong: error: {type(e).__name__}: {e}".replace("\n", " ")
        if saved["log"]:
            line += f" (log: {saved['log']})"
        print(line, file=saved["stderr"] or sys.stderr)
        sys.exit(1)
