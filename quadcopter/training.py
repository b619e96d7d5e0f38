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
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agents.agent import DDPG, DDPGConfig

from . import folder_lock
from .evaluation import (  # noqa: F401  (re-exported: quadcopter.training was their home)
    EVALUATION_SEED,
    TEST_SEED,
    evaluate_actor,
    evaluate_both,
    evaluate_with_long_hold,
    fly_actor,
    fly_evaluation_flights,
    greedy_policy,
    summarise_evaluation,
)
from .fused import FusedTakeoff
from .presets import takeoff_config
from .randomise import parse_randomise, pushed, run_policy, with_history
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
from .settings import MAX_ENV_STEPS, MAX_EPISODES, MAX_SECONDS, TrainSettings  # noqa: F401  (re-exported)
from .task_specs import TASKS, FlightTask, load_task
from .tasks import TakeoffTask
from .tensor_task import check_task
from .train_parts import (  # noqa: F401  (TrainingError, TrainingInterrupted, ActorTestFlights re-exported: old homes)
    ActorLearningRate,
    ActorTestFlights,
    ProgressBar,
    RunKeeper,
    StopAtRoundBoundary,
    TrainingError,
    TrainingInterrupted,
    TrainingRecord,
    results_table,
)
from .vector_task import ScalarTask, VectorTakeoffTask


def make_agent(config: DDPGConfig, settings: TrainSettings) -> DDPG:
    """The DDPG agent for the run's task: the Udacity ``task.Task`` for the takeoff (as always), a
    :class:`~quadcopter.vector_task.ScalarTask` of the task otherwise."""
    if settings.task == "takeoff":
        task: TakeoffTask | ScalarTask = TakeoffTask(
            runtime=settings.runtime,
            dynamics=settings.dynamics,
            action_repeat=settings.action_repeat,
            air_starts=settings.air_starts,
            seed=config.seed,
            airframe=settings.airframe,
        )
    else:
        task = ScalarTask(
            run_task(settings),
            settings.runtime,
            settings.dynamics,
            settings.action_repeat,
            seed=config.seed,
            airframe=settings.airframe,
        )
    # An agent that sees its last actions (--randomise ...,history=K) observes 4 K numbers more than the task.
    task.state_size = task.state_size + 4 * parse_randomise(settings.randomise).history
    return DDPG(task, config)


def run_task(settings: TrainSettings) -> FlightTask:
    """The :class:`~quadcopter.task_specs.FlightTask` of a run's settings (the takeoff's with its share of
    air starts)."""
    task = load_task(settings.task)
    if settings.task not in TASKS:
        check_task(task, settings.dynamics)  # a learner's task: on the fast path's tensors too (once, cached)
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

    def __init__(self, agent: DDPG, settings: TrainSettings) -> None:
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
            airframe=settings.airframe,
            randomisation=parse_randomise(settings.randomise),
            training_ends=True,
        )
        self.noise = agent.make_noise((settings.num_envs, agent.action_size))
        self.states = self.envs.reset()
        # The actions the agent sees it chose last (--randomise ...,history=K), normalised; (N, K, 4), K may be 0.
        self.history = np.zeros((settings.num_envs, self.envs.randomisation.history, 4), np.float32)

    def checkpointables(self) -> dict[str, Any]:
        return dict(memory=self.memory.checkpoint())

    def round(self, steps: int, updates: int) -> tuple[list[dict], tuple[float, float], int]:
        agent, envs = self.agent, self.envs
        finished = []
        for step in range(steps):
            states = with_history(self.states, self.history, np)
            actions = agent.act_normalised(states, explore=True, noise=self.noise)
            step_result = envs.step(agent.to_task_actions(actions))
            next_states, rewards, terminated, _ = step_result
            self.history = pushed(self.history, actions.astype(np.float32), np)
            self.memory.add_batch(states, actions, rewards, with_history(next_states, self.history, np), terminated)
            ended = envs.pop_finished()
            if ended:
                rows = [e["env"] for e in ended]
                self.noise.reset(rows=rows)
                self.history[rows] = 0.0
            finished += [dict(e, step=step) for e in ended]
            self.states = step_result.states
        losses, updates_made = (math.nan, math.nan), 0
        if updates and len(self.memory) >= agent.config.warmup:
            losses, updates_made = agent.learn_many(updates), updates
        return finished, losses, updates_made

    def fly(self, starts: np.ndarray, goals: np.ndarray, runtime: float | None = None) -> pd.DataFrame:
        return evaluate_actor(
            run_policy(greedy_policy(self.agent), self.settings),
            starts=(starts, goals),
            dynamics=self.settings.dynamics,
            action_repeat=self.settings.action_repeat,
            runtime=runtime or self.settings.runtime,
            task=self.task,
            airframe=self.settings.airframe,
        )


def make_rollout(agent: DDPG, settings: TrainSettings) -> "FusedTakeoff | NumpyRollout":
    """The object that runs training rounds and test flights: fused (default) or numpy."""
    if not settings.fused:
        return NumpyRollout(agent, settings)
    return FusedTakeoff(
        agent,
        settings.num_envs,
        task=run_task(settings),
        runtime=settings.runtime,
        dynamics=settings.dynamics,
        action_repeat=settings.action_repeat,
        warmup=agent.config.warmup,
        seed=agent.config.seed,
        airframe=settings.airframe,
        randomisation=parse_randomise(settings.randomise),
    )


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
        Run(out or "").load_config()  # a run that cannot be resumed is refused before its lock file is written
    if out is None:
        return _train(config, settings, None, resume, progress, overwrite, budget)
    with folder_lock.hold(out):  # no other process trains into this folder meanwhile
        return _train(config, settings, out, resume, progress, overwrite, budget)


def _train(config, settings, out, resume, progress, overwrite: bool, budget):
    """:func:`train`, with the run folder ``out`` (if any) locked by this process: set up, then rounds of
    act / simulate / store / update until a budget is spent; the chores are :mod:`quadcopter.train_parts`'."""
    run = Run(out) if out is not None else None
    config, settings = checked_run_settings(run, config, settings, resume, overwrite, budget)
    training = RunTraining(config, settings, run, resume, budget)
    training.start()
    with StopAtRoundBoundary() as stop, ProgressBar(progress, settings, training.record) as bar:
        while not training.record.budget_spent():
            if stop.requested:
                training.keeper.save()
                raise TrainingInterrupted(training.keeper.folder, training.record.env_steps)
            training.one_round()
            bar.show(training.tests)
    return training.finish()


class RunTraining:
    """One run's training, a round at a time: its agent, its rollout (fused or numpy), its test flights, its
    record and its run folder's keeper. :func:`train` calls :meth:`start`, loops :meth:`one_round` until a budget
    is spent, then calls :meth:`finish`; :func:`quadcopter.population.train_population` does the same for several
    runs at once. Made, it has restored its checkpoint (``resume``) and written nothing yet.

    Args:
        config, settings: the run's validated ``DDPGConfig`` and :class:`TrainSettings`.
        run: its :class:`Run` folder, or None to keep nothing.
        resume: restore the newest intact checkpoint of ``run`` (with a new ``budget``, if given).
    """

    def __init__(
        self, config: DDPGConfig, settings: TrainSettings, run: Run | None, resume: bool, budget: dict | None
    ) -> None:
        self.settings = settings
        self.agent = make_agent(config, settings)
        self.rollout = make_rollout(self.agent, settings)
        self.tests = ActorTestFlights(self.agent, settings, self.rollout)
        self.record = TrainingRecord(settings)
        self.keeper = RunKeeper(run, self.agent, self.tests, self.rollout, config, settings, self.record)
        if resume:
            self.keeper.restore(budget)
        self.actor_lr = ActorLearningRate(self.agent, settings)

    def start(self) -> None:
        """Write the run's config and settings, open its log and start its clock: nothing is written before."""
        self.keeper.start(self.tests.starts)
        self.record.start_clock()

    def _test(self) -> None:
        self.tests.run(self.record.counters, len(self.record.episodes))
        self.keeper.after_test()

    def one_round(self) -> None:
        """A test flight if one is due, then one round of act / simulate / store / update, counted and kept."""
        record, settings = self.record, self.settings
        if self.tests.due(record.env_steps):
            self._test()
        self.actor_lr.follow(record.env_steps)
        finished, losses, updates_made = self.rollout.round(settings.steps_per_round, settings.updates_per_round)
        new_episodes = record.add_round(finished, losses, updates_made, self.keeper.where())
        self.keeper.after_round(new_episodes, losses, self.actor_lr.current)

    def finish(self) -> tuple[DDPG, pd.DataFrame]:
        """After the last round: the final actor's test, a checkpoint (a resumed run goes on from here), and
        ``(agent, episodes DataFrame)`` as :func:`train` returns them."""
        if self.settings.test_every > 0:
            self._test()  # the actor at the end of training gets its test too
        self.keeper.save()
        return self.agent, results_table(self.agent, self.tests, self.record, self.settings)


def checked_run_settings(
    run: Run | None,
    config: DDPGConfig | None,
    settings: TrainSettings | None,
    resume: bool,
    overwrite: bool,
    budget: dict | None,
) -> tuple[DDPGConfig, TrainSettings]:
    """The validated ``(config, settings)`` a run trains with: its own on ``resume`` (with a new ``budget``,
    if given), else those given or the defaults; an existing run in the folder is refused, or cleared with
    ``overwrite``. ``ValueError`` (or :class:`RunExistsError`) before anything changes."""
    if resume:
        if config is not None or settings is not None:
            raise ValueError("resume continues a run with its own config and settings; give only the budget to change")
        if run is None:
            raise ValueError("resume needs the folder of an earlier run")
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
    return (config or takeoff_config(dynamics=settings.dynamics)).validate(), settings
