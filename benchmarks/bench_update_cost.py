"""What one DDPG update of the takeoff agent costs, by batch size and by TD3's policy delay: the cheaper-update
choices of "Learning to Fly in Seconds" (fewer, larger updates; the actor and targets moved on every second
update only), measured on the update ``train`` makes.

Each setting gets the takeoff preset's agent (``takeoff_config``, Udacity dynamics) with that batch size and
``policy_delay``, a replay buffer of 20,000 random transitions, and compiled calls of as many updates as make
4,096 experiences (64 updates of 64, as a default round; 16 of 256; ...), so every setting learns from the
same number of experiences per call. It prints microseconds per update and per experience, and the ratio to
the first setting's time per experience. Run it with ``TF_NUM_INTRAOP_THREADS=1`` to time what ``train``
runs (it sets that).

    TF_NUM_INTRAOP_THREADS=1 python benchmarks/bench_update_cost.py [--batches 64 256] [--delays 1 2] [--seconds 5]
"""

import argparse
import os
import time

import numpy as np
import tensorflow as tf
from bench_agent import rate  # the speed benchmarks' timing loop (this script's folder is on sys.path)

from agents.agent import DDPG
from quadcopter.machine import cpu_name
from quadcopter.presets import takeoff_config
from quadcopter.train_parts import device_name
from quadcopter.vector_task import VectorTakeoffTask

EXPERIENCES_PER_CALL = 64 * 64
BUFFER_ROWS = 20_000


def agent_for(batch: int, delay: int) -> DDPG:
    """The takeoff agent with ``batch`` and ``policy_delay=delay``, its fast path's buffer filled."""
    task = VectorTakeoffTask(num_envs=16, rng=np.random.default_rng(0))
    agent = DDPG(task, takeoff_config(0).replace(batch_size=batch, policy_delay=delay))
    rng = np.random.default_rng(1)
    states = rng.normal(size=(BUFFER_ROWS, agent.state_size)).astype(np.float32)
    actions = rng.uniform(-1, 1, size=(BUFFER_ROWS, agent.action_size)).astype(np.float32)
    rewards = rng.normal(size=BUFFER_ROWS).astype(np.float32)
    agent.use_tensor_memory().add_batch(states, actions, rewards, states, np.zeros(BUFFER_ROWS, np.float32))
    return agent


def seconds_per_update(batch: int, delay: int, seconds: float) -> float:
    """Wall time of one update, over compiled calls of EXPERIENCES_PER_CALL / batch updates."""
    agent = agent_for(batch, delay)
    updates = max(1, EXPERIENCES_PER_CALL // batch)
    return 1.0 / rate(lambda: agent.learn_many(updates), seconds, updates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--delays", type=int, nargs="+", default=[1, 2], help="policy_delay values")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per setting (default: 5)")
    args = parser.parse_args()
    threads = os.environ.get("TF_NUM_INTRAOP_THREADS", "TensorFlow's default")
    print(
        f"# {cpu_name()}; {device_name()}; {time.strftime('%Y-%m-%d')}; TensorFlow {tf.__version__}; "
        f"intra-op threads: {threads}; takeoff preset, {EXPERIENCES_PER_CALL:,} experiences per call"
    )
    print("| batch | policy_delay | us per update | us per experience | against the first |")
    print("|---:|---:|---:|---:|---:|")
    first = None
    for batch in args.batches:
        for delay in args.delays:
            per_experience = seconds_per_update(batch, delay, args.seconds) / batch
            first = first or per_experience
            print(
                f"| {batch} | {delay} | {per_experience * batch * 1e6:.0f} | {per_experience * 1e6:.2f} | "
                f"{per_experience / first:.2f} |"
            )


if __name__ == "__main__":
    main()
