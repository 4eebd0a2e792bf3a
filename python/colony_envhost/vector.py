"""N Gymnasium environments stepped as one vector with same-step autoreset (docs/envhost.md).

Implemented here rather than with gymnasium.vector so the semantics do not depend on the Gymnasium
version: a finished environment is reset within the step that finished it, its final observation
travels separately with its index.
"""

from __future__ import annotations

import os

import gymnasium
import numpy as np

from .actions import ActionDecoder, RequestError
from .config import HostConfig
from .shared import SharedObservations
from .spaces import ObservationEncoder


class EnvFailure(Exception):
    """One environment raised or returned something the wire cannot carry. `env_index` is its index
    in this host (the client adds `first_index`); messages written here name the global index."""

    def __init__(self, env_index: int, error: BaseException) -> None:
        super().__init__(str(error))
        self.env_index = env_index
        self.error = error


def _info_number(value: object) -> float:
    """A numeric info entry as f64; anything else (missing, text, arrays, non-finite) is NaN, which
    the wire allows only here and means "absent"."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        number = float(value)
        return number if np.isfinite(number) else np.nan
    return np.nan


def _episode_frame_limit(env) -> int | None:
    """Frames after which the simulator truncates an episode itself: ALE's max_num_frames_per_episode
    (108,000 for v5 games), which ends a game whatever frame skip the wrappers apply."""
    ale = getattr(env.unwrapped, "ale", None)
    get_int = getattr(ale, "getInt", None)
    if get_int is None:
        return None
    try:
        frames = int(get_int("max_num_frames_per_episode"))
    except Exception:  # noqa: BLE001 - not ALE's interface after all: no limit known
        return None
    return frames if frames > 0 else None


def _finite_or_none(value: float | None) -> float | None:
    """JSON has no infinity; an infinite threshold means none."""
    return value if value is None or np.isfinite(value) else None


class EnvVector:
    """The host's environments; every method returns the reply's tensors."""

    def __init__(self, envs: list[gymnasium.Env], config: HostConfig) -> None:
        self.envs = envs
        self.config = config
        self.count = len(envs)
        self.encoder = ObservationEncoder(envs[0].observation_space)
        self.actions = ActionDecoder(envs[0].action_space, self.count)
        self.shared: SharedObservations | None = None

    def share_observations(self) -> None:
        """Writes step observations into the config's shared-memory file from now on, when they are
        uint8 frames (the only ones worth it; float observations keep the wire's finiteness check)."""
        if self.config.shared_observations is not None and self.encoder.dtype == np.uint8:
            self.shared = SharedObservations(self.config.shared_observations, (self.count, *self.encoder.shape),
                                             self.encoder.dtype)

    def spec(self) -> dict:
        first = self.envs[0]
        spec = first.spec
        return {"gymnasium_version": gymnasium.__version__, "id": self.config.id, "count": self.count,
                "pid": os.getpid(),
                **self.encoder.spec_fields(),
                "action_space": self.actions.description,
                "max_episode_steps": spec.max_episode_steps if spec is not None else None,
                "episode_frame_limit": _episode_frame_limit(first),
                "reward_threshold": _finite_or_none(spec.reward_threshold if spec is not None else None),
                "info_keys": list(self.config.info_keys),
                "render_modes": list(first.metadata.get("render_modes", [])),
                "shared_observations": self.shared.path if self.shared is not None else None}

    def reset(self, seeds: list[int | None]) -> list[np.ndarray]:
        observations = self.encoder.empty(self.count)
        for index, (env, seed) in enumerate(zip(self.envs, seeds)):
            try:
                observation, _ = env.reset(seed=seed)
                self.encoder.write(observations, index, observation)
            except Exception as error:  # noqa: BLE001 - an environment's own failure goes to the client
                raise EnvFailure(index, error) from error
        self._check_finite(observations, range(self.count), "observation")
        return [observations]

    def step(self, tensors: tuple[np.ndarray, ...]) -> list[np.ndarray]:
        """observations, rewards, terminated, truncated, final indices, final observations, info;
        without observations when they went to shared memory.

        Per-environment results are gathered in Python lists and converted once: at these sizes
        that is cheaper than writing numpy elements one by one.
        """
        actions = self.actions.decode(tensors)
        count, keys, write = self.count, self.config.info_keys, self.encoder.write
        observations = self.shared.array if self.shared is not None else self.encoder.empty(count)
        rewards, terminated, truncated, info = [], [], [], []
        final_indices: list[int] = []
        final_rows: list[np.ndarray] = []
        for index, (env, action) in enumerate(zip(self.envs, actions)):
            try:
                observation, reward, is_terminated, is_truncated, step_info = env.step(action)
                rewards.append(float(reward))
                terminated.append(bool(is_terminated))
                truncated.append(bool(is_truncated))
                if keys:
                    info.append([_info_number(step_info.get(key)) for key in keys])
                if is_terminated or is_truncated:
                    final = self.encoder.empty(1)
                    write(final, 0, observation)
                    final_rows.append(final)
                    final_indices.append(index)
                    observation, _ = env.reset()
                write(observations, index, observation)
            except Exception as error:  # noqa: BLE001 - an environment's own failure goes to the client
                raise EnvFailure(index, error) from error
        rewards_array = np.array(rewards, np.float64)
        self._check_finite(rewards_array, range(count), "reward")
        self._check_finite(observations, range(count), "observation")
        if final_rows:
            final_observations = np.concatenate(final_rows)
            self._check_finite(final_observations, final_indices, "final observation")
        else:
            final_observations = self.encoder.empty(0)
        info_array = np.array(info, np.float64) if keys else np.empty((count, 0), np.float64)
        results = [rewards_array, np.array(terminated, np.uint8), np.array(truncated, np.uint8),
                   np.array(final_indices, np.int64), final_observations, info_array]
        return results if self.shared is not None else [observations, *results]

    def _check_finite(self, values: np.ndarray, indices: range | list[int], what: str) -> None:
        """NaN and infinity are rejected everywhere on the wire, so they are the environment's error."""
        if values.dtype.kind != "f" or np.isfinite(values).all():
            return
        flat = values.reshape(len(values), -1)
        finite = np.isfinite(flat)
        row = int(np.flatnonzero(~finite.all(axis=1))[0])
        index = indices[row]
        bad = flat[row][~finite[row]][0]
        error = ValueError(f"environment {self.config.first_index + index} ({self.config.id}) returned a non-finite {what} ({bad})")
        raise EnvFailure(index, error)

    def render(self, tensors: tuple[np.ndarray, ...]) -> list[np.ndarray]:
        """One environment's frame: u8 [H, W, 3] for rgb_array, u8 [L] UTF-8 text for ansi."""
        if len(tensors) != 1 or tensors[0].dtype != np.int64 or tensors[0].shape != (1,):
            raise RequestError("envRender carries one i64 [1] tensor: the environment's index in this host")
        index = int(tensors[0][0])
        if not 0 <= index < self.count:
            raise RequestError(f"envRender index {index} is outside 0..{self.count - 1}")
        mode = self.config.render_mode
        if mode is None:
            raise RequestError("the environments were made without a render mode: make the environment with "
                               "render_mode \"rgb_array\" or \"ansi\" (the host config's render_mode)")
        try:
            frame = self.envs[index].render()
            if mode == "ansi":
                if not isinstance(frame, str):
                    raise TypeError(f"render() in ansi mode returned {type(frame).__name__}, not text")
                return [np.frombuffer(frame.encode("utf-8"), dtype=np.uint8)]
            frame = np.asarray(frame)
            if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
                raise TypeError(f"render() in rgb_array mode returned {frame.dtype} {list(frame.shape)}, "
                                "not uint8 [H, W, 3]")
            return [np.ascontiguousarray(frame)]
        except Exception as error:  # noqa: BLE001 - an environment's own failure goes to the client
            raise EnvFailure(index, error) from error

    def close(self) -> None:
        for env in self.envs:
            env.close()
