"""Small environments and a wrapper that Colony's tests make through the environment host
(`colony_testenvs:RaiseOnStep-v0`, `colony_testenvs:StateInInfo`); the tests put python/tests on
PYTHONPATH. Each one exercises a path of docs/envhost.md: failures, crashes, hangs, flattening, NaN.
"""

from __future__ import annotations

import os
import signal
import time

import gymnasium
import numpy as np
from gymnasium import spaces


class StateInInfo(gymnasium.Wrapper):
    """Adds info["state_0".."state_{k-1}"]: the float64 state (CartPole, Acrobot keep it in
    `unwrapped.state`), so a test can compare the host's dynamics with Colony's native ones exactly.

    A step's info also holds info["start_0".."start_{k-1}"], the state the step started from. The host
    drops the info of a reset (the first one and every same-step autoreset), so this is how a client
    learns an episode's reset state: from the info of the episode's first step.
    """

    def _state(self, prefix: str) -> dict:
        state = np.asarray(self.env.unwrapped.state, dtype=np.float64).ravel()
        return {f"{prefix}_{index}": float(value) for index, value in enumerate(state)}

    def reset(self, **kwargs):
        observation, info = self.env.reset(**kwargs)
        return observation, {**info, **self._state("state")}

    def step(self, action):
        start = self._state("start")
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, {**info, **start, **self._state("state")}


class _CountingEnv(gymnasium.Env):
    """Discrete(2) actions, Box (3,) observations [step, action, 0], reward 1, never ends by itself;
    subclasses misbehave at one step (numbered from 1 after each reset)."""

    metadata = {"render_modes": []}

    def __init__(self) -> None:
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Box(-np.inf, np.inf, (3,), np.float32)
        self.steps = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return np.zeros(3, np.float32), {}

    def step(self, action):
        self.steps += 1
        observation = np.array([self.steps, action, 0], np.float32)
        self.misbehave(self.steps, observation)
        return observation, 1.0, False, False, {"steps": self.steps}

    def misbehave(self, step: int, observation: np.ndarray) -> None:
        raise NotImplementedError


class RaiseOnStep(_CountingEnv):
    """Raises RuntimeError("deliberate failure at step N") on step `fail_at`."""

    def __init__(self, fail_at: int = 5) -> None:
        super().__init__()
        self.fail_at = fail_at

    def misbehave(self, step: int, observation: np.ndarray) -> None:
        if step == self.fail_at:
            raise RuntimeError(f"deliberate failure at step {step}")


class CrashOnStep(_CountingEnv):
    """Kills its own process with SIGKILL on step `crash_at`: a hard crash, like a segfault."""

    def __init__(self, crash_at: int = 5) -> None:
        super().__init__()
        self.crash_at = crash_at

    def misbehave(self, step: int, observation: np.ndarray) -> None:
        if step == self.crash_at:
            os.kill(os.getpid(), signal.SIGKILL)


class HangOnStep(_CountingEnv):
    """Sleeps `seconds` on step `hang_at`: a hung host."""

    def __init__(self, hang_at: int = 5, seconds: float = 3600.0) -> None:
        super().__init__()
        self.hang_at = hang_at
        self.seconds = seconds

    def misbehave(self, step: int, observation: np.ndarray) -> None:
        if step == self.hang_at:
            time.sleep(self.seconds)


class NaNObs(_CountingEnv):
    """Returns NaN as the last observation element on step 2."""

    def misbehave(self, step: int, observation: np.ndarray) -> None:
        if step == 2:
            observation[2] = np.nan


class DictObs(gymnasium.Env):
    """A Dict observation with a known flattening; episodes of 10 steps, then terminated.

    Observation: {"position": Box(-1, 1, (2,), float32), "image": Box(0, 255, (3, 3, 1), uint8),
    "mode": Discrete(3, start=1)}. Gymnasium's Dict sorts the keys, so the host flattens it to
    float32 [12]:

        [0:9]   image, row-major (image[0,0,0], image[0,1,0], ..., image[2,2,0])
        [9]     mode, its value 1..3 (index + start)
        [10:12] position

    Values, deterministic per seed: on reset and on every step, image = np_random.integers(0, 256,
    (3, 3, 1)), position = np_random.uniform(-1, 1, 2), both drawn in that order; mode = 1 +
    (step % 3), step counted from 0 at reset. Reward = the action (0 or 1).
    """

    metadata = {"render_modes": []}
    episode_steps = 10

    def __init__(self) -> None:
        self.action_space = spaces.Discrete(2)
        self.observation_space = spaces.Dict({
            "position": spaces.Box(-1, 1, (2,), np.float32),
            "image": spaces.Box(0, 255, (3, 3, 1), np.uint8),
            "mode": spaces.Discrete(3, start=1),
        })
        self.steps = 0

    def _observation(self) -> dict:
        image = self.np_random.integers(0, 256, (3, 3, 1)).astype(np.uint8)
        position = self.np_random.uniform(-1, 1, 2).astype(np.float32)
        return {"position": position, "image": image, "mode": np.int64(1 + self.steps % 3)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.steps = 0
        return self._observation(), {}

    def step(self, action):
        self.steps += 1
        return self._observation(), float(action), self.steps == self.episode_steps, False, {}


for _name in ("RaiseOnStep", "CrashOnStep", "HangOnStep", "DictObs", "NaNObs"):
    gymnasium.register(id=f"{_name}-v0", entry_point=f"{__name__}:{_name}")
