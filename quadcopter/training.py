"""The training loop of the DDPG takeoff agent on N takeoffs side by side.

:func:`train` runs rounds of ``steps_per_round`` steps of the ``num_envs`` takeoffs followed by
``updates_per_round`` updates. By default each round is one compiled TensorFlow call
(:class:`~quadcopter.fused.FusedTakeoff`); :class:`NumpyRollout` is the numpy path
(:class:`~quadcopter.vector_task.VectorTask`, one compiled actor call per step), the reference the
fused path is tested against. The test flights and the evaluation are in :mod:`quadcopter.evaluation`,
the run folder (files, checkpoints, resume, :func:`~quadcopter.runs.finish_run`) in :mod:`quadcopter.runs`.
``python -m quadcopter train`` runs :func:`train` and ``finish_run``; the notebook calls them too.
"""

import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import folder_lock
from .dynamics import DYNAMICS
from .evaluation import (  # noqa: F401  (re-exported: quadcopter.training was their home)
    EVALUATION_SEED,
    TEST_SEED,
    ActorTestFlights,
    evaluate_actor,
    evaluate_both,
    evaluate_with_long_hold,
    fly_actor,
    fly_evaluation_flights,
    greedy_policy,
    summarise_evaluation,
)
from .runs import (  # noqa: F401  (re-exported likewise)
    ACTORS,
    EPISODE_COLUMNS,
    RUN_FILES,
    TEST_COLUMNS,
    Run,
    RunExistsError,
    check_unedited,
    checkpoint_paths,
    finish_run,
    next_run_folder,
    restore_newest_intact,
    run_checkpoint,
)
from .task_specs import TASK_SETTINGS, TASKS, load_task
from .tasks import OBSERVATION_VERSION, REWARD_VERSION, TAKEOFF_RUNTIME, TakeoffTask
from .vector_task import ScalarTask, VectorTakeoffTask

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


def make_agent(config, settings):
    """The DDPG agent for the run's task: the Udacity ``task.Task`` for the takeoff (as always), a
    :class:`~quadcopter.vector_task.ScalarTask` of the task otherwise."""
    from agents.agent import DDPG

    if settings.task == "takeoff":
        task = TakeoffTask(
            runtime=settings.runtime,
            dynamics=settings.dynamics,
            action_repeat=settings.action_repeat,
            air_starts=settings.air_starts,
            seed=config.seed,
        )
    else:
        task = ScalarTask(
            run_task(settings), settings.runtime, settings.dynamics, settings.action_repeat, seed=config.seed
        )
    return DDPG(task, config)


def run_task(settings):
    """The :class:`~quadcopter.task_specs.FlightTask` of a run's settings (the takeoff's with its share of
    air starts)."""
    task = load_task(settings.task)
    if settings.task == "takeoff":
        task = dataclasses.replace(task, air_starts=settings.air_starts)
    return task


class NumpyRollout:
    """The numpy path of a training round: :class:`VectorTakeoffTask`, one compiled call per step.

    The same interface as :class:`~quadcopter.fused.FusedTakeoff`: :meth:`round` (``steps`` vector
    steps, then ``updates`` updates once the buffer holds ``warmup`` transitions; returns the
    episodes that ended, the last losses and the number of updates made) and :meth:`fly`.
    Its random state is the agent's numpy Generator (saved in ``state.json``).
    """

    def __init__(self, agent, settings):
        self.agent, self.settings = agent, settings
        self.task = run_task(settings)
        self.memory = agent.use_tensor_memory()
        self.envs = VectorTakeoffTask(
            settings.num_envs,
            agent.rng,
            runtime=settings.runtime,
            dynamics=settings.dynamics,
            action_repeat=settings.action_repeat,
            task=self.task,
        )
        self.noise = agent.make_noise((settings.num_envs, agent.action_size))
        self.states = self.envs.reset()

    def checkpointables(self):
        return dict(memory=self.memory.checkpoint())

    def round(self, steps, updates):
        agent, envs = self.agent, self.envs
        finished = []
        for step in range(steps):
            actions = agent.act_normalised(self.states, explore=True, noise=self.noise)
            step_result = envs.step(agent.to_task_actions(actions))
            next_states, rewards, terminated, _ = step_result
            self.memory.add_batch(self.states, actions, rewards, next_states, terminated)
            ended = envs.pop_finished()
            if ended:
                self.noise.reset(rows=[e["env"] for e in ended])
            finished += [dict(e, step=step) for e in ended]
            self.states = step_result.states
        losses, updates_made = (math.nan, math.nan), 0
        if updates and len(self.memory) >= agent.config.warmup:
            losses, updates_made = agent.learn_many(updates), updates
        return finished, losses, updates_made

    def fly(self, starts, goals, runtime=None):
        return evaluate_actor(
            greedy_policy(self.agent),
            starts=(starts, goals),
            dynamics=self.settings.dynamics,
            action_repeat=self.settings.action_repeat,
            runtime=runtime or self.settings.runtime,
            task=self.task,
        )


def make_rollout(agent, settings):
    """The object that runs training rounds and test flights: fused (default) or numpy."""
    if not settings.fused:
        return NumpyRollout(agent, settings)
    from .fused import FusedTakeoff

    return FusedTakeoff(
        agent,
        settings.num_envs,
        task=run_task(settings),
        runtime=settings.runtime,
        dynamics=settings.dynamics,
        action_repeat=settings.action_repeat,
        warmup=agent.config.warmup,
        seed=agent.config.seed,
    )


class TrainingError(RuntimeError):
    """Training cannot go on (a non-finite loss); the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped :func:`train` at a round boundary, after a checkpoint.

    ``out`` is the run folder (None when the run kept no files) and ``env_steps`` the steps done."""

    def __init__(self, out, env_steps):
        super().__init__(f"interrupted after {env_steps:,} environment steps")
        self.out, self.env_steps = out, env_steps


class TrainingLog:
    """TensorBoard scalars of a run, in ``out/logs`` (``tensorboard --logdir runs/``), against environment steps.

    Every ``every`` rounds: the last critic and actor losses, the mean return, length and success of the
    training episodes that ended since, the actor's learning rate (``TrainSettings.late_actor_lr_factor``),
    and environment steps per second. At each test: its success
    rate and mean return, and the mean Q the critic gives the test starts with the actor's own actions,
    Q(s0, mu(s0)): what the critic believes a takeoff is worth, to set against the return it earns.
    """

    def __init__(self, folder, agent, task, starts, every=25):
        import tensorflow as tf

        self.writer = tf.summary.create_file_writer(str(folder))
        self.agent, self.every, self.rounds = agent, every, 0
        self.start_states = tf.constant(task.observe(*starts), tf.float32)
        self.finished, self.last = [], None

    def _scalars(self, env_steps, values):
        import tensorflow as tf

        with self.writer.as_default(step=int(env_steps)):
            for name, value in values.items():
                if value is not None and math.isfinite(value):
                    tf.summary.scalar(name, value)

    def round(self, counters, finished, losses, actor_lr=None):
        """After a round: keep its episodes; every ``every`` rounds, write the scalars (with the actor's
        learning rate, ``actor_lr``, when given)."""
        self.rounds += 1
        self.finished += finished
        if self.rounds % self.every:
            return
        seconds_steps = (counters["seconds"], counters["env_steps"])
        rate = None
        if self.last is not None and seconds_steps[0] > self.last[0]:
            rate = (seconds_steps[1] - self.last[1]) / (seconds_steps[0] - self.last[0])
        self.last = seconds_steps
        ended = self.finished
        self._scalars(
            counters["env_steps"],
            {
                "loss/critic": losses[0],
                "loss/actor": losses[1],
                "speed/env_steps_per_s": rate,
                "train/episode_return": np.mean([e["episode_return"] for e in ended]) if ended else None,
                "train/episode_length": np.mean([e["length"] for e in ended]) if ended else None,
                "train/success_rate": np.mean([e["success"] for e in ended]) if ended else None,
                "train/actor_learning_rate": actor_lr,
            },
        )
        self.finished = []

    def test(self, counters, result):
        """After a test flight: its success rate and mean return, and the critic's Q(s0, mu(s0))."""
        actions = self.agent.actor_local.network(self.start_states, training=False)
        q_values = self.agent.critic_local.model([self.start_states, actions], training=False)
        self._scalars(
            counters["env_steps"],
            {
                "test/success_rate": result["success_rate"],
                "test/mean_return": result["mean_return"],
                "test/mean_q_at_start": float(np.mean(q_values)),
            },
        )
        self.writer.flush()


class _ActorLearningRate:
    """The actor's learning rate through a run: ``DDPGConfig.actor_lr`` until ``settings.late_actor_lr_from``
    environment steps, then ``settings.late_actor_lr_factor`` times it. Worked out from the step count
    alone, so a resumed run learns at the rate the uninterrupted one would have."""

    def __init__(self, agent, settings):
        self.variable = agent.actor_local.optimizer.learning_rate
        self.base, self.settings, self.current = agent.config.actor_lr, settings, None

    def follow(self, env_steps):
        late = env_steps >= self.settings.late_actor_lr_from
        rate = self.base * (self.settings.late_actor_lr_factor if late else 1.0)
        if rate != self.current:
            self.variable.assign(rate)
            self.current = rate


class _StopAtRoundBoundary:
    """While active, Ctrl-C (SIGINT) and SIGTERM only raise a flag, which the training loop reads between
    rounds: it then checkpoints and raises :class:`TrainingInterrupted`, so a run is never stopped in the
    middle of a round (a resumed run is then exactly the uninterrupted one). A second Ctrl-C stops at once."""

    def __init__(self):
        self.requested = False
        self.previous = {}

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():  # signal handlers live on the main thread
            for number in (signal.SIGINT, signal.SIGTERM):
                self.previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        import signal

        for number, handler in self.previous.items():
            signal.signal(number, handler)
        return False


def train(
    config: Any = None,
    settings: TrainSettings | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    overwrite: bool = False,
    budget: dict | None = None,
) -> tuple[Any, pd.DataFrame]:
    """Train the takeoff agent on vectorised environments; returns ``(agent, episodes DataFrame)``.

    Args:
        config: a ``DDPGConfig`` (default: the takeoff's for ``settings.dynamics``,
            :func:`~quadcopter.presets.takeoff_config`).
            Not allowed with ``resume``: the run's own is used.
        settings: a :class:`TrainSettings` (default: the defaults). Likewise.
        out: a folder for the run's files (see :class:`Run`), or None to keep nothing. A folder that
            holds a run already is refused (:class:`RunExistsError`) unless ``resume`` or ``overwrite``.
        resume: continue the run in ``out`` from its newest intact checkpoint, with what is left of its budget.
        progress: show a progress bar (episode; return and success rate of the last 100 training
            episodes, which fly with exploration noise (``noisy_success``: with the presets' noise,
            :data:`~quadcopter.presets.EXPLORATION_NOISE`, near the tests' rate once the actor is good;
            more noise on the Udacity simulator, whose angles drift with it, can keep it near 0%);
            the best noise-free test's success rate; steps/s).
        overwrite: remove the run in ``out`` (its files only, :data:`RUN_FILES`) and start a new one.
            Whatever the flags, ``out`` is locked while training writes there: a second process training
            into it is refused at once (:class:`~quadcopter.folder_lock.FolderInUseError`), before it
            writes anything.
        budget: with ``resume``, new budgets (a dict with any of env_steps, seconds, episodes) that
            replace the run's: a resumed run can be extended this way.

    Each round makes ``settings.steps_per_round`` steps of the ``settings.num_envs`` takeoffs, then
    ``settings.updates_per_round`` updates: in one compiled call on the fused path (the default,
    :class:`~quadcopter.fused.FusedTakeoff`), or step by step on the numpy path (:class:`NumpyRollout`).
    From ``settings.late_actor_lr_from`` environment steps on, the actor learns at
    ``settings.late_actor_lr_factor`` times ``config.actor_lr`` (by default a tenth, for the last 40%).
    Every ``settings.test_every`` environment steps, and once at the end, the actor flies noise-free test
    takeoffs (:class:`ActorTestFlights`); the returned agent's actor is the one that did best in them
    (the *selected* actor), and the tests are in the returned DataFrame's ``attrs["tests"]`` (and in
    ``out``/tests.csv). The actor as training left it (the *final* actor) is
    ``attrs["final_actor_weights"]`` (the weights, for ``agent.set_actor_weights``), and the settings
    the run used (its own on ``resume``) are ``attrs["settings"]``.

    Raises ``ValueError`` for a bad setting before anything starts, and :class:`TrainingError`
    when a loss stops being finite (the last good checkpoint stays). Ctrl-C or SIGTERM stops the
    run at the end of its round with a checkpoint and raises :class:`TrainingInterrupted`; ``resume``
    then continues it, and the fused path's run ends exactly as it would have without the stop.
    """
    if resume and (out is None or not Run(out).holds_run()):
        raise ValueError(f"resume needs the folder of an earlier run; got {out!r}")
    if resume and config is None and settings is None:
        Run(out).load_config()  # a run that cannot be resumed is refused before its lock file is written
    if out is None:
        return _train(config, settings, None, resume, progress, overwrite, budget)
    with folder_lock.hold(out):  # no other process trains into this folder meanwhile
        return _train(config, settings, out, resume, progress, overwrite, budget)


def _train(config, settings, out, resume, progress, overwrite, budget):
    """:func:`train`, with the run folder ``out`` (if any) locked by this process."""
    import tensorflow as tf

    from .presets import takeoff_config

    run = Run(out) if out is not None else None
    if resume:
        if config is not None or settings is not None:
            raise ValueError("resume continues a run with its own config and settings; give only the budget to change")
        config, settings = run.load_config()
        if budget:
            unknown = set(budget) - {"env_steps", "seconds", "episodes"}
            if unknown:
                raise ValueError(f"budget takes env_steps, seconds and episodes; got {sorted(unknown)}")
            settings = dataclasses.replace(settings, **{"env_steps": 0, "seconds": 0.0, "episodes": 0, **budget})
    elif budget:
        raise ValueError("budget is for resume; give a new run's budget in its settings")
    elif run is not None and run.holds_run():
        if not overwrite:
            raise RunExistsError(
                f"{run.out} holds a training run already: resume it (--resume), replace it "
                "(--overwrite), or train into another folder (--out)"
            )
        run.clear()
    settings = (settings or TrainSettings()).validate()
    config = (config or takeoff_config(dynamics=settings.dynamics)).validate()

    agent = make_agent(config, settings)
    rollout = make_rollout(agent, settings)
    counters = dict(env_steps=0, updates=0, seconds=0.0)
    episodes = []
    tests = ActorTestFlights(agent, settings, rollout)
    state = tf.Variable("", dtype=tf.string, trainable=False)
    checkpoint = manager = None
    if run is not None:
        checkpoint = run_checkpoint(agent, tests, rollout, state)
        manager = tf.train.CheckpointManager(checkpoint, run.checkpoints, max_to_keep=2)
        if resume:
            paths = checkpoint_paths(run.checkpoints, manager, print)
            check_unedited(run, paths[0])
            restore_newest_intact(checkpoint, manager, print, paths)
            agent.policy.mark_stale()  # the checkpoint's actor replaced the new one
            saved = json.loads(state.numpy().decode())
            counters.update(saved["counters"])
            if budget and settings.budget_spent(counters["env_steps"], counters["seconds"], saved["episodes"]):
                raise ValueError(
                    f"the new budget {budget} is used up already: the run has made {counters['env_steps']:,} "
                    f"environment steps and {saved['episodes']:,} episodes in {counters['seconds']:.0f} s; give a "
                    "larger one to go on (nothing was changed)"
                )
            agent.set_random_state(saved["rng"])
            episodes = [e for e in run.load_episodes() if e["episode"] <= saved["episodes"]]
            if len(episodes) != saved["episodes"]:
                raise ValueError(
                    f"{run.out / 'episodes.csv'} holds {len(episodes)} of the checkpoint's "
                    f"{saved['episodes']} episodes: it was cut short or replaced"
                )
            tests.history = saved["tests"]
        run.save_config(config, settings)
    log = TrainingLog(run.out / "logs", agent, rollout.task, tests.starts) if run is not None else None

    def save_checkpoint():
        if run is None:
            return
        record = dict(counters=counters, rng=agent.random_state(), episodes=len(episodes), tests=tests.history)
        # The run's config and settings too, so that a resume can name a file edited since (check_unedited).
        record.update(config=json.loads(config.to_json()), settings=dataclasses.asdict(settings))
        state.assign(json.dumps(record))
        run.save_episodes(episodes)
        run.save_tests(tests.history)
        manager.save()

    def run_test():
        tests.run(counters, len(episodes))
        if log is not None:
            log.test(counters, tests.history[-1])

    actor_lr = _ActorLearningRate(agent, settings)
    bar = _progress_bar(progress, settings, counters, len(episodes))
    start = time.perf_counter() - counters["seconds"]
    last_checkpoint = time.perf_counter()
    with _StopAtRoundBoundary() as stop:
        try:
            while True:
                counters["seconds"] = time.perf_counter() - start
                if settings.budget_spent(counters["env_steps"], counters["seconds"], len(episodes)):
                    break
                if stop.requested:
                    save_checkpoint()
                    raise TrainingInterrupted(run.out if run else None, counters["env_steps"])
                if tests.due(counters["env_steps"]):
                    run_test()
                actor_lr.follow(counters["env_steps"])
                finished, losses, updates_made = rollout.round(settings.steps_per_round, settings.updates_per_round)
                steps_before = counters["env_steps"]
                counters["env_steps"] += settings.steps_per_round * settings.num_envs
                if updates_made:
                    counters["updates"] += updates_made
                    if not all(math.isfinite(loss) for loss in losses):
                        raise TrainingError(
                            f"the losses stopped being finite (critic {losses[0]}, actor {losses[1]}) after "
                            f"{counters['updates']} updates; the last good checkpoint is kept"
                            + (f" in {run.checkpoints}" if run else "")
                        )
                seconds = time.perf_counter() - start
                episodes_before = len(episodes)
                for row in finished:
                    # An episode is logged with the environment steps at the end of its round's step.
                    step = row.pop("step")
                    episodes.append(
                        dict(
                            row,
                            episode=len(episodes) + 1,
                            env_steps=steps_before + (step + 1) * settings.num_envs,
                            updates=counters["updates"],
                            seconds=seconds,
                        )
                    )
                if log is not None:
                    log.round(counters, episodes[episodes_before:], losses, actor_lr.current)
                if run is not None and time.perf_counter() - last_checkpoint >= settings.checkpoint_every:
                    save_checkpoint()
                    last_checkpoint = time.perf_counter()
                if bar is not None and episodes:
                    recent = episodes[-100:]
                    bar.update(_bar_budget(settings, counters, len(episodes))[1] - bar.n)
                    bar.set_postfix(
                        episode=len(episodes),
                        ret=f"{np.mean([e['episode_return'] for e in recent]):.1f}",
                        noisy_success=f"{np.mean([e['success'] for e in recent]):.0%}",
                        best_test=f"{tests.best_score[0]:.0%}" if tests.best_score else "-",
                        steps_s=f"{counters['env_steps'] / max(counters['seconds'], 1e-9):.0f}",
                        refresh=False,
                    )
        finally:
            if bar is not None:
                bar.close()
    if settings.test_every > 0:
        run_test()  # the actor at the end of training gets its test too
    save_checkpoint()  # the training state as it is: a resumed run goes on from here
    final_weights = agent.actor_weights()
    tests.restore_best()
    table = pd.DataFrame(episodes, columns=EPISODE_COLUMNS)
    table.attrs["tests"] = pd.DataFrame(tests.history, columns=TEST_COLUMNS)
    table.attrs["final_actor_weights"] = final_weights
    table.attrs["settings"] = settings  # the run's, as resume read them
    return agent, table


def _progress_bar(progress, settings, counters, episodes_so_far):
    """A text bar that counts the budget that ends the run (see :func:`_bar_budget`)."""
    if not progress:
        return None
    # The text bar, also in notebooks: it needs no widgets and reads the same in a saved notebook.
    from tqdm.std import tqdm

    total, position, unit = _bar_budget(settings, counters, episodes_so_far)
    return tqdm(total=total, initial=position, unit=unit, desc="train", mininterval=1.0, unit_scale=unit == "step")


def _bar_budget(settings, counters, episodes_so_far):
    """(total, position, unit) of the budget the bar counts: env steps, else episodes, else seconds."""
    if settings.env_steps:
        total, done, unit = settings.env_steps, counters["env_steps"], "step"
    elif settings.episodes:
        total, done, unit = settings.episodes, episodes_so_far, "episode"
    else:
        total, done, unit = math.ceil(settings.seconds), int(counters["seconds"]), "s"
    return total, min(done, total), unit
