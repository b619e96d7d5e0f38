"""Do the general DDPG defaults work beyond the takeoff? ``DDPG`` at its default ``DDPGConfig`` on
Gymnasium's ``Pendulum-v1`` through the Udacity loop (``agents.gym_task.GymTask``), 100 episodes of 200
steps per seed; prints the mean return of the last 10 episodes and the wall time.

    python benchmarks/bench_pendulum.py [--seeds 0 1 2] [--episodes 100] [--agent-offsets K ...]

For scale: a random policy scores about -1,200; SB3's tuned DDPG about -150.

A seed fixes both the episodes' starts and the agent's random numbers (weights, noise, batches).
``--agent-offsets 100 101 ...`` keeps each seed's starts and seeds the agent with seed + K instead, once
per K: it measures how much of a seed's result is the agent's luck. Then the script also prints, per
seed, how many of those runs reach the target of -200, and how many offsets reach it on every seed.
"""

import argparse
import time

import numpy as np
from pendulum_common import TARGET, add_settings_argument, run_header, settings_changes, train


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument(
        "--agent-offsets", type=int, nargs="+", default=None, metavar="K", help="seed the agent with seed + K, per K"
    )
    add_settings_argument(parser)
    args = parser.parse_args()
    changes = settings_changes(args.set)
    print(run_header(args.set, args.episodes))
    if args.agent_offsets is None:
        print("| seed | mean return, last 10 episodes | wall time (s) |")
        print("|---:|---:|---:|")
        for seed in args.seeds:
            start = time.perf_counter()
            _, returns = train(seed, args.episodes, changes)
            print(f"| {seed} | {np.mean(returns[-10:]):.0f} | {time.perf_counter() - start:.0f} |", flush=True)
        return
    print("| seed | agent seed | mean return, last 10 episodes | wall time (s) |")
    print("|---:|---:|---:|---:|")
    scores = np.zeros((len(args.seeds), len(args.agent_offsets)))
    for i, seed in enumerate(args.seeds):
        for j, offset in enumerate(args.agent_offsets):
            start = time.perf_counter()
            _, returns = train(seed, args.episodes, changes, agent_seed=seed + offset)
            scores[i, j] = np.mean(returns[-10:])
            print(f"| {seed} | {seed + offset} | {scores[i, j]:.1f} | {time.perf_counter() - start:.0f} |", flush=True)
    met = scores >= TARGET
    print(f"\n| seed | runs >= {TARGET:.0f} | mean |\n|---:|---:|---:|")
    for i, seed in enumerate(args.seeds):
        print(f"| {seed} | {met[i].sum()} of {len(args.agent_offsets)} | {scores[i].mean():.1f} |")
    print(f"offsets reaching {TARGET:.0f} on every seed: {met.all(axis=0).sum()} of {len(args.agent_offsets)}")


if __name__ == "__main__":
    main()
