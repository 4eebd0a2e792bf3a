"""Environment families that register their ids only when imported (ale-py, MiniGrid), and what
this Python has installed (`--list`, behind `colony envs --gym`)."""

from __future__ import annotations

import importlib
import sys
from importlib import metadata

import gymnasium

# Distribution names per family, first one installed wins (Box2D ships as `box2d` or `box2d-py`).
_PACKAGES = {"ale_py": ("ale-py",), "mujoco": ("mujoco",), "minigrid": ("minigrid",), "box2d": ("box2d", "box2d-py")}


def _register(module_name: str) -> None:
    gymnasium.register_envs(importlib.import_module(module_name))


def import_family(env_id: str) -> None:
    """Registers the family an id needs; `module:Env-v0` ids are left to gymnasium.make, which imports the module."""
    if env_id.startswith("ALE/"):
        _register("ale_py")
    elif env_id.startswith(("MiniGrid-", "BabyAI-")):
        _register("minigrid")


def _version(distributions: tuple[str, ...]) -> str | None:
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def catalog() -> dict:
    """Versions, packages and every registered id, after registering the families that are installed."""
    for module_name in ("ale_py", "minigrid"):
        try:
            _register(module_name)
        except ImportError:
            pass
    return {"gymnasium_version": gymnasium.__version__, "python": sys.executable,
            "packages": {key: _version(names) for key, names in _PACKAGES.items()},
            "ids": sorted(gymnasium.envs.registry)}
