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
            self._dtype, shape = np.dtype("<i8"), (count,)
            self._upper, self._offset = np.int64(space.n), np.int64(space.start)
        elif isinstance(space, spaces.Box):
            self._dtype, shape = np.dtype("<f4"), (count, *space.shape)
        else:  # MultiDiscrete or MultiBinary, both described as multi_discrete
            nvec = np.asarray(self.description["nvec"], dtype=np.int64)
            self._dtype, shape = np.dtype("<i8"), (count, nvec.size)
            self._upper = nvec
            self._offset = space.start.astype(np.int64) if isinstance(space, spaces.MultiDiscrete) else np.int64(0)
        self._shape = shape
        self._expected = f"{'f32' if self._dtype.kind == 'f' else 'i64'} {list(shape)}"

    def decode(self, tensors: tuple[np.ndarray, ...]) -> list:
        if len(tensors) != 1:
            raise RequestError(f"envStep carries one actions tensor ({self._expected}), got {len(tensors)} tensors")
        actions = tensors[0]
        if actions.dtype != self._dtype or actions.shape != self._shape:
            raise RequestError(f"envStep actions must be {self._expected} for {self.space}, got {describe(actions)}")
        if isinstance(self.space, spaces.Box):
            finite = np.isfinite(actions)
            if not finite.all():
                row = _first_bad_row(~finite)
                raise RequestError(f"envStep action of environment row {row} is not finite: {actions[row].tolist()}")
            return list(actions.astype(self.space.dtype, copy=False))
        bad = (actions < 0) | (actions >= self._upper)
        if bad.any():
            row = _first_bad_row(bad)
            raise RequestError(f"envStep action {actions[row].tolist()} of environment row {row} is not an index "
                               f"into {self.space} (0 <= action < {self._upper.tolist()})")
        values = actions + self._offset
        if isinstance(self.space, spaces.Discrete):
            return values.tolist()
        return list(values.astype(self.space.dtype))
