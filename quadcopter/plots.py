"""Plots of flights and training runs. Each function takes a DataFrame and returns a matplotlib Figure.

A flight DataFrame has the 17 columns of :data:`quadcopter.flight.LABELS`; an episodes
DataFrame the columns of a run's ``episodes.csv`` (episode, episode_return, success, ...).
Figures are made with ``matplotlib.figure.Figure`` (no pyplot), so they work headless and never
pile up in pyplot's list of open figures.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import dynamics as physics
from .flight import LABELS
from .task_specs import TASKS

# A target position (x, y, z) in m.
Target = tuple[float, float, float] | list[float] | np.ndarray

PANELS = [
    ("Position", "m", ["x", "y", "z"]),
    ("Velocity", "m/s", ["x_velocity", "y_velocity", "z_velocity"]),
    ("Euler angles, wrapped to [-pi, pi)", "rad", ["phi", "theta", "psi"]),
    ("Angular rates", "rad/s", ["phi_velocity", "theta_velocity", "psi_velocity"]),
    ("Rotor speeds", "rev/s", ["rotor_speed1", "rotor_speed2", "rotor_speed3", "rotor_speed4"]),
]


def plot_flight_panels(flight: pd.DataFrame, title: str = "Flight", target: Target | None = None) -> Figure:
    """The original notebook's panels over time: position, velocity, angles, angular rates, rotor speeds.

    ``target`` (x, y, z in m), when given, is drawn as dashed lines on the position panel.
    """
    figure = Figure(figsize=(9, 13), layout="constrained")
    axes = figure.subplots(len(PANELS), 1, sharex=True)
    for ax, (name, unit, columns) in zip(axes, PANELS):
        for column in columns:
            values = flight[column].to_numpy(dtype=float)
            if unit == "rad":
                # The simulator keeps angles in [0, 2 pi): a small roll to the left would jump to 6.28.
                values = np.mod(values + np.pi, 2 * np.pi) - np.pi
            ax.plot(flight["time"], values, label=column)
        ax.set_ylabel(f"{name} ({unit})")
        ax.grid(alpha=0.3)
    if target is not None:
        for value, color in zip(target, ["C0", "C1", "C2"]):
            axes[0].axhline(value, color=color, linestyle="--", linewidth=1)
    for ax in axes:
        ax.legend(loc="upper left", fontsize="small", ncol=4)
    axes[-1].set_xlabel("time (s)")
    figure.suptitle(title)
    return figure


def plot_reward_curve(
    episodes: pd.DataFrame,
    window: int = 100,
    tests: pd.DataFrame | None = None,
    actor_lr_step: tuple[int, float] | None = None,
    task: str = "takeoff",
) -> Figure:
    """Training against environment steps: episode returns with a moving average (top), the moving
    success rate of the training episodes (bottom) and, given ``tests`` (tests.csv), each test
    flight's mean return and success rate, with the test whose actor was kept (the selected actor)
    starred.

    ``episodes``: a DataFrame with the columns env_steps, episode_return, success (episodes.csv);
    without env_steps (an older run's episodes.csv) the x axis counts episodes and the tests are left out.
    ``actor_lr_step``: (environment steps, factor), the run's ``TrainSettings.late_actor_lr_from`` and
    ``late_actor_lr_factor``: a dotted line where the actor's learning rate was multiplied by the factor
    (drawn if the run got there and the factor is not 1, which leaves the rate as it was). ``task``: the
    run's task, in the title.
    """
    figure = Figure(figsize=(9, 7), layout="constrained")
    returns, success = figure.subplots(2, 1, sharex=True)
    by_steps = "env_steps" in episodes.columns
    steps = episodes["env_steps"] if by_steps else episodes["episode"]
    if not by_steps:
        tests = None
    returns.plot(
        steps, episodes["episode_return"], ".", markersize=2, alpha=0.3, color="C0", label="training episode return"
    )
    returns.plot(
        steps,
        episodes["episode_return"].rolling(window, min_periods=1).mean(),
        color="C0",
        label=f"mean of last {window} training episodes",
    )
    success.plot(
        steps,
        100 * episodes["success"].astype(float).rolling(window, min_periods=1).mean(),
        color="C0",
        label=f"training episodes (noisy actions), last {window}",
    )
    if tests is not None and len(tests):
        _plot_tests(returns, success, tests)
    if by_steps and actor_lr_step is not None and actor_lr_step[1] != 1 and actor_lr_step[0] <= steps.max():
        for ax in (returns, success):
            ax.axvline(
                actor_lr_step[0],
                color="0.4",
                linestyle=":",
                label=f"actor learning rate x {actor_lr_step[1]:g} from here",
            )
    returns.set_ylabel("return (sum of rewards)")
    success.set_ylabel("success rate (%)")
    success.set_ylim(-2, 102)
    success.set_xlabel("environment steps" if by_steps else "episode")
    for ax in (returns, success):
        ax.legend(loc="upper left", fontsize="small")
        ax.grid(alpha=0.3)
    figure.suptitle(f"Training: {task}")
    return figure


def _plot_tests(returns, success, tests) -> None:
    """The test flights (tests.csv) on the two axes of :func:`plot_reward_curve`: mean return and success
    rate of each, and the test whose actor was kept, starred."""
    returns.plot(
        tests["env_steps"],
        tests["mean_return"],
        "o-",
        markersize=3,
        color="C1",
        label="test flights (noise-free): mean return",
    )
    success.plot(
        tests["env_steps"],
        100 * tests["success_rate"],
        "o-",
        markersize=3,
        color="C1",
        label="test flights: success rate",
    )
    kept = tests[tests["best"].astype(bool)].tail(1)
    for ax, column, scale in ((returns, "mean_return", 1), (success, "success_rate", 100)):
        ax.plot(
            kept["env_steps"],
            scale * kept[column],
            "*",
            markersize=14,
            color="gold",
            markeredgecolor="k",
            label="the test whose actor was kept (actor.keras)",
        )


def _mark_start_target_end(ax, xs, ys, zs, target, label_points=True) -> None:
    """Start (circle), end (square) and target (star) markers on a 3-D axes."""
    ax.scatter([xs[0]], [ys[0]], [zs[0]], marker="o", s=40, color="C2", label="start" if label_points else None)
    ax.scatter([xs[-1]], [ys[-1]], [zs[-1]], marker="s", s=40, color="C3", label="end" if label_points else None)
    if target is not None:
        ax.scatter(
            [target[0]],
            [target[1]],
            [target[2]],
            marker="*",
            s=160,
            color="gold",
            edgecolor="k",
            label="target" if label_points else None,
        )


def _label_3d(ax, flights=(), target=None, min_half_span=1.0) -> None:
    """Axis labels with units, a slightly smaller box so that they fit, and (given the flights and
    target drawn) x and y limits centred on them, at least ``min_half_span`` m either side, so a
    straight climb does not look like a diagonal on a 2-cm-wide axis."""
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_zlabel("z (m)")
    ax.set_box_aspect(None, zoom=0.85)
    if not flights:
        return
    for axis, set_limits in ((0, ax.set_xlim), (1, ax.set_ylim)):
        values = np.concatenate(
            [flight[["x", "y"][axis]].to_numpy() for flight in flights] + ([] if target is None else [[target[axis]]])
        )
        middle = 0.5 * (values.min() + values.max())
        half = max(min_half_span, 0.55 * (values.max() - values.min()))
        set_limits(middle - half, middle + half)


def plot_path_3d(
    flight: pd.DataFrame, title: str = "Flight path", target: Target | None = None, waypoints: np.ndarray | None = None
) -> Figure:
    """The 3-D path of one flight, with its start, end and (if given) the target (x, y, z in m) marked, and
    (if given) a course's waypoints (K, 3), numbered, and the polyline through them."""
    figure = Figure(figsize=(7, 6.5), layout="constrained")
    ax = figure.add_subplot(projection="3d")
    ax.plot(flight["x"], flight["y"], flight["z"], color="C0", label="path")
    if waypoints is not None:
        waypoints = np.asarray(waypoints, dtype=float)
        ax.plot(*waypoints.T, color="0.5", linestyle="--", linewidth=1, label="course")
        ax.scatter(*waypoints.T, color="C1", marker="o", s=30, label="waypoints", depthshade=False)
        for i, point in enumerate(waypoints[:-1]):
            ax.text(*point, f" {i}", fontsize="x-small")
    _mark_start_target_end(ax, flight["x"].to_numpy(), flight["y"].to_numpy(), flight["z"].to_numpy(), target)
    _label_3d(ax, [flight], target)
    ax.legend(loc="upper left", fontsize="small")
    ax.set_title(title)
    return figure


def plot_flights_overlaid(flights: list[pd.DataFrame], title: str = "Flights", target: Target | None = None) -> Figure:
    """Several flights (a list of flight DataFrames) together: altitude over time and the 3-D paths.

    Each flight is one line in both panels, with the same colour; the target altitude is dashed.
    """
    figure = Figure(figsize=(13, 5.5), layout="constrained")
    altitude = figure.add_subplot(1, 2, 1)
    paths = figure.add_subplot(1, 2, 2, projection="3d")
    for i, flight in enumerate(flights):
        color = f"C{i % 10}"
        altitude.plot(flight["time"], flight["z"], color=color, label=f"flight {i + 1}")
        paths.plot(flight["x"], flight["y"], flight["z"], color=color)
        _mark_start_target_end(
            paths,
            flight["x"].to_numpy(),
            flight["y"].to_numpy(),
            flight["z"].to_numpy(),
            target if i == 0 else None,
            label_points=(i == 0),
        )
    if target is not None:
        altitude.axhline(target[2], color="k", linestyle="--", linewidth=1, label="target z")
    altitude.set_xlabel("time (s)")
    altitude.set_ylabel("z (m)")
    altitude.grid(alpha=0.3)
    altitude.legend(loc="best", fontsize="small", ncol=2)
    _label_3d(paths, flights, target)
    paths.legend(loc="upper left", fontsize="small")
    figure.suptitle(title)
    return figure


def _rotation(phi, theta, psi):
    """The body-to-earth rotation matrix (3, 3) of the Euler angles (rad)."""
    return np.array(physics.rotation_matrix(phi, theta, psi, physics.SCALAR_OPS)).reshape(3, 3)


def draw_quadcopter(
    pose: Any,
    path: Any,
    target: Target | None,
    time: float | None = None,
    figure: Figure | None = None,
    center: Any = None,
) -> Figure:
    """One picture of the quadcopter: its two arms and four rotors at ``pose`` (6,), the ``path``
    flown so far ((k, 3) positions in m) and the ``target`` (3,; None: no target drawn). The view is
    centred on ``center`` (3,; default: the target, else the path's end). Returns the Figure (reused if given).

    The arms are drawn 4x their real length (0.4 m) so that the attitude is visible at flight scale.
    """
    if figure is None:
        figure = Figure(figsize=(4.8, 4.8), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
    figure.clear()
    ax = figure.add_subplot(projection="3d")
    position = np.asarray(pose[:3], dtype=float)
    arm = 4 * physics.ARM_LENGTH
    rotors = np.array([[arm, 0, 0], [0, arm, 0], [-arm, 0, 0], [0, -arm, 0]]) @ _rotation(*pose[3:6]).T + position
    # red: the x arm (the simulator's rotors 1 and 2, rotor_speed1/2), blue: the y arm (rotors 3 and 4)
    for a, b, color in ((0, 2, "C3"), (1, 3, "C0")):
        ax.plot(*np.stack([rotors[a], rotors[b]]).T, color=color, linewidth=3)
    ax.scatter(*rotors.T, s=30, color="k")
    path = np.asarray(path, dtype=float).reshape(-1, 3)
    ax.plot(path[:, 0], path[:, 1], path[:, 2], color="0.5", linewidth=1, label="path")
    if target is not None:
        ax.scatter(
            [target[0]], [target[1]], [target[2]], marker="*", s=160, color="gold", edgecolor="k", label="target"
        )
    if center is None:
        center = path[-1] if target is None else target
    center = np.asarray(center, dtype=float)
    span = max(3.0, float(np.abs(path[:, :2] - center[:2]).max()) + 1.0)
    ax.set_xlim(center[0] - span, center[0] + span)
    ax.set_ylim(center[1] - span, center[1] + span)
    ax.set_zlim(0, max(2 * center[2], float(path[:, 2].max()) + 1.0))
    _label_3d(ax)
    ax.legend(loc="upper left", fontsize="small")
    if time is not None:
        ax.set_title(f"t = {time:.2f} s, z = {position[2]:.2f} m")
    return figure


def animate_flight(
    flight: pd.DataFrame,
    path: str | Path,
    target: Target | None = (0.0, 0.0, 10.0),
    every: int = 3,
    fps: float | None = None,
) -> int:
    """Write a GIF of ``flight`` (one frame every ``every`` simulator steps) to ``path``, with
    matplotlib's Pillow writer; the view is centred on ``target``, or on the flight's end when there is
    none (a reach run, whose goals are drawn). Returns the number of frames written."""
    if not (isinstance(every, int) and every >= 1):
        raise ValueError(f"every must be an integer >= 1 (simulator steps per frame); got {every!r}")
    rows = list(range(0, len(flight), every))
    if rows[-1] != len(flight) - 1:
        rows.append(len(flight) - 1)
    positions = flight[["x", "y", "z"]].to_numpy()
    poses = flight[["x", "y", "z", "phi", "theta", "psi"]].to_numpy()
    center = positions[-1] if target is None else target
    figure = draw_quadcopter(poses[0], positions[:1], target, time=flight["time"].iloc[0], center=center)

    def frame(k: int) -> list:
        i = rows[k]
        at = flight["time"].iloc[i]
        draw_quadcopter(poses[i], positions[: i + 1], target, time=at, figure=figure, center=center)
        return []

    fps = int(fps or max(1, round(1 / (physics.DT * every))))
    FuncAnimation(figure, frame, frames=len(rows), blit=False).save(str(path), writer=PillowWriter(fps=fps))
    return len(rows)


def check_flight(flight: pd.DataFrame, source: str = "the flight") -> pd.DataFrame:
    """Raise ``ValueError`` unless ``flight`` has the 17 flight columns, at least one row, and only finite
    numbers in them (a NaN would fail deep inside matplotlib, after other plots were written)."""
    missing = [label for label in LABELS if label not in flight.columns]
    if missing or len(flight) == 0:
        raise ValueError(
            f"{source} must be a flight table with the columns {LABELS} and at least one row; "
            f"missing columns {missing}, {len(flight)} rows"
        )
    check_finite(flight, LABELS, source)
    return flight


def check_finite(table: pd.DataFrame, columns: list[str], source: str) -> None:
    """Raise ``ValueError`` naming the first column and row of ``table`` (read from ``source``) whose value
    is not a finite number."""
    for column in columns:
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            row = int(bad[0])
            raise ValueError(
                f"{source}: column {column!r} holds {table[column].iloc[row]} in row {row + 1} (of {len(table)}); "
                "every value must be a finite number, so nothing is plotted"
            )


def flight_plot_paths(stem: str | Path, gif: bool = False) -> list[Path]:
    """The files :func:`write_flight_plots` writes for ``stem``: ``STEM.png``, ``STEM_path.png`` and, with
    ``gif``, ``STEM.gif``."""
    stem = Path(stem)
    names = [".png", "_path.png"] + ([".gif"] if gif else [])
    return [stem.with_name(stem.name + ending) for ending in names]


def write_flight_plots(
    flight: pd.DataFrame,
    stem: str | Path,
    title: str = "Flight",
    target: Target | None = (0.0, 0.0, 10.0),
    gif: bool = False,
) -> list[Path]:
    """Write ``STEM.png`` (the panels), ``STEM_path.png`` (3-D path) and, with ``gif``, ``STEM.gif``.

    ``stem`` is a path without suffix. Returns the list of files written.
    """
    check_flight(flight, str(stem))
    written = flight_plot_paths(stem, gif)
    plot_flight_panels(flight, title=title, target=target).savefig(written[0], dpi=100)
    plot_path_3d(flight, title=f"{title}: path", target=target).savefig(written[1], dpi=100)
    if gif:
        animate_flight(flight, written[2], target=target)
    return written


def read_csv(path: str | Path) -> pd.DataFrame:
    """A CSV as a DataFrame; ``ValueError`` naming the file if it is empty or malformed."""
    try:
        return pd.read_csv(path)
    except (ValueError, pd.errors.ParserError) as error:  # EmptyDataError is a ValueError
        raise ValueError(f"{path} is not a readable CSV ({error})") from None


def _actor_lr_step(path: Path) -> tuple[int, float] | None:
    """(late_actor_lr_from, late_actor_lr_factor) from a run's settings.json, or None where there is no
    such step: no file, or a run from before the step (no keys). ``ValueError`` naming the file if it is
    not JSON."""
    if not path.exists():
        return None
    try:
        settings = json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not readable JSON ({error})") from None
    if "late_actor_lr_from" not in settings:
        return None
    return settings["late_actor_lr_from"], settings.get("late_actor_lr_factor", 1.0)


def _run_task_name(path: Path) -> str:
    """The task a run learned, from its settings.json (runs from before tasks had names: the takeoff)."""
    try:
        settings = json.loads(path.read_text())
    except (OSError, ValueError):
        return "takeoff"
    return str(settings.get("task", "takeoff")) if isinstance(settings, dict) else "takeoff"


def run_target(task_name: str) -> Target | None:
    """The goal a run's plots mark: the built-in task's fixed goal (the takeoff's (0, 0, 10) m, the pad of
    the landing, ...); None for a task that draws a goal per episode (reach) or a learner's task."""
    task_class = TASKS.get(task_name)
    if task_class is None or task_class.goal_drawn:
        return None
    return task_class().target


def write_run_plots(run: str | Path, target: Target | None = None, gif: bool = False) -> list[Path]:
    """Write the PNGs of a training run's folder from its CSVs: ``reward_curve.png`` (episodes.csv),
    ``flight.png`` and ``flight_path.png`` (flight.csv, one flight of the trained actor),
    ``evaluation_flights.png`` (evaluation_flights.csv, several flights overlaid) and with ``gif``
    ``flight.gif``. ``target`` (m) is marked on the flights; default :func:`run_target` of the run's task.
    CSVs that are missing are skipped; returns the list of files written."""
    run = Path(run)
    written = []

    def read_if_there(name: str) -> pd.DataFrame | None:
        return read_csv(run / name) if (run / name).exists() else None

    # Every CSV is read and checked before the first PNG is written: a bad one changes nothing.
    episodes, tests, flight, table = (
        read_if_there(name) for name in ("episodes.csv", "tests.csv", "flight.csv", "evaluation_flights.csv")
    )
    if episodes is not None and "episode_return" in episodes.columns:
        check_finite(episodes, ["episode_return"], str(run / "episodes.csv"))
    if flight is not None:
        check_flight(flight, str(run / "flight.csv"))
    if table is not None:
        flights = [check_flight(group, str(run / "evaluation_flights.csv")) for _, group in table.groupby("flight")]
    task = _run_task_name(run / "settings.json")
    if episodes is not None and len(episodes):
        written.append(run / "reward_curve.png")
        step = _actor_lr_step(run / "settings.json")
        plot_reward_curve(episodes, tests=tests, actor_lr_step=step, task=task).savefig(written[-1], dpi=100)
    target = run_target(task) if target is None else target
    if flight is not None:
        written += write_flight_plots(
            flight, run / "flight", title=f"Trained actor, one {task}", target=target, gif=gif
        )
    if table is not None:
        written.append(run / "evaluation_flights.png")
        plot_flights_overlaid(
            flights, title=f"Trained actor, {len(flights)} evaluation flights ({task})", target=target
        ).savefig(written[-1], dpi=100)
    if not written:
        raise ValueError(f"{run} has none of episodes.csv, flight.csv, evaluation_flights.csv to plot")
    return written
