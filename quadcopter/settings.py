"""How a training run uses its time: :class:`TrainSettings` (the agent's own settings are ``DDPGConfig``).

Kept apart from :mod:`quadcopter.training` so that the command line, the run folders (:mod:`quadcopter.runs`)
and the benchmarks read and check settings without importing TensorFlow or the training loop.
"""

import dataclasses
from pathlib import Path
from typing import Any

from agents.checks import declared_fields, setting, validate_settings

from .dynamics import AIRFRAMES, DYNAMICS, check_airframe
from .randomise import ACCEPTED, check_dynamics, parse_randomise, spec_text
from .task_specs import TASK_SETTINGS, TASKS, load_task
from .tasks import OBSERVATION_VERSION, REWARD_VERSION, TAKEOFF_RUNTIME

MAX_ENV_STEPS = 100_000_000
"""The largest ``env_steps`` budget: about four hours at the default run's speed here, and the run's table
of about 600,000 episodes fits in memory."""
MAX_EPISODES = 1_000_000
"""The largest ``episodes`` budget (the run keeps a row of about 1 kB for every episode)."""
MAX_SECONDS = 604_800
"""The largest ``seconds`` budget: a week."""

MAX_SEEDS = 100
"""The most seeds one population trains (each holds its networks and a replay buffer in memory)."""

MAX_SEED = 2**31 - 1
"""The largest seed ``--seeds`` takes."""

POPULATION_FILE = "population.json"
"""The file in a population's folder (``train --seeds``, :mod:`quadcopter.population`) that lists its seeds."""


def holds_population(out: str | Path) -> bool:
    """True if ``out`` is a population's folder: its runs are in ``out/seed-S``."""
    return (Path(out) / POPULATION_FILE).is_file()


def parse_seeds(text: str) -> list[int]:
    """The seeds of ``--seeds``: ``"0-9"``, ``"0,3,7"`` or both (``"0-4,8"``), in the order given.

    ``ValueError`` naming the bad part: a seed outside [0, 2**31 - 1], a range that runs backwards, a seed
    given twice, or more than :data:`MAX_SEEDS` seeds."""
    seeds: list[int] = []
    for part in str(text).split(","):
        first, dash, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last if dash else first)
        except ValueError:
            low, high = -1, -1  # not numbers: refused below
        if not 0 <= low <= high <= MAX_SEED:
            raise ValueError(
                f"--seeds: {part.strip()!r} is not a seed or an increasing range of seeds in [0, {MAX_SEED}] "
                "(give them like 0-9 or 0,3,7)"
            )
        if high - low + len(seeds) >= MAX_SEEDS:
            raise ValueError(f"--seeds {text!r} names more than {MAX_SEEDS} seeds; train at most {MAX_SEEDS} at once")
        seeds += range(low, high + 1)
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
        raise ValueError(f"--seeds {text!r} names seed {repeated[0]} twice; each seed is one run")
    return seeds


def _randomise_spec(spec: str) -> bool:
    """True for a spec :func:`~quadcopter.randomise.parse_randomise` reads."""
    try:
        parse_randomise(spec)
    except ValueError:
        return False
    return True


def _task_name(name: str) -> bool:
    """True for a built-in task's name or the form MODULE:CLASS (:meth:`TrainSettings.validate` then
    imports it, and the import's own error names what is wrong)."""
    return name in TASKS or ":" in name


STEPS = "environment steps"
BUDGETS = ("env_steps", "seconds", "episodes")
"""The settings that end a run; on the command line, the first one given replaces the default budget."""


@dataclasses.dataclass
class TrainSettings:
    """How a training run uses its time (the agent's own settings are in ``DDPGConfig``).

    Each field is declared once with :func:`~agents.checks.setting`: its default, range, one line of what it
    does and its ``train`` flag. The command line's flags, the validation, settings.json and the README's
    table are made from these declarations; docs/decisions.md says why each default is what it is.
    """

    task: str = setting(
        "takeoff",
        "The task to learn: a built-in task's name, or MODULE:CLASS, a FlightTask of your own (docs/tasks.md).",
        test=_task_name,
        accepted=f"one of {sorted(TASKS)} or MODULE:CLASS (a FlightTask of your own)",
        flag="--task",
    )
    num_envs: int = setting(16, "Episodes run side by side.", low=1, high=4096, flag="--num-envs")
    env_steps: int = setting(
        256_000,
        "Stop after this many environment steps, all environments together (0: no limit; reproducible).",
        low=0,
        high=MAX_ENV_STEPS,
        flag="--env-steps",
    )
    seconds: float = setting(
        0.0,
        "Stop after this much wall time of the training loop (0: no limit; not reproducible).",
        low=0,
        high=MAX_SECONDS,
        unit="seconds",
        flag="--seconds",
    )
    episodes: int = setting(
        0, "Stop after this many finished episodes (0: no limit).", low=0, high=MAX_EPISODES, flag="--episodes"
    )
    steps_per_round: int = setting(
        4, "Vectorised environment steps between two rounds of updates.", low=1, high=1_000, flag="--steps-per-round"
    )
    updates_per_round: int = setting(
        64, "Gradient updates per round, made in one compiled call.", low=0, high=10_000, flag="--updates-per-round"
    )
    dynamics: str = setting("udacity", "Simulator dynamics.", choices=DYNAMICS, flag="--dynamics")
    airframe: str = setting(
        "udacity",
        "The quadcopter flown (docs/physics.md): the Udacity one, or a Crazyflie 2.x (needs --dynamics rigid_body).",
        choices=tuple(AIRFRAMES),
        flag="--airframe",
    )
    randomise: str = setting(
        "off",
        "Domain randomisation of the training episodes' bodies, delays and sensors (quadcopter/randomise.py).",
        test=_randomise_spec,
        accepted=ACCEPTED,
        flag="--randomise",
    )
    action_repeat: int = setting(3, "Simulator steps per action.", low=1, high=100, flag="--action-repeat")
    runtime: float = setting(
        TAKEOFF_RUNTIME,
        "Time limit of an episode: training episodes, test flights and the evaluation.",
        low=0,
        high=600,
        low_open=True,
        unit="seconds",
        flag="--runtime",
    )
    air_starts: float = setting(
        0.5,
        "Share of the training episodes that start around the target instead of on the ground.",
        low=0,
        high=1,
        flag="--air-starts",
    )
    checkpoint_every: float = setting(
        20.0,
        "Seconds between checkpoints.",
        low=0,
        high=86_400,
        low_open=True,
        unit="seconds",
        flag="--checkpoint-every",
    )
    test_every: int = setting(
        2_560,
        "Environment steps between noise-free test flights; the best tested actor is kept (0: no tests).",
        low=0,
        high=MAX_ENV_STEPS,
        unit=STEPS,
        flag="--test-every",
    )
    test_episodes: int = setting(
        50,
        "Flights per test, from starts drawn with TEST_SEED (not the evaluation's).",
        low=1,
        high=4096,
        flag="--test-episodes",
    )
    fused: bool = setting(
        True,
        "Run each round and the test flights as single compiled calls (False: the numpy reference path).",
        flag="--numpy-path",
    )
    late_actor_lr_from: int = setting(
        153_600,
        "From this many environment steps on, the actor learns at late_actor_lr_factor times its rate.",
        low=0,
        high=MAX_ENV_STEPS,
        unit=STEPS,
        flag="--late-actor-lr-from",
    )
    late_actor_lr_factor: float = setting(
        0.1,
        "See late_actor_lr_from (1: the same rate throughout).",
        low=0,
        high=1,
        low_open=True,
        flag="--late-actor-lr-factor",
    )
    observation_version: int = setting(
        OBSERVATION_VERSION,
        "The takeoff observation the run learns from, kept so that a run is never flown with another.",
        test=lambda v: v == OBSERVATION_VERSION,
        accepted=f"{OBSERVATION_VERSION}, the takeoff observation this code makes",
    )
    reward_version: int = setting(
        REWARD_VERSION,
        "The takeoff reward the run learns with, kept so that a run is never resumed with another.",
        test=lambda v: v == REWARD_VERSION,
        accepted=f"{REWARD_VERSION}, the takeoff reward this code pays",
    )

    def validate(self) -> "TrainSettings":
        """Raise ``ValueError`` naming the first setting out of its range; else return self."""
        validate_settings(self)
        if self.task not in TASKS:
            load_task(self.task)  # a learner's task: imported and checked, its own error naming what is wrong
        check_airframe(self.dynamics, self.airframe)  # another body than the Udacity one needs the rigid body
        # A preset's name is saved as its items, so that the run keeps its meaning if the preset changes.
        self.randomise = spec_text(check_dynamics(parse_randomise(self.randomise), self.dynamics))
        if self.airframe != "udacity" and getattr(load_task(self.task), "sees_rotor_speeds", False):
            raise ValueError(
                f"task {self.task!r} pays for its rotor speeds relative to the Udacity quadcopter's hover; it "
                f"cannot fly airframe {self.airframe!r} yet (give --airframe udacity)"
            )
        if not (self.env_steps or self.seconds or self.episodes):
            raise ValueError("TrainSettings needs a budget: env_steps, seconds or episodes > 0; got all three 0")
        return self

    @classmethod
    def flags(cls) -> dict[str, str]:
        """{setting: its train flag} of every setting that has one."""
        return {field.name: declared.flag for field, declared in declared_fields(cls) if declared.flag}

    @classmethod
    def for_task(cls, task: str = "takeoff", **changes: Any) -> "TrainSettings":
        """The settings to learn ``task`` with: the defaults, the task's own where it has them
        (:data:`TASK_SETTINGS`), then ``changes``. ``train --task NAME`` starts from these."""
        return cls(task=task, **{**TASK_SETTINGS.get(task, {}), **changes})

    def budget_spent(self, env_steps: int, seconds: float, episodes: int) -> bool:
        """True once any of the budgets that are set (not 0) is used up."""
        return bool(
            (self.env_steps and env_steps >= self.env_steps)
            or (self.seconds and seconds >= self.seconds)
            or (self.episodes and episodes >= self.episodes)
        )
