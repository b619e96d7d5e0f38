"""A course: the ``reach`` actor flown through a list of waypoints, its goal switched from one to the next.

:func:`fly_course` starts at rest at the first waypoint and gives the actor the next waypoint as its goal;
once the quadcopter is within ``radius`` of it (:data:`SWITCH_RADIUS`), the goal becomes the following
one, and at the last it holds for ``hold`` s. The reach actor needs nothing else: its observation is the
error to the goal, so a course is a chain of reach episodes. :data:`COURSES` holds the built-in square
and figure-8 (waypoints 2-5 m apart); a file of one ``x,y,z`` line per waypoint (m) is read by
:func:`read_waypoints`.
"""

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .controllers import ActorController
from .flight import LABELS, flight_row
from .sim import PhysicsSim
from .task_specs import Reach

SWITCH_RADIUS = 0.5
"""m: the goal moves on when the quadcopter is this close to it. Half the hold band of the tasks' success
rule (1 m), so a waypoint counts as passed only when the actor has clearly reached it, and small against
the 2-5 m between waypoints, so the path stays near the polyline instead of cutting corners."""


def square(side: float = 4.0, z: float = 10.0) -> np.ndarray:
    """A square of ``side`` m at height ``z``, centred on the z axis: 8 waypoints (corners and midpoints,
    side / 2 apart) and the first again."""
    h = side / 2
    corners = [(-h, -h), (0, -h), (h, -h), (h, 0), (h, h), (0, h), (-h, h), (-h, 0), (-h, -h)]
    return np.array([(x, y, z) for x, y in corners])


def figure_eight(width: float = 10.0, height: float = 5.0, z: float = 10.0, points: int = 10) -> np.ndarray:
    """A figure-8 (a lemniscate of Gerono, ``width`` by ``height`` m) at height ``z``: ``points`` waypoints
    evenly spaced in its parameter, and the first again."""
    t = np.linspace(0.0, 2 * math.pi, points + 1)
    return np.stack([width / 2 * np.sin(t), height / 2 * np.sin(2 * t), np.full_like(t, z)], axis=1)


COURSES: dict[str, Callable[[], np.ndarray]] = {"square": square, "figure8": figure_eight}
"""The built-in courses by name (``simulate --task course --waypoints NAME``)."""


def read_waypoints(source: str | Path) -> np.ndarray:
    """Waypoints (K, 3) in m: a built-in course's name, or a CSV file of ``x,y,z`` lines (a header line is
    allowed). ``ValueError`` naming the file for fewer than 2 waypoints or a value that is not finite."""
    if str(source) in COURSES:
        return COURSES[str(source)]()
    try:
        table = pd.read_csv(source, header=None, comment="#")
        if not pd.api.types.is_numeric_dtype(table.dtypes.iloc[0]):  # a header line
            table = pd.read_csv(source, comment="#")
        waypoints = table.to_numpy(dtype=float)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise ValueError(
            f"waypoints {source}: not a built-in course ({', '.join(COURSES)}) nor a readable x,y,z CSV ({error})"
        ) from None
    if waypoints.ndim != 2 or waypoints.shape[1] != 3 or len(waypoints) < 2 or not np.isfinite(waypoints).all():
        raise ValueError(
            f"waypoints {source}: need at least 2 lines of 3 finite numbers x,y,z (m); got shape {waypoints.shape}"
        )
    return waypoints


def distance_to_polyline(points: np.ndarray, waypoints: np.ndarray) -> np.ndarray:
    """The distance (m) of each point (N, 3) from the polyline through the waypoints (K, 3)."""
    start, end = waypoints[:-1], waypoints[1:]
    segment = end - start
    length2 = np.maximum(np.sum(segment * segment, axis=1), 1e-12)
    along = np.clip(np.einsum("nkd,kd->nk", points[:, None, :] - start[None], segment) / length2, 0.0, 1.0)
    nearest = start[None] + along[..., None] * segment[None]
    return np.sqrt(np.sum((points[:, None, :] - nearest) ** 2, axis=2)).min(axis=1)


def fly_course(
    act: Callable[[np.ndarray], np.ndarray],
    waypoints: np.ndarray,
    radius: float = SWITCH_RADIUS,
    dynamics: str = "udacity",
    action_repeat: int = 3,
    hold: float = 5.0,
    timeout: float = 20.0,
) -> tuple[pd.DataFrame, dict]:
    """Fly ``act`` (the reach actor: states (1, 15) -> rotor speeds (1, 4)) through ``waypoints`` (K, 3).

    Starts at rest at the first waypoint; the goal moves on within ``radius`` m; after the last it holds
    for ``hold`` s. The flight ends there, at a crash (a bound touched), or when one leg has taken
    ``timeout`` s. Returns ``(flight DataFrame with a goal column, summary dict)``: passed (waypoints
    reached after the first), all_passed, crashed, seconds, and the largest distance of the path from
    the waypoint polyline (m)."""
    waypoints = np.asarray(waypoints, dtype=float)
    sim = PhysicsSim(init_pose=[*waypoints[0], 0, 0, 0], runtime=1e6, dynamics=dynamics)
    task = Reach()
    controller = ActorController(act, action_repeat, waypoints[1], task)
    rows, goals = [flight_row(sim, np.zeros(4))], [1]
    goal, leg_started, hold_until = 1, 0.0, None
    while True:
        rotor_speeds = controller.act(sim)
        sim.next_timestep(rotor_speeds)
        rows.append(flight_row(sim, rotor_speeds))
        goals.append(goal)
        if sim.out_of_bounds or sim.time - leg_started > timeout or (hold_until and sim.time >= hold_until):
            break
        if hold_until is None and np.linalg.norm(sim.pose[:3] - waypoints[goal]) <= radius:
            if goal == len(waypoints) - 1:
                hold_until = sim.time + hold
            else:
                goal, leg_started = goal + 1, sim.time
                controller.target = waypoints[goal]
    rows[0][-4:] = rows[1][-4:]
    flight = pd.DataFrame(rows, columns=LABELS).assign(goal=goals)
    passed = goal - 1 + (hold_until is not None)
    summary = dict(
        passed=int(passed),
        all_passed=bool(hold_until is not None and not sim.out_of_bounds),
        crashed=bool(sim.out_of_bounds),
        seconds=float(sim.time),
        largest_distance=float(distance_to_polyline(flight[["x", "y", "z"]].to_numpy(), waypoints).max()),
    )
    return flight, summary
