"""How long does ``train --task NAME`` take against the takeoff's? Runs ``python -m quadcopter train --task
NAME`` one after the other, each in a fresh process with the default settings and nothing else running,
and prints its wall time, its training time and environment steps per second (the ``trained for`` line),
each as a ratio to the takeoff's in the same benchmark run.

    python benchmarks/bench_task_speed.py [--tasks takeoff hover reach mytasks:LowHover] [--cwd DIR]

A learner's task (``MODULE:CLASS``) is imported from ``--cwd`` (default: the current folder), where the
trainings run. The issue's target: each within 1.5 times the takeoff's.
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from quadcopter.settings import TrainSettings
from quadcopter.train_parts import device_name


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["takeoff", "hover", "reach"])
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="where the trainings run (and MODULE is)")
    args = parser.parse_args()
    print(f"# {device_name()}, {time.strftime('%Y-%m-%d')}; each task's own budget, one at a time")
    print("| task | steps | wall (s) | training (s) | env steps/s | wall / takeoff's | steps/s / takeoff's |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = None
    with tempfile.TemporaryDirectory() as folder:
        for task in args.tasks:
            command = [sys.executable, "-m", "quadcopter", "train", "--task", task, "--no-progress"]
            command += ["--out", str(Path(folder) / task.replace(":", "-"))]
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, cwd=args.cwd)
            wall = time.perf_counter() - start
            found = re.search(r"trained for ([0-9.]+) s", done.stdout)
            if done.returncode or not found:
                raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
            training = float(found.group(1))
            steps = TrainSettings.for_task(task).env_steps  # the landing trains longer (TASK_SETTINGS)
            rate = steps / training
            base = base or (wall, rate)
            ratios = f"{wall / base[0]:.2f} | {rate / base[1]:.2f}"
            print(f"| {task} | {steps:,} | {wall:.1f} | {training:.1f} | {rate:,.0f} | {ratios} |")


if __name__ == "__main__":
    main()
