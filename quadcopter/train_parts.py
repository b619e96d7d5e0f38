"""The pieces the training loop (:func:`quadcopter.training.train`) hands its chores to, each testable alone.

* :class:`TrainingRecord`: what the run has done so far (environment steps, updates, seconds, the finished
  episodes) and whether its budget is spent;
* :class:`RunKeeper`: the run folder's side (checkpoints, the episodes and tests CSVs, resuming, the
  TensorBoard log, :class:`TrainingLog`); a run without a folder keeps nothing;
* :class:`ActorLearningRate`: the actor's learning rate through the run;
* :class:`StopAtRoundBoundary`: Ctrl-C and SIGTERM wait for the end of the round;
* :class:`ProgressBar`: the text bar;
* :class:`ActorTestFlights`: the noise-free test flights, and the actor that did best in them.
"""

import dataclasses
import json
import math
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm.std import tqdm

from .evaluation import TEST_SEED, summarise_evaluation
from .machine import cpu_name
from .runs import (
    EPISODE_COLUMNS,
    TEST_COLUMNS,
    Run,
    check_unedited,
    checkpoint_paths,
    restore_newest_intact,
    run_checkpoint,
)
from .task_specs import NumpyDraw


def device_name() -> str:
    """Where TensorFlow computes: ``GPU (name, ...)`` when it sees one, else ``CPU (model name, N cores)``."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name) for gpu in gpus]
        return f"GPU ({', '.join(details)})"
    return f"CPU ({cpu_name()}, {os.cpu_count()} cores)"


class TrainingError(RuntimeError):
    """Training cannot go on (a non-finite loss); the last good checkpoint is kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped :func:`~quadcopter.training.train` at a round boundary, after a
    checkpoint.

    ``out`` is the run folder (None when the run kept no files) and ``env_steps`` the steps done."""

    def __init__(self, out: Path | None, env_steps: int) -> None:
        super().__init__(f"interrupted after {env_steps:,} environment steps")
        self.out, self.env_steps = out, env_steps


class TrainingRecord:
    """What a run has done so far: ``counters`` (env_steps, updates, seconds of the training loop) and
    ``episodes`` (one dict per finished episode, numbered from 1), against the budgets of ``settings``."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.counters = dict(env_steps=0, updates=0, seconds=0.0)
        self.episodes: list[dict] = []
        self._start = time.perf_counter()

    @property
    def env_steps(self) -> int:
        return int(self.counters["env_steps"])

    def start_clock(self) -> None:
        """Count seconds from now on, after those already counted (a resumed run's)."""
        self._start = time.perf_counter() - self.counters["seconds"]

    def budget_spent(self) -> bool:
        """Bring the seconds up to date; True once a budget of the settings is used up."""
        self.counters["seconds"] = time.perf_counter() - self._start
        return self.settings.budget_spent(self.counters["env_steps"], self.counters["seconds"], len(self.episodes))

    def add_round(self, finished: list, losses: tuple, updates_made: int, where: str = "") -> list:
        """Count a round (``settings.steps_per_round`` steps of ``settings.num_envs`` environments and
        ``updates_made`` updates with the last ``losses``) and number its finished episodes (each dict has
        the round's ``step`` it ended in); returns the new episodes. :class:`TrainingError` when the losses
        are not finite (``where``: the checkpoints kept, for the message)."""
        steps_before = self.counters["env_steps"]
        self.counters["env_steps"] += self.settings.steps_per_round * self.settings.num_envs
        if updates_made:
            self.counters["updates"] += updates_made
            if not all(math.isfinite(loss) for loss in losses):
                raise TrainingError(
                    f"the losses stopped being finite (critic {losses[0]}, actor {losses[1]}) after "
                    f"{self.counters['updates']} updates; the last good checkpoint is kept" + where
                )
        seconds = time.perf_counter() - self._start
        first = len(self.episodes)
        for row in finished:
            step = row.pop("step")  # an episode is logged with the environment steps at the end of its step
            self.episodes.append(
                dict(
                    row,
                    episode=len(self.episodes) + 1,
                    env_steps=steps_before + (step + 1) * self.settings.num_envs,
                    updates=self.counters["updates"],
                    seconds=seconds,
                )
            )
        return self.episodes[first:]

    def table(self) -> pd.DataFrame:
        """The episodes as the run's DataFrame (:data:`~quadcopter.runs.EPISODE_COLUMNS`)."""
        return pd.DataFrame(self.episodes, columns=EPISODE_COLUMNS)


class RunKeeper:
    """The run folder's side of training: checkpoints (every ``settings.checkpoint_every`` s, at a stop and at
    the end; each with the counters, the random state, the episodes and tests so far, and the run's config and
    settings), episodes.csv and tests.csv, resuming, and the TensorBoard log. With ``run`` None it keeps
    nothing and every method does nothing."""

    def __init__(
        self,
        run: Run | None,
        agent: Any,
        tests: "ActorTestFlights",
        rollout: Any,
        config: Any,
        settings: Any,
        record: TrainingRecord,
    ) -> None:
        self.run, self.agent, self.tests, self.record = run, agent, tests, record
        self.config, self.settings = config, settings
        self.log: TrainingLog | None = None
        self.last_save = time.perf_counter()
        if run is not None:
            self.state = tf.Variable("", dtype=tf.string, trainable=False)
            self.checkpoint = run_checkpoint(agent, tests, rollout, self.state)
            self.manager = tf.train.CheckpointManager(self.checkpoint, run.checkpoints, max_to_keep=2)

    @property
    def folder(self) -> Path | None:
        return None if self.run is None else self.run.out

    def where(self) -> str:
        """`` in FOLDER`` of the checkpoints, for messages (empty without a run folder)."""
        return "" if self.run is None else f" in {self.run.checkpoints}"

    def restore(self, budget: dict | None) -> None:
        """Resume: the newest intact checkpoint into the agent, the tests and the record; ``ValueError`` when the
        run's files were edited or cut short, or when a new ``budget`` is already used up (nothing changed)."""
        run, record = self.run, self.record
        assert run is not None, "restore needs a run folder"  # train resumes only runs that have one
        paths = checkpoint_paths(run.checkpoints, self.manager, print)
        check_unedited(run, paths[0])
        restore_newest_intact(self.checkpoint, self.manager, print, paths)
        self.agent.policy.mark_stale()  # the checkpoint's actor replaced the new one
        saved = json.loads(self.state.numpy().decode())
        record.counters.update(saved["counters"])
        counters = record.counters
        if budget and self.settings.budget_spent(counters["env_steps"], counters["seconds"], saved["episodes"]):
            raise ValueError(
                f"the new budget {budget} is used up already: the run has made {counters['env_steps']:,} "
                f"environment steps and {saved['episodes']:,} episodes in {counters['seconds']:.0f} s; give a "
                "larger one to go on (nothing was changed)"
            )
        self.agent.set_random_state(saved["rng"])
        record.episodes = [e for e in run.load_episodes() if e["episode"] <= saved["episodes"]]
        if len(record.episodes) != saved["episodes"]:
            raise ValueError(
                f"{run.out / 'episodes.csv'} holds {len(record.episodes)} of the checkpoint's "
                f"{saved['episodes']} episodes: it was cut short or replaced"
            )
        self.tests.history = saved["tests"]

    def start(self, starts: tuple) -> None:
        """Write the run's config and settings and open its log (``starts``: the test flights' starts)."""
        if self.run is not None:
            self.run.save_config(self.config, self.settings)
            self.log = TrainingLog(self.run.out / "logs", self.agent, self.tests.rollout.task, starts)

    def save(self) -> None:
        """A checkpoint, with episodes.csv and tests.csv as they are."""
        if self.run is None:
            return
        record = dict(
            counters=self.record.counters,
            rng=self.agent.random_state(),
            episodes=len(self.record.episodes),
            tests=self.tests.history,
        )
        # The run's config and settings too, so that a resume can name a file edited since (check_unedited).
        record.update(config=json.loads(self.config.to_json()), settings=dataclasses.asdict(self.settings))
        self.state.assign(json.dumps(record))
        self.run.save_episodes(self.record.episodes)
        self.run.save_tests(self.tests.history)
        self.manager.save()
        self.last_save = time.perf_counter()

    def after_round(self, new_episodes: list, losses: tuple, actor_lr: float | None) -> None:
        """Log the round, and save a checkpoint when ``settings.checkpoint_every`` seconds have passed."""
        if self.run is None or self.log is None:
            return
        self.log.round(self.record.counters, new_episodes, losses, actor_lr)
        if time.perf_counter() - self.last_save >= self.settings.checkpoint_every:
            self.save()

    def after_test(self) -> None:
        """Log the test that just ran."""
        if self.log is not None:
            self.log.test(self.record.counters, self.tests.history[-1])


class TrainingLog:
    """TensorBoard scalars of a run, in ``out/logs`` (``tensorboard --logdir runs/``), against environment steps.

    Every ``every`` rounds: the last critic and actor losses, the mean return, length and success of the
    training episodes that ended since, the actor's learning rate (``TrainSettings.late_actor_lr_factor``),
    and environment steps per second. At each test: its success
    rate and mean return, and the mean Q the critic gives the test starts with the actor's own actions,
    Q(s0, mu(s0)): what the critic believes a takeoff is worth, to set against the return it earns.
    """

    def __init__(self, folder: Path, agent: Any, task: Any, starts: tuple, every: int = 25) -> None:
        self.writer = tf.summary.create_file_writer(str(folder))
        self.agent, self.every, self.rounds = agent, every, 0
        states = task.observe(*starts)
        # An agent that sees its last actions sees none at a start: zeros (quadcopter.randomise).
        states = np.pad(states, ((0, 0), (0, agent.state_size - states.shape[1])))
        self.start_states = tf.constant(states, tf.float32)
        self.finished: list[dict] = []
        self.last: tuple[float, float] | None = None

    def _scalars(self, env_steps, values) -> None:
        with self.writer.as_default(step=int(env_steps)):
            for name, value in values.items():
                if value is not None and math.isfinite(value):
                    tf.summary.scalar(name, value)

    def round(self, counters: dict, finished: list[dict], losses: tuple, actor_lr: float | None = None) -> None:
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

    def test(self, counters: dict, result: dict) -> None:
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


class ActorLearningRate:
    """The actor's learning rate through a run: ``DDPGConfig.actor_lr`` until ``settings.late_actor_lr_from``
    environment steps, then ``settings.late_actor_lr_factor`` times it. Worked out from the step count
    alone, so a resumed run learns at the rate the uninterrupted one would have."""

    def __init__(self, agent: Any, settings: Any) -> None:
        self.variable = agent.actor_local.optimizer.learning_rate
        self.base, self.settings, self.current = agent.config.actor_lr, settings, None

    def follow(self, env_steps: int) -> None:
        late = env_steps >= self.settings.late_actor_lr_from
        rate = self.base * (self.settings.late_actor_lr_factor if late else 1.0)
        if rate != self.current:
            self.variable.assign(rate)
            self.current = rate


class StopAtRoundBoundary:
    """While active, Ctrl-C (SIGINT) and SIGTERM only raise a flag, which the training loop reads between
    rounds: it then checkpoints and raises :class:`TrainingInterrupted`, so a run is never stopped in the
    middle of a round (a resumed run is then exactly the uninterrupted one). A second Ctrl-C stops at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> "StopAtRoundBoundary":
        if threading.current_thread() is threading.main_thread():  # signal handlers live on the main thread
            for number in (signal.SIGINT, signal.SIGTERM):
                self.previous[number] = signal.signal(number, self._handle)
        return self

    def _handle(self, number: int, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)


class ProgressBar:
    """The text bar of a run (also in notebooks: it needs no widgets and reads the same in a saved notebook),
    counting the budget that ends the run: environment steps, else episodes, else seconds. Its postfix: the
    episodes, the return and success rate of the last 100 training episodes (with exploration noise), the
    best test's success rate, steps/s. With ``enabled`` False it shows nothing."""

    def __init__(self, enabled: bool, settings: Any, record: TrainingRecord) -> None:
        self.settings, self.record, self.bar = settings, record, None
        if enabled:
            total, position, unit = self.budget()
            self.bar = tqdm(
                total=total, initial=position, unit=unit, desc="train", mininterval=1.0, unit_scale=unit == "step"
            )

    def budget(self) -> tuple:
        """(total, position, unit) of the budget the bar counts."""
        settings, counters = self.settings, self.record.counters
        if settings.env_steps:
            total, done, unit = settings.env_steps, counters["env_steps"], "step"
        elif settings.episodes:
            total, done, unit = settings.episodes, len(self.record.episodes), "episode"
        else:
            total, done, unit = math.ceil(settings.seconds), int(counters["seconds"]), "s"
        return total, min(done, total), unit

    def show(self, tests: Any) -> None:
        """Move the bar to the record's position; ``tests``: the test flights (their best score)."""
        episodes, counters = self.record.episodes, self.record.counters
        if self.bar is None or not episodes:
            return
        recent = episodes[-100:]
        self.bar.update(self.budget()[1] - self.bar.n)
        self.bar.set_postfix(
            episode=len(episodes),
            ret=f"{np.mean([e['episode_return'] for e in recent]):.1f}",
            noisy_success=f"{np.mean([e['success'] for e in recent]):.0%}",
            best_test=f"{tests.best_score[0]:.0%}" if tests.best_score else "-",
            steps_s=f"{counters['env_steps'] / max(counters['seconds'], 1e-9):.0f}",
            refresh=False,
        )

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def results_table(agent: Any, tests: Any, record: TrainingRecord, settings: Any) -> pd.DataFrame:
    """The episodes DataFrame :func:`~quadcopter.training.train` returns, with the tests, the final actor's
    weights and the settings in its ``attrs``; the agent is left with the selected (best tested) actor."""
    final_weights = agent.actor_weights()
    tests.restore_best()
    table = record.table()
    table.attrs["tests"] = pd.DataFrame(tests.history, columns=TEST_COLUMNS)
    table.attrs["final_actor_weights"] = final_weights
    table.attrs["settings"] = settings  # the run's, as resume read them
    return table


class ActorTestFlights:
    """Noise-free test flights of the actor during training, and the actor that did best in them.

    Like Spinning Up's test run after each epoch: every ``settings.test_every`` environment steps the actor
    flies ``settings.test_episodes`` deterministic takeoffs from starts drawn with ``TEST_SEED``
    (``rollout.fly``). A copy of its weights is kept from the test with the best score (success rate,
    then mean return), because DDPG's policy can get worse again with more training; :meth:`restore_best`
    puts it back into the agent at the end. ``history`` has one dict per test.
    """

    def __init__(self, agent: Any, settings: Any, rollout: Any) -> None:
        self.agent, self.settings, self.rollout = agent, settings, rollout
        draw = NumpyDraw(np.random.default_rng(TEST_SEED))
        self.starts = rollout.task.test_starts(draw, settings.test_episodes)  # (starts (n, 12), goals (n, 3))
        self.best_weights = [tf.Variable(w, trainable=False) for w in agent.actor_weights()]
        self.history: list[dict] = []

    @property
    def best_score(self) -> tuple[float, float] | None:
        """(success rate, mean return) of the kept test, or None before the first test."""
        kept = [t for t in self.history if t["best"]]
        return (kept[-1]["success_rate"], kept[-1]["mean_return"]) if kept else None

    def due(self, env_steps: int) -> bool:
        """True when ``settings.test_every`` environment steps have passed since the last test."""
        if self.settings.test_every <= 0:
            return False
        return not self.history or env_steps >= self.history[-1]["env_steps"] + self.settings.test_every

    def run(self, counters: dict, episodes_so_far: int) -> None:
        """Fly the test takeoffs; keep the actor's weights if it did better than ever."""
        agent = self.agent
        summary = summarise_evaluation(self.rollout.fly(*self.starts))
        score = (summary["success_rate"], summary["mean_return"])
        best = self.best_score is None or score > self.best_score
        if best:
            for kept, weight in zip(self.best_weights, agent.actor_weights()):
                kept.assign(weight)
        self.history.append(
            dict(
                test=len(self.history) + 1,
                env_steps=counters["env_steps"],
                updates=counters["updates"],
                seconds=counters["seconds"],
                episodes=episodes_so_far,
                success_rate=summary["success_rate"],
                mean_return=summary["mean_return"],
                best=best,
            )
        )

    def restore_best(self) -> None:
        """Put the best tested weights into the agent's actor (nothing happens if no test ran)."""
        if self.best_score is not None:
            self.agent.set_actor_weights(self.best_weights)
