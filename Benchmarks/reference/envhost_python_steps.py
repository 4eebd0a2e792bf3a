"""Reference for `colony-bench envhost`: N Gymnasium environments stepped one after another in this one
Python process, with the environment host's same-step autoreset, in environment steps per second.

    python envhost_python_steps.py --env ALE/Pong-v5 --counts 1,8,32 --seconds 4 --warmup 1

Each environment is `gymnasium.make(id)` with the registration's defaults (Pong-v5: frameskip 4, sticky
actions 0.25, raw 210×160×3 uint8 observations), reset with seed i; a finished one is reset within the
step that finished it. Random valid actions are drawn before timing. After `--warmup` seconds of
stepping, whole vector steps (one step of each of the N environments) are counted for `--seconds`.

Prints one JSON object: `steps_per_second_<N>` and `steps_per_cpu_second_<N>` (per CPU second of this
process: its steps/s per core, whatever else the machine runs) for each N, the versions, and notes for
what failed. The loop is the least a process can do: it keeps no observation. `vector_steps_per_second_<N>`
and `vector_steps_per_cpu_second_<N>` are the same environments as Gymnasium's own `SyncVectorEnv` with
same-step autoreset, which gathers every step's observations into one batch as a learner needs them (and
as the environment host does).
"""

from __future__ import annotations

import argparse
import json
import time

results: dict[str, object] = {}
notes: list[str] = []


def make_envs(gymnasium, env_id: str, count: int) -> list:
    if env_id.startswith("ALE/"):
        import ale_py

        gymnasium.register_envs(ale_py)
        results["ale_py_version"] = ale_py.__version__
    envs = [gymnasium.make(env_id) for _ in range(count)]
    for seed, env in enumerate(envs):
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return envs


def steps_per_second(envs: list, seconds: float, warmup: float) -> tuple[float, float]:
    """Whole vector steps of `envs` for `warmup` seconds, then counted for `seconds`: steps per
    wall-clock second and per CPU second of this process (its steps/s per core, whatever else runs)."""
    actions = [[env.action_space.sample() for _ in range(256)] for env in envs]
    pairs = list(zip(envs, actions))
    step = 0

    def vector_step() -> None:
        nonlocal step
        k = step & 255
        for env, row in pairs:
            _, _, terminated, truncated, _ = env.step(row[k])
            if terminated or truncated:
                env.reset()
        step += 1

    start = time.perf_counter()
    while time.perf_counter() - start < warmup:
        vector_step()
    counted, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        vector_step()
        counted += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            steps = counted * len(envs)
            return steps / elapsed, steps / max(time.process_time() - cpu, 1e-9)


def vector_steps_per_second(gymnasium, env_id: str, count: int, seconds: float, warmup: float) -> tuple[float, float]:
    """`steps_per_second` for Gymnasium's SyncVectorEnv of `count` copies with same-step autoreset."""
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    vector = SyncVectorEnv([lambda: gymnasium.make(env_id) for _ in range(count)], autoreset_mode=AutoresetMode.SAME_STEP)
    try:
        vector.reset(seed=0)
        vector.action_space.seed(0)
        actions = [vector.action_space.sample() for _ in range(256)]
        step = 0
        start = time.perf_counter()
        while time.perf_counter() - start < warmup:
            vector.step(actions[step & 255])
            step += 1
        counted, start, cpu = 0, time.perf_counter(), time.process_time()
        while True:
            vector.step(actions[step & 255])
            step += 1
            counted += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                steps = counted * count
                return steps / elapsed, steps / max(time.process_time() - cpu, 1e-9)
    finally:
        vector.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="CartPole-v1", help="Gymnasium id (ALE/... registers ale-py)")
    parser.add_argument("--counts", default="1,8,32", help="comma-separated environment counts")
    parser.add_argument("--seconds", type=float, default=4.0, help="measured window per count")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds stepped before the window")
    arguments = parser.parse_args()
    try:
        import gymnasium

        results["gymnasium_version"] = gymnasium.__version__
        for count in (int(text) for text in arguments.counts.split(",")):
            envs = make_envs(gymnasium, arguments.env, count)
            wall, cpu = steps_per_second(envs, arguments.seconds, arguments.warmup)
            results[f"steps_per_second_{count}"] = wall
            results[f"steps_per_cpu_second_{count}"] = cpu
            for env in envs:
                env.close()
            try:
                wall, cpu = vector_steps_per_second(gymnasium, arguments.env, count, arguments.seconds, arguments.warmup)
                results[f"vector_steps_per_second_{count}"] = wall
                results[f"vector_steps_per_cpu_second_{count}"] = cpu
            except Exception as error:  # noqa: BLE001 - the table says why this reference is missing
                notes.append(f"{arguments.env} SyncVectorEnv reference failed: {type(error).__name__}: {error}")
    except Exception as error:  # noqa: BLE001 - the table says why the reference is missing
        notes.append(f"{arguments.env} in-process reference failed: {type(error).__name__}: {error}")
    results["notes"] = notes
    print(json.dumps(results))


if __name__ == "__main__":
    main()
