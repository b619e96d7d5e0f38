"""Does the default training learn the takeoff? Trains with the default ``train`` settings for each
seed, evaluates 100 deterministic takeoffs, and prints a table of (seed, wall time, success, median final z).

    python benchmarks/bench_learning.py [--seeds 1 2 3] [--out runs/bench]

Wall time is the whole run as a user sees it: building the agent, training, saving and evaluating.
"kept test" is the noise-free test flight whose actor train kept (when it flew, in environment steps
and in seconds of training, and its success over the 50 test takeoffs, which are other starts than
the evaluation's). The default budget counts environment steps, so a seed's numbers other than the
times are the same on every run.
"""

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.agent import DDPGConfig  # noqa: E402
from bench_sim import cpu_name  # noqa: E402
from quadcopter.training import TrainSettings, finish_run, train  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--out", type=Path, default=Path("runs/bench"))
    args = parser.parse_args()
    print(f"# {cpu_name()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; default DDPGConfig and TrainSettings")
    print("| seed | wall time (s) | episodes | kept test | success | median final z (m) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for seed in args.seeds:
        start = time.perf_counter()
        settings = TrainSettings()
        agent, episodes = train(DDPGConfig(seed=seed), settings, out=args.out / f"seed{seed}", progress=False)
        summary = finish_run(agent, episodes, args.out / f"seed{seed}", settings)
        wall = time.perf_counter() - start
        tests = episodes.attrs["tests"]
        kept = tests[tests["best"]].iloc[-1]
        print(f"| {seed} | {wall:.0f} | {len(episodes)} | {int(kept['env_steps']):,} steps ({kept['seconds']:.0f} s), "
              f"{kept['success_rate']:.0%} | "
              f"{summary['success_rate']:.0%} | "
              f"{summary['median_final_z']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
