"""Does DDPG's final actor keep the pendulum up for longer than it trained? Flights five times an episode.

Trains ``DDPG`` as ``bench_pendulum.py`` does (the default ``DDPGConfig``, 100 episodes of 200 steps), then
flies the final actor without noise for ``--steps`` steps (1,000 by default) from the 60 starts of
``pendulum_screen.py`` and the seed's own 10 scored starts. Per seed it prints the benchmark's score, how
many flights stay within 0.1 rad of upright for at least the last 200 steps and the step from which they
do (the last step outside, plus one), the largest abs angle after the first 200 steps and in the last 200, where
the flights end, and the cost a step over the last 200 steps (Pendulum-v1's angle^2 + 0.1 rate^2 +
0.001 torque^2; 0 for a pendulum held upright at rest). With ``--plot DIR`` it also writes
``DIR/pendulum_long_<seed>.png``: the angle over time of every third flight.

    python benchmarks/pendulum_long.py [--seeds 0 1 2] [--steps 1000] [--plot DIR] [--set NAME=VALUE ...]
"""

import argparse
import time
from pathlib import Path

import numpy as np
from pendulum_common import add_settings_argument, run_header, settings_changes, train
from pendulum_optimum import HORIZON, scored_starts
from pendulum_screen import actor_choice, fly_costs, screen_starts

UPRIGHT = 0.1  # rad: a flight within this of upright is held there


def long_flights(agent, starts, steps):
    """The final actor's flights without noise: abs angles (steps, n) at the start of each step, and the
    costs (n, steps)."""
    choose = actor_choice(agent)
    angles = []

    def logged(t, angle, rate):
        angles.append(np.abs(angle))
        return choose(t, angle, rate)

    costs, _, _ = fly_costs(logged, starts, steps)
    return np.array(angles), costs


def held_from(angles):
    """Per flight, the first step from which its abs angle stays below UPRIGHT to the end, or -1 if that is
    not for the last HORIZON steps at least (a pendulum swinging through upright is not held); angles
    (steps, n)."""
    outside = angles >= UPRIGHT
    last_outside = np.where(outside.any(axis=0), len(angles) - 1 - np.argmax(outside[::-1], axis=0), -1)
    return np.where(last_outside + 1 <= len(angles) - HORIZON, last_outside + 1, -1)


def plot(angles, path, title):
    """Write the angle over time of every third flight to ``path`` (a PNG)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4))
    ax = figure.subplots()
    ax.plot(angles[:, ::3], linewidth=0.6)
    ax.axvline(HORIZON, color="k", linestyle=":", label="an episode's length")
    ax.set(xlabel="step", ylabel="abs angle from upright (rad)", title=title)
    ax.legend(loc="upper right")
    figure.savefig(path, dpi=80, bbox_inches="tight")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--steps", type=int, default=1000, help="steps a flight (an episode has 200)")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="write the angle over time as PNGs here")
    add_settings_argument(parser)
    args = parser.parse_args()
    if args.steps <= 2 * HORIZON:
        parser.error(f"--steps must be more than {2 * HORIZON} (two episodes); got {args.steps}")
    changes = settings_changes(args.set)
    print(run_header(args.set, args.episodes) + f"; final actor flown {args.steps} steps without noise")
    print(
        f"| seed | score | flights | held within {UPRIGHT} rad, the last 200 steps or more | from step: median / max "
        "| max abs angle after step 200 | in the last 200 | final abs angle: median / max | cost a step, last 200 "
        "| wall time (s) |"
    )
    print("|---:|" + "---:|" * 9)
    for seed in args.seeds:
        start_time = time.perf_counter()
        agent, returns = train(seed, args.episodes, changes)
        starts = np.concatenate([screen_starts(), np.array(scored_starts(seed, args.episodes))])
        angles, costs = long_flights(agent, starts, args.steps)
        held = held_from(angles)
        by = f"{np.median(held[held >= 0]):.0f} / {held.max()}" if (held >= 0).any() else "-"
        print(
            f"| {seed} | {np.mean(returns[-10:]):.1f} | {len(starts)} | {(held >= 0).sum()} | {by} "
            f"| {angles[HORIZON:].max():.3f} | {angles[-HORIZON:].max():.3f} "
            f"| {np.median(angles[-1]):.3f} / {angles[-1].max():.3f} | {costs[:, -HORIZON:].mean():.4f} "
            f"| {time.perf_counter() - start_time:.0f} |"
        )
        if args.plot:
            args.plot.mkdir(parents=True, exist_ok=True)
            plot(angles, args.plot / f"pendulum_long_{seed}.png", f"Pendulum seed {seed}: the final actor, no noise")


if __name__ == "__main__":
    main()
