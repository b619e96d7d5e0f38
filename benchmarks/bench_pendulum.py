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
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
from bench_sim import cpu_name  # noqa: E402

from agents.agent import DDPG, DDPGConfig  # noqa: E402
from agents.gym_task import GymTask  # noqa: E402
from quadcopter.cli import _config_overrides  # noqa: E402

TARGET = -200.0  # issue 11's target for the mean of the last 10 of 100 episodes, on each of seeds 0, 1, 2


def train(seed, episodes, changes, agent_seed=None, episode_hook=None):
    """``episodes`` episodes of the Udacity loop on Pendulum-v1 with the default DDPG (``changes``:
    settings to change, for experiments). ``seed`` seeds the environment (so fixes every episode's
    start) and, unless ``agent_seed`` is given, the agent too (its weights, noise and batches).
    ``episode_hook(episode, agent)``, if given, is called after each episode's reset, before its first
    action (for diagnostics). Returns the agent and the episodes' returns."""
    task = GymTask(gymnasium.make("Pendulum-v1"), seed=seed)
    agent = DDPG(task, DDPGConfig(seed=seed if agent_seed is None else agent_seed).replace(**changes))
    returns = []
    for episode in range(episodes):
        state, done, total = agent.reset_episode(), False, 0.0
        if episode_hook is not None:
            episode_hook(episode, agent)
        while not done:
            action = agent.act(state)
            next_state, reward, done = task.step(action)
            agent.step(action, reward, next_state, done)
            state, total = next_state, total + reward
        returns.append(total)
    return agent, returns


def add_settings_argument(parser):
    """``--set NAME=VALUE`` (repeatable) on ``parser``: the DDPGConfig settings an experiment changes; the
    Pendulum scripts read them with ``quadcopter.cli._config_overrides``."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a DDPGConfig setting (an experiment, not the defaults)",
    )


def run_header(settings, episodes):
    """The first line of a Pendulum script's output: machine, gymnasium, date, the ``--set`` settings
    (a list of "NAME=VALUE") and the episodes a run trains for."""
    return (
        f"# {cpu_name()}, {os.cpu_count()} cores, gymnasium {gymnasium.__version__}, {time.strftime('%Y-%m-%d')}; "
        f"default DDPGConfig{', ' + ', '.join(settings) if settings else ''}, {episodes} episodes"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument(
        "--agent-offsets", type=int, nargs="+", default=None, metavar="K", help="seed the agent with seed + K, per K"
    )
    add_settings_argument(parser)
    args = parser.parse_args()
    changes = _config_overrides(args.set)
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
