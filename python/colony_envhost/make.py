"""Builds the host's environments: gymnasium.make, then the wrappers in order, as one EnvVector."""

from __future__ import annotations

import gymnasium

from .config import HostConfig
from .families import import_family
from .vector import EnvVector
from .wrappers import parse_wrapper


class BuildError(Exception):
    """The environments cannot be made; `message` is the one line the client shows."""

    def __init__(self, message: str, cause: BaseException) -> None:
        super().__init__(message)
        self.message = message
        self.cause = cause


def one_line(error: BaseException) -> str:
    """`ValueError: what went wrong`, whitespace folded so the message stays one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def build_vector(config: HostConfig, count: int) -> EnvVector:
    """`count` environments as the config describes; any failure (including a space Colony cannot
    carry) is a BuildError naming the id."""
    try:
        specs = [parse_wrapper(text) for text in config.wrappers]  # a bad spec fails before any env is made
        import_family(config.id)
        wrappers = [(spec.resolve(), spec.kwargs) for spec in specs]
        kwargs = dict(config.kwargs)
        if config.render_mode is not None:
            kwargs["render_mode"] = config.render_mode
        envs = []
        for _ in range(count):
            env = gymnasium.make(config.id, **kwargs)
            for wrapper, wrapper_kwargs in wrappers:
                env = wrapper(env, **wrapper_kwargs)
            envs.append(env)
        return EnvVector(envs, config)
    except Exception as error:  # noqa: BLE001 - whatever make raises, the client gets it as one line
        raise BuildError(f"cannot make {config.id!r}: {one_line(error)}", error) from error
