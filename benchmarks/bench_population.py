"""Ten seeds in one process against one seed alone: ``train --seeds 0-9`` against ``train --seed 0``.

Runs, one after the other, each a fresh process with the default settings of the task and nothing else
running: ``python -m quadcopter train --seed FIRST`` (one seed alone), then ``python -m quadcopter train
--seeds SEEDS`` (the population). Prints the wall time of each and their ratio (issue 44's target: ten seeds
in at most 3x one seed's wall time, stretch 2x), the agent updates per second of each (all seeds' updates
over the training loop's time), and each seed's final-actor and selected-actor success on the evaluation's
100 starts, from its run folder.

    python benchmarks/bench_population.py [--seeds 0-9] [--task takeoff] [--dynamics udacity] [--out DIR]

The runs are kept in ``--out`` (default: a new temporary folder, removed at the end).
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from quadcopter.machine import cpu_name
from quadcopter.settings import parse_seeds
from quadcopter.train_parts import device_name


def timed(command: list[str]) -> tuple[float, str]:
    """Run ``command``; (wall time in s, its stdout). Exits with its stderr if it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stdout


def updates_and_seconds(folder: Path) -> tuple[int, float]:
    """(updates, seconds of the training loop) at a run's last episode (episodes.csv)."""
    last = pd.read_csv(folder / "episodes.csv").iloc[-1]
    return int(last["updates"]), float(last["seconds"])


def success(folder: Path) -> tuple[float, float]:
    """(final actor's, selected actor's) success rate in the run's evaluation.json."""
    summary = json.loads((folder / "evaluation.json").read_text())
    return summary["final"]["success_rate"], summary["selected"]["success_rate"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=parse_seeds, default=parse_seeds("0-9"))
    parser.add_argument("--task", default="takeoff")
    parser.add_argument("--dynamics", default="udacity")
    parser.add_argument("--out", type=Path, default=None, help="keep the runs here (a new folder)")
    args = parser.parse_args()
    if args.out is not None and args.out.exists():
        raise SystemExit(f"--out {args.out} exists; give a new folder (nothing there is replaced)")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        base = [sys.executable, "-m", "quadcopter", "train", "--task", args.task, "--dynamics", args.dynamics]
        base += ["--no-progress"]
        single = out / "single"
        seeds_text = ",".join(map(str, args.seeds))
        single_wall, _ = timed(base + ["--seed", str(args.seeds[0]), "--out", str(single)])
        population_wall, _ = timed(base + ["--seeds", seeds_text, "--out", str(out / "population")])
        report(args, out, single_wall, population_wall)


def report(args, out: Path, single_wall: float, population_wall: float) -> None:
    """Print the benchmark's tables from the run folders."""
    folders = [out / "population" / f"seed-{seed}" for seed in args.seeds]
    single_updates, single_seconds = updates_and_seconds(out / "single")
    counted = [updates_and_seconds(folder) for folder in folders]
    population_rate = sum(u for u, _ in counted) / max(s for _, s in counted)
    k = len(args.seeds)
    print(f"# {cpu_name()}; {device_name()}; {time.strftime('%Y-%m-%d')}; task {args.task}, {args.dynamics}")
    print("| run | wall (s) | wall / one seed's | training loop (s) | updates/s | updates/s / one seed's |")
    print("|---|---:|---:|---:|---:|---:|")
    rate = single_updates / single_seconds
    print(f"| seed {args.seeds[0]} alone | {single_wall:.1f} | 1.00 | {single_seconds:.1f} | {rate:,.0f} | 1.00 |")
    loop = max(s for _, s in counted)
    print(
        f"| {k} seeds (`--seeds {seeds_text(args.seeds)}`) | {population_wall:.1f} | "
        f"{population_wall / single_wall:.2f} | {loop:.1f} | {population_rate:,.0f} | {population_rate / rate:.2f} |"
    )
    print()
    print("| seed | final actor | selected actor |")
    print("|---:|---:|---:|")
    alone = success(out / "single")
    print(f"| {args.seeds[0]} alone | {alone[0]:.0%} | {alone[1]:.0%} |")
    for seed, folder in zip(args.seeds, folders):
        final, selected = success(folder)
        print(f"| {seed} | {final:.0%} | {selected:.0%} |")


def seeds_text(seeds: list[int]) -> str:
    """0-9 for a run of consecutive seeds, else 0,3,7."""
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 2:
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))


if __name__ == "__main__":
    main()
