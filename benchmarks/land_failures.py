"""Why a landing actor fails: each of the evaluation's 100 landing flights (15 s, the final actor of each run
folder given) sorted into the first part of ``Land``'s success rule it misses.

    python benchmarks/land_failures.py runs/land [runs/land-2 ...] [--episodes 100]

Classes, in this order: **crash** (the flight ended before 15 s: the contact rule or a bound), **not
resting** (off the ground at some step from 10 s on: touched down late, or hovering above the ground),
**off the pad** (resting, but more than ``PAD_RADIUS`` from the pad's centre), **rotors** (resting on the
pad, a rotor above ``SLOW_ROTORS`` of the hover speed), **landed** (the rule met). The table also gives the
span of the crashes' descent speeds at the crash and of the fastest rotor (x the hover speed) of the
"rotors" flights. It is how the landing's choices in ``docs/tasks.md`` were diagnosed.
"""

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from quadcopter.cli_learning import load_actor
from quadcopter.dynamics import hover_rotor_speed
from quadcopter.evaluation import fly_evaluation_flights
from quadcopter.task_specs import PAD_RADIUS, SLOW_ROTORS, Land, task_runtime

ROTORS = [f"rotor_speed{i}" for i in range(1, 5)]
JUDGED_FROM = Land.hold_from  # s


def classify(flight: pd.DataFrame, runtime: float) -> str:
    """The class of one flight (a ``fly_evaluation_flights`` DataFrame of one ``flight``)."""
    if flight["time"].iloc[-1] < runtime - 0.1:
        return "crash"
    judged = flight[flight["time"] >= JUDGED_FROM - 0.01]
    if (judged["z"] > 0.0).any():
        return "not resting"
    if (np.hypot(judged["x"], judged["y"]) > PAD_RADIUS).any():
        return "off the pad"
    if (judged[ROTORS].max(axis=1) > SLOW_ROTORS * hover_rotor_speed()).any():
        return "rotors"
    return "landed"


def run_failures(run: Path, episodes: int) -> dict:
    """The class counts of one run's final actor, and a few figures about the failures."""
    settings = json.loads((run / "settings.json").read_text())
    runtime = task_runtime("land")
    flights = fly_evaluation_flights(
        load_actor(run), episodes, dynamics=settings.get("dynamics", "udacity"), runtime=runtime, task=Land()
    )
    classes, crash_speeds, fastest_rotors = {}, [], []
    for _, flight in flights.groupby("flight"):
        kind = classify(flight, runtime)
        classes[kind] = classes.get(kind, 0) + 1
        last = flight.iloc[-1]
        if kind == "crash":
            crash_speeds.append(-last["z_velocity"])
        if kind == "rotors":
            fastest_rotors.append(flight[flight["time"] >= JUDGED_FROM][ROTORS].max(axis=1).max() / hover_rotor_speed())
    return dict(
        run=str(run),
        dynamics=settings.get("dynamics", "udacity"),
        **{name: classes.get(name, 0) for name in ("landed", "crash", "not resting", "off the pad", "rotors")},
        crash_descent=_span(crash_speeds, "m/s"),
        fastest_rotor=_span(fastest_rotors, "x hover"),
    )


def _span(values: list, unit: str) -> str:
    """The span of ``values`` as "lowest-highest unit", or "-" when there are none."""
    return f"{min(values):.2f}-{max(values):.2f} {unit}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="landing run folders (their actor_final.keras)")
    parser.add_argument("--episodes", type=int, default=100, help="evaluation flights per run (default: 100)")
    args = parser.parse_args()
    rows = [run_failures(run, args.episodes) for run in args.runs]
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[name]) for name in columns) + " |")


if __name__ == "__main__":
    main()
