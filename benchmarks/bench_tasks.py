"""Does ``train --task NAME`` learn every built-in task, and in about the takeoff's time? For each task,
dynamics and seed, runs ``python -m quadcopter train --task NAME --seed S --dynamics D`` as a user does (a
fresh process, default settings), and prints one table row per run: the process's wall time, and the
final actor's (as training left it) success over the task's 100 evaluation episodes (starts that training
never saw), flown as long as its training episodes (10 s; the landing's 15 s), and over the long hold (the
same rule flown to 30 s).

    python benchmarks/bench_tasks.py [--tasks hover reach] [--seeds 0 1 ...] [--dynamics udacity rigid_body]
        [--jobs 2] [--out runs/bench-tasks]

``--jobs 2`` runs two trainings at once (one per core): the success figures are the same (the budget
counts environment steps), the wall times are longer than alone. Compare wall times with ``--jobs 1``.
A summary line per task and dynamics counts the seeds whose final actor reaches 95%. With ``reach``, each
seed's final actor then flies the built-in courses (``quadcopter/course.py``), one table row per flight.
"""

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from quadcopter.dynamics import DYNAMICS
from quadcopter.task_specs import TASKS
from quadcopter.train_parts import device_name


def run(task, dynamics, seed, out, extra):
    """Train one run in a fresh process; returns (wall s, the final actor's summary)."""
    folder = out / f"{task}-{dynamics}-seed{seed}"
    command = [sys.executable, "-m", "quadcopter", "train", "--task", task, "--dynamics", dynamics]
    command += ["--seed", str(seed), "--out", str(folder), "--overwrite", "--no-progress", *extra]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return wall, json.loads((folder / "evaluation.json").read_text())["final"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=[name for name in TASKS if name != "takeoff"])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--dynamics", nargs="+", default=list(DYNAMICS), choices=DYNAMICS)
    parser.add_argument("--jobs", type=int, default=2, help="trainings at once (default: 2, one per core)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-tasks"))
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more train flags, e.g. --set tau=0.002")
    args = parser.parse_args()
    print(f"# {device_name()}, {time.strftime('%Y-%m-%d')}; {args.jobs} training(s) at once")
    print("| task | dynamics | seed | wall (s) | final, training length | final 30 s | final mean return |")
    print("|---|---|---:|---:|---:|---:|---:|")
    jobs = [(task, dynamics, seed) for task in args.tasks for dynamics in args.dynamics for seed in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda job: run(*job, args.out, args.extra), jobs))
    for (task, dynamics, seed), (wall, final) in zip(jobs, results):
        print(
            f"| {task} | {dynamics} | {seed} | {wall:.1f} | {final['success_rate']:.0%} | "
            f"{final['long_hold_success_rate']:.0%} | {final['mean_return']:.1f} |"
        )
    for task in args.tasks:
        for dynamics in args.dynamics:
            rows = [final for (t, d, _), (_, final) in zip(jobs, results) if (t, d) == (task, dynamics)]
            good = sum(final["success_rate"] >= 0.95 for final in rows)
            print(f"# {task}, {dynamics}: final actor >= 95% on {good} of {len(rows)} seeds")
    if "reach" in args.tasks:
        courses(args)


def courses(args):
    """Each reach run's final actor through the built-in courses: waypoints passed, crash, largest distance."""
    import keras
    import numpy as np

    import agents.actor  # noqa: F401  (registers the actor's output layer, for loading it)
    from quadcopter.course import COURSES, SWITCH_RADIUS, fly_course

    print(f"\n# the reach actors through the courses (switching within {SWITCH_RADIUS} m)")
    print("| dynamics | seed | course | passed | crashed | seconds | largest distance from the course (m) |")
    print("|---|---:|---|---:|---|---:|---:|")
    for dynamics in args.dynamics:
        flown = []
        for seed in args.seeds:
            model = keras.models.load_model(args.out / f"reach-{dynamics}-seed{seed}" / "actor_final.keras")
            act = lambda states, model=model: model(np.asarray(states, np.float32)).numpy()  # noqa: E731
            for name, course in COURSES.items():
                waypoints = course()
                _, summary = fly_course(act, waypoints, dynamics=dynamics)
                flown.append(summary["all_passed"])
                print(
                    f"| {dynamics} | {seed} | {name} | {summary['passed']} of {len(waypoints) - 1} | "
                    f"{'yes' if summary['crashed'] else 'no'} | {summary['seconds']:.1f} | "
                    f"{summary['largest_distance']:.2f} |"
                )
        print(f"# {dynamics}: every waypoint passed without a crash in {sum(flown)} of {len(flown)} course flights")


if __name__ == "__main__":
    main()
