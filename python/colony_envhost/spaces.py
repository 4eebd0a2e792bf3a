"""Gymnasium spaces as Colony sees them (docs/envhost.md, "Spaces"): JSON descriptions, and observations
as wire arrays.

Colony's agents take flat numeric tensors, so Dict and Tuple observations are flattened here once,
with a layout table that says where every leaf went; everything else travels in its native
element type (uint8 images stay uint8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces


def wire_dtype(dtype: np.dtype) -> np.dtype:
    """uint8 stays uint8 (images), every float becomes float32, other ints and bool become int64."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return np.dtype(np.uint8)
    if np.issubdtype(dtype, np.floating):
        return np.dtype(np.float32)
    if np.issubdtype(dtype, np.integer) or dtype == np.bool_:
        return np.dtype(np.int64)
    raise ValueError(f"no wire type for element type {dtype}")


def _json_number(value: float | int) -> float | int | str:
    if isinstance(value, float) and np.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def json_bound(values: np.ndarray, dtype: np.dtype) -> float | int | str | list:
    """One number when every element shares it, else a flat row-major list; infinities as strings."""
    with np.errstate(over="ignore"):  # a float64 bound past float32's range is an infinite float32 bound
        flat = np.asarray(values).astype(dtype).ravel()
    # float32 -> Python float is exact, so the client reads back the very float32 the host sends.
    if flat.size > 0 and np.all(flat == flat[0]):
        return _json_number(flat[0].item())
    return [_json_number(value) for value in flat.tolist()]


def box_description(shape: tuple[int, ...], dtype: np.dtype, low: np.ndarray, high: np.ndarray) -> dict:
    return {"type": "box", "shape": list(shape), "dtype": dtype.name,
            "low": json_bound(low, dtype), "high": json_bound(high, dtype)}


def _bounds(space: spaces.Space) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive bounds of a numeric leaf's values (a Discrete leaf travels as its value: index + start)."""
    if isinstance(space, spaces.Box):
        return space.low, space.high
    if isinstance(space, spaces.Discrete):
        return np.asarray(space.start), np.asarray(space.start + space.n - 1)
    if isinstance(space, spaces.MultiDiscrete):
        return space.start, space.start + space.nvec - 1
    if isinstance(space, spaces.MultiBinary):
        return np.zeros(space.shape, np.int64), np.ones(space.shape, np.int64)
    raise TypeError(f"{space} is not a numeric leaf")


def _is_numeric_leaf(space: spaces.Space) -> bool:
    return isinstance(space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary))


def _leaf_description(space: spaces.Space) -> dict:
    """A numeric observation leaf: Discrete as itself, Box in its wire dtype, MultiDiscrete and
    MultiBinary as int64 boxes of their values."""
    if isinstance(space, spaces.Discrete):
        return {"type": "discrete", "n": int(space.n), "start": int(space.start)}
    low, high = _bounds(space)
    if isinstance(space, spaces.Box):
        return box_description(space.shape, wire_dtype(space.dtype), low, high)
    return box_description(np.shape(low), np.dtype(np.int64), low, high)


@dataclass(frozen=True)
class _Leaf:
    path: tuple
    offset: int
    space: spaces.Space

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.space.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self) -> np.dtype:
        return wire_dtype(self.space.dtype)


def _walk(space: spaces.Space, path: tuple, leaves: list, dropped: list) -> None:
    """Leaves in Gymnasium's order: a Dict's keys in its own order, a Tuple's items, recursively."""
    if isinstance(space, spaces.Dict):
        for key, child in space.spaces.items():
            _walk(child, path + (key,), leaves, dropped)
    elif isinstance(space, spaces.Tuple):
        for index, child in enumerate(space.spaces):
            _walk(child, path + (index,), leaves, dropped)
    elif _is_numeric_leaf(space):
        offset = leaves[-1].offset + leaves[-1].size if leaves else 0
        leaves.append(_Leaf(path, offset, space))
    else:
        dropped.append(_path_name(path))


def _path_name(path: tuple) -> str:
    return ".".join(str(part) for part in path)


class ObservationEncoder:
    """Writes one environment's raw observation into its row of a wire array [n, *shape].

    `description` is the spec's `observation_space`; `layout` and `dropped_leaves` are filled for a
    flattened Dict or Tuple observation.
    """

    def __init__(self, space: spaces.Space) -> None:
        self.layout: list[dict] | None = None
        self.dropped_leaves: list[str] = []
        if isinstance(space, (spaces.Dict, spaces.Tuple)):
            self._init_flattened(space)
        elif _is_numeric_leaf(space):
            self.description = _leaf_description(space)
            self.shape = tuple(space.shape)
            self.dtype = wire_dtype(space.dtype)
            self.write: Callable[[np.ndarray, int, object], None] = self._writer_for_array()
        else:
            raise ValueError(f"unsupported observation space {space}: Colony takes Box, Discrete, "
                             "MultiDiscrete, MultiBinary, or Dict/Tuple of them")

    def _init_flattened(self, space: spaces.Space) -> None:
        leaves: list[_Leaf] = []
        _walk(space, (), leaves, self.dropped_leaves)
        if not leaves:
            raise ValueError(f"observation space {space} has no numeric leaf to flatten")
        self.dtype = np.dtype(np.uint8) if all(leaf.dtype == np.uint8 for leaf in leaves) else np.dtype(np.float32)
        total = leaves[-1].offset + leaves[-1].size
        self.shape = (total,)
        bounds = [_bounds(leaf.space) for leaf in leaves]
        low = np.concatenate([np.ravel(low) for low, _ in bounds]).astype(np.float64)
        high = np.concatenate([np.ravel(high) for _, high in bounds]).astype(np.float64)
        self.description = box_description(self.shape, self.dtype, low, high)
        self.layout = [{"path": _path_name(leaf.path), "offset": leaf.offset, "shape": list(leaf.shape),
                        "dtype": leaf.dtype.name, "space": _leaf_description(leaf.space)} for leaf in leaves]
        self._leaves = [(leaf.path, leaf.offset, leaf.offset + leaf.size, leaf.shape) for leaf in leaves]
        self.write = self._write_flattened

    def _writer_for_array(self) -> Callable[[np.ndarray, int, object], None]:
        shape = self.shape

        def write(out: np.ndarray, index: int, observation: object) -> None:
            value = np.asarray(observation)
            if value.shape != shape:
                raise ValueError(f"observation of shape {list(value.shape)}, the space says {list(shape)}")
            out[index] = value  # casts to the wire dtype (float64 -> float32, bool -> int64)

        return write

    def _write_flattened(self, out: np.ndarray, index: int, observation: object) -> None:
        row = out[index]
        for path, start, end, shape in self._leaves:
            value = observation
            for part in path:
                value = value[part]
            value = np.asarray(value)
            if value.shape != shape:
                raise ValueError(f"observation leaf {_path_name(path)} of shape {list(value.shape)}, "
                                 f"the space says {list(shape)}")
            row[start:end] = value.reshape(-1)

    def empty(self, count: int) -> np.ndarray:
        """A new wire array for `count` observations (new each message: frames are sent without copying)."""
        return np.empty((count, *self.shape), dtype=self.dtype)

    def spec_fields(self) -> dict:
        return {"observation_space": self.description, "observation_layout": self.layout,
                "dropped_leaves": self.dropped_leaves}


def describe_action_space(space: spaces.Space) -> dict:
    """Discrete (any start) and MultiDiscrete travel as int64, MultiBinary as a MultiDiscrete of 2s,
    Box as float32."""
    if isinstance(space, spaces.Discrete):
        return {"type": "discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return {"type": "multi_discrete", "nvec": space.nvec.astype(np.int64).tolist()}
    if isinstance(space, spaces.MultiBinary) and len(space.shape) == 1:
        return {"type": "multi_discrete", "nvec": [2] * space.shape[0]}
    if isinstance(space, spaces.Box) and np.issubdtype(space.dtype, np.floating):
        return box_description(space.shape, np.dtype(np.float32), space.low, space.high)
    raise ValueError(f"unsupported action space {space}: Colony takes Discrete, 1-D MultiDiscrete or "
                     "MultiBinary, and float Box")
