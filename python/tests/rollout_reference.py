"""The raw observations of a rollout with same-step autoreset, made with gymnasium directly (no host),
as JSON on stdout: the reference the Swift tests check the host's observations and Dict flattening
against (Tests/ColonyEnvironmentsTests/RemoteVectorEnvironmentObservationTests.swift).

    python rollout_reference.py '{"id": "colony_testenvs:DictObs-v0", "seeds": [..], "actions": [[..], ..],
                                  "kwargs": {}, "wrappers": [], "last_only": false}'

Each environment is made as the host makes it (gymnasium.make, then the wrappers), reset with its seed, stepped with
its column of `actions`, and reset without a seed within the step that finishes it. An observation
is written as {leaf path: flat row-major list} with the host's path names ("" for a plain array);
leaves that are not numbers (MiniGrid's mission) are left out. Output:

    {"reset": [obs, ...], "steps": [{"observations": [obs, ...], "finals": {"index": obs},
                                     "rewards": [...], "terminated": [...], "truncated": [...]}, ...]}

With "last_only", "steps" holds only the last step.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from colony_envhost.config import HostConfig
from colony_envhost.make import build_vector


def leaves(observation, path: str = "") -> dict:
    if isinstance(observation, dict):
        result = {}
        for key, value in observation.items():
            result.update(leaves(value, f"{path}.{key}" if path else str(key)))
        return result
    if isinstance(observation, tuple):
        result = {}
        for index, value in enumerate(observation):
            result.update(leaves(value, f"{path}.{index}" if path else str(index)))
        return result
    if isinstance(observation, str):
        return {}
    return {path: np.asarray(observation).ravel().tolist()}


def main() -> None:
    request = json.loads(sys.argv[1])
    seeds = request["seeds"]
    config = HostConfig.from_json(json.dumps({"id": request["id"], "count": len(seeds), "kwargs": request.get("kwargs", {}),
                                              "wrappers": request.get("wrappers", [])}))
    envs = build_vector(config, len(seeds)).envs  # only the gymnasium environments, not the host's encoding
    reset = [leaves(env.reset(seed=seed)[0]) for env, seed in zip(envs, seeds)]
    steps = []
    for actions in request["actions"]:
        step = {"observations": [], "finals": {}, "rewards": [], "terminated": [], "truncated": []}
        for index, (env, action) in enumerate(zip(envs, actions)):
            observation, reward, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                step["finals"][str(index)] = leaves(observation)
                observation, _ = env.reset()
            step["observations"].append(leaves(observation))
            step["rewards"].append(float(reward))
            step["terminated"].append(bool(terminated))
            step["truncated"].append(bool(truncated))
        steps.append(step)
    if request.get("last_only"):
        steps = steps[-1:]
    json.dump({"reset": reset, "steps": steps}, sys.stdout)


if __name__ == "__main__":
    main()
