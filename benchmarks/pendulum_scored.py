"""Where the Pendulum benchmark's points go: each scored episode flown again, with and without its noise.

``bench_pendulum.py`` scores the mean return of the last 10 of 100 training episodes, flown with the
exploration noise while the actor still learns. This script trains as it does and keeps, for each of
those 10 episodes, the actor as it was when the episode began and the noise the episode drew. Then it
flies each scored start again and prints, per seed, four scores (each the mean over the ten starts, as
the benchmark's):

* trained: the returns the episodes earned (the benchmark's own score);
* frozen: the actor as it was when the episode began, without noise;
* frozen + noise: the same actor with the noise that the episode drew, but without the updates made
  during the episode (so "trained" against "frozen + noise" is what those updates did, and "frozen +
  noise" against "frozen" is what the noise did);
* final: the actor as training left it, without noise.

Below each score, the ten episodes' gaps to the near-optimal controller of ``pendulum_optimum.py``
(a gap of about 100 or more is a swing lost). Then the controller itself on the same starts: without
noise, and with ``--draws`` draws of Gaussian noise of the agent's ``noise_sigma`` added to its
normalised torque as the agent adds its noise (``DDPG.add_noise``), which is the best that a policy
flown with that noise can be expected to score there. At the end, a table of each seed's score and the
controller's without noise, and the mean gap between them over the seeds (the target of
``bench_pendulum.py``, -200, allows gaps of 30, 18 and 13 on seeds 0, 1 and 2).

    python benchmarks/pendulum_scored.py [--seeds 0 1 2] [--agent-offset 0] [--draws 20] [--set NAME=VALUE ...]
"""

import argparse
import time

import numpy as np
from pendulum_common import add_settings_argument, run_header, settings_changes, train
from pendulum_optimum import HORIZON, MAX_TORQUE, controller, scored_starts, value_tables
from pendulum_screen import actor_choice, fly

SCORED = 10  # the benchmark scores the last 10 episodes


class ScoredEpisodes:
    """An ``episode_hook`` for ``bench_pendulum.train``: from episode ``first`` on, keeps the actor's weights
    at each episode's start and the exploration noise the episode draws (normalised units, (200, 1))."""

    def __init__(self, first):
        self.first = first
        self.weights, self.noise = [], []

    def __call__(self, episode, agent):
        if episode < self.first:
            return
        if not self.weights:  # wrap the noise's sample once, to record its draws from here on
            sample = agent.noise.sample

            def recorded_sample():
                draw = sample()
                self.noise[-1].append(np.array(draw))
                return draw

            agent.noise.sample = recorded_sample
        self.weights.append(agent.actor_weights())
        self.noise.append([])


def controller_choice(tables):
    """``choose`` for ``pendulum_screen.fly``: the near-optimal controller of ``pendulum_optimum.py``, its
    torques normalised to [-1, 1]."""
    torque = controller(tables)
    return lambda t, angle, rate: torque(t, angle, rate) / MAX_TORQUE


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--agent-offset", type=int, default=0, help="seed the agent with seed + this")
    parser.add_argument("--draws", type=int, default=20, help="noise draws for the controller's flights")
    add_settings_argument(parser)
    args = parser.parse_args()
    if args.draws < 1:
        parser.error(f"--draws must be an integer >= 1, got {args.draws}")
    changes = settings_changes(args.set)
    episodes = 100
    tables = value_tables()
    print(f"{run_header(args.set, episodes)}, agent seed = seed + {args.agent_offset}")
    best_choice = controller_choice(tables)
    summary = []  # (seed, score, controller's score without noise)
    for seed in args.seeds:
        start_time = time.perf_counter()
        record = ScoredEpisodes(episodes - SCORED)
        agent, returns = train(seed, episodes, changes, agent_seed=seed + args.agent_offset, episode_hook=record)
        starts = np.array(scored_starts(seed, episodes))
        trained, best = np.array(returns[-SCORED:]), fly(best_choice, starts)
        final = fly(actor_choice(agent), starts)
        frozen, frozen_noisy = np.zeros(SCORED), np.zeros(SCORED)
        for i, weights in enumerate(record.weights):
            agent.set_actor_weights(weights)
            one = starts[i : i + 1]
            frozen[i] = fly(actor_choice(agent), one)[0]
            drawn = np.array(record.noise[i]).reshape(1, HORIZON)
            frozen_noisy[i] = fly(actor_choice(agent), one, drawn, agent.add_noise)[0]
        print(f"\nseed {seed} ({time.perf_counter() - start_time:.0f} s); per episode: the gap to the controller")
        print("| flown | score | " + " | ".join(f"ep. {episodes - SCORED + i + 1}" for i in range(SCORED)) + " |")
        print("|---|---:|" + "---:|" * SCORED)
        for name, flown in (
            ("trained", trained),
            ("frozen", frozen),
            ("frozen + noise", frozen_noisy),
            ("final", final),
        ):
            print(f"| {name} | {flown.mean():.1f} | " + " | ".join(f"{gap:.0f}" for gap in best - flown) + " |")
        rng = np.random.default_rng(seed)
        sigma = agent.config.noise_sigma
        draws = [sigma * rng.standard_normal((SCORED, HORIZON)) for _ in range(args.draws)]
        noisy = np.array([fly(best_choice, starts, draw, agent.add_noise).mean() for draw in draws])
        print(
            f"controller: {best.mean():.1f} without noise; with noise {sigma}: mean {noisy.mean():.1f}, "
            f"worst {noisy.min():.1f} of {args.draws} draws",
            flush=True,
        )
        summary.append((seed, trained.mean(), best.mean()))

    print("\n| seed | score | controller, without noise | gap |\n|---:|---:|---:|---:|")
    gaps = [best_score - score for _, score, best_score in summary]
    for (seed, score, best_score), gap in zip(summary, gaps):
        print(f"| {seed} | {score:.1f} | {best_score:.1f} | {gap:.1f} |")
    print(f"| mean | | | {np.mean(gaps):.1f} |")


if __name__ == "__main__":
    main()
