"""The host's `--config` JSON: which environments to make and what to carry back."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

RENDER_MODES = (None, "rgb_array", "ansi")


@dataclass(frozen=True)
class HostConfig:
    id: str
    count: int
    kwargs: dict = field(default_factory=dict)
    wrappers: list = field(default_factory=list)
    info_keys: list = field(default_factory=list)
    render_mode: str | None = None
    first_index: int = 0
    shared_observations: str | None = None

    @classmethod
    def from_json(cls, text: str) -> HostConfig:
        """Parses and checks every field, so a mistake is reported as itself rather than as a
        confusing failure inside gymnasium.make."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"--config is not JSON: {error}") from None
        if not isinstance(raw, dict):
            raise ValueError("--config must be a JSON object")
        unknown = sorted(set(raw) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"--config has unknown keys {unknown}")
        for key in ("id", "count"):
            if key not in raw:
                raise ValueError(f"--config lacks \"{key}\"")
        config = cls(**raw)
        config._check()
        return config

    def _check(self) -> None:
        def is_int(value: object) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        if not isinstance(self.id, str) or not self.id:
            raise ValueError(f"--config \"id\" must be a non-empty string, got {self.id!r}")
        if not is_int(self.count) or self.count < 1:
            raise ValueError(f"--config \"count\" must be a positive integer, got {self.count!r}")
        if not isinstance(self.kwargs, dict):
            raise ValueError(f"--config \"kwargs\" must be an object, got {self.kwargs!r}")
        for key in ("wrappers", "info_keys"):
            value = getattr(self, key)
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValueError(f"--config \"{key}\" must be a list of strings, got {value!r}")
        if self.render_mode not in RENDER_MODES:
            raise ValueError(f"--config \"render_mode\" must be null, \"rgb_array\" or \"ansi\", got {self.render_mode!r}")
        if self.shared_observations is not None and (not isinstance(self.shared_observations, str)
                                                     or not os.path.isabs(self.shared_observations)):
            raise ValueError(f"--config \"shared_observations\" must be null or an absolute path, got {self.shared_observations!r}")
        if not is_int(self.first_index) or self.first_index < 0:
            raise ValueError(f"--config \"first_index\" must be a non-negative integer, got {self.first_index!r}")
