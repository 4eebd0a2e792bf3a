"""Reference replay server: DeepMind Reverb (dm-reverb) on the workload of `colony-bench replay`.

A Reverb server in a child process (so the client really goes through localhost gRPC; in one process
Reverb's sampler bypasses it) with one table: Prioritized(0.6) sampler, FIFO remover, max_size
CAPACITY, MinSize(1) rate limiter (no limiting). The Python client fills it to capacity (at most
FILL_SECONDS; a note says when it stopped short), then inserts CartPole transitions (11 float32 each,
one item and one priority per transition, as Colony stores them) in batches of 64 through a
TrajectoryWriter:
- insert_64_sync: flush after each batch (wait until the server has all 64);
- insert_64_pipelined: at most 8 batches unconfirmed (flush(block_until_num_items=8 * 64));
- sample_256: batches of 256 from a reverb.TrajectoryDataset (tf.data, the way Acme's learners sample);
- update_256_sample_256: mutate_priorities of the last 256 keys, then a batch of 256.
Rates are transitions/s; bytes_per_item is the server process's RSS growth per item while filling.
Prints one JSON object (a failure to import or run is a note, never an exception).

    python reverb_replay.py SECONDS CAPACITY
"""
import json
import multiprocessing
import os
import sys
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
CAPACITY = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
FILL_SECONDS = 120.0
ITEM = 11
TABLE = "replay"


def resident_bytes(pid):
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def serve(capacity, connection):
    """The child process: a Reverb server until the parent says stop."""
    import reverb
    server = reverb.Server(tables=[reverb.Table(
        name=TABLE, sampler=reverb.selectors.Prioritized(0.6), remover=reverb.selectors.Fifo(),
        max_size=capacity, rate_limiter=reverb.rate_limiters.MinSize(1))])
    connection.send(server.port)
    connection.recv()
    server.stop()


def main():
    try:
        import numpy as np
        import reverb
        import tensorflow as tf
        from importlib.metadata import version
    except Exception as error:  # ImportError, or a broken TensorFlow install
        return {"notes": [f"{type(error).__name__}: {error}"]}

    notes = []
    rng = np.random.default_rng(2)
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(target=serve, args=(CAPACITY, child), daemon=True)
    process.start()
    try:
        if not parent.poll(120):
            return {"notes": ["Reverb server did not start within 120 s"]}
        port = parent.recv()
        resident_before = resident_bytes(process.pid)
        client = reverb.Client(f"localhost:{port}")
        writer = client.trajectory_writer(num_keep_alive_refs=64)

        def insert_batch(rows, priorities, block_until):
            for row, priority in zip(rows, priorities):
                writer.append({"transition": row})
                writer.create_item(TABLE, float(priority), {"transition": writer.history["transition"][-1]})
            writer.flush(block_until_num_items=block_until)

        rows = rng.random((64, ITEM), dtype=np.float32)
        priorities = rng.random(64) + 0.01
        fill_start = time.perf_counter()
        filled = 0
        while filled < CAPACITY and time.perf_counter() - fill_start < FILL_SECONDS:
            insert_batch(rows, priorities, 8 * 64)
            filled += 64
        writer.flush()
        fill_seconds = time.perf_counter() - fill_start
        size = client.server_info()[TABLE].current_size
        bytes_per_item = (resident_bytes(process.pid) - resident_before) / max(1, size)
        if size < CAPACITY:
            notes.append(f"Reverb's table held {size} of {CAPACITY} items when measured (its Python client filled "
                         f"{filled / fill_seconds:.0f} items/s; filling stops after {FILL_SECONDS:.0f} s)")

        def rate(body, per_call, round_size):
            count, start = 0, time.perf_counter()
            while True:
                for _ in range(round_size):
                    body()
                count += round_size
                elapsed = time.perf_counter() - start
                if elapsed >= SECONDS:
                    return count * per_call / elapsed

        sync = rate(lambda: insert_batch(rows, priorities, 0), 64, 10)
        start = time.perf_counter()
        count = 0
        while time.perf_counter() - start < SECONDS:
            for _ in range(10):
                insert_batch(rows, priorities, 8 * 64)
            count += 10
        writer.flush()
        pipelined = count * 64 / (time.perf_counter() - start)

        # Learners sample through tf.data (as Acme does): batches of 256, up to 512 samples in flight.
        # (The Python client's client.sample generator is some 40x slower.)
        dataset = reverb.TrajectoryDataset(
            server_address=f"localhost:{port}", table=TABLE, max_in_flight_samples_per_worker=512,
            dtypes={"transition": tf.float32}, shapes={"transition": tf.TensorShape([ITEM])}).batch(256)
        batches = iter(dataset)
        last_keys = []

        def sample():
            nonlocal last_keys
            last_keys = next(batches).info.key.numpy().tolist()

        warm_until = time.perf_counter() + 1.0  # connects, traces the dataset, fills the in-flight window
        while time.perf_counter() < warm_until:
            sample()
        samples = rate(sample, 256, 5)
        new_priorities = (rng.random(256) + 0.01).tolist()

        def update_and_sample():
            client.mutate_priorities(TABLE, updates=dict(zip(last_keys, new_priorities)))
            sample()

        updates = rate(update_and_sample, 256, 5)
        writer.close()
        return {
            "insert_64_sync": sync, "insert_64_pipelined": pipelined, "sample_256": samples,
            "update_256_sample_256": updates, "fill": filled / fill_seconds, "bytes_per_item": bytes_per_item,
            "items": float(size), "reverb_version": version("dm-reverb"), "tensorflow_version": tf.__version__, "notes": notes,
        }
    finally:
        parent.send("stop")
        process.join(30)
        if process.is_alive():
            process.kill()


if __name__ == "__main__":
    try:
        result = main()
    except Exception as error:
        result = {"notes": [f"Reverb failed: {type(error).__name__}: {error}"]}
    print(json.dumps(result))
