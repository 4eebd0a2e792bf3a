"""Colony's wire format (docs/wire.md sections 1-2): frame 0 is a binary header, then one frame per tensor.

The Swift side validates everything it receives, so the host does too: `decode` checks every field
in the order docs/wire.md gives and raises `WireError` naming the first failure.
"""

from __future__ import annotations

import enum
import json
import random
import struct
from dataclasses import dataclass

import numpy as np

MAGIC = b"CLNY"
PROTOCOL_VERSION = 1
MAXIMUM_MESSAGE_BYTES = 64 << 20
MAXIMUM_TENSORS = 64
MAXIMUM_RANK = 8

# magic, version, type, run id, sender id, sequence, parameter version, tensor count.
_FIXED_HEADER = struct.Struct("<4sHHQQQQH")
FIXED_HEADER_BYTES = _FIXED_HEADER.size  # 42
_DTYPE_AND_RANK = struct.Struct("<BB")
# A whole tensor descriptor (dtype, rank, dims, byte length) per rank, for encoding in one call.
_DESCRIPTORS = [struct.Struct(f"<BB{rank}IQ") for rank in range(MAXIMUM_RANK + 1)]
_BYTE_LENGTH = struct.Struct("<Q")
_SEQUENCE_OFFSET = 24


class MessageType(enum.IntEnum):
    """Every type Colony knows (MessageType.swift); the host serves the environment family (48-58)."""

    REGISTER = 1
    REGISTERED = 2
    HEARTBEAT = 3
    HEARTBEAT_REPLY = 4
    DISCOVER = 5
    DISCOVER_REPLY = 6
    STATUS_REQUEST = 7
    STATUS_REPLY = 8
    SHUTDOWN = 9
    UNREGISTER = 10
    TRAJECTORY = 16
    GRADIENT = 17
    PARAMETERS = 18
    EPISODES = 19
    CREDIT = 20
    REPLAY_INSERT = 32
    REPLAY_SAMPLE = 33
    REPLAY_SAMPLE_REPLY = 34
    REPLAY_PRIORITY_UPDATE = 35
    ENV_SPEC_REQUEST = 48
    ENV_SPEC = 49
    ENV_RESET = 50
    ENV_OBSERVATIONS = 51
    ENV_STEP = 52
    ENV_STEP_RESULT = 53
    ENV_ERROR = 54
    ENV_RENDER = 55
    ENV_FRAME = 56
    ENV_CLOSE = 57
    ENV_CLOSED = 58

    @property
    def wire_name(self) -> str:
        """The name docs/wire.md and the Swift side use: `envSpecRequest`."""
        first, *rest = self.name.lower().split("_")
        return first + "".join(part.title() for part in rest)


# Wire dtype code -> little-endian numpy dtype, and back.
WIRE_DTYPES = {1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i4"), 4: np.dtype("<i8"), 5: np.dtype("u1")}
_CODES = {dtype: code for code, dtype in WIRE_DTYPES.items()}
DTYPE_NAMES = {1: "f32", 2: "f64", 3: "i32", 4: "i64", 5: "u8"}


class WireError(ValueError):
    """A message that breaks docs/wire.md; the host answers it with envError."""


@dataclass(frozen=True)
class Message:
    type: MessageType
    run_id: int
    sender_id: int
    sequence: int
    parameter_version: int
    tensors: tuple[np.ndarray, ...]


def describe(tensor: np.ndarray) -> str:
    """`f32 [4, 2]`, the way error messages name a tensor."""
    return f"{DTYPE_NAMES.get(_CODES.get(tensor.dtype), tensor.dtype)} {list(tensor.shape)}"


def encode(message_type: MessageType, tensors: list[np.ndarray], *, run_id: int, sender_id: int,
           sequence: int, parameter_version: int) -> list:
    """Frames of one message: the header, then each tensor's C-contiguous little-endian array."""
    parts = [_FIXED_HEADER.pack(MAGIC, PROTOCOL_VERSION, int(message_type), run_id, sender_id,
                                sequence, parameter_version, len(tensors))]
    arrays = []
    for tensor in tensors:
        array = np.ascontiguousarray(tensor)
        code = _CODES.get(array.dtype)
        if code is None or array.ndim > MAXIMUM_RANK:
            raise TypeError(f"a {array.dtype} tensor of rank {array.ndim} cannot travel (wire ranks end at {MAXIMUM_RANK})")
        parts.append(_DESCRIPTORS[array.ndim].pack(code, array.ndim, *array.shape, array.nbytes))
        arrays.append(array)
    return [b"".join(parts), *arrays]


def decode(frames: list[bytes]) -> Message:
    """A validated message whose tensors are read-only views of the frames (no copies)."""
    if not frames:
        raise WireError("no frames")
    total = sum(len(frame) for frame in frames)
    if total > MAXIMUM_MESSAGE_BYTES:
        raise WireError(f"message of {total} bytes exceeds the limit of {MAXIMUM_MESSAGE_BYTES}")
    header = frames[0]
    if len(header) < FIXED_HEADER_BYTES:
        raise WireError(f"truncated header: {len(header)} bytes, need at least {FIXED_HEADER_BYTES}")
    magic, version, raw_type, run_id, sender_id, sequence, parameter_version, count = _FIXED_HEADER.unpack_from(header)
    if magic != MAGIC:
        raise WireError(f"bad magic {magic!r}")
    if version != PROTOCOL_VERSION:
        raise WireError(f"unsupported protocol version {version}")
    try:
        message_type = MessageType(raw_type)
    except ValueError:
        raise WireError(f"unknown message type {raw_type}") from None
    if count > MAXIMUM_TENSORS:
        raise WireError(f"{count} tensors exceed the limit of {MAXIMUM_TENSORS}")
    if count != len(frames) - 1:
        raise WireError(f"header declares {count} tensors but {len(frames) - 1} tensor frames arrived")

    offset = FIXED_HEADER_BYTES
    tensors = []
    for index in range(count):
        if offset + _DTYPE_AND_RANK.size > len(header):
            raise WireError(f"truncated header: descriptor of tensor {index} runs past frame 0")
        code, rank = _DTYPE_AND_RANK.unpack_from(header, offset)
        offset += _DTYPE_AND_RANK.size
        dtype = WIRE_DTYPES.get(code)
        if dtype is None:
            raise WireError(f"tensor {index}: unknown dtype {code}")
        if rank > MAXIMUM_RANK:
            raise WireError(f"tensor {index}: rank {rank} exceeds {MAXIMUM_RANK}")
        if offset + 4 * rank + _BYTE_LENGTH.size > len(header):
            raise WireError(f"truncated header: descriptor of tensor {index} runs past frame 0")
        shape = struct.unpack_from(f"<{rank}I", header, offset)
        offset += 4 * rank
        (declared,) = _BYTE_LENGTH.unpack_from(header, offset)
        offset += _BYTE_LENGTH.size
        expected = dtype.itemsize
        for dimension in shape:
            expected *= dimension  # Python ints do not overflow; the limit below bounds them.
            if expected > MAXIMUM_MESSAGE_BYTES:
                raise WireError(f"tensor {index}: dimensions {list(shape)} overflow the message limit")
        if declared != expected:
            raise WireError(f"tensor {index}: declared {declared} bytes, dimensions {list(shape)} need {expected}")
        frame = frames[index + 1]
        if len(frame) != expected:
            raise WireError(f"tensor {index}: frame holds {len(frame)} bytes, descriptor says {expected}")
        tensors.append(np.frombuffer(frame, dtype=dtype).reshape(shape))
    if offset != len(header):
        raise WireError(f"trailing header bytes: descriptors end at {offset}, frame 0 has {len(header)}")
    return Message(message_type, run_id, sender_id, sequence, parameter_version, tuple(tensors))


def claimed_sequence(frames: list[bytes]) -> int:
    """The sequence number a (possibly invalid) request claims, so its envError still reaches the
    client, which drops replies to any other number; 0 when the header is unreadable."""
    if not frames or len(frames[0]) < FIXED_HEADER_BYTES:
        return 0
    magic, version = struct.unpack_from("<4sH", frames[0])
    if magic != MAGIC or version != PROTOCOL_VERSION:
        return 0
    return struct.unpack_from("<Q", frames[0], _SEQUENCE_OFFSET)[0]


def json_tensor(payload: dict) -> np.ndarray:
    """A control payload: UTF-8 JSON in one rank-1 u8 tensor (NaN and infinity are not JSON)."""
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True, allow_nan=False)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def control_payload(message: Message) -> dict:
    """The JSON object a control message carries."""
    if len(message.tensors) != 1 or message.tensors[0].dtype != np.uint8 or message.tensors[0].ndim != 1:
        raise WireError(f"{message.type.wire_name}: a control message carries one rank-1 u8 tensor of JSON")
    try:
        payload = json.loads(message.tensors[0].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WireError(f"{message.type.wire_name}: payload is not UTF-8 JSON ({error})") from None
    if not isinstance(payload, dict):
        raise WireError(f"{message.type.wire_name}: payload is not a JSON object")
    return payload


class Sender:
    """Stamps one process's messages: a random run id and sender id, sequence numbers from 0 (as
    Swift's WireSender does), +1 per message."""

    def __init__(self) -> None:
        self.run_id = random.randint(1, 2**64 - 1)
        self.sender_id = random.randint(1, 2**64 - 1)
        self.next_sequence = 0

    def frames(self, message_type: MessageType, tensors: list[np.ndarray], parameter_version: int = 0) -> list:
        frames = encode(message_type, tensors, run_id=self.run_id, sender_id=self.sender_id,
                        sequence=self.next_sequence, parameter_version=parameter_version)
        self.next_sequence += 1
        return frames
