"""`python -m colony_envhost.video --output episode.mp4 --width W --height H --fps F`: writes the raw
RGB frames (H×W×3 bytes each) read from stdin as an mp4 (imageio-ffmpeg) or a GIF, for
`colony eval --render` on image environments."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m colony_envhost.video", description=__doc__)
    parser.add_argument("--output", required=True, help="the video to write: .mp4 or .gif")
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--fps", type=float, default=30.0)
    arguments = parser.parse_args(argv)
    if arguments.width < 1 or arguments.height < 1 or not arguments.fps > 0:
        print("width, height and fps must be positive", file=sys.stderr)
        return 2
    if not arguments.output.lower().endswith((".mp4", ".gif")):
        print(f"cannot write {arguments.output}: the video must end in .mp4 or .gif", file=sys.stderr)
        return 2
    try:
        import imageio.v2 as imageio
        import numpy as np
    except ImportError as error:
        print(f"writing videos needs imageio (pip install imageio imageio-ffmpeg, or make envhost): {error}", file=sys.stderr)
        return 3

    size = arguments.width * arguments.height * 3
    frames = 0
    if arguments.output.lower().endswith(".mp4"):
        options = {"fps": arguments.fps, "macro_block_size": 1}  # any frame size, not only multiples of 16
    else:
        options = {"duration": 1000.0 / arguments.fps, "loop": 0}  # Pillow's GIF writer: ms per frame
    try:
        writer = imageio.get_writer(arguments.output, **options)
    except Exception as error:  # noqa: BLE001 - a missing ffmpeg plugin, an unwritable path
        print(f"cannot write {arguments.output}: {error}", file=sys.stderr)
        return 3
    with writer:
        while True:
            data = sys.stdin.buffer.read(size)
            if not data:
                break
            if len(data) != size:
                print(f"a truncated frame: {len(data)} of {size} bytes", file=sys.stderr)
                return 4
            writer.append_data(np.frombuffer(data, dtype=np.uint8).reshape(arguments.height, arguments.width, 3))
            frames += 1
    print(f"{frames} frames", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
