"""Three ways to run K seeds' training rounds in one process, timed: which does population training use?

Each seed is the default takeoff run's fused rollout (:class:`quadcopter.fused.FusedTakeoff`: 16 takeoffs, 4
steps and 64 updates per round, the takeoff preset). After the buffers pass the warmup, it times ``--rounds``
rounds of every seed, made

- ``sequential``: one seed's compiled round after another, on one thread;
- ``threads``: the same calls from a pool of one thread per CPU core (TensorFlow lets go of Python while a
  compiled call runs, so each core runs a seed's round);
- ``one-call``: every seed's round in one compiled call (one ``tf.function(jit_compile=True)`` that runs the K
  rounds' graphs).

It prints the milliseconds per round of one seed (all seeds' time over K) and the time to the first timed
round (tracing and compiling). Stacked weights, one batched update for all seeds, are timed apart
(``bench_population_estimate.py``).

    python benchmarks/bench_population_ways.py [--seeds 10] [--rounds 40] [--ways sequential threads one-call]
        [--intra-op-threads 1]
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import tensorflow as tf

from quadcopter.machine import cpu_name
from quadcopter.presets import takeoff_config
from quadcopter.settings import TrainSettings
from quadcopter.train_parts import device_name
from quadcopter.training import make_agent, make_rollout

WARMUP_ROUNDS = 20
"""Rounds before the timed ones: 20 rounds of 64 transitions pass the preset's warmup of 1,000."""


def rollouts(k: int, settings: TrainSettings) -> list:
    """The fused rollouts of seeds 0 to k - 1, made one after the other, as population training makes them."""
    return [make_rollout(make_agent(takeoff_config(seed, settings.dynamics), settings), settings) for seed in range(k)]


def rounds_of(way: str, members: list, settings: TrainSettings):
    """A function that makes one round of every member, the ``way`` given."""
    steps, updates = settings.steps_per_round, settings.updates_per_round
    if way == "sequential":
        return lambda: [member.round(steps, updates) for member in members]
    if way == "threads":
        pool = ThreadPoolExecutor(min(len(members), os.cpu_count() or 1))
        return lambda: list(pool.map(lambda member: member.round(steps, updates), members))
    graphs = [member._round_graph for member in members]
    one_call = tf.function(lambda: [graph(steps, updates) for graph in graphs], jit_compile=True)
    return lambda: one_call()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="K, the seeds run together")
    parser.add_argument("--rounds", type=int, default=40, help="timed rounds of every seed")
    parser.add_argument("--ways", nargs="+", default=["sequential", "threads", "one-call"])
    parser.add_argument(
        "--intra-op-threads", type=int, default=0, help="TensorFlow's threads within an operation (0: its default)"
    )
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_op_threads)
    settings = TrainSettings().validate()
    threads = args.intra_op_threads or "default"
    print(f"# {cpu_name()}; {device_name()}; {time.strftime('%Y-%m-%d')}; TensorFlow {tf.__version__}", end="")
    print(f"; intra-op threads: {threads}")
    print("| way | seeds | ms per round of one seed | s to the first timed round |")
    print("|---|---:|---:|---:|")
    for way in args.ways:
        for k in sorted({1, args.seeds}) if way == "sequential" else [args.seeds]:
            start = time.perf_counter()
            step_all = rounds_of(way, rollouts(k, settings), settings)
            for _ in range(WARMUP_ROUNDS):
                step_all()
            ready = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(args.rounds):
                step_all()
            per_round = (time.perf_counter() - start) / args.rounds / k
            print(f"| {way} | {k} | {per_round * 1e3:.2f} | {ready:.1f} |", flush=True)


if __name__ == "__main__":
    main()
