"""The host's server loop: one DEALER connected to the Colony process that started it, one request at
a time, each answered with its reply or with envError (docs/envhost.md, "The protocol").

The host never crashes on a request: a malformed message or an environment's exception becomes
envError and the host keeps serving, so the client decides whether to restart it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback

import numpy as np
import zmq

from . import shared, wire
from .actions import RequestError
from .make import BuildError, one_line
from .vector import EnvFailure, EnvVector
from .wire import MessageType

BUILD_FAILED_STATUS = 3
_CLOSE_LINGER_MS = 2000  # time for the last reply to leave before the process exits


def error_payload(error: BaseException, env_index: int | None, message: str | None = None) -> dict:
    return {"message": message or one_line(error), "exception": type(error).__name__,
            "traceback": "".join(traceback.format_exception(error)), "env_index": env_index}


def _seeds(tensors: tuple[np.ndarray, ...], count: int) -> list[int | None]:
    """envReset: i64 [n] holding each seed's u64 bits, or no tensor for unseeded resets."""
    if not tensors:
        return [None] * count
    if len(tensors) != 1 or tensors[0].dtype != np.int64 or tensors[0].shape != (count,):
        got = ", ".join(wire.describe(tensor) for tensor in tensors)
        raise RequestError(f"envReset carries no tensor or seeds i64 [{count}], got {got}")
    return tensors[0].view(np.uint64).tolist()


def watch_parent(interval: float = 1.0) -> None:
    """Exits the process once the parent is gone (re-parented to init or a subreaper), checked from a
    thread so an orphaned host goes away even while an environment hangs in step()."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                print(f"colony_envhost: parent process {parent} is gone; exiting", file=sys.stderr, flush=True)
                shared.remove_all()
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Host:
    """Serves one vector of environments, or, when they could not be made, that error once."""

    def __init__(self, endpoint: str, vector: EnvVector | None, build_error: BuildError | None,
                 idle_timeout: float) -> None:
        self.vector = vector
        self.build_error = build_error
        self.idle_timeout = idle_timeout
        self.sender = wire.Sender()
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, wire.MAXIMUM_MESSAGE_BYTES)
        self.socket.connect(endpoint)

    def serve(self) -> int:
        """Answers requests until envClose (0), a build error was reported (3), or no request came
        within the idle timeout (0). Receives wake up every second to check the idle time."""
        self.socket.setsockopt(zmq.RCVTIMEO, 1000)
        last_request = time.monotonic()
        while True:
            try:
                frames = self.socket.recv_multipart()
            except zmq.Again:
                if time.monotonic() - last_request > self.idle_timeout:
                    print(f"colony_envhost: no request for {self.idle_timeout:g} s; exiting", file=sys.stderr, flush=True)
                    return self._shut_down(0)
                continue
            last_request = time.monotonic()
            reply_type, tensors, status = self._answer(frames)
            self.socket.send_multipart(self.sender.frames(reply_type, tensors, wire.claimed_sequence(frames)), copy=False)
            if status is not None:
                return self._shut_down(status)

    def _answer(self, frames: list[bytes]) -> tuple[MessageType, list[np.ndarray], int | None]:
        """The reply to one request, and the exit status when the host stops after sending it."""
        if self.build_error is not None:
            payload = error_payload(self.build_error.cause, None, self.build_error.message)
            return MessageType.ENV_ERROR, [wire.json_tensor(payload)], BUILD_FAILED_STATUS
        try:
            message = wire.decode(frames)
            if message.type == MessageType.ENV_CLOSE:
                wire.control_payload(message)
                self._close_envs()
                return MessageType.ENV_CLOSED, [wire.json_tensor({})], 0
            return (*self._dispatch(message), None)
        except EnvFailure as failure:
            return MessageType.ENV_ERROR, [wire.json_tensor(error_payload(failure.error, failure.env_index))], None
        except Exception as error:  # noqa: BLE001 - a bad request (or a host bug) is answered, never a crash
            return MessageType.ENV_ERROR, [wire.json_tensor(error_payload(error, None))], None

    def _dispatch(self, message: wire.Message) -> tuple[MessageType, list[np.ndarray]]:
        vector = self.vector
        if message.type == MessageType.ENV_STEP:
            return MessageType.ENV_STEP_RESULT, vector.step(message.tensors)
        if message.type == MessageType.ENV_RESET:
            return MessageType.ENV_OBSERVATIONS, vector.reset(_seeds(message.tensors, vector.count))
        if message.type == MessageType.ENV_SPEC_REQUEST:
            wire.control_payload(message)
            return MessageType.ENV_SPEC, [wire.json_tensor(vector.spec())]
        if message.type == MessageType.ENV_RENDER:
            return MessageType.ENV_FRAME, vector.render(message.tensors)
        raise RequestError(f"the environment host does not serve {message.type.wire_name} ({int(message.type)})")

    def _close_envs(self) -> None:
        """envClose is answered even when an environment fails to close: the host exits either way."""
        try:
            self.vector.close()
        except Exception as error:  # noqa: BLE001
            print(f"colony_envhost: closing the environments: {one_line(error)}", file=sys.stderr, flush=True)

    def _shut_down(self, status: int) -> int:
        shared.remove_all()
        self.socket.close(linger=_CLOSE_LINGER_MS)
        self.context.term()
        return status
