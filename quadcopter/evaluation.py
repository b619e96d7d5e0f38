"""How well an actor flies: evaluation takeoffs, the test flights during training, flights to plot.

:func:`evaluate_actor` flies many deterministic takeoffs at once and scores them by the
take-off-and-hold rule; :func:`evaluate_with_long_hold` adds the 30 s hold (the test flights during
training are :class:`quadcopter.train_parts.ActorTestFlights`); :func:`fly_actor` and
:func:`fly_evaluation_flights` record flights (the 17 columns) for the plots; :func:`hover_offset`
says how far from the target a policy settles in a 60 s flight.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .controllers import ActorController
from .flight import LABELS, fly
from .randomise import restarted, run_policy
from .task_specs import FlightTask, NumpyDraw, load_task
from .tasks import (
    DEFAULT_TARGET,
    LONG_HOLD_RUNTIME,
    TAKEOFF_RUNTIME,
    TakeoffTask,
    squared_length,
)
from .vector_task import VectorTakeoffTask

# Seeds of the random takeoff starts: the final evaluation's, and another for the test flights
# during training, so that choosing the best actor never sees the evaluation's starts.
EVALUATION_SEED = 12345
TEST_SEED = 2024


def evaluate_actor(
    act: Callable[[np.ndarray], np.ndarray],
    episodes: int = 100,
    seed: int = EVALUATION_SEED,
    dynamics: str = "udacity",
    action_repeat: int = 3,
    starts: tuple[np.ndarray, np.ndarray] | None = None,
    runtime: float = TAKEOFF_RUNTIME,
    task: FlightTask | None = None,
    airframe: Any = None,
    delay: int = 0,
) -> pd.DataFrame:
    """Fly ``episodes`` deterministic episodes of ``task`` (default: the takeoff) of ``runtime`` s from the
    task's test starts drawn with ``seed`` (the takeoff's: on the ground at rest, z in [0, 0.5] m, v_z in
    [0, 0.1] m/s) with ``act(states (N, state_size)) -> rotor speeds (N, 4)``, side by side. ``starts`` =
    (starts (N, 12): pose, velocity, angular_v; goals (N, 3)) replaces the random starts. ``airframe`` is the
    body flown (default: the Udacity quadcopter; :mod:`quadcopter.dynamics`), and ``delay`` > 0 applies each
    action that many agent steps late (:func:`delayed`), as a flight controller's latency would.

    Returns a DataFrame with one row per episode: episode_return, length, final_z, success (the
    takeoff-and-hold rule). At most :data:`MAX_EVALUATION_EPISODES`; they fly in groups of
    :data:`EVALUATION_GROUP`, so that memory does not grow with their number.
    """
    task = task or FlightTask()
    if starts is None:
        episodes = check_evaluation_episodes(episodes)
        starts = task.test_starts(NumpyDraw(np.random.default_rng(seed)), episodes)
    else:
        check_evaluation_episodes(len(starts[0]))
    groups = [
        _fly_first_episodes(
            act,
            (starts[0][first : first + EVALUATION_GROUP], starts[1][first : first + EVALUATION_GROUP]),
            seed,
            dynamics,
            action_repeat,
            runtime,
            task,
            airframe,
            delay,
        )
        for first in range(0, len(starts[0]), EVALUATION_GROUP)
    ]
    return pd.concat(groups, ignore_index=True)


MAX_EVALUATION_EPISODES = 100_000
"""The most takeoffs one evaluation flies (about an hour here for the 10 s and 30 s flights of ``evaluate``)."""
EVALUATION_GROUP = 1_000
"""Takeoffs flown side by side in an evaluation; more fly group after group."""


def check_evaluation_episodes(episodes: int) -> int:
    """``episodes`` if it is an integer in [1, :data:`MAX_EVALUATION_EPISODES`]; else ``ValueError``."""
    if not (isinstance(episodes, (int, np.integer)) and not isinstance(episodes, bool)) or not (
        1 <= episodes <= MAX_EVALUATION_EPISODES
    ):
        raise ValueError(
            f"evaluation episodes must be an integer in [1, {MAX_EVALUATION_EPISODES:,}]; got {episodes!r}"
        )
    return int(episodes)


def _fly_first_episodes(act, starts, seed, dynamics, action_repeat, runtime, task, airframe=None, delay=0):
    """The first episode of each of the starts (starts (N, 12), goals (N, 3)), flown side by side: a
    DataFrame of :func:`evaluate_actor`'s rows."""
    episodes = len(starts[0])
    envs = VectorTakeoffTask(
        episodes,
        np.random.default_rng(seed),
        runtime=runtime,
        dynamics=dynamics,
        action_repeat=action_repeat,
        task=task,
        airframe=airframe,
    )
    act = delayed(restarted(act), delay)  # a policy that sees its last actions starts with none
    states = envs.restart_from(*starts)
    first: dict[int, Any] = {}
    while len(first) < episodes:
        states = envs.step(act(states)).states
        for episode in envs.pop_finished():
            first.setdefault(episode["env"], episode)
    return pd.DataFrame([first[i] for i in range(episodes)]).drop(columns=["env", "air_start"])


MAX_DELAY = 10
"""The most agent steps an action may be delayed by (10 steps: 0.6 s at the default 3 simulator steps each)."""


def delayed(act: Callable[[np.ndarray], np.ndarray], steps: int) -> Callable[[np.ndarray], np.ndarray]:
    """``act`` with its actions applied ``steps`` agent steps late: each call returns the action ``act`` chose
    ``steps`` calls before (the first call's own action until then, as a controller that starts with its
    first command). 0: ``act`` itself. ``ValueError`` for a delay outside [0, :data:`MAX_DELAY`]."""
    if not (isinstance(steps, int) and not isinstance(steps, bool) and 0 <= steps <= MAX_DELAY):
        raise ValueError(f"delay must be an integer number of agent steps in [0, {MAX_DELAY}]; got {steps!r}")
    if steps == 0:
        return act
    queue: list[np.ndarray] = []

    def late(states: np.ndarray) -> np.ndarray:
        action = np.asarray(act(states))
        if not queue:
            queue.extend([action] * steps)
        queue.append(action)
        return queue.pop(0)

    return late


def greedy_policy(agent: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The agent's deterministic policy as ``act(states (N, 15)) -> rotor speeds (N, 4)``, without noise."""
    return lambda states: agent.to_task_actions(agent.act_normalised(states, explore=False))


def summarise_evaluation(results: pd.DataFrame) -> dict[str, Any]:
    return dict(
        success_rate=float(results["success"].mean()),
        median_final_z=float(results["final_z"].median()),
        mean_length=float(results["length"].mean()),
        mean_return=float(results["episode_return"].mean()),
        episodes=len(results),
    )


def evaluate_with_long_hold(
    act: Callable[[np.ndarray], np.ndarray],
    episodes: int = 100,
    seed: int = EVALUATION_SEED,
    dynamics: str = "udacity",
    action_repeat: int = 3,
    runtime: float = TAKEOFF_RUNTIME,
    task: FlightTask | None = None,
    airframe: Any = None,
    delay: int = 0,
) -> dict:
    """:func:`summarise_evaluation` of ``episodes`` episodes of ``task`` (default: the takeoff) of
    ``runtime`` s (:func:`evaluate_actor`, with its ``airframe`` and ``delay``), plus
    ``long_hold_success_rate``: the success rate of the same episodes flown for the long hold (the same rule
    to 30 s)."""
    common: dict[str, Any] = dict(
        seed=seed, dynamics=dynamics, action_repeat=action_repeat, task=task, airframe=airframe, delay=delay
    )
    summary = summarise_evaluation(evaluate_actor(act, episodes, runtime=runtime, **common))
    long_hold = evaluate_actor(act, episodes, runtime=LONG_HOLD_RUNTIME, **common)
    summary["long_hold_success_rate"] = float(long_hold["success"].mean())
    return summary


def evaluate_both(
    agent: Any, weights: dict[str, list], settings: Any, episodes: int = 100, seed: int = EVALUATION_SEED
) -> dict[str, dict]:
    """Evaluate each actor of ``weights`` ({name: actor weights}) with :func:`evaluate_with_long_hold`
    on ``episodes`` episodes of the run's task (``settings.task``) of ``settings.runtime`` s: {name:
    summary}. The agent's actor is left with the last weights."""
    summaries = {}
    task = load_task(settings.task)
    for name, actor_weights in weights.items():
        agent.set_actor_weights(actor_weights)
        summaries[name] = evaluate_with_long_hold(
            run_policy(greedy_policy(agent), settings),
            episodes,
            seed,
            settings.dynamics,
            settings.action_repeat,
            settings.runtime,
            task,
            airframe=settings.airframe,
        )
    return summaries


def fly_evaluation_flights(
    act: Callable[[np.ndarray], np.ndarray],
    count: int = 10,
    seed: int = EVALUATION_SEED,
    dynamics: str = "udacity",
    action_repeat: int = 3,
    runtime: float = TAKEOFF_RUNTIME,
    task: Any = None,
    airframe: Any = None,
) -> pd.DataFrame:
    """``count`` flights of ``act`` from the task's test starts (default: takeoffs; drawn as in
    :func:`evaluate_actor`), as one DataFrame: a ``flight`` column (1, 2, ...) and the 17 flight labels."""
    task = task or FlightTask()
    starts, goals = task.test_starts(NumpyDraw(np.random.default_rng(seed)), count)
    flights = [
        fly_actor(
            act, start[0:6], start[6:9], dynamics, action_repeat, runtime, start[9:12], goal, task, airframe
        ).assign(flight=i + 1)
        for i, (start, goal) in enumerate(zip(starts, goals))
    ]
    return pd.concat(flights, ignore_index=True)[["flight"] + LABELS]


HOVER_OFFSET_RUNTIME = 60.0
"""Seconds of the flights that :func:`hover_offset` judges: six times the 10 s training episodes."""


def hover_offset(
    act: Callable[[np.ndarray], np.ndarray],
    count: int = 3,
    seed: int = EVALUATION_SEED,
    dynamics: str = "udacity",
    action_repeat: int = 3,
    runtime: float = HOVER_OFFSET_RUNTIME,
    airframe: Any = None,
) -> float:
    """How far from the target a policy hovers once it has settled: ``act`` flown for ``runtime`` s
    (default 60 s, six times a training episode) from ``count`` of the evaluation's takeoff starts;
    returns the mean distance to the target over the last 10 s of the flights, in m, or inf if a
    flight ended early (a crash or a bound). The standard is the PD hover controller's: within 0.02 m.
    ``airframe``: the body flown (default: the Udacity quadcopter).
    """
    flights = fly_evaluation_flights(act, count, seed, dynamics, action_repeat, runtime, airframe=airframe)
    ends = flights.groupby("flight")["time"].max()
    if (ends < runtime - 0.1).any():  # the last step lands within one 0.02 s step of the limit
        return float("inf")
    settled = flights[flights["time"] >= runtime - 10.0]
    offsets = settled[["x", "y", "z"]].to_numpy() - np.asarray(DEFAULT_TARGET)
    return float(np.mean(np.sqrt(squared_length(offsets))))


def fly_actor(
    act: Callable[[np.ndarray], np.ndarray],
    init_pose: np.ndarray | None = None,
    init_velocities: np.ndarray | None = None,
    dynamics: str = "udacity",
    action_repeat: int = 3,
    runtime: float = TAKEOFF_RUNTIME,
    init_angle_velocities: np.ndarray | None = None,
    goal: np.ndarray | None = None,
    task: FlightTask | None = None,
    airframe: Any = None,
) -> pd.DataFrame:
    """One deterministic flight of ``task`` (default: the takeoff) to ``goal`` (default: the task's target)
    with ``act(states (1, state_size)) -> rotor speeds (1, 4)``, as a flight DataFrame (one row per
    simulator step, the original 17 labels). Starts at rest on the ground unless given."""
    task = task or FlightTask()
    sim = TakeoffTask(
        init_pose=np.zeros(6) if init_pose is None else init_pose,
        init_velocities=init_velocities,
        init_angle_velocities=init_angle_velocities,
        dynamics=dynamics,
        runtime=runtime,
        airframe=airframe,
    ).sim
    controller = ActorController(restarted(act), action_repeat, task.target if goal is None else goal, task)
    return fly(sim, controller, task)
