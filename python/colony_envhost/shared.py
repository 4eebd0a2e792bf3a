"""Step observations in shared memory (docs/envhost.md, "Shared observations").

When the config names a `shared_observations` path and the observations are uint8 (frames), the host
creates that file (on Linux's tmpfs /dev/shm), sizes it for its environments' observations, maps it,
and writes every step's observations there instead of into the step reply. The Colony process maps it
read-only and unlinks the name at once; it reads a host's rows only between the host's reply and its
next request. A frame then crosses processes without passing through the socket.
"""

from __future__ import annotations

import atexit
import mmap
import os

import numpy as np

# Paths this process created, removed again on any exit path (the client normally unlinks them first).
_created: list[str] = []


class SharedObservations:
    """A writable array of `shape` and `dtype` backed by a new shared file at `path`."""

    def __init__(self, path: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        try:
            os.unlink(path)  # left by an earlier host of the same slot that died before it was mapped
        except FileNotFoundError:
            pass
        # O_EXCL and O_NOFOLLOW: never write through a file or link someone else put at the path.
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        if not _created:
            atexit.register(remove_all)
        _created.append(path)
        try:
            os.ftruncate(descriptor, size)
            # Reserve the pages now: a full tmpfs is an error here rather than a SIGBUS on a later write.
            os.posix_fallocate(descriptor, 0, size)
            self._map = mmap.mmap(descriptor, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(descriptor)
        self.path = path
        self.array = np.ndarray(shape, dtype=dtype, buffer=self._map)


def remove_all() -> None:
    """Unlinks every segment this process created and the client has not unlinked yet."""
    for path in _created:
        try:
            os.unlink(path)
        except OSError:
            pass
    _created.clear()
