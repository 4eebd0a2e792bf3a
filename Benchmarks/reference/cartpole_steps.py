"""Reference CartPole-v1 throughput: gymnasium (one env) and EnvPool (1 and 64 envs, one thread).

Prints one JSON object: steps per second for each case that could run, and notes for those that could not.
Actions are drawn before timing so that only environment stepping (with auto-reset) is measured.
"""
import json
import sys
import time

import numpy as np

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
results = {}
notes = []


def timed(step_batch, batch_size):
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            step_batch()
        calls += 200
        elapsed = time.perf_counter() - start
        if elapsed >= SECONDS:
            return calls * batch_size / elapsed


try:
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 2, size=1 << 16).tolist()
    state = {"i": 0}

    def gym_step():
        a = actions[state["i"] & 0xFFFF]
        state["i"] += 1
        _, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            env.reset()

    results["gymnasium_1"] = timed(gym_step, 1)
    results["gymnasium_version"] = gym.__version__
except Exception as error:  # the comparison is optional; say why it is missing
    notes.append(f"gymnasium unavailable: {error}")

try:
    import envpool

    for n in (1, 64):
        env = envpool.make_gymnasium("CartPole-v1", num_envs=n, batch_size=n, num_threads=1, seed=0)
        env.reset()
        action_batches = [np.random.default_rng(k).integers(0, 2, size=n, dtype=np.int32) for k in range(64)]
        state = {"i": 0}

        def pool_step(env=env, action_batches=action_batches, state=state):
            env.step(action_batches[state["i"] & 63])
            state["i"] += 1

        results[f"envpool_{n}"] = timed(pool_step, n)
    results["envpool_version"] = envpool.__version__
except Exception as error:
    notes.append(f"envpool unavailable: {error}")

results["notes"] = notes
print(json.dumps(results))
