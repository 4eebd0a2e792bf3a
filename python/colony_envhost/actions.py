"""Actions from the wire, checked before any environment sees them.

The client sends Discrete actions as indices 0..n-1 and MultiDiscrete ones as 0..nvec-1 (what a
categorical policy samples); the space's `start` is added here. A request that does not fit the
action space is answered with envError instead of reaching `env.step`.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from .spaces import describe_action_space
from .wire import describe


class RequestError(ValueError):
    """A well-formed message whose content does not fit this host (shapes, dtypes, ranges)."""


def _first_bad_row(bad: np.ndarray) -> int:
    return int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0])


class ActionDecoder:
    """Validates the envStep tensor and turns it into one action per environment."""

    def __init__(self, space: spaces.Space, count: int) -> None:
        self.space = space
        self.description = describe_action_space(space)
        if isinstance(space, spaces.Discrete):
            self.dtype, self.shape = np.dtype("<i8"), (count,)
            self._convert = self._discrete
        elif isinstance(space, spaces.Box):
            self.dtype, self.shape = np.dtype("<f4"), (count, *space.shape)
            self._convert = self._box
        else:  # MultiDiscrete or MultiBinary, both described as multi_discrete
            self._nvec = np.asarray(self.description["nvec"], dtype=np.int64)
            self.dtype, self.shape = np.dtype("<i8"), (count, self._nvec.size)
            self._start = space.start.astype(np.int64) if isinstance(space, spaces.MultiDiscrete) else 0
            self._convert = self._multi_discrete
        self._expected = f"{'f32' if self.dtype.kind == 'f' else 'i64'} {list(self.shape)}"

    def decode(self, tensors: tuple[np.ndarray, ...]) -> list:
        if len(tensors) != 1:
            raise RequestError(f"envStep carries one actions tensor ({self._expected}), got {len(tensors)} tensors")
        actions = tensors[0]
        if actions.dtype != self.dtype or actions.shape != self.shape:
            raise RequestError(f"envStep actions must be {self._expected} for {self.space}, got {describe(actions)}")
        return self._convert(actions)

    def _discrete(self, actions: np.ndarray) -> list[int]:
        """Python ints (the hot path of most agents: list operations beat numpy at these sizes)."""
        values = actions.tolist()
        n, start = int(self.space.n), int(self.space.start)
        if min(values) < 0 or max(values) >= n:
            row = next(row for row, value in enumerate(values) if not 0 <= value < n)
            raise RequestError(f"envStep action {values[row]} of environment row {row} is not an index into "
                               f"{self.space} (0 <= action < {n})")
        return [value + start for value in values] if start else values

    def _box(self, actions: np.ndarray) -> list[np.ndarray]:
        finite = np.isfinite(actions)
        if not finite.all():
            row = _first_bad_row(~finite)
            raise RequestError(f"envStep action of environment row {row} is not finite: {actions[row].tolist()}")
        return list(actions.astype(self.space.dtype, copy=False))

    def _multi_discrete(self, actions: np.ndarray) -> list[np.ndarray]:
        bad = (actions < 0) | (actions >= self._nvec)
        if bad.any():
            row = _first_bad_row(bad)
            raise RequestError(f"envStep action {actions[row].tolist()} of environment row {row} is not an index "
                               f"into {self.space} (0 <= action < {self._nvec.tolist()})")
        return list((actions + self._start).astype(self.space.dtype))
