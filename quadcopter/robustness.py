"""How well a policy flies a body that is not quite the one it learned on: ``evaluate RUN --sweep
PARAMETER=LOW:HIGH[:POINTS]`` flies the evaluation's episodes at each value of one parameter and writes a
table (CSV) and a plot of the success rates and the hold error against it.

| parameter | what changes | values |
|---|---|---|
| ``mass`` | the airframe's mass, times the value | factors in [0.1, 10] |
| ``inertia`` | its three moments of inertia, times the value | factors in [0.1, 10] |
| ``thrust`` | its rotors' thrust coefficient, times the value (worn or different propellers) | factors in [0.1, 10] |
| ``delay`` | each action applied that many agent steps late (latency) | integers in [0, 10] |

The bodies are :meth:`quadcopter.dynamics.Airframe.scaled` copies of the run's airframe (the rigid-body
dynamics; the ``udacity`` dynamics fly the original constants only, so only ``delay`` sweeps there).
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .dynamics import check_airframe
from .evaluation import EVALUATION_SEED, MAX_DELAY, evaluate_with_long_hold
from .task_specs import FlightTask
from .tasks import TAKEOFF_RUNTIME

PARAMETERS = ("mass", "inertia", "thrust", "delay")
"""What ``--sweep`` can vary."""
MAX_POINTS = 21
"""The most values one sweep flies."""
COLUMNS = ["parameter", "value", "success_rate", "long_hold_success_rate", "hold_error_m", "episodes"]
"""The table's columns: the value, the success rates by the task's rule (10 s and 30 s), the hold error (m:
how far the median final altitude is from the goal's) and the episodes flown."""


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """``"mass=0.8:1.2"`` (5 values), ``"mass=0.8:1.2:9"`` or ``"delay=0:2"`` (every integer) -> (parameter,
    values); ``ValueError`` naming what is wrong and what is accepted."""
    name, _, span = text.partition("=")
    parts = span.split(":")
    if name not in PARAMETERS or len(parts) not in (2, 3):
        raise ValueError(
            f"--sweep takes PARAMETER=LOW:HIGH[:POINTS], PARAMETER one of {list(PARAMETERS)}; got {text!r}"
        )
    try:
        low, high = float(parts[0]), float(parts[1])
        points = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise ValueError(f"--sweep {name} needs numbers LOW:HIGH[:POINTS]; got {span!r}") from None
    if name == "delay":
        if not (low.is_integer() and high.is_integer() and 0 <= low <= high <= MAX_DELAY) or points is not None:
            raise ValueError(f"--sweep delay takes whole agent steps LOW:HIGH in [0, {MAX_DELAY}]; got {span!r}")
        return name, [float(step) for step in range(int(low), int(high) + 1)]
    points = 5 if points is None else points
    if not (0.1 <= low <= high <= 10 and 1 <= points <= MAX_POINTS and (points > 1 or low == high)):
        raise ValueError(
            f"--sweep {name} takes factors 0.1 <= LOW <= HIGH <= 10 and 1 to {MAX_POINTS} POINTS (2 or more unless "
            f"LOW = HIGH); got {span!r}"
        )
    return name, [float(value) for value in np.linspace(low, high, points)]


def sweep(
    act: Callable[[np.ndarray], np.ndarray],
    parameter: str,
    values: list[float],
    settings: dict[str, Any],
    task: FlightTask,
    episodes: int = 100,
    seed: int = EVALUATION_SEED,
) -> pd.DataFrame:
    """Fly ``episodes`` evaluation episodes of ``task`` at each of ``values`` of ``parameter`` (see the module's
    table), the run's ``settings`` (a settings.json's dict: dynamics, airframe, action_repeat, runtime)
    otherwise; returns the table (:data:`COLUMNS`), one row per value."""
    dynamics = settings.get("dynamics", "udacity")
    body = check_airframe(dynamics, settings.get("airframe", "udacity"))
    if parameter != "delay" and dynamics == "udacity":
        raise ValueError(
            f"--sweep {parameter} changes the body, which the udacity dynamics keep as the original's: sweep a "
            "rigid_body run (or --sweep delay)"
        )
    rows = []
    for value in values:
        scaled = body if parameter == "delay" else body.scaled(**{parameter: value})
        summary = evaluate_with_long_hold(
            act,
            episodes,
            seed,
            dynamics,
            settings.get("action_repeat", 3),
            settings.get("runtime", TAKEOFF_RUNTIME),
            task,
            airframe=scaled,
            delay=int(value) if parameter == "delay" else 0,
        )
        error = abs(summary["median_final_z"] - float(task.target[2]))
        rows.append([parameter, value, summary["success_rate"], summary["long_hold_success_rate"], error, episodes])
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_sweep(tables: dict[str, pd.DataFrame], title: str = "") -> Figure:
    """Success rates (10 s rule and 30 s hold) and hold error against the swept value, one line per table
    ({label: :func:`sweep`'s table}, e.g. a randomised and a nominal actor side by side)."""
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    success, error = figure.subplots(1, 2)
    for k, (label, table) in enumerate(tables.items()):
        color = f"C{k}"
        success.plot(table["value"], 100 * table["success_rate"], "o-", color=color, label=f"{label}: 10 s")
        success.plot(table["value"], 100 * table["long_hold_success_rate"], "s--", color=color, label=f"{label}: 30 s")
        error.plot(table["value"], table["hold_error_m"], "o-", color=color, label=label)
    parameter = next(iter(tables.values()))["parameter"].iloc[0]
    unit = "agent steps" if parameter == "delay" else "x nominal"
    success.set(xlabel=f"{parameter} ({unit})", ylabel="success rate (%)", ylim=(-2, 102))
    error.set(xlabel=f"{parameter} ({unit})", ylabel="hold error: |median final z - goal z| (m)")
    error.set_yscale("symlog", linthresh=0.01)
    for ax in (success, error):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    figure.suptitle(title or f"Robustness to {parameter}")
    return figure
