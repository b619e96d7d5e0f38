"""How a training run uses its time: :class:`TrainSettings` (the agent's own settings are ``DDPGConfig``).

Kept apart from :mod:`quadcopter.training` so that the command line, the run folders (:mod:`quadcopter.runs`)
and the benchmarks read and check settings without importing TensorFlow or the training loop.
"""

import dataclasses
import math
from typing import Any

from .dynamics import DYNAMICS
from .task_specs import TASK_SETTINGS, TASKS, load_task
from .tasks import OBSERVATION_VERSION, REWARD_VERSION, TAKEOFF_RUNTIME

MAX_ENV_STEPS = 100_000_000
"""The largest ``env_steps`` budget: about four hours at the default run's speed here, and the run's table
of about 600,000 episodes fits in memory."""
MAX_EPISODES = 1_000_000
"""The largest ``episodes`` budget (the run keeps a row of about 1 kB for every episode)."""
MAX_SECONDS = 604_800
"""The largest ``seconds`` budget: a week."""


@dataclasses.dataclass
class TrainSettings:
    """How a training run uses its time (the agent's own settings are in ``DDPGConfig``)."""

    task: str = "takeoff"
    """The task to learn: one of :data:`~quadcopter.task_specs.TASKS` (takeoff, hover, reach), or
    ``MODULE:CLASS``, a :class:`~quadcopter.task_specs.FlightTask` of your own (see docs/tasks.md)."""
    num_envs: int = 16
    """Episodes run side by side."""
    env_steps: int = 256_000
    """Stop after this many environment steps, all environments together (0: no limit). The default
    budget: it fixes how much the run learns, so the same seed gives the same numbers however busy
    the machine is (30 to 65 s of training on the 2-core machines in docs/benchmarks.md)."""
    seconds: float = 0.0
    """Stop after this much wall time of the training loop, in s (0: no limit). A time budget ends
    at a different step on every run, so its numbers are not reproducible."""
    episodes: int = 0
    """Stop after this many finished episodes (0: no limit)."""
    steps_per_round: int = 4
    """Vectorised environment steps between two rounds of updates."""
    updates_per_round: int = 64
    """Gradient updates per round, made in one compiled call."""
    dynamics: str = "udacity"
    """Simulator dynamics: "udacity" or "rigid_body"."""
    action_repeat: int = 3
    """Simulator steps per action."""
    runtime: float = TAKEOFF_RUNTIME
    """Time limit of an episode, in s: training episodes, test flights and the evaluation."""
    air_starts: float = 0.5
    """Share of the training episodes that start around the target instead of on the ground (test
    flights and the evaluation always start on the ground)."""
    checkpoint_every: float = 20.0
    """Seconds between checkpoints."""
    test_every: int = 2_560
    """Environment steps between noise-free test flights of the actor; train keeps the actor that did
    best (0: no tests)."""
    test_episodes: int = 50
    """Takeoffs per test, from random starts drawn with ``TEST_SEED`` (not the evaluation's seed)."""
    fused: bool = True
    """Run each round (acting, simulating, storing, updating) and the test flights as single compiled
    TensorFlow calls (:mod:`quadcopter.fused`); False: the numpy path (``VectorTakeoffTask``, one
    compiled call per step), which is the reference the fused path is tested against."""
    late_actor_lr_from: int = 153_600
    """From this many environment steps on (60% of the default budget), the actor learns at
    ``late_actor_lr_factor`` times its learning rate (``DDPGConfig.actor_lr``): smaller steps while it
    settles into the hover. With the hover bonus of the reward, 0.1 kept 30 held-out runs made through a
    wrapper good to the end, where with the bonus alone one of 30 collapsed late; of the code's own 30
    held-out runs, one (Udacity seed 14) still swung away for a while before recovering (docs/learning.md,
    "The code as adopted, on held-out seeds")."""
    late_actor_lr_factor: float = 0.1
    """See ``late_actor_lr_from``; 1: the same learning rate throughout."""
    observation_version: int = OBSERVATION_VERSION
    """The takeoff observation the run learns from (:data:`quadcopter.tasks.OBSERVATION_VERSION`), kept in
    settings.json so that the run is never resumed, nor its actors flown, with another; only this code's
    version is accepted."""
    reward_version: int = REWARD_VERSION
    """The takeoff reward the run learns with (:data:`quadcopter.tasks.REWARD_VERSION`), kept in settings.json
    so that the run is never resumed with another; only this code's version is accepted."""

    def validate(self):
        """Raise ``ValueError`` naming the first setting out of its range."""
        from agents.checks import check_fields, integer_in  # here: importing agents imports TensorFlow

        def number(test):
            return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and test(v)

        check_fields(
            self,
            [
                (
                    "task",
                    lambda v: isinstance(v, str) and (v in TASKS or ":" in v),
                    f"one of {sorted(TASKS)} or MODULE:CLASS (a FlightTask of your own)",
                ),
                ("num_envs", integer_in(1, 4096), "an integer in [1, 4096]"),
                ("env_steps", integer_in(0, MAX_ENV_STEPS), f"an integer in [0, {MAX_ENV_STEPS:,}]"),
                ("seconds", number(lambda v: 0 <= v <= MAX_SECONDS), f"a number of seconds in [0, {MAX_SECONDS:,}]"),
                ("episodes", integer_in(0, MAX_EPISODES), f"an integer in [0, {MAX_EPISODES:,}]"),
                ("steps_per_round", integer_in(1, 1_000), "an integer in [1, 1,000]"),
                ("updates_per_round", integer_in(0, 10_000), "an integer in [0, 10,000]"),
                ("dynamics", lambda v: v in DYNAMICS, f"one of {list(DYNAMICS)}"),
                ("action_repeat", integer_in(1, 100), "an integer in [1, 100]"),
                ("runtime", number(lambda v: 0 < v <= 600), "a number of seconds in (0, 600]"),
                ("air_starts", number(lambda v: 0 <= v <= 1), "a share in [0, 1]"),
                ("checkpoint_every", number(lambda v: 0 < v <= 86_400), "a number of seconds in (0, 86,400]"),
                (
                    "test_every",
                    integer_in(0, MAX_ENV_STEPS),
                    f"an integer number of environment steps in [0, {MAX_ENV_STEPS:,}]",
                ),
                ("test_episodes", integer_in(1, 4096), "an integer in [1, 4096]"),
                ("fused", lambda v: isinstance(v, bool), "True or False"),
                (
                    "late_actor_lr_from",
                    integer_in(0, MAX_ENV_STEPS),
                    f"an integer number of environment steps in [0, {MAX_ENV_STEPS:,}]",
                ),
                ("late_actor_lr_factor", number(lambda v: 0 < v <= 1), "a number in (0, 1]"),
                (
                    "observation_version",
                    lambda v: v == OBSERVATION_VERSION,
                    f"{OBSERVATION_VERSION}, the takeoff observation this code makes",
                ),
                (
                    "reward_version",
                    lambda v: v == REWARD_VERSION,
                    f"{REWARD_VERSION}, the takeoff reward this code pays",
                ),
            ],
        )
        if self.task not in TASKS:
            load_task(self.task)  # a learner's task: imported and checked, its own error naming what is wrong
        if not (self.env_steps or self.seconds or self.episodes):
            raise ValueError("TrainSettings needs a budget: env_steps, seconds or episodes > 0; got all three 0")
        return self

    @classmethod
    def for_task(cls, task: str = "takeoff", **changes: Any) -> "TrainSettings":
        """The settings to learn ``task`` with: the defaults, the task's own where it has them
        (:data:`TASK_SETTINGS`), then ``changes``. ``train --task NAME`` starts from these."""
        return cls(task=task, **{**TASK_SETTINGS.get(task, {}), **changes})

    def budget_spent(self, env_steps, seconds, episodes):
        """True once any of the budgets that are set (not 0) is used up."""
        return bool(
            (self.env_steps and env_steps >= self.env_steps)
            or (self.seconds and seconds >= self.seconds)
            or (self.episodes and episodes >= self.episodes)
        )
