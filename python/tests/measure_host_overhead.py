"""What serving environments through the host costs per message: CartPole-v1 steps/s over ipc from a
Python client against stepping the same environments in-process (same-step autoreset both ways).

    PYTHONPATH=python:python/tests python python/tests/measure_host_overhead.py [--seconds 3]

Columns per environment count: steps/s in-process; the host's own work per request without sockets
(decode, validate, step, check, encode); a bare pyzmq echo of the same frames between two processes
(the transport's floor on this machine); and the real host over ipc. The client pre-encodes its
requests and reads only the header's answered sequence number, so the numbers are the host's.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import sys
import tempfile
import time

import gymnasium
import numpy as np
import zmq

from check_envhost import Host, encode
from colony_envhost import wire
from colony_envhost.config import HostConfig
from colony_envhost.make import build_vector

_ECHO_SERVER = """
import sys, zmq
socket = zmq.Context().socket(zmq.DEALER)
socket.connect(sys.argv[1])
reply = [bytes(120)] + [bytes(size) for size in map(int, sys.argv[2:])]
while True:
    frames = socket.recv_multipart()
    if len(frames) == 1:
        break
    socket.send_multipart(reply)
"""


def in_process(count: int, actions: np.ndarray) -> float:
    """Seconds to step `count` environments through `actions` in this process."""
    envs = [gymnasium.make("CartPole-v1") for _ in range(count)]
    for seed, env in enumerate(envs):
        env.reset(seed=seed)
    start = time.perf_counter()
    for row in actions.tolist():
        for env, action in zip(envs, row):
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
    return time.perf_counter() - start


def host_work(count: int, requests: list[list[bytes]]) -> float:
    """Seconds the host's code spends on the requests, without sockets."""
    vector = build_vector(HostConfig(id="CartPole-v1", count=count), count)
    vector.reset(list(range(count)))
    sender = wire.Sender()
    start = time.perf_counter()
    for frames in requests:
        message = wire.decode(frames)
        sender.frames(wire.MessageType.ENV_STEP_RESULT, vector.step(message.tensors), message.sequence)
    return time.perf_counter() - start


def _round_trips(socket: zmq.Socket, requests: list[list[bytes]], first_sequence: int | None = None) -> float:
    """Seconds for the requests one at a time; with `first_sequence`, each reply must answer its request."""
    start = time.perf_counter()
    for sequence, frames in enumerate(requests, first_sequence or 0):
        socket.send_multipart(frames)
        reply = socket.recv_multipart()
        assert first_sequence is None or struct.unpack_from("<Q", reply[0], 32)[0] == sequence
    return time.perf_counter() - start


def echo(directory: str, count: int, requests: list[list[bytes]]) -> float:
    """Seconds for the same requests answered by a bare pyzmq process with a step result's frame sizes."""
    socket = zmq.Context.instance().socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    endpoint = f"ipc://{directory}/echo-{count}.ipc"
    socket.bind(endpoint)
    sizes = [16 * count, 8 * count, count, count, 0, 0, 0]
    server = subprocess.Popen([sys.executable, "-c", _ECHO_SERVER, endpoint, *map(str, sizes)])
    try:
        _round_trips(socket, requests[:1])  # the server has connected
        elapsed = _round_trips(socket, requests)
        socket.send_multipart([b"stop"])
        server.wait(10)
    finally:
        server.kill()
        socket.close()
    return elapsed


def through_host(directory: str, count: int, actions: np.ndarray) -> float:
    """Seconds for the steps as envStep requests to a real host over ipc."""
    host = Host(directory, {"id": "CartPole-v1", "count": count})
    try:
        host.reset(list(range(count)))
        first = host.sequence
        requests = [encode(52, [row], sequence) for sequence, row in enumerate(actions, first)]
        elapsed = _round_trips(host.socket, requests, first)
        host.sequence += len(requests)
        host.close()
    finally:
        host.kill()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="rough length of each measurement")
    arguments = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'envs':>4} {'in-process':>12} {'host work':>11} {'bare echo':>11} {'host over ipc':>14}   per request: "
          "host work, echo, host - in-process")
    with tempfile.TemporaryDirectory(prefix="colony-envhost-") as directory:
        for count in (1, 8, 32):
            per_step = in_process(count, rng.integers(0, 2, (200, count))) / 200
            steps = max(200, int(arguments.seconds / max(per_step, 400e-6)))
            actions = rng.integers(0, 2, (steps, count)).astype(np.int64)
            requests = [encode(52, [row], sequence) for sequence, row in enumerate(actions)]
            local = in_process(count, actions)
            work = host_work(count, requests)
            bare = echo(directory, count, requests)
            remote = through_host(directory, count, actions)
            rate = lambda seconds: f"{steps * count / seconds:,.0f}/s"  # noqa: E731
            print(f"{count:>4} {rate(local):>12} {rate(work):>11} {rate(bare):>11} {rate(remote):>14}   "
                  f"{(work - local) / steps * 1e6:.0f} us + env, {bare / steps * 1e6:.0f} us, "
                  f"{(remote - local) / steps * 1e6:.0f} us")


if __name__ == "__main__":
    main()
