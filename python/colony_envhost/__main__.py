"""`python -m colony_envhost`: serve environments to Colony, describe them, or list what is installed.

    python -m colony_envhost --connect ENDPOINT --config JSON [--idle-timeout SECONDS]
    python -m colony_envhost --describe --config JSON
    python -m colony_envhost --list
"""

from __future__ import annotations

import argparse
import json
import sys

from . import shared
from .config import HostConfig
from .families import catalog
from .host import BUILD_FAILED_STATUS, Host, watch_parent
from .make import BuildError, build_vector
from .vector import EnvVector


def _parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m colony_envhost", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--connect", metavar="ENDPOINT", help="the ZeroMQ endpoint Colony bound (ipc:// or tcp://)")
    mode.add_argument("--describe", action="store_true", help="print the envSpec JSON of --config and exit")
    mode.add_argument("--list", action="store_true", help="print versions, packages and registered ids as JSON")
    parser.add_argument("--config", metavar="JSON", help='{"id": "CartPole-v1", "count": 8, "kwargs": {}, '
                        '"wrappers": [], "info_keys": [], "render_mode": null, "first_index": 0}')
    parser.add_argument("--idle-timeout", type=float, default=600.0, metavar="SECONDS",
                        help="exit when no request arrives for this long (default 600)")
    arguments = parser.parse_args(argv)
    if not arguments.list and arguments.config is None:
        parser.error("--connect and --describe need --config")
    return arguments


def _build(config_text: str, count: int | None = None) -> tuple[HostConfig, EnvVector]:
    """The config and its environments (`count` overrides the config's), or a BuildError."""
    try:
        config = HostConfig.from_json(config_text)
    except ValueError as error:
        raise BuildError(f"bad environment host config: {error}", error) from error
    return config, build_vector(config, count or config.count)


def main(argv: list[str] | None = None) -> int:
    arguments = _parse_arguments(argv)
    if arguments.list:
        print(json.dumps(catalog()))
        return 0
    if arguments.describe:
        try:
            config, vector = _build(arguments.config, count=1)
        except BuildError as error:
            print(error.message, file=sys.stderr)
            return BUILD_FAILED_STATUS
        spec = vector.spec()
        spec["count"] = config.count
        vector.close()
        print(json.dumps(spec))
        return 0

    watch_parent()
    try:
        _, vector = _build(arguments.config)
        try:
            vector.share_observations()
        except OSError as error:  # frames then travel in the replies, as the spec says
            print(f"colony_envhost: no shared observations ({error}); sending them in the replies", file=sys.stderr, flush=True)
            shared.remove_all()
        build_error = None
    except BuildError as error:
        vector, build_error = None, error
        print(error.message, file=sys.stderr, flush=True)
    return Host(arguments.connect, vector, build_error, arguments.idle_timeout).serve()


if __name__ == "__main__":
    sys.exit(main())
