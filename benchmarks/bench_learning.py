"""Does the default training learn to take off and hold? Trains with the default ``train`` settings (the
takeoff preset, ``quadcopter.presets.TAKEOFF_CONFIG``) for each seed and dynamics, evaluates both actors,
and prints one table row per run.

    python benchmarks/bench_learning.py [--seeds 0 1 2 ...] [--dynamics udacity rigid_body] [--out runs/bench]

Columns: the wall time of the whole run as a user sees it (building, training, test flights, saving,
the evaluations and the plots); for the final actor (as training left it) and the selected one (the
best noise-free test flight's): the success rate over the evaluation's 100 takeoffs by the
take-off-and-hold rule (10 s episodes) and over the long hold (the same rule to 30 s); the final
actor's median altitude at the end of the 10 s takeoffs; the share of the test flights in the
last fifth of the run that scored >= 95%; and how far from the target the final actor settles when
flown for 60 s, six times its training episodes (``quadcopter.evaluation.hover_offset``: the mean
distance over the last 10 s of 3 flights; the PD controller's is under 0.02 m). The wall time does not
include that last flight. The budget counts environment steps, so every number but the time is the
same on every run of a seed.
"""

import argparse
import time
from pathlib import Path

from quadcopter.dynamics import DYNAMICS
from quadcopter.evaluation import greedy_policy, hover_offset
from quadcopter.presets import takeoff_config
from quadcopter.train_parts import device_name
from quadcopter.training import TrainSettings, finish_run, train


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=DYNAMICS)
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()
    print(f"# {device_name()}, {time.strftime('%Y-%m-%d')}; the takeoff preset and default TrainSettings")
    print(
        "| dynamics | seed | wall (s) | final 10 s | final 30 s | selected 10 s | selected 30 s | final median z (m) "
        "| tests >= 95% in the last fifth | final 60 s hover offset (m) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for dynamics in args.dynamics:
        for seed in args.seeds:
            start = time.perf_counter()
            settings = TrainSettings(dynamics=dynamics)
            out = args.out / f"{dynamics}-seed{seed}"
            # overwrite: the benchmark's own folders, replaced by each run of it
            agent, episodes = train(takeoff_config(seed, dynamics), settings, out=out, progress=False, overwrite=True)
            summaries = finish_run(agent, episodes, out, settings)
            wall = time.perf_counter() - start
            agent.set_actor_weights(episodes.attrs["final_actor_weights"])
            offset = hover_offset(greedy_policy(agent), dynamics=dynamics, action_repeat=settings.action_repeat)
            tests = episodes.attrs["tests"]
            last_fifth = tests[tests["env_steps"] >= 0.8 * settings.env_steps]
            final, selected = summaries["final"], summaries["selected"]
            print(
                f"| {dynamics} | {seed} | {wall:.0f} | {final['success_rate']:.0%} | "
                f"{final['long_hold_success_rate']:.0%} | {selected['success_rate']:.0%} | "
                f"{selected['long_hold_success_rate']:.0%} | {final['median_final_z']:.2f} | "
                f"{(last_fifth['success_rate'] >= 0.95).mean():.0%} | {offset:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
