"""Training and evaluation of the DDPG takeoff agent on N takeoffs side by side.

:func:`train` runs rounds of ``steps_per_round`` steps of the ``num_envs`` takeoffs followed by
``updates_per_round`` updates. By default each round is one compiled TensorFlow call
(:class:`~quadcopter.fused.FusedTakeoff`); :class:`NumpyRollout` is the numpy path
(:class:`~quadcopter.tasks.VectorTakeoffTask`, one compiled actor call per step), the reference the
fused path is tested against. :class:`ActorTestFlights` keeps the best noise-free test flight's
actor; :func:`finish_run` saves and evaluates both actors. ``python -m quadcopter train`` runs
:func:`train` and :func:`finish_run`; the notebook calls them too.
"""

import dataclasses
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .dynamics import DYNAMICS
from .tasks import (ACTION_HIGH, ACTION_LOW, DEFAULT_TARGET, LONG_HOLD_RUNTIME, TAKEOFF_RUNTIME, TakeoffTask,
                    VectorTakeoffTask, sample_takeoff_starts, takeoff_observation)


# Seeds of the random takeoff starts: the final evaluation's, and another for the test flights
# during training, so that choosing the best actor never sees the evaluation's starts.
EVALUATION_SEED = 12345
TEST_SEED = 2024


@dataclasses.dataclass
class TrainSettings:
    """How a training run uses its time (the agent's own settings are in ``DDPGConfig``)."""

    num_envs: int = 16
    """Takeoff episodes run side by side."""
    env_steps: int = 256_000
    """Stop after this many environment steps, all environments together (0: no limit). The default
    budget: it fixes how much the run learns, so the same seed gives the same numbers however busy
    the machine is (about 90 s on the README's 2-core machine)."""
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

    def validate(self):
        """Raise ``ValueError`` naming the first setting out of its range."""
        from agents.checks import check_fields  # here: importing agents imports TensorFlow

        def integer(low, high=math.inf):
            return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high

        def number(test):
            return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and test(v)

        check_fields(self, [
            ("num_envs", integer(1, 4096), "an integer in [1, 4096]"),
            ("env_steps", integer(0), "an integer >= 0"),
            ("seconds", number(lambda v: v >= 0), "a finite number >= 0"),
            ("episodes", integer(0), "an integer >= 0"),
            ("steps_per_round", integer(1), "an integer >= 1"),
            ("updates_per_round", integer(0), "an integer >= 0"),
            ("dynamics", lambda v: v in DYNAMICS, f"one of {list(DYNAMICS)}"),
            ("action_repeat", integer(1), "an integer >= 1"),
            ("runtime", number(lambda v: 0 < v <= 600), "a number of seconds in (0, 600]"),
            ("air_starts", number(lambda v: 0 <= v <= 1), "a share in [0, 1]"),
            ("checkpoint_every", number(lambda v: v > 0), "a number of seconds > 0"),
            ("test_every", integer(0), "an integer number of environment steps >= 0"),
            ("test_episodes", integer(1, 4096), "an integer in [1, 4096]"),
            ("fused", lambda v: isinstance(v, bool), "True or False"),
        ])
        if not (self.env_steps or self.seconds or self.episodes):
            raise ValueError("TrainSettings needs a budget: env_steps, seconds or episodes > 0; got all three 0")
        return self

    def budget_spent(self, env_steps, seconds, episodes):
        """True once any of the budgets that are set (not 0) is used up."""
        return bool((self.env_steps and env_steps >= self.env_steps) or (self.seconds and seconds >= self.seconds)
                    or (self.episodes and episodes >= self.episodes))


def make_agent(config, settings):
    from agents.agent import DDPG

    task = TakeoffTask(runtime=settings.runtime, dynamics=settings.dynamics, action_repeat=settings.action_repeat,
                       air_starts=settings.air_starts, seed=config.seed)
    return DDPG(task, config)


def evaluate_actor(act, episodes=100, seed=EVALUATION_SEED, dynamics="udacity", action_repeat=3, starts=None,
                   runtime=TAKEOFF_RUNTIME):
    """Fly ``episodes`` deterministic takeoffs of ``runtime`` s from random starts on the ground (at rest,
    z in [0, 0.5] m, v_z in [0, 0.1] m/s, drawn with ``seed``) with ``act(states (N, 12)) -> rotor
    speeds (N, 4)``, all at once. ``starts`` = (init_pose (N, 6), init_velocities (N, 3)) replaces the
    random starts.

    Returns a DataFrame with one row per episode: episode_return, length, final_z, success (the
    takeoff-and-hold rule).
    """
    if starts is None:
        starts = sample_takeoff_starts(np.random.default_rng(seed), episodes)
    episodes = len(starts[0])
    envs = VectorTakeoffTask(episodes, np.random.default_rng(seed), runtime=runtime, dynamics=dynamics,
                             action_repeat=action_repeat)
    states = envs.restart_from(*starts)
    first = {}
    while len(first) < episodes:
        envs.step(act(states))
        states = envs.states
        for episode in envs.pop_finished():
            first.setdefault(episode["env"], episode)
    return pd.DataFrame([first[i] for i in range(episodes)]).drop(columns=["env", "air_start"])


def greedy_policy(agent):
    """The agent's deterministic policy as ``act(states (N, 12)) -> rotor speeds (N, 4)``, without noise."""
    return lambda states: agent.to_task_actions(agent.act_normalised(states, explore=False))


def summarise_evaluation(results):
    return dict(success_rate=float(results["success"].mean()), median_final_z=float(results["final_z"].median()),
                mean_length=float(results["length"].mean()),
                mean_return=float(results["episode_return"].mean()), episodes=len(results))


class ActorTestFlights:
    """Noise-free test flights of the actor during training, and the actor that did best in them.

    Like Spinning Up's test run after each epoch: every ``settings.test_every`` environment steps the actor
    flies ``settings.test_episodes`` deterministic takeoffs from starts drawn with ``TEST_SEED``
    (``rollout.fly``). A copy of its weights is kept from the test with the best score (success rate,
    then mean return), because DDPG's policy can get worse again with more training; :meth:`restore_best`
    puts it back into the agent at the end. ``history`` has one dict per test.
    """

    def __init__(self, agent, settings, rollout):
        import tensorflow as tf

        self.agent, self.settings, self.rollout = agent, settings, rollout
        self.starts = sample_takeoff_starts(np.random.default_rng(TEST_SEED), settings.test_episodes)
        self.best_weights = [tf.Variable(w, trainable=False) for w in agent.actor_local.network.weights]
        self.history = []

    @property
    def best_score(self):
        """(success rate, mean return) of the kept test, or None before the first test."""
        kept = [t for t in self.history if t["best"]]
        return (kept[-1]["success_rate"], kept[-1]["mean_return"]) if kept else None

    def due(self, env_steps):
        """True when ``settings.test_every`` environment steps have passed since the last test."""
        if self.settings.test_every <= 0:
            return False
        return not self.history or env_steps >= self.history[-1]["env_steps"] + self.settings.test_every

    def run(self, counters, episodes_so_far):
        """Fly the test takeoffs; keep the actor's weights if it did better than ever."""
        agent = self.agent
        summary = summarise_evaluation(self.rollout.fly(*self.starts))
        score = (summary["success_rate"], summary["mean_return"])
        best = self.best_score is None or score > self.best_score
        if best:
            for kept, weight in zip(self.best_weights, agent.actor_weights()):
                kept.assign(weight)
        self.history.append(dict(test=len(self.history) + 1, env_steps=counters["env_steps"],
                                 updates=counters["updates"], seconds=counters["seconds"], episodes=episodes_so_far,
                                 success_rate=summary["success_rate"], mean_return=summary["mean_return"], best=best))

    def restore_best(self):
        """Put the best tested weights into the agent's actor (nothing happens if no test ran)."""
        if self.best_score is not None:
            self.agent.set_actor_weights(self.best_weights)


class NumpyRollout:
    """The numpy path of a training round: :class:`VectorTakeoffTask`, one compiled call per step.

    The same interface as :class:`~quadcopter.fused.FusedTakeoff`: :meth:`round` (``steps`` vector
    steps, then ``updates`` updates once the buffer holds ``warmup`` transitions; returns the
    episodes that ended, the last losses and the number of updates made) and :meth:`fly`.
    Its random state is the agent's numpy Generator (saved in ``state.json``).
    """

    def __init__(self, agent, settings):
        self.agent, self.settings = agent, settings
        self.memory = agent.use_tensor_memory()
        self.envs = VectorTakeoffTask(settings.num_envs, agent.rng, runtime=settings.runtime, dynamics=settings.dynamics,
                                      action_repeat=settings.action_repeat, air_starts=settings.air_starts)
        self.noise = agent.make_noise((settings.num_envs, agent.action_size))
        self.states = self.envs.reset()

    def checkpointables(self):
        return dict(memory=self.memory.checkpoint())

    def round(self, steps, updates):
        agent, envs = self.agent, self.envs
        finished = []
        for step in range(steps):
            actions = agent.act_normalised(self.states, explore=True, noise=self.noise)
            next_states, rewards, terminated, _ = envs.step(agent.to_task_actions(actions))
            self.memory.add_batch(self.states, actions, rewards, next_states, terminated)
            ended = envs.pop_finished()
            if ended:
                self.noise.reset(rows=[e["env"] for e in ended])
            finished += [dict(e, step=step) for e in ended]
            self.states = envs.states
        losses, updates_made = (math.nan, math.nan), 0
        if updates and len(self.memory) >= agent.config.warmup:
            losses, updates_made = agent.learn_many(updates), updates
        columns = ["step", "env", "episode_return", "length", "final_z", "success", "air_start"]
        return pd.DataFrame(finished, columns=columns), losses, updates_made

    def fly(self, init_pose, init_velocities, runtime=None):
        return evaluate_actor(greedy_policy(self.agent), starts=(init_pose, init_velocities),
                              dynamics=self.settings.dynamics, action_repeat=self.settings.action_repeat,
                              runtime=runtime or self.settings.runtime)


def make_rollout(agent, settings):
    """The object that runs training rounds and test flights: fused (default) or numpy."""
    if not settings.fused:
        return NumpyRollout(agent, settings)
    from .fused import FusedTakeoff

    return FusedTakeoff(agent, settings.num_envs, runtime=settings.runtime, dynamics=settings.dynamics,
                        action_repeat=settings.action_repeat, air_starts=settings.air_starts, warmup=agent.config.warmup,
                        seed=agent.config.seed)


class TrainingError(RuntimeError):
    """Training cannot go on (a non-finite loss); the last good checkpoint is kept."""


def _write_atomically(path, write):
    """Write to ``path`` through a temporary file, so an interruption never leaves half a file."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)


RUN_FILES = ("config.json", "settings.json", "episodes.csv", "tests.csv", "checkpoints", "actor.keras",
             "actor_final.keras", "evaluation.json", "flight.csv", "evaluation_flights.csv", "reward_curve.png",
             "flight.png", "flight_path.png", "evaluation_flights.png", "logs")
"""What a run folder holds (:class:`Run`): what ``overwrite`` removes, and nothing else."""


class RunExistsError(ValueError):
    """``train`` was asked to start a run in a folder that holds one."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped :func:`train` at a round boundary, after a checkpoint.

    ``out`` is the run folder (None when the run kept no files) and ``env_steps`` the steps done."""

    def __init__(self, out, env_steps):
        super().__init__(f"interrupted after {env_steps:,} environment steps")
        self.out, self.env_steps = out, env_steps


class Run:
    """The files of a training run in folder ``out``: config.json, settings.json, episodes.csv,
    tests.csv, checkpoints/ (resumable state), actor.keras, actor_final.keras, evaluation.json and
    the PNGs (:data:`RUN_FILES`)."""

    def __init__(self, out):
        self.out = Path(out)
        self.checkpoints = self.out / "checkpoints"
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"the run folder {self.out} is a file; give --out a folder (new or a run's)")

    def holds_run(self):
        """True if the folder has any of a run's files."""
        return any((self.out / name).exists() for name in RUN_FILES)

    def clear(self):
        """Remove the run's files (:data:`RUN_FILES`), nothing else."""
        import shutil

        for name in RUN_FILES:
            path = self.out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def save_config(self, config, settings):
        self.out.mkdir(parents=True, exist_ok=True)
        _write_atomically(self.out / "config.json", lambda p: p.write_text(config.to_json()))
        _write_atomically(self.out / "settings.json",
                          lambda p: p.write_text(json.dumps(dataclasses.asdict(settings), indent=2)))

    def load_config(self):
        """The run's (DDPGConfig, TrainSettings); ``ValueError`` naming the file if one is missing or bad."""
        from agents.agent import DDPGConfig

        config = _read_file(self.out / "config.json", DDPGConfig.from_json)
        settings = _read_file(self.out / "settings.json",
                              lambda text: TrainSettings(**json.loads(text)).validate())
        return config, settings

    def save_table(self, name, rows, columns):
        """Write ``rows`` (dicts) to ``out/name`` as CSV with ``columns``."""
        _write_atomically(self.out / name, lambda p: pd.DataFrame(rows, columns=columns).to_csv(p, index=False))

    def save_episodes(self, episodes):
        self.save_table("episodes.csv", episodes, EPISODE_COLUMNS)

    def save_tests(self, history):
        self.save_table("tests.csv", history, TEST_COLUMNS)

    def load_episodes(self):
        path = self.out / "episodes.csv"
        if not path.exists():
            return []
        return _read_file(path, lambda text: pd.read_csv(path, usecols=EPISODE_COLUMNS).to_dict("records"))


def _read_file(path, parse):
    """``parse(text of path)``, with one ``ValueError`` naming the file for whatever goes wrong."""
    try:
        return parse(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} is missing") from None
    except (OSError, ValueError, TypeError, KeyError, pd.errors.ParserError) as error:
        raise ValueError(f"{path} is unreadable or incomplete ({type(error).__name__}: {error})") from None


def next_run_folder(parent="runs", name="takeoff"):
    """``parent/name`` if it holds no run, else the first of ``parent/name-2``, ``name-3``, ... that holds
    none: what ``python -m quadcopter train`` uses without ``--out``, so that no run replaces another."""
    candidate, number = Path(parent) / name, 1
    while Run(candidate).holds_run():
        number += 1
        candidate = Path(parent) / f"{name}-{number}"
    return candidate


TEST_COLUMNS = ["test", "env_steps", "updates", "seconds", "episodes", "success_rate", "mean_return", "best"]
EPISODE_COLUMNS = ["episode", "episode_return", "length", "final_z", "success", "air_start", "env", "env_steps",
                   "updates", "seconds"]


def _checkpoint(agent, tests, rollout, state):
    """Everything a resumed run needs, as one ``tf.train.Checkpoint``: the networks, optimizers, random
    generators, replay buffer and the best actor, and ``state`` (a string variable: the counters, the
    numpy generator's state, the test history, as JSON), so a checkpoint is complete on its own."""
    import tensorflow as tf

    return tf.train.Checkpoint(
        best_actor=tf.train.Checkpoint(**{f"weight_{i}": w for i, w in enumerate(tests.best_weights)}),
        actor=agent.actor_local.network, actor_target=agent.actor_target.network,
        critic=agent.critic_local.model, critic_target=agent.critic_target.model,
        actor_optimizer=agent.actor_local.optimizer, critic_optimizer=agent.critic_local.optimizer,
        update_generator=agent.update_generator, updates_made=agent.updates_made, state=state,
        **rollout.checkpointables(),
    )


def _restore_newest_intact(checkpoint, manager, say):
    """Restore the newest checkpoint that reads back whole, newest first; say which were skipped and
    why. Raises ``ValueError`` if none does."""
    import tensorflow as tf

    paths = list(reversed(manager.checkpoints))
    if not paths:
        raise ValueError(f"nothing to resume: {manager.directory} holds no checkpoint "
                         "(train without --resume, or with --overwrite to start again)")
    for path in paths:
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            return path
        except (tf.errors.OpError, ValueError, IndexError, AssertionError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            say(f"checkpoint {path} is unreadable ({reason}); trying an older one")
    raise ValueError(f"nothing to resume: every checkpoint in {manager.directory} is unreadable")


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


def train(config=None, settings=None, out=None, resume=False, progress=True, overwrite=False, budget=None):
    """Train the takeoff agent on vectorised environments; returns ``(agent, episodes DataFrame)``.

    Args:
        config: a ``DDPGConfig`` (default: the takeoff's, :func:`~quadcopter.presets.takeoff_config`).
            Not allowed with ``resume``: the run's own is used.
        settings: a :class:`TrainSettings` (default: the defaults). Likewise.
        out: a folder for the run's files (see :class:`Run`), or None to keep nothing. A folder that
            holds a run already is refused (:class:`RunExistsError`) unless ``resume`` or ``overwrite``.
        resume: continue the run in ``out`` from its newest intact checkpoint, with what is left of its budget.
        progress: show a progress bar (episode, return and success rate of the last 100, the best
            test's success rate, steps/s).
        overwrite: remove the run in ``out`` (its files only, :data:`RUN_FILES`) and start a new one.
        budget: with ``resume``, new budgets (a dict with any of env_steps, seconds, episodes) that
            replace the run's: a resumed run can be extended this way.

    Each round makes ``settings.steps_per_round`` steps of the ``settings.num_envs`` takeoffs, then
    ``settings.updates_per_round`` updates: in one compiled call on the fused path (the default,
    :class:`~quadcopter.fused.FusedTakeoff`), or step by step on the numpy path (:class:`NumpyRollout`).
    Every ``settings.test_every`` environment steps, and once at the end, the actor flies noise-free test
    takeoffs (:class:`ActorTestFlights`); the returned agent's actor is the one that did best in them
    (the *selected* actor), and the tests are in the returned DataFrame's ``attrs["tests"]`` (and in
    ``out``/tests.csv). The actor as training left it (the *final* actor) is
    ``attrs["final_actor_weights"]`` (the weights, for ``agent.set_actor_weights``).

    Raises ``ValueError`` for a bad setting before anything starts, and :class:`TrainingError`
    when a loss stops being finite (the last good checkpoint stays). Ctrl-C or SIGTERM stops the
    run at the end of its round with a checkpoint and raises :class:`TrainingInterrupted`; ``resume``
    then continues it, and the fused path's run ends exactly as it would have without the stop.
    """
    import tensorflow as tf

    from .presets import takeoff_config

    run = Run(out) if out is not None else None
    if resume:
        if run is None or not run.holds_run():
            raise ValueError(f"resume needs the folder of an earlier run; got {out!r}")
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
            raise RunExistsError(f"{run.out} holds a training run already: resume it (--resume), replace it "
                                 "(--overwrite), or train into another folder (--out)")
        run.clear()
    config = (config or takeoff_config()).validate()
    settings = (settings or TrainSettings()).validate()

    agent = make_agent(config, settings)
    rollout = make_rollout(agent, settings)
    counters = dict(env_steps=0, updates=0, seconds=0.0)
    episodes = []
    tests = ActorTestFlights(agent, settings, rollout)
    state = tf.Variable("", dtype=tf.string, trainable=False)
    checkpoint = manager = None
    if run is not None:
        checkpoint = _checkpoint(agent, tests, rollout, state)
        manager = tf.train.CheckpointManager(checkpoint, run.checkpoints, max_to_keep=2)
        if resume:
            _restore_newest_intact(checkpoint, manager, print)
            agent.policy.mark_stale()  # the checkpoint's actor replaced the new one
            saved = json.loads(state.numpy().decode())
            counters.update(saved["counters"])
            agent.rng.bit_generator.state = saved["rng"]
            episodes = [e for e in run.load_episodes() if e["episode"] <= saved["episodes"]]
            if len(episodes) != saved["episodes"]:
                raise ValueError(f"{run.out / 'episodes.csv'} holds {len(episodes)} of the checkpoint's "
                                 f"{saved['episodes']} episodes: it was cut short or replaced")
            tests.history = saved["tests"]
        run.save_config(config, settings)

    def save_checkpoint():
        if run is None:
            return
        state.assign(json.dumps(dict(counters=counters, rng=agent.rng.bit_generator.state, episodes=len(episodes),
                                     tests=tests.history)))
        run.save_episodes(episodes)
        run.save_tests(tests.history)
        manager.save()

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
                    tests.run(counters, len(episodes))
                finished, losses, updates_made = rollout.round(settings.steps_per_round, settings.updates_per_round)
                steps_before = counters["env_steps"]
                counters["env_steps"] += settings.steps_per_round * settings.num_envs
                if updates_made:
                    counters["updates"] += updates_made
                    if not all(math.isfinite(loss) for loss in losses):
                        raise TrainingError(
                            f"the losses stopped being finite (critic {losses[0]}, actor {losses[1]}) after "
                            f"{counters['updates']} updates; the last good checkpoint is kept"
                            + (f" in {run.checkpoints}" if run else ""))
                seconds = time.perf_counter() - start
                for row in finished.to_dict("records"):
                    # An episode is logged with the environment steps at the end of its round's step.
                    step = row.pop("step")
                    episodes.append(dict(row, episode=len(episodes) + 1,
                                         env_steps=steps_before + (step + 1) * settings.num_envs,
                                         updates=counters["updates"], seconds=seconds))
                if run is not None and time.perf_counter() - last_checkpoint >= settings.checkpoint_every:
                    save_checkpoint()
                    last_checkpoint = time.perf_counter()
                if bar is not None and episodes:
                    recent = episodes[-100:]
                    bar.update(_bar_budget(settings, counters, len(episodes))[1] - bar.n)
                    bar.set_postfix(episode=len(episodes), ret=f"{np.mean([e['episode_return'] for e in recent]):.1f}",
                                    success=f"{np.mean([e['success'] for e in recent]):.0%}",
                                    best_test=f"{tests.best_score[0]:.0%}" if tests.best_score else "-",
                                    steps_s=f"{counters['env_steps'] / max(counters['seconds'], 1e-9):.0f}",
                                    refresh=False)
        finally:
            if bar is not None:
                bar.close()
    if settings.test_every > 0:
        tests.run(counters, len(episodes))  # the actor at the end of training gets its test too
    save_checkpoint()  # the training state as it is: a resumed run goes on from here
    final_weights = agent.actor_weights()
    tests.restore_best()
    table = pd.DataFrame(episodes, columns=EPISODE_COLUMNS)
    table.attrs["tests"] = pd.DataFrame(tests.history, columns=TEST_COLUMNS)
    table.attrs["final_actor_weights"] = final_weights
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


ACTORS = {"selected": "actor.keras", "final": "actor_final.keras"}


def evaluate_with_long_hold(act, episodes=100, seed=EVALUATION_SEED, dynamics="udacity", action_repeat=3,
                            runtime=TAKEOFF_RUNTIME):
    """:func:`summarise_evaluation` of ``episodes`` takeoffs of ``runtime`` s (:func:`evaluate_actor`),
    plus ``long_hold_success_rate``: the success rate of the same takeoffs flown for the long hold
    (the same rule to 30 s)."""
    common = dict(seed=seed, dynamics=dynamics, action_repeat=action_repeat)
    summary = summarise_evaluation(evaluate_actor(act, episodes, runtime=runtime, **common))
    long_hold = evaluate_actor(act, episodes, runtime=LONG_HOLD_RUNTIME, **common)
    summary["long_hold_success_rate"] = float(long_hold["success"].mean())
    return summary


def evaluate_both(agent, weights, settings, episodes=100, seed=EVALUATION_SEED):
    """Evaluate each actor of ``weights`` ({name: actor weights}) with :func:`evaluate_with_long_hold`
    on ``episodes`` takeoffs of ``settings.runtime`` s: {name: summary}. The agent's actor is left with
    the last weights."""
    summaries = {}
    for name, actor_weights in weights.items():
        agent.set_actor_weights(actor_weights)
        summaries[name] = evaluate_with_long_hold(greedy_policy(agent), episodes, seed, settings.dynamics,
                                                  settings.action_repeat, settings.runtime)
    return summaries


def finish_run(agent, episodes, out, settings, evaluation_episodes=100, flights_to_plot=10, seed=EVALUATION_SEED):
    """After training: save both actors, evaluate them, fly the selected one, and write the run's CSVs and PNGs.

    ``episodes`` is what :func:`train` returned; it is written to episodes.csv unless the run
    folder has one already (train with ``out`` writes it). Writes actor.keras (the selected actor,
    the one in ``agent``) and actor_final.keras (``episodes.attrs["final_actor_weights"]``, as
    training left it), evaluation.json (each actor over ``evaluation_episodes`` takeoffs and the
    30 s long hold), flight.csv (one takeoff from the ground), evaluation_flights.csv
    (``flights_to_plot`` takeoffs from random starts, with a ``flight`` column) and the plots of
    :func:`~quadcopter.plots.write_run_plots`. Returns the evaluation summaries {"selected": ...,
    "final": ...} (dicts).
    """
    from .flight import LABELS
    from .plots import write_run_plots

    run = Run(out)
    run.out.mkdir(parents=True, exist_ok=True)
    selected = agent.actor_weights()
    weights = dict(final=episodes.attrs.get("final_actor_weights", selected), selected=selected)
    for name in ("final", "selected"):  # the selected actor last: it stays in the agent
        agent.set_actor_weights(weights[name])
        agent.actor_local.model.save(run.out / ACTORS[name])
    summaries = evaluate_both(agent, weights, settings, evaluation_episodes, seed)
    summaries = {name: summaries[name] for name in ACTORS}
    _write_atomically(run.out / "evaluation.json", lambda p: p.write_text(json.dumps(summaries, indent=2)))
    act = greedy_policy(agent)
    flight = fly_actor(act, dynamics=settings.dynamics, action_repeat=settings.action_repeat, runtime=settings.runtime)
    _write_atomically(run.out / "flight.csv", lambda p: flight.to_csv(p, index=False, columns=LABELS))
    flights = fly_evaluation_flights(act, flights_to_plot, seed, settings.dynamics, settings.action_repeat,
                                     settings.runtime)
    _write_atomically(run.out / "evaluation_flights.csv", lambda p: flights.to_csv(p, index=False))
    if not (run.out / "episodes.csv").exists():  # train(out=None) kept none
        run.save_episodes(episodes)
    write_run_plots(run.out)  # from the CSVs: episodes.csv, flight.csv, evaluation_flights.csv
    return summaries


def fly_evaluation_flights(act, count=10, seed=EVALUATION_SEED, dynamics="udacity", action_repeat=3,
                           runtime=TAKEOFF_RUNTIME):
    """``count`` flights of ``act`` from random takeoff starts (drawn as in :func:`evaluate_actor`),
    as one DataFrame: a ``flight`` column (1, 2, ...) and the 17 flight labels."""
    from .flight import LABELS

    init_poses, init_velocities = sample_takeoff_starts(np.random.default_rng(seed), count)
    flights = [fly_actor(act, pose, velocity, dynamics, action_repeat, runtime).assign(flight=i + 1)
               for i, (pose, velocity) in enumerate(zip(init_poses, init_velocities))]
    return pd.concat(flights, ignore_index=True)[["flight"] + LABELS]


class ActorController:
    """Flies a policy like the hand-written controllers do (``act(sim)`` every simulator step): it
    asks ``policy(states (1, 12)) -> rotor speeds (1, 4)`` for a new action on the takeoff state
    every ``action_repeat`` steps and holds it in between, as ``TakeoffTask.step`` would."""

    def __init__(self, policy, action_repeat=3, target=DEFAULT_TARGET):
        self.policy, self.action_repeat, self.target = policy, action_repeat, np.asarray(target, dtype=float)
        self.steps, self.action = 0, None

    def act(self, sim):
        if self.steps % self.action_repeat == 0:
            state = takeoff_observation(sim.pose, sim.v, sim.angular_v, self.target)
            self.action = np.clip(np.asarray(self.policy(state[None, :]))[0], ACTION_LOW, ACTION_HIGH)
        self.steps += 1
        return self.action


def fly_actor(act, init_pose=None, init_velocities=None, dynamics="udacity", action_repeat=3, runtime=TAKEOFF_RUNTIME):
    """One deterministic takeoff with ``act(states (1, 12)) -> rotor speeds (1, 4)``, as a flight DataFrame
    (one row per simulator step, the original 17 labels). Starts at rest on the ground unless given."""
    from .flight import fly

    sim = TakeoffTask(init_pose=np.zeros(6) if init_pose is None else init_pose, init_velocities=init_velocities,
                      dynamics=dynamics, runtime=runtime).sim
    return fly(sim, ActorController(act, action_repeat))
