"""How well do trained actors fly bodies they did not learn on? Flies each run's final actor (as training left
it) over the evaluation's 100 takeoffs on the nominal body and on the perturbed ones issue 45 names: mass and
inertia at 0.8x and 1.2x, and actions two agent steps late; prints one row per run with the success rate by
the 10 s rule and the 30 s long hold on each, the nominal body's hover offset (the mean distance to the target
over the last 10 s of three 60 s flights, ``quadcopter.evaluation.hover_offset``), and a summary line
counting the runs at >= 95% on every body.

    python benchmarks/bench_robustness.py RUN [RUN ...] [--episodes 100]

Each RUN is a run folder of a rigid-body training (``train --dynamics rigid_body``), e.g. the ones
``benchmarks/bench_tasks.py --tasks takeoff --dynamics rigid_body --out runs/bench-tasks`` leaves.
"""

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np

import agents.actor  # noqa: F401  (registers the actor's output layer, for loading it)
from quadcopter.dynamics import check_airframe
from quadcopter.evaluation import evaluate_with_long_hold, hover_offset
from quadcopter.randomise import run_policy
from quadcopter.task_specs import load_task
from quadcopter.train_parts import device_name

BODIES = [
    ("nominal", {}, 0),
    ("mass 0.8", {"mass": 0.8}, 0),
    ("mass 1.2", {"mass": 1.2}, 0),
    ("inertia 0.8", {"inertia": 0.8}, 0),
    ("inertia 1.2", {"inertia": 1.2}, 0),
    ("delay 2", {}, 2),
]
"""(label, Airframe.scaled factors, action delay in agent steps) of each body flown."""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="run folders (rigid-body trainings)")
    parser.add_argument("--episodes", type=int, default=100, help="evaluation episodes per body (default: 100)")
    args = parser.parse_args()
    print(f"# {device_name()}, {time.strftime('%Y-%m-%d')}; final actors, {args.episodes} evaluation episodes each")
    print("| run | " + " | ".join(f"{label} 10 s / 30 s" for label, _, _ in BODIES) + " | 60 s hover offset (m) |")
    print("|---|" + "---:|" * (len(BODIES) + 1))
    robust = 0
    for run in args.runs:
        settings = json.loads((run / "settings.json").read_text())
        body = check_airframe(settings["dynamics"], settings.get("airframe", "udacity"))
        model = keras.models.load_model(run / "actor_final.keras")

        def keras_act(states, model=model):
            return model(np.asarray(states, np.float32)).numpy()

        act = run_policy(keras_act, settings)  # with its last actions, if it learned to see them

        cells, lowest = [], 1.0
        for _, factors, delay in BODIES:
            summary = evaluate_with_long_hold(
                act,
                args.episodes,
                dynamics=settings["dynamics"],
                action_repeat=settings["action_repeat"],
                runtime=settings["runtime"],
                task=load_task(settings["task"]),
                airframe=body.scaled(**factors),
                delay=delay,
            )
            cells.append(f"{summary['success_rate']:.0%} / {summary['long_hold_success_rate']:.0%}")
            lowest = min(lowest, summary["success_rate"])
        robust += lowest >= 0.95
        offset = hover_offset(
            act, dynamics=settings["dynamics"], action_repeat=settings["action_repeat"], airframe=body
        )
        print(f"| {run.name} | " + " | ".join(cells) + f" | {offset:.3f} |")
    print(f"runs at >= 95% (10 s rule) on every body: {robust} of {len(args.runs)}")


if __name__ == "__main__":
    main()
