"""Records Gymnasium trajectories that ColonyEnvironmentsTests replays to prove identical dynamics.

Run with the reference environment (gymnasium 1.x, numpy 2.x):

    .venv-ref/bin/python Tests/ColonyEnvironmentsTests/Recordings/record_gymnasium.py

For every environment it writes Recordings/<id>.json: TRAJECTORIES trajectories of at least
STEPS_PER_TRAJECTORY random-action steps. A trajectory is a list of segments; each segment starts
from a state (Gymnasium's own reset, or a state set directly through `env.unwrapped`) and an
elapsed-step count (set near the time limit in some segments so truncation is exercised), and runs
until the episode ends or the trajectory has its steps. Per step it stores the action, observation,
reward, terminated, truncated and the internal state after the step (for diagnosing divergence).

Floats are written with repr (shortest round-trip). Actions and states are exact: continuous
actions are float32 values written as their exact float64 value.
"""

import json
import math
import os
import warnings

import gymnasium as gym
import numpy as np

TRAJECTORIES = 10
STEPS_PER_TRAJECTORY = 220
OUTPUT = os.path.dirname(os.path.abspath(__file__))  # the Recordings folder this script lives in

warnings.filterwarnings("ignore")  # CartPole's "step after terminated" warning is intended here
gym.logger.min_level = 40


def get_state(env_id, env):
    u = env.unwrapped
    if env_id.startswith("CliffWalking"):
        return [float(u.s)]
    return [float(v) for v in u.state]


def set_state(env_id, env, state):
    u = env.unwrapped
    if env_id.startswith("CliffWalking"):
        u.s = int(state[0])
    elif env_id == "MountainCar-v0":
        u.state = (np.float64(state[0]), np.float64(state[1]))
    else:
        u.state = np.array(state, dtype=np.float64)


def current_observation(env_id, env):
    u = env.unwrapped
    if env_id == "Acrobot-v1":
        return u._get_ob()
    if env_id == "Pendulum-v1":
        return u._get_obs()
    if env_id.startswith("CliffWalking"):
        return np.array([u.s])
    return np.array(u.state, dtype=np.float32)


def random_state(env_id, rng):
    """A plausible state anywhere in the task's range, not just near the reset distribution."""
    if env_id == "CartPole-v1":
        return [rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0), rng.uniform(-0.18, 0.18), rng.uniform(-2.0, 2.0)]
    if env_id == "Acrobot-v1":
        return [rng.uniform(-math.pi, math.pi), rng.uniform(-math.pi, math.pi),
                rng.uniform(-4 * math.pi, 4 * math.pi), rng.uniform(-9 * math.pi, 9 * math.pi)]
    if env_id in ("MountainCar-v0", "MountainCarContinuous-v0"):
        # Many starts rolling towards the goal or near the left wall, so termination and the wall
        # are exercised.
        u = rng.random()
        if u < 0.4:
            return [rng.uniform(0.2, 0.45), rng.uniform(0.0, 0.07)]
        if u < 0.6:
            return [rng.uniform(-1.2, -0.9), rng.uniform(-0.07, 0.0)]
        return [rng.uniform(-1.2, 0.45), rng.uniform(-0.07, 0.07)]
    if env_id == "Pendulum-v1":
        # Beyond ±π too, to exercise angle_normalize.
        return [rng.uniform(-3 * math.pi, 3 * math.pi), rng.uniform(-8.0, 8.0)]
    if env_id.startswith("CliffWalking"):
        # Half the starts next to the goal; any cell otherwise, the cliff and the goal included.
        if rng.random() < 0.5:
            return [float(rng.choice([23, 34, 35, 45, 46]))]
        return [float(rng.integers(0, 48))]
    raise ValueError(env_id)


def random_action(env_id, rng):
    """Uniform over the action space; continuous actions range 1.5× beyond the bounds to exercise clipping."""
    if env_id == "MountainCarContinuous-v0":
        return np.array([rng.uniform(-1.5, 1.5)], dtype=np.float32)
    if env_id == "Pendulum-v1":
        return np.array([rng.uniform(-3.0, 3.0)], dtype=np.float32)
    n = {"CartPole-v1": 2, "Acrobot-v1": 3, "MountainCar-v0": 3, "CliffWalking-v1": 4}[env_id]
    return int(rng.integers(0, n))


def encode_action(action):
    if isinstance(action, np.ndarray):
        return [float(v) for v in action]  # exact float64 value of the float32
    return action


def obs_list(observation):
    # Shortest repr of each float32 (or the integer cell index).
    return [float(str(np.float32(v))) if not isinstance(v, (int, np.integer)) else int(v)
            for v in np.atleast_1d(observation)]


def record(env_id, seed):
    rng = np.random.default_rng(seed)
    env = gym.make(env_id)
    limit = env.spec.max_episode_steps
    trajectories = []
    for t in range(TRAJECTORIES):
        # One MountainCarContinuous trajectory runs a whole 999-step episode to its time limit.
        full_episode = env_id == "MountainCarContinuous-v0" and t == 0
        target = limit if full_episode else STEPS_PER_TRAJECTORY
        segments, total = [], 0
        while total < target:
            k = len(segments)
            obs, _ = env.reset(seed=int(rng.integers(0, 2**31)))
            kind = "reset"
            if not full_episode and (t + k) % 3 != 0:
                set_state(env_id, env, random_state(env_id, rng))
                kind = "set"
                obs = current_observation(env_id, env)
            elapsed = 0
            # Every third trajectory starts its first segment near the time limit.
            if limit is not None and not full_episode and t % 3 == 1 and k == 0:
                # CartPole falls within a few dozen steps under random actions: start closer.
                elapsed = limit - int(rng.integers(1, 8) if env_id == "CartPole-v1" else rng.integers(5, 60))
                env._elapsed_steps = elapsed
            segment = {
                "kind": kind, "state": get_state(env_id, env), "elapsed_steps": elapsed,
                "observation": obs_list(obs), "actions": [], "observations": [], "rewards": [],
                "terminated": [], "truncated": [], "states": [],
            }
            # CartPole: sometimes keep stepping 3 steps past termination (reward 0, like Gymnasium).
            extra_after_done = 3 if env_id == "CartPole-v1" and t % 2 == 0 else 0
            # CliffWalking has no time limit and random walks rarely finish, so half its
            # trajectories restart every 30 steps from a new (often near-goal) cell.
            segment_cap = 30 if env_id.startswith("CliffWalking") and t % 2 == 1 else None
            done_at = None
            while total < target and (segment_cap is None or len(segment["actions"]) < segment_cap):
                action = random_action(env_id, rng)
                obs, reward, terminated, truncated, _ = env.step(action)
                segment["actions"].append(encode_action(action))
                segment["observations"].append(obs_list(obs))
                segment["rewards"].append(float(reward))
                segment["terminated"].append(int(terminated))
                segment["truncated"].append(int(truncated))
                segment["states"].append(get_state(env_id, env))
                total += 1
                if (terminated or truncated) and done_at is None:
                    done_at = len(segment["actions"])
                if done_at is not None and len(segment["actions"]) >= done_at + (extra_after_done if terminated else 0):
                    break
            segments.append(segment)
        trajectories.append({"segments": segments})
    render = None
    if env_id.startswith("CliffWalking"):
        ansi = gym.make(env_id, render_mode="ansi")
        ansi.reset(seed=0)
        ansi.unwrapped.s = 13
        render = {"state": [13.0], "text": ansi.render()}
    return {
        "id": env_id,
        "gymnasium_version": gym.__version__,
        "numpy_version": np.__version__,
        "max_episode_steps": limit,
        "render": render,
        "trajectories": trajectories,
    }


def main():
    os.makedirs(OUTPUT, exist_ok=True)
    ids = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1", "CliffWalking-v1"]
    for index, env_id in enumerate(ids):
        data = record(env_id, seed=1000 + index)
        path = os.path.join(OUTPUT, f"{env_id}.json")
        with open(path, "w") as f:
            json.dump(data, f, separators=(",", ":"))
        steps = [sum(len(s["actions"]) for s in t["segments"]) for t in data["trajectories"]]
        flags = sum(sum(s["terminated"]) + sum(s["truncated"]) for t in data["trajectories"] for s in t["segments"])
        print(f"{env_id}: {os.path.getsize(path) / 1024:.0f} KiB, steps per trajectory {min(steps)}..{max(steps)}, "
              f"steps flagged done {flags}")


if __name__ == "__main__":
    main()
