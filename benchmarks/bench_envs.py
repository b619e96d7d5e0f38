"""Gymnasium environment speed: agent steps per second of the takeoff env, one env, N copies under
``gymnasium.make_vec(..., vectorization_mode="sync")``, and the native ``QuadcopterVectorEnv``.

    python benchmarks/bench_envs.py [--seconds 3] [--num-envs 16 256]

Each agent step is 3 simulator steps (action_repeat). Actions are near hover with small random
rotor differences (so episodes last), drawn in advance; episodes restart automatically.
Aggregate steps/s = environments x steps / wall time.
"""

import argparse
import os
import time

import gymnasium
import numpy as np

from quadcopter.envs import QuadcopterVectorEnv
from quadcopter.machine import cpu_name

TAKEOFF = "quadcopter.envs:QuadcopterTakeoff-v5"


def actions(rng, shape):
    """64 batches of actions just above hover (-0.1 in normalised units), with small rotor differences."""
    return (-0.05 + rng.uniform(-0.002, 0.002, (64,) + shape)).astype(np.float32)


def single_env_rate(seconds, rng):
    env = gymnasium.make(TAKEOFF)
    env.reset(seed=0)
    batch = actions(rng, (4,))
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in batch:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        steps += len(batch)
    return steps / (time.perf_counter() - start)


def vector_env_rate(vec, seconds, rng):
    vec.reset(seed=0)
    batch = actions(rng, (vec.num_envs, 4))
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for action in batch:
            vec.step(action)
        steps += len(batch)
    rate = steps * vec.num_envs / (time.perf_counter() - start)
    vec.close()
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--num-envs", type=int, nargs="+", default=[16, 256])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"# CPU ({cpu_name()}, {os.cpu_count()} cores; numpy only), {time.strftime('%Y-%m-%d')}; "
        f"gymnasium {gymnasium.__version__}"
    )
    print("| environment | envs | agent steps/s | vs. one env |")
    print("|---|---:|---:|---:|")
    single = single_env_rate(args.seconds, rng)
    print(f"| `gymnasium.make` (one env) | 1 | {single:,.0f} | 1.0x |", flush=True)
    for n in args.num_envs:
        sync = vector_env_rate(gymnasium.make_vec(TAKEOFF, num_envs=n, vectorization_mode="sync"), args.seconds, rng)
        print(f'| `make_vec(..., "sync")` | {n} | {sync:,.0f} | {sync / single:.1f}x |', flush=True)
        native = vector_env_rate(QuadcopterVectorEnv(num_envs=n), args.seconds, rng)
        print(f"| `QuadcopterVectorEnv` (native) | {n} | {native:,.0f} | {native / single:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
