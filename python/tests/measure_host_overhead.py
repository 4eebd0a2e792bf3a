"""What serving environments through the host costs per message: CartPole-v1 steps/s over ipc from a
Python client against stepping the same environments in-process (same-step autoreset both ways).

    PYTHONPATH=python:python/tests python python/tests/measure_host_overhead.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import gymnasium
import numpy as np

from check_envhost import Host


def in_process(count: int, actions: np.ndarray) -> float:
    """Seconds to step `count` environments through `actions` in this process."""
    envs = [gymnasium.make("CartPole-v1") for _ in range(count)]
    for seed, env in enumerate(envs):
        env.reset(seed=seed)
    start = time.perf_counter()
    for row in actions.tolist():
        for env, action in zip(envs, row):
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
    return time.perf_counter() - start


def through_host(directory: str, count: int, actions: np.ndarray) -> float:
    """Seconds for the same steps as envStep requests to a host over ipc."""
    host = Host(directory, {"id": "CartPole-v1", "count": count})
    try:
        host.reset(list(range(count)))
        start = time.perf_counter()
        for row in actions:
            host.step(row)
        elapsed = time.perf_counter() - start
        host.close()
    finally:
        host.kill()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="rough length of each measurement")
    arguments = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'envs':>5} {'in-process steps/s':>19} {'host steps/s':>13} {'host requests/s':>16} {'overhead per request':>21}")
    with tempfile.TemporaryDirectory(prefix="colony-envhost-") as directory:
        for count in (1, 8, 32):
            probe = rng.integers(0, 2, (200, count))
            per_step = in_process(count, probe) / len(probe)
            steps = max(200, int(arguments.seconds / per_step))
            actions = rng.integers(0, 2, (steps, count)).astype(np.int64)
            local = in_process(count, actions)
            remote = through_host(directory, count, actions)
            overhead_us = (remote - local) / steps * 1e6
            print(f"{count:>5} {steps * count / local:>19,.0f} {steps * count / remote:>13,.0f} "
                  f"{steps / remote:>16,.0f} {overhead_us:>18.1f} us")


if __name__ == "__main__":
    main()
