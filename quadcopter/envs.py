"""Gymnasium environments for the quadcopter tasks (needs the optional extra: ``pip install .[gym]``).

Importing this module registers the environments::

    import gymnasium
    env = gymnasium.make("quadcopter.envs:QuadcopterTakeoff-v5")   # also QuadcopterHover-v5,
                                                                    # QuadcopterReachTarget-v1
    env = gymnasium.make("quadcopter.envs:QuadcopterReach-v0")     # the tasks of train --task: also
                                                                    # QuadcopterHoverPush-v0, QuadcopterLand-v0, and
    env = gymnasium.make("quadcopter.envs:QuadcopterTask-v0", task="mytasks:LowHover")  # your own

:class:`QuadcopterEnv` wraps one task of :mod:`quadcopter.tasks` (one ``PhysicsSim``); :class:`FlightTaskEnv`
one of :mod:`quadcopter.task_specs`;
:class:`QuadcopterVectorEnv` runs N takeoffs in one :class:`~quadcopter.sim.VectorPhysicsSim`, a
native ``gymnasium.vector.VectorEnv`` that is much faster than N copies of the single env.
"""

import math
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import dynamics as physics
from . import tasks
from .plots import draw_quadcopter
from .randomise import parse_randomise
from .sim import shown
from .task_specs import Land, check_task, load_task, task_runtime
from .tasks import (
    POSITION_SCALE,
    RATE_SCALE,
    TAKEOFF_RUNTIME,
    VELOCITY_SCALE,
    HoverTask,
    ReachTargetTask,
    TakeoffTask,
    sample_takeoff_starts,
    takeoff_success,
)
from .vector_task import ScalarTask, VectorTakeoffTask

# Observation bounds beyond the simulator's own: speeds (m/s) and angular rates (rad/s) above
# these only happen in a tumbling crash; observations are clipped to them so that they always
# lie in the observation space.
MAX_SPEED = 200.0  # m/s
MAX_RATE = 200.0  # rad/s

TASKS = {"takeoff": TakeoffTask, "hover": HoverTask, "reach_target": ReachTargetTask}


def to_rotor_speeds(actions: np.ndarray) -> np.ndarray:
    """Normalised actions in [-1, 1] (any shape ending in 4) -> rotor speeds in [0, 900] rev/s
    (:func:`quadcopter.tasks.to_rotor_speeds`)."""
    return tasks.to_rotor_speeds(np.asarray(actions, dtype=float))


def _check_actions(actions, shape):
    """``actions`` as a float array of ``shape``, finite, clipped to [-1, 1]; ``ValueError`` otherwise."""
    array = np.asarray(actions, dtype=float)
    if array.shape != shape or not np.all(np.isfinite(array)):
        raise ValueError(f"actions must be finite with shape {shape}, in [-1, 1] (clipped); got {shown(actions)}")
    return np.clip(array, -1.0, 1.0)


def takeoff_observation_space(target: np.ndarray) -> spaces.Box:
    """The float32 ``Box`` of the 15-value takeoff state (see :class:`~quadcopter.tasks.TakeoffTask`)."""
    target = np.asarray(target, dtype=float)
    low = np.concatenate(
        [
            (np.array(physics.LOWER_BOUNDS) - target) / POSITION_SCALE,
            np.full(3, -MAX_SPEED / VELOCITY_SCALE),
            np.full(3, -math.pi),
            np.full(3, -MAX_RATE / RATE_SCALE),
            np.full(3, -1.0),
        ]
    )
    high = np.concatenate(
        [
            (np.array(physics.UPPER_BOUNDS) - target) / POSITION_SCALE,
            np.full(3, MAX_SPEED / VELOCITY_SCALE),
            np.full(3, math.pi),
            np.full(3, MAX_RATE / RATE_SCALE),
            np.full(3, 1.0),
        ]
    )
    return spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)


def poses_observation_space(action_repeat: int) -> spaces.Box:
    """The float32 ``Box`` of ``ReachTargetTask``'s state: ``action_repeat`` poses (x, y, z, phi, theta, psi)."""
    low = np.tile(np.concatenate([physics.LOWER_BOUNDS, np.zeros(3)]), action_repeat)
    high = np.tile(np.concatenate([physics.UPPER_BOUNDS, np.full(3, 2 * math.pi)]), action_repeat)
    return spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)


class QuadcopterEnv(gymnasium.Env):
    """A quadcopter task as a Gymnasium environment.

    The task (``"takeoff"``, ``"hover"`` or ``"reach_target"``) is the one in :mod:`quadcopter.tasks`,
    with the same state, reward, sub-steps and episode ends; only the action is normalised.

    **Action**: ``Box(-1, 1, (4,), float32)``, one value per rotor, mapped linearly to rotor speeds
    in [0, 900] rev/s (:func:`to_rotor_speeds`: -1 is 0, 0 is 450, 1 is 900; hover is about -0.10).
    Values outside [-1, 1] are clipped; non-finite ones raise ``ValueError``.

    **Observation**: float32. Takeoff and hover: the 15-value state of ``TakeoffTask``

    ========  ========================================  =================================  ======
    index     meaning                                   bounds                             unit
    ========  ========================================  =================================  ======
    0, 1, 2   (x, y, z) - target, / 2.5                 the simulator's bounds, shifted    2.5 m
    3, 4, 5   (vx, vy, vz), earth frame, / 2            [-100, 100] (clipped)              2 m/s
    6, 7, 8   (phi, theta, psi) wrapped                 [-pi, pi]                          rad
    9, 10, 11 the simulator's angular_v, / 5            [-40, 40] (clipped)                5 rad/s
    12-14     (x, y, z) - target, / 0.2, clipped        [-1, 1]                            0.2 m
    ========  ========================================  =================================  ======

    Reach target: the ``action_repeat`` poses of ``ReachTargetTask`` (18 values by default).

    **Reward**: the task's (takeoff and hover: :func:`~quadcopter.tasks.takeoff_reward` summed over
    the sub-steps, each in [0, 1.25]).

    **Start** (``reset``): takeoff at rest on or just above the ground, z uniform in [0, 0.5] m, a
    vertical speed in [0, 0.1] m/s, drawn from the env's ``np_random``; hover at the target, at
    rest; reach target at the Udacity default pose (0, 0, 10). ``options`` may give
    ``init_pose`` (6,), ``init_velocities`` (3,) and ``init_angle_velocities`` (3,) instead.

    **End**: ``terminated`` when the quadcopter touches a bound of the simulator (z = 0 included:
    a crash); ``truncated`` at the time limit (``runtime``, 10 s). ``info["success"]`` is the
    takeoff-and-hold rule (:func:`~quadcopter.tasks.takeoff_success`): truncated, and within 1 m of
    the target with roll and pitch under 0.3 rad at every step from t = 5 s on.

    Versions: takeoff and hover ``-v5`` (these) add a yaw term to the reward's penalties on the rigid
    body, 0.25 min(|psi| / (pi / 2), 1), beside the tilt's (none on the Udacity simulator, whose yaw no
    policy can change); ``-v4`` added the hover bonus, 0.25 exp(-d / 0.1 m), to the closeness that
    ``-v2`` and ``-v3`` paid, (exp(-d / 3 m) + exp(-d / 1 m)) / 2, where ``-v1`` paid exp(-d / 3 m) (see
    :func:`~quadcopter.tasks.takeoff_reward`, :data:`~quadcopter.tasks.REWARD_VERSION`); ``-v3`` to
    ``-v5`` observe 15 values, where ``-v2`` observed the first 12
    (:data:`~quadcopter.tasks.OBSERVATION_VERSION`); ``-v1`` had 10 s episodes and the take-off-and-hold
    rule, as all since have; ``-v0`` (5 s, success = ending within 1 m of the target altitude) is gone,
    because that rule counted a quadcopter that crossed 10 m at 5 s and then fell. Reach target is
    ``-v1``.

    ``render_mode="rgb_array"``: :meth:`render` returns an (H, W, 3) uint8 picture of the
    quadcopter (arms, rotors, path so far, target) drawn with matplotlib.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 17}  # one frame per agent step: 50 Hz / 3

    def __init__(
        self,
        task: str = "takeoff",
        dynamics: str = "udacity",
        action_repeat: int = 3,
        runtime: float = TAKEOFF_RUNTIME,
        target_pos: Any = None,
        render_mode: str | None = None,
    ) -> None:
        if task not in TASKS:
            raise ValueError(f"task must be one of {sorted(TASKS)}; got {task!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"render_mode must be None or one of {self.metadata['render_modes']}; got {render_mode!r}")
        self.task_name = task
        # A start of its own (the task would draw one itself): reset() gives each episode its start.
        init_pose = np.zeros(6) if task == "takeoff" else None
        self.task = TASKS[task](
            init_pose=init_pose, runtime=runtime, target_pos=target_pos, dynamics=dynamics, action_repeat=action_repeat
        )
        self.render_mode = render_mode
        self.metadata = dict(self.metadata, render_fps=round(1 / (physics.DT * self.task.action_repeat)))
        self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        if task == "reach_target":
            self.observation_space = poses_observation_space(self.task.action_repeat)
        else:
            self.observation_space = takeoff_observation_space(self.task.target_pos)
        self._default_init_pose = self.task.sim.init_pose.copy()
        self._started = False
        self._path: list[np.ndarray] = []
        self._figure: Any = None

    def _observation(self, state):
        space = self.observation_space
        return np.clip(np.asarray(state, dtype=np.float32), space.low, space.high)

    def _start(self, options):
        """The initial pose, velocities and angular velocities for this episode."""
        options = options or {}
        if self.task_name == "takeoff":
            init_pose, init_velocities = sample_takeoff_starts(self.np_random, 1)
            init_pose, init_velocities = init_pose[0], init_velocities[0]
        else:
            init_pose, init_velocities = self._default_init_pose, np.zeros(3)
        unknown = set(options) - {"init_pose", "init_velocities", "init_angle_velocities"}
        if unknown:
            raise ValueError(
                f"unknown reset options {sorted(unknown)}; accepted: init_pose, init_velocities, init_angle_velocities"
            )
        return (
            options.get("init_pose", init_pose),
            options.get("init_velocities", init_velocities),
            options.get("init_angle_velocities", np.zeros(3)),
        )

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        init_pose, init_velocities, init_angle_velocities = self._start(options)
        # A fresh simulator checks the start values (ValueError naming them) before the old one is replaced.
        sim = type(self.task.sim)(
            init_pose, init_velocities, init_angle_velocities, self.task.sim.runtime, self.task.sim.dynamics
        )
        self.task.sim = sim
        state = self.task.reset()
        self._started = True
        self._path = [sim.pose[:3].copy()]
        return self._observation(state), self._info()

    def _info(self):
        sim = self.task.sim
        return {
            "time": sim.time,
            "z": float(sim.pose[2]),
            "success": bool(takeoff_success(self.task.truncated, getattr(self.task, "held", False))),
        }

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        if not self._started:
            raise RuntimeError("call reset() before step(), and again after an episode has ended")
        rotor_speeds = to_rotor_speeds(_check_actions(action, (4,)))
        state, reward, done = self.task.step(rotor_speeds)
        self._path.append(self.task.sim.pose[:3].copy())
        self._started = not done
        return self._observation(state), float(reward), self.task.terminated, self.task.truncated, self._info()

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        self._figure = draw_quadcopter(
            self.task.sim.pose, np.array(self._path), self.task.target_pos, time=self.task.sim.time, figure=self._figure
        )
        canvas = self._figure.canvas
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        self._figure = None


class QuadcopterVectorEnv(VectorEnv):
    """N takeoffs in one vectorised simulator: a native ``gymnasium.vector.VectorEnv``.

    Spaces, rewards and episode ends are those of ``QuadcopterEnv(task="takeoff")``, row by row.
    Each row restarts in the same step its episode ends (``AutoresetMode.SAME_STEP``): the returned
    observation is the new episode's first one, and the last one of the ended episode is in
    ``info["final_obs"]`` (with the mask ``info["_final_obs"]``), as ``SyncVectorEnv`` does in
    that mode. ``info["success"]`` is True for the rows whose episode just ended in a takeoff.

    ``randomise``: a spec of :mod:`quadcopter.randomise` (as ``train --randomise``; ``"off"`` by default): each
    episode draws its own body factors and action delay, and the observations get its noise. Its ``history``
    is the agent's to keep: the observations here are the task's.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int = 16,
        dynamics: str = "udacity",
        action_repeat: int = 3,
        runtime: float = TAKEOFF_RUNTIME,
        target_pos: Any = None,
        task: str = "takeoff",
        randomise: str = "off",
    ) -> None:
        if task != "takeoff":
            raise ValueError(f"QuadcopterVectorEnv runs the takeoff only; got task={task!r}")
        self.num_envs = num_envs
        # Validates num_envs, action_repeat, runtime, dynamics, the target and the spec (ValueError).
        self._envs = VectorTakeoffTask(
            num_envs,
            np.random.default_rng(0),
            runtime=runtime,
            target_pos=target_pos,
            dynamics=dynamics,
            action_repeat=action_repeat,
            randomisation=parse_randomise(randomise),
        )
        self.single_action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.single_observation_space = takeoff_observation_space(self._envs.target_pos)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._started = False

    def _observation(self, states):
        space = self.single_observation_space
        return np.clip(np.asarray(states, dtype=np.float32), space.low, space.high)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"QuadcopterVectorEnv.reset takes no options; got {options!r}")
        self._envs.rng = self.np_random
        self._started = True
        return self._observation(self._envs.reset()), {}

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        rotor_speeds = to_rotor_speeds(_check_actions(actions, (self.num_envs, 4)))
        step = self._envs.step(rotor_speeds)
        final_states, rewards, terminated, truncated = step
        ended = terminated | truncated
        success = np.zeros(self.num_envs, dtype=bool)
        for episode in self._envs.pop_finished():
            success[episode["env"]] = episode["success"]
        info = {"success": success, "_success": ended}
        if ended.any():
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(ended):
                final_obs[i] = self._observation(final_states[i])
            info.update(final_obs=final_obs, _final_obs=ended)
        return self._observation(step.states), rewards, terminated, truncated, info


class FlightTaskEnv(gymnasium.Env):
    """Any :class:`~quadcopter.task_specs.FlightTask` as a Gymnasium env: a built-in one by name (``hover``,
    ``reach``, ``land``, ``takeoff``) or a learner's (``"mytasks:LowHover"``, or an instance).

    The task's docstring is the specification (start, goal, observation, reward, end, success). The env
    runs the task's own functions (:class:`~quadcopter.vector_task.ScalarTask`), so its episodes are those
    of ``train --task NAME``. **Action**: 4 values in [-1, 1], mapped linearly to rotor speeds in [0, 900]
    rev/s. **Observation**: float32, the task's state: for the built-in tasks the 15 values of
    :class:`~quadcopter.tasks.TakeoffTask`, measured from the episode's goal (clipped to the bounds of
    :func:`takeoff_observation_space`), and for the landing a 16th, its resting flag in [0, 1]; a learner's
    task with another state size is unbounded.
    ``reset`` draws the task's training start (and goal) from the env's ``np_random``; ``terminated`` is
    a bound touched (a crash), or training's own ends (:meth:`~quadcopter.task_specs.FlightTask.training_end`):
    for the landing and reach, tilting past 1 rad, and for the landing coming to rest (paid what resting on is
    worth); ``truncated`` the time limit (``runtime``,
    default the task's training episode: 15 s for ``land``, 10 s for the others), ``info["success"]`` the
    task's success rule (a landing is judged by flying on: :func:`quadcopter.evaluation.evaluate_actor`).
    """

    metadata = {"render_modes": []}

    def __init__(
        self, task: str = "hover", dynamics: str = "udacity", action_repeat: int = 3, runtime: float | None = None
    ) -> None:
        self.task = load_task(task) if isinstance(task, str) else check_task(task)
        runtime = task_runtime(task if isinstance(task, str) else "") if runtime is None else runtime
        self._episode = ScalarTask(self.task, runtime, dynamics, action_repeat)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        # A goal 10 m from the task's target moves the bounds by 4 units; the simulator's bounds are 150 m away,
        # so the Box holds every observation of a flight that has not crashed. The landing adds its resting flag.
        flying = takeoff_observation_space(np.asarray(self.task.target, dtype=float))
        if self.task.state_size == TakeoffTask.state_size:
            self.observation_space = flying
        elif isinstance(self.task, Land):
            low, high = np.append(flying.low, 0.0), np.append(flying.high, 1.0)
            self.observation_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        else:
            self.observation_space = spaces.Box(-np.inf, np.inf, shape=(self.task.state_size,), dtype=np.float32)
        self._started = False

    def _observation(self, state):
        space = self.observation_space
        return np.clip(np.asarray(state, dtype=np.float32), space.low, space.high)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if options:
            raise ValueError(f"FlightTaskEnv.reset takes no options; got {options!r}")
        self._episode.envs.rng = self.np_random
        self._started = True
        return self._observation(self._episode.reset()), {"success": False}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        if not self._started:
            raise RuntimeError("call reset() before step(), and again after an episode has ended")
        state, reward, done = self._episode.step(to_rotor_speeds(_check_actions(action, (4,))))
        self._started = not done
        info = {"success": self._episode.success}
        return self._observation(state), float(reward), self._episode.terminated, self._episode.truncated, info


def _register() -> None:
    for name, task in (
        ("QuadcopterTakeoff-v5", "takeoff"),
        ("QuadcopterHover-v5", "hover"),
        ("QuadcopterReachTarget-v1", "reach_target"),
    ):
        if name not in gymnasium.registry:
            gymnasium.register(
                id=name,
                entry_point="quadcopter.envs:QuadcopterEnv",
                kwargs={"task": task},
                vector_entry_point="quadcopter.envs:QuadcopterVectorEnv" if task == "takeoff" else None,
            )
    # The tasks of quadcopter.task_specs (train --task NAME), and any FlightTask: task="mytasks:LowHover".
    for name, task in (
        ("QuadcopterHoverPush-v0", "hover"),
        ("QuadcopterReach-v0", "reach"),
        ("QuadcopterLand-v0", "land"),
        ("QuadcopterTask-v0", "hover"),
    ):
        if name not in gymnasium.registry:
            gymnasium.register(id=name, entry_point="quadcopter.envs:FlightTaskEnv", kwargs={"task": task})


_register()
