"""Self-check of the environment host, acting as Colony's client does (docs/envhost.md).

    PYTHONPATH=python:python/tests python python/tests/check_envhost.py

The client side here uses only pyzmq and numpy and its own reading of docs/wire.md (it does not
reuse the host's wire module), so the two readings check each other; gymnasium is used only for
the in-process reference runs the host's answers are compared with.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import zmq

REPOSITORY = Path(__file__).resolve().parents[2]
PYTHONPATH = os.pathsep.join([str(REPOSITORY / "python"), str(REPOSITORY / "python" / "tests")])

SPEC_REQUEST, SPEC, RESET, OBSERVATIONS, STEP, STEP_RESULT, ERROR, RENDER, FRAME, CLOSE, CLOSED = range(48, 59)
DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i4"), 4: np.dtype("<i8"), 5: np.dtype("u1")}
CODES = {dtype: code for code, dtype in DTYPES.items()}
SPEC_KEYS = {"gymnasium_version", "id", "count", "pid", "observation_space", "action_space", "observation_layout",
             "dropped_leaves", "max_episode_steps", "episode_frame_limit", "reward_threshold", "info_keys", "render_modes",
             "shared_observations"}


def encode(message_type: int, tensors: list[np.ndarray], sequence: int) -> list[bytes]:
    header = b"CLNY" + struct.pack("<HHQQQQH", 1, message_type, 7, 9, sequence, 0, len(tensors))
    for tensor in tensors:
        header += struct.pack("<BB", CODES[tensor.dtype], tensor.ndim) + struct.pack(f"<{tensor.ndim}I", *tensor.shape)
        header += struct.pack("<Q", tensor.nbytes)
    return [header] + [np.ascontiguousarray(tensor).tobytes() for tensor in tensors]


def decode(frames: list[bytes]) -> tuple[int, int, list[np.ndarray]]:
    """(type, parameter version, tensors) of a reply, checked field by field."""
    header = frames[0]
    magic, version, message_type, _, _, _, parameter_version, count = struct.unpack_from("<4sHHQQQQH", header)
    assert magic == b"CLNY" and version == 1 and count == len(frames) - 1, (magic, version, count, len(frames))
    offset, tensors = 42, []
    for index in range(count):
        code, rank = struct.unpack_from("<BB", header, offset)
        shape = struct.unpack_from(f"<{rank}I", header, offset + 2)
        (length,) = struct.unpack_from("<Q", header, offset + 2 + 4 * rank)
        offset += 10 + 4 * rank
        dtype = DTYPES[code]
        assert length == dtype.itemsize * int(np.prod(shape)) == len(frames[index + 1]), (shape, length)
        tensors.append(np.frombuffer(frames[index + 1], dtype).reshape(shape))
    assert offset == len(header), "trailing header bytes"
    return message_type, parameter_version, tensors


def control(payload: dict) -> np.ndarray:
    return np.frombuffer(json.dumps(payload).encode(), np.uint8)


def payload(tensors: list[np.ndarray]) -> dict:
    return json.loads(tensors[0].tobytes().decode())


class HostError(Exception):
    def __init__(self, error: dict) -> None:
        super().__init__(error["message"])
        self.error = error


class Host:
    """One host process and the client's DEALER, bound on a private ipc endpoint."""

    def __init__(self, directory: str, config: dict, *extra_arguments: str) -> None:
        self.context = zmq.Context.instance()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        endpoint = f"ipc://{directory}/host-{time.monotonic_ns()}.ipc"
        self.socket.bind(endpoint)
        environment = {**os.environ, "PYTHONPATH": PYTHONPATH}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "colony_envhost", "--connect", endpoint, "--config", json.dumps(config), *extra_arguments],
            env=environment, stderr=subprocess.PIPE, text=True)
        self.sequence = 0

    def send_frames(self, frames: list[bytes], readable_header: bool = True) -> tuple[int, list[np.ndarray]]:
        """Sends raw frames and returns the reply, whose parameter version is our sequence number
        (0 when the header was too broken to read one)."""
        sequence = self.sequence
        self.sequence += 1
        self.socket.send_multipart(frames)
        if not self.socket.poll(120_000):
            raise TimeoutError(f"no reply to request {sequence}")
        message_type, answered, tensors = decode(self.socket.recv_multipart())
        expected = sequence if readable_header else 0
        assert answered == expected, f"reply to {answered}, expected {expected}"
        return message_type, tensors

    def request(self, message_type: int, tensors: list[np.ndarray], expect: int) -> list[np.ndarray]:
        reply_type, reply = self.send_frames(encode(message_type, tensors, self.sequence))
        if reply_type == ERROR:
            raise HostError(payload(reply))
        assert reply_type == expect, f"reply type {reply_type}, expected {expect}"
        return reply

    def spec(self) -> dict:
        return payload(self.request(SPEC_REQUEST, [control({})], SPEC))

    def reset(self, seeds: list[int] | None = None) -> np.ndarray:
        tensors = [] if seeds is None else [np.array(seeds, np.uint64).view(np.int64)]
        return self.request(RESET, tensors, OBSERVATIONS)[0]

    def step(self, actions: np.ndarray) -> list[np.ndarray]:
        return self.request(STEP, [actions], STEP_RESULT)

    def error(self, message_type: int, tensors: list[np.ndarray]) -> dict:
        reply_type, reply = self.send_frames(encode(message_type, tensors, self.sequence))
        assert reply_type == ERROR, f"expected envError, got type {reply_type}"
        return payload(reply)

    def close(self) -> int:
        payload(self.request(CLOSE, [control({})], CLOSED))
        return self.wait()

    def wait(self, timeout: float = 30) -> int:
        status = self.process.wait(timeout)
        self.stderr = self.process.stderr.read()
        self.socket.close()
        return status

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def same_step_reference(env_id: str, seeds: list[int], actions: np.ndarray, wrappers=(), info_keys=()) -> tuple:
    """The host's semantics computed independently in-process: the seeded first observations and, per
    step, the observations (reset rows for finished envs), rewards, terminated, truncated, final
    indices, final observations and info."""
    import gymnasium

    envs = []
    for _ in seeds:
        env = gymnasium.make(env_id)
        for wrapper in wrappers:
            env = wrapper(env)
        envs.append(env)
    first = np.stack([env.reset(seed=s)[0] for env, s in zip(envs, seeds)]).astype(np.float32)
    discrete = isinstance(envs[0].action_space, gymnasium.spaces.Discrete)
    results = []
    for row in actions:
        observations, rewards, terminated, truncated, finals, final_observations, info = [], [], [], [], [], [], []
        for index, (env, action) in enumerate(zip(envs, row)):
            observation, reward, term, trunc, step_info = env.step(int(action) if discrete else action)
            rewards.append(reward)
            terminated.append(term)
            truncated.append(trunc)
            info.append([float(step_info[key]) if key in step_info else np.nan for key in info_keys])
            if term or trunc:
                finals.append(index)
                final_observations.append(observation)
                observation, _ = env.reset()
            observations.append(observation)
        results.append((np.asarray(observations, np.float32), np.asarray(rewards, np.float64),
                        np.asarray(terminated, np.uint8), np.asarray(truncated, np.uint8), np.asarray(finals, np.int64),
                        np.asarray(final_observations, np.float32).reshape(len(finals), *first.shape[1:]),
                        np.asarray(info, np.float64).reshape(len(envs), len(info_keys))))
    return first, results


def compare_run(host: Host, seeds: list[int], actions: np.ndarray, first: np.ndarray, reference: list) -> tuple[int, int]:
    """Steps the host through `actions` and compares every tensor with the reference; (episodes ended, truncations)."""
    names = ["observations", "rewards", "terminated", "truncated", "final indices", "final observations", "info"]
    assert np.array_equal(host.reset(seeds), first)
    episodes = truncations = 0
    for step, (row, expected) in enumerate(zip(actions, reference)):
        result = host.step(row)
        for name, got, want in zip(names, result, expected):
            assert got.dtype == want.dtype, (step, name, got.dtype, want.dtype)
            assert got.shape == want.shape, (step, name, got.shape, want.shape)
            assert np.array_equal(got, want, equal_nan=name == "info"), (step, name, got, want)
        episodes += len(result[4])
        truncations += int(result[3].sum())
    return episodes, truncations


# --- the checks -------------------------------------------------------------------------------------------

def check_cartpole_spec(directory: str) -> str:
    host = Host(directory, {"id": "CartPole-v1", "count": 4})
    try:
        spec = host.spec()
        assert set(spec) == SPEC_KEYS, set(spec) ^ SPEC_KEYS
        assert spec["count"] == 4 and spec["id"] == "CartPole-v1" and spec["pid"] == host.process.pid
        assert spec["observation_space"]["type"] == "box" and spec["observation_space"]["shape"] == [4]
        assert spec["observation_space"]["dtype"] == "float32"
        assert spec["observation_space"]["high"][1] == "inf" and spec["observation_space"]["low"][1] == "-inf"
        assert spec["action_space"] == {"type": "discrete", "n": 2, "start": 0}
        assert spec["max_episode_steps"] == 500 and spec["reward_threshold"] == 475.0
        assert spec["episode_frame_limit"] is None, "CartPole is not an emulator with a frame limit"
        assert spec["observation_layout"] is None and spec["dropped_leaves"] == []
        assert host.close() == 0
    finally:
        host.kill()
    return json.dumps(spec)


def check_seeded_reset(directory: str) -> str:
    import gymnasium

    seeds = [0, 1, 12345, 2**63 + 5]  # the last one travels as a negative i64 and must arrive as its u64
    host = Host(directory, {"id": "CartPole-v1", "count": 4})
    try:
        observations = host.reset(seeds)
        expected = np.stack([gymnasium.make("CartPole-v1").reset(seed=seed)[0] for seed in seeds])
        assert observations.dtype == np.float32 and observations.shape == (4, 4)
        assert np.array_equal(observations, expected), (observations, expected)
        assert not np.array_equal(host.reset(), expected)  # unseeded resets continue each env's generator
        assert host.close() == 0
    finally:
        host.kill()
    return f"observations {list(observations.shape)} equal gymnasium's reset(seed=s) for seeds {seeds}"


def check_autoreset_against_reference(directory: str) -> str:
    from colony_testenvs import StateInInfo

    seeds, steps = [3, 4, 5, 6], 600
    info_keys = ["state_0", "state_1", "state_2", "state_3", "absent"]
    actions = np.random.default_rng(0).integers(0, 2, (steps, len(seeds)))
    first, reference = same_step_reference("CartPole-v1", seeds, actions, wrappers=[StateInInfo], info_keys=info_keys)
    host = Host(directory, {"id": "CartPole-v1", "count": 4, "wrappers": ["colony_testenvs:StateInInfo"],
                            "info_keys": info_keys})
    try:
        episodes, _ = compare_run(host, seeds, actions, first, reference)
        assert all(np.isnan(expected[6][:, 4]).all() and not np.isnan(expected[6][:, :4]).any() for expected in reference)
        assert host.close() == 0
    finally:
        host.kill()
    return f"{steps} steps x 4 envs identical to the in-process reference ({episodes} episodes ended, info [4, 5])"


def check_box_actions(directory: str) -> str:
    seeds, steps = [1, 2], 450  # Pendulum truncates at 200 steps: two truncations per env
    actions = np.random.default_rng(1).uniform(-2, 2, (steps, len(seeds), 1)).astype(np.float32)
    first, reference = same_step_reference("Pendulum-v1", seeds, actions)
    host = Host(directory, {"id": "Pendulum-v1", "count": 2})
    try:
        assert host.spec()["action_space"] == {"type": "box", "shape": [1], "dtype": "float32", "low": -2.0, "high": 2.0}
        _, truncations = compare_run(host, seeds, actions, first, reference)
        assert truncations == 4, truncations
        error = host.error(STEP, [np.array([[0.5], [np.nan]], np.float32)])
        assert error["env_index"] is None and "not finite" in error["message"], error
        assert host.close() == 0
    finally:
        host.kill()
    return f"{steps} steps of f32 [2, 1] actions identical to the reference ({truncations} truncations); NaN action refused"


def check_atari(directory: str) -> str:
    host = Host(directory, {"id": "ALE/Pong-v5", "count": 2, "kwargs": {"frameskip": 1}, "info_keys": ["lives"],
                            "wrappers": ["AtariPreprocessing(frame_skip=1)", "FrameStackObservation(stack_size=4)"]})
    try:
        spec = host.spec()
        space = spec["observation_space"]
        assert space == {"type": "box", "shape": [4, 84, 84], "dtype": "uint8", "low": 0, "high": 255}, space
        assert spec["action_space"] == {"type": "discrete", "n": 6, "start": 0}
        # No time limit is registered, but ALE ends a game itself after 108,000 frames, wrappers or not.
        assert spec["max_episode_steps"] is None and spec["episode_frame_limit"] == 108_000, spec
        observations = host.reset([1, 2])
        assert observations.dtype == np.uint8 and observations.shape == (2, 4, 84, 84)
        for _ in range(20):
            result = host.step(np.array([2, 3], np.int64))
        assert result[0].shape == (2, 4, 84, 84) and result[0].dtype == np.uint8
        assert result[6].shape == (2, 1) and np.all(result[6] == 0)  # Pong reports lives = 0
        assert host.close() == 0
    finally:
        host.kill()
    return f"observations u8 {list(result[0].shape)}, spec {json.dumps(space)}"


def check_shared_observations(directory: str) -> str:
    """uint8 frames go to the configured shared file and step replies leave them out; float observations
    stay on the wire; the host removes a file it made when it exits; a relative path is a build error."""
    if not os.access("/dev/shm", os.W_OK):
        return "skipped: no writable /dev/shm"
    path = f"/dev/shm/colony-envhost-check-{os.getpid()}"
    config = {"id": "ALE/Pong-v5", "count": 2, "kwargs": {"frameskip": 1}, "shared_observations": path,
              "wrappers": ["AtariPreprocessing(frame_skip=1)", "FrameStackObservation(stack_size=4)"]}
    host, wired = Host(directory, config), Host(directory, {**config, "shared_observations": None})
    try:
        assert host.spec()["shared_observations"] == path and wired.spec()["shared_observations"] is None
        segment = np.memmap(path, np.uint8, "r", shape=(2, 4, 84, 84))
        assert np.array_equal(host.reset([5, 6]), wired.reset([5, 6]))
        for step in range(30):
            actions = np.array([step % 6, (step * 5) % 6], np.int64)
            shared, sent = host.step(actions), wired.step(actions)
            assert len(shared) == 6 and len(sent) == 7, (len(shared), len(sent))
            assert np.array_equal(segment, sent[0]), f"step {step}: the shared frames differ from the sent ones"
            assert all(np.array_equal(a, b) for a, b in zip(shared, sent[1:]))
        assert host.close() == 0 and wired.close() == 0
        assert not os.path.exists(path), "the host left its shared file behind"
    finally:
        host.kill()
        wired.kill()
    floats = Host(directory, {"id": "CartPole-v1", "count": 2, "shared_observations": path})
    try:
        assert floats.spec()["shared_observations"] is None and floats.reset([1, 2]).dtype == np.float32
        assert len(floats.step(np.array([0, 1], np.int64))) == 7
        assert floats.close() == 0
    finally:
        floats.kill()
    relative = Host(directory, {"id": "CartPole-v1", "count": 1, "shared_observations": "shm/frames"})
    try:
        assert "absolute path" in relative.error(SPEC_REQUEST, [control({})])["message"]
    finally:
        relative.kill()
    return "30 Pong steps: frames in shared memory equal frames sent; CartPole stays on the wire"


def check_dict_flattening(directory: str) -> str:
    import gymnasium
    import colony_testenvs  # noqa: F401 - registers DictObs-v0

    host = Host(directory, {"id": "colony_testenvs:DictObs-v0", "count": 2})
    try:
        spec = host.spec()
        assert spec["observation_space"]["shape"] == [12] and spec["observation_space"]["dtype"] == "float32"
        assert spec["observation_space"]["low"] == [0.0] * 9 + [1.0, -1.0, -1.0]
        assert spec["observation_space"]["high"] == [255.0] * 9 + [3.0, 1.0, 1.0]
        layout = [(leaf["path"], leaf["offset"], leaf["shape"], leaf["dtype"]) for leaf in spec["observation_layout"]]
        assert layout == [("image", 0, [3, 3, 1], "uint8"), ("mode", 9, [], "int64"), ("position", 10, [2], "float32")]
        assert spec["observation_layout"][1]["space"] == {"type": "discrete", "n": 3, "start": 1}
        assert spec["dropped_leaves"] == []

        def flat(observation: dict) -> np.ndarray:
            return np.concatenate([observation["image"].ravel(), [observation["mode"]], observation["position"]]).astype(np.float32)

        reference = [gymnasium.make("DictObs-v0") for _ in range(2)]
        expected = np.stack([flat(env.reset(seed=seed)[0]) for env, seed in zip(reference, [7, 8])])
        assert np.array_equal(host.reset([7, 8]), expected)
        for step in range(1, 11):
            result = host.step(np.array([0, 1], np.int64))
            outcomes = [env.step(action) for env, action in zip(reference, [0, 1])]
            if step < 10:
                assert np.array_equal(result[0], np.stack([flat(outcome[0]) for outcome in outcomes]))
        assert list(result[2]) == [1, 1] and list(result[4]) == [0, 1] and list(result[1]) == [0.0, 1.0]
        assert np.array_equal(result[5], np.stack([flat(outcome[0]) for outcome in outcomes]))
        assert host.close() == 0
    finally:
        host.kill()
    return f"float32 [12], layout {layout}"


def check_minigrid_drops_mission(directory: str) -> str:
    host = Host(directory, {"id": "MiniGrid-Empty-5x5-v0", "count": 1})
    try:
        spec = host.spec()
        assert spec["dropped_leaves"] == ["mission"] and spec["observation_space"]["shape"] == [148]
        assert host.reset([0]).shape == (1, 148)
        assert host.close() == 0
    finally:
        host.kill()
    return "Dict(direction, image, mission) -> float32 [148], dropped ['mission']"


def check_raising_env(directory: str) -> str:
    host = Host(directory, {"id": "colony_testenvs:RaiseOnStep-v0", "count": 2, "kwargs": {"fail_at": 3},
                            "first_index": 10})
    try:
        host.reset([0, 1])
        host.step(np.zeros(2, np.int64))
        host.step(np.zeros(2, np.int64))
        try:
            host.step(np.zeros(2, np.int64))
            raise AssertionError("step 3 did not fail")
        except HostError as failure:
            error = failure.error
        assert error["message"] == "RuntimeError: deliberate failure at step 3", error["message"]
        assert error["exception"] == "RuntimeError" and error["env_index"] == 0  # in the host; the client adds first_index
        assert "Traceback" in error["traceback"] and "in misbehave" in error["traceback"]
        assert host.spec()["count"] == 2  # still serving
        assert host.close() == 0
    finally:
        host.kill()
    return f"envError {json.dumps({key: error[key] for key in ('message', 'exception', 'env_index')})}"


def check_nan_observation(directory: str) -> str:
    host = Host(directory, {"id": "colony_testenvs:NaNObs-v0", "count": 3, "first_index": 4})
    try:
        host.reset()
        host.step(np.zeros(3, np.int64))
        try:
            host.step(np.zeros(3, np.int64))
            raise AssertionError("a NaN observation was sent")
        except HostError as failure:
            error = failure.error
        assert error["env_index"] == 0 and "environment 4 " in error["message"], error  # the message names the global index
        assert "non-finite observation" in error["message"], error
        assert host.close() == 0
    finally:
        host.kill()
    return error["message"]


def check_unknown_module(directory: str) -> str:
    host = Host(directory, {"id": "nosuchmodule:Bar-v0", "count": 2})
    try:
        error = host.error(SPEC_REQUEST, [control({})])
        status = host.wait()
    finally:
        host.kill()
    expected = "cannot make 'nosuchmodule:Bar-v0': ModuleNotFoundError: No module named 'nosuchmodule'"
    assert error["message"].startswith(expected) and "\n" not in error["message"], error["message"]
    assert error["env_index"] is None and error["exception"] == "ModuleNotFoundError" and "Traceback" in error["traceback"]
    assert status == 3, status
    assert error["message"] in host.stderr, host.stderr
    return f"exit {status}: {error['message']}"


def check_malformed_requests(directory: str) -> str:
    host = Host(directory, {"id": "CartPole-v1", "count": 2})
    good = encode(STEP, [np.zeros(2, np.int64)], 0)
    cases = {
        "bad magic": lambda s: [b"XXXX" + encode(STEP, [np.zeros(2, np.int64)], s)[0][4:], good[1]],
        "frame count": lambda s: encode(STEP, [np.zeros(2, np.int64)], s)[:1],
        "trailing header bytes": lambda s: [encode(STEP, [np.zeros(2, np.int64)], s)[0] + b"\0", good[1]],
        "byte length": lambda s: [encode(STEP, [np.zeros(2, np.int64)], s)[0], good[1][:8]],
        "unknown type": lambda s: encode(999, [], s),
        "unexpected type": lambda s: encode(16, [], s),
        "action dtype": lambda s: encode(STEP, [np.zeros(2, np.float32)], s),
        "action shape": lambda s: encode(STEP, [np.zeros(3, np.int64)], s),
        "action range": lambda s: encode(STEP, [np.array([0, 2], np.int64)], s),
        "seeds shape": lambda s: encode(RESET, [np.zeros(5, np.int64)], s),
        "spec payload": lambda s: encode(SPEC_REQUEST, [np.frombuffer(b"{no", np.uint8)], s),
        "render without mode": lambda s: encode(RENDER, [np.zeros(1, np.int64)], s),
    }
    messages = {}
    try:
        host.reset([0, 1])
        for name, frames in cases.items():
            reply_type, reply = host.send_frames(frames(host.sequence), readable_header=name != "bad magic")
            assert reply_type == ERROR, (name, reply_type)
            error = payload(reply)
            assert error["env_index"] is None and "\n" not in error["message"], (name, error)
            messages[name] = error["message"]
        result = host.step(np.array([1, 0], np.int64))  # still serving, state intact
        assert result[0].shape == (2, 4)
        assert host.close() == 0
    finally:
        host.kill()
    return "\n".join(f"    {name}: {message}" for name, message in messages.items())


def check_render(directory: str) -> str:
    host = Host(directory, {"id": "CartPole-v1", "count": 2, "render_mode": "rgb_array"})
    try:
        host.reset([0, 1])
        frame = host.request(RENDER, [np.array([1], np.int64)], FRAME)[0]
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3, frame.shape
        assert host.close() == 0
    finally:
        host.kill()
    return f"rgb_array frame u8 {list(frame.shape)}"


def check_crash(directory: str) -> str:
    host = Host(directory, {"id": "colony_testenvs:CrashOnStep-v0", "count": 1, "kwargs": {"crash_at": 2}})
    try:
        host.reset()
        host.step(np.zeros(1, np.int64))
        host.socket.send_multipart(encode(STEP, [np.zeros(1, np.int64)], host.sequence))
        status = host.wait()
    finally:
        host.kill()
    assert status == -signal.SIGKILL, status
    return f"host died with status {status} (SIGKILL) at step 2"


def check_idle_timeout(directory: str) -> str:
    host = Host(directory, {"id": "CartPole-v1", "count": 1}, "--idle-timeout", "2")
    start = time.monotonic()
    try:
        status = host.wait()
    finally:
        host.kill()
    assert status == 0 and "no request" in host.stderr, (status, host.stderr)
    return f"exited {status} after {time.monotonic() - start:.1f} s without requests"


def check_orphan_exits(directory: str) -> str:
    """The host's parent (a shell) exits at once; the host must notice within a few seconds even
    while an environment hangs in step()."""
    context = zmq.Context.instance()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    endpoint = f"ipc://{directory}/orphan.ipc"
    socket.bind(endpoint)
    config = json.dumps({"id": "colony_testenvs:HangOnStep-v0", "count": 1, "kwargs": {"hang_at": 1}})
    command = f"{sys.executable} -m colony_envhost --connect {endpoint} --config '{config}' 2>/dev/null & echo $!; sleep 3"
    shell = subprocess.Popen(["sh", "-c", command], env={**os.environ, "PYTHONPATH": PYTHONPATH},
                             stdout=subprocess.PIPE, text=True)
    pid = int(shell.stdout.readline())
    socket.send_multipart(encode(RESET, [], 0))
    assert socket.poll(60_000), "no reply to reset"
    socket.recv_multipart()
    socket.send_multipart(encode(STEP, [np.zeros(1, np.int64)], 1))  # hangs for an hour
    shell.wait()
    start = time.monotonic()
    while time.monotonic() - start < 10:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        raise AssertionError("the orphaned host is still running")
    socket.close()
    return f"orphaned host (hung in step) exited {time.monotonic() - start:.1f} s after its parent"


CHECKS = [check_cartpole_spec, check_seeded_reset, check_autoreset_against_reference, check_box_actions, check_atari,
          check_shared_observations,
          check_dict_flattening, check_minigrid_drops_mission, check_raising_env, check_nan_observation,
          check_unknown_module, check_malformed_requests, check_render, check_crash, check_idle_timeout,
          check_orphan_exits]


def main() -> int:
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="colony-envhost-") as directory:
        for check in CHECKS:
            name = check.__name__.removeprefix("check_")
            start = time.monotonic()
            try:
                detail = check(directory)
            except Exception:  # noqa: BLE001 - report every check, then fail
                failed += 1
                print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
                continue
            passed += 1
            print(f"ok   {name} ({time.monotonic() - start:.1f} s): {detail}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
