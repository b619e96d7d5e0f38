"""A less noisy screen for changes to the general DDPG defaults on Pendulum: the final actor's swing-ups.

``bench_pendulum.py`` scores the mean return of the last 10 training episodes: ten starts, of which only
two or three hang down and need a swing-up, flown with exploration noise while the actor still learns.
Most of what a change can gain or lose is in those few swing-ups, so that score is noisy (a sum over
seeds 3 to 12 varies by a standard deviation of 20 with the agent's seed alone; docs/archive/experiment-log.md).

This script trains as ``bench_pendulum.py`` does, then flies the final actor without noise from 60 fixed
starts of its own: 40 hanging (abs angle 2.5 to pi rad, rate -1 to 1 rad/s) and 20 from Pendulum-v1's
whole start range. They come from a generator of their own, not from any seed's episodes, so they are
never the starts that ``bench_pendulum.py`` scores. Each flight is compared with the near-optimal
controller of ``pendulum_optimum.py`` from the same start. Per seed it prints the benchmark's own score,
the mean gap to the controller over the hanging and the other starts, and how many of the 40 hanging
starts lose more than 50 points (a swing-up that needs a swing more than the controller's costs about 100).

    python benchmarks/pendulum_screen.py [--seeds 3 4 ... 12] [--agent-offset 0] [--set NAME=VALUE ...]

``--agent-offset K`` seeds the agent with seed + K instead of seed (the starts stay the seed's): running
the defaults with a few offsets measures how much of a screen's result is the agent's luck.
"""

import argparse
import time

import gymnasium
import numpy as np
from pendulum_common import add_settings_argument, run_header, settings_changes, train
from pendulum_optimum import HANGING, HORIZON, MAX_TORQUE, controller_return, dynamics, value_tables

from agents.actor import scale_to_range

STARTS_SEED = 987654  # the screen's own starts; no benchmark seeds an environment with it
HANGING_STARTS, OTHER_STARTS = 40, 20
LOST_SWING = 50.0  # a gap to the controller above this on a hanging start: a swing lost


def screen_starts():
    """The screen's starts (angle rad, rate rad/s), shape (60, 2): 40 hanging, then 20 from Pendulum-v1's
    start range (angle in [-pi, pi], rate in [-1, 1])."""
    rng = np.random.default_rng(STARTS_SEED)
    hanging = rng.uniform(HANGING, np.pi, HANGING_STARTS) * rng.choice([-1.0, 1.0], HANGING_STARTS)
    hanging_rate = rng.uniform(-1.0, 1.0, HANGING_STARTS)
    other, other_rate = rng.uniform(-np.pi, np.pi, OTHER_STARTS), rng.uniform(-1.0, 1.0, OTHER_STARTS)
    return np.stack([np.r_[hanging, other], np.r_[hanging_rate, other_rate]], axis=1)


def fly_costs(choose, starts, steps=HORIZON, noise=None, add_noise=None):
    """Flights from ``starts`` (n, 2: angle rad, rate rad/s), all flown at once with Pendulum-v1's dynamics
    for ``steps`` steps. ``choose(t, angles, rates)`` gives the normalised torques (n,) in [-1, 1] at step
    t; with ``noise`` (n, steps), its draws are added to them as ``add_noise(normalised, draws)`` adds them
    (``DDPG.add_noise``, as the agent adds its exploration noise). Returns the per-step costs (n, steps)
    and the final angles and rates (n,)."""
    angle, rate = starts[:, 0].copy(), starts[:, 1].copy()
    costs = np.zeros((len(starts), steps))
    for t in range(steps):
        normalised = choose(t, angle, rate)
        if noise is not None:
            normalised = add_noise(normalised, noise[:, t])
        torque = scale_to_range(np.clip(normalised, -1.0, 1.0), -MAX_TORQUE, MAX_TORQUE)  # as DDPG.act maps it
        angle, rate, costs[:, t] = dynamics(angle, rate, torque)
    return costs, angle, rate


def fly(choose, starts, noise=None, add_noise=None):
    """Returns of 200-step flights (:func:`fly_costs`), shape (n,)."""
    return -fly_costs(choose, starts, noise=noise, add_noise=add_noise)[0].sum(axis=1)


def actor_choice(agent):
    """``choose`` for :func:`fly`: ``agent``'s actor without noise."""

    def choose(t, angle, rate):
        states = np.stack([np.cos(angle), np.sin(angle), rate], axis=1).astype(np.float32)
        return agent.act_normalised(states, explore=False)[:, 0]

    return choose


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(3, 13)))
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--agent-offset", type=int, default=0, help="seed the agent with seed + this")
    add_settings_argument(parser)
    args = parser.parse_args()
    changes = settings_changes(args.set)
    start_time = time.perf_counter()
    starts = screen_starts()
    tables = value_tables()
    env = gymnasium.make("Pendulum-v1")
    best = np.array([controller_return(env, tuple(start), tables) for start in starts])
    print(
        f"{run_header(args.set, args.episodes)}, agent seed = seed + {args.agent_offset}; "
        f"controller flown in {time.perf_counter() - start_time:.0f} s"
    )
    print(
        "| seed | mean return, last 10 episodes | gap to the controller, hanging starts | other starts "
        "| swings lost (of 40) | wall time (s) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    rows = []
    for seed in args.seeds:
        start_time = time.perf_counter()
        agent, returns = train(seed, args.episodes, changes, agent_seed=seed + args.agent_offset)
        gap = best - fly(actor_choice(agent), starts)
        score = np.mean(returns[-10:])
        hanging_gap, other_gap = gap[:HANGING_STARTS].mean(), gap[HANGING_STARTS:].mean()
        lost = int((gap[:HANGING_STARTS] > LOST_SWING).sum())
        rows.append((score, hanging_gap, other_gap, lost))
        print(
            f"| {seed} | {score:.0f} | {hanging_gap:.1f} | {other_gap:.1f} | {lost} "
            f"| {time.perf_counter() - start_time:.0f} |",
            flush=True,
        )
    score, hanging_gap, other_gap, lost = np.array(rows).T
    print(
        f"| sum / means | {score.sum():.0f} | {hanging_gap.mean():.1f} | {other_gap.mean():.1f} | {lost.sum():.0f} | |"
    )


if __name__ == "__main__":
    main()
