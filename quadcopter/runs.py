"""The run folder: its files, checkpoints and resume, and what a finished run writes (:func:`finish_run`)."""

import contextlib
import dataclasses
import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import tensorflow as tf

from agents.config import DDPGConfig

from . import folder_lock
from .evaluation import EVALUATION_SEED, evaluate_both, fly_actor, fly_evaluation_flights, greedy_policy
from .flight import LABELS
from .plots import write_run_plots
from .randomise import run_policy
from .settings import TrainSettings, holds_population
from .task_specs import load_task
from .tasks import OBSERVATION_VERSION, REWARD_VERSION


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Write to ``path`` through a temporary file, so an interruption never leaves half a file."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)


RUN_FILES = (
    "config.json",
    "settings.json",
    "episodes.csv",
    "tests.csv",
    "checkpoints",
    "actor.keras",
    "actor_final.keras",
    "evaluation.json",
    "flight.csv",
    "evaluation_flights.csv",
    "reward_curve.png",
    "flight.png",
    "flight_path.png",
    "evaluation_flights.png",
    "logs",
)
"""What a run folder holds (:class:`Run`): what ``overwrite`` removes, and nothing else."""


class RunExistsError(ValueError):
    """``train`` was asked to start a run in a folder that holds one."""


class Run:
    """The files of a training run in folder ``out``: config.json, settings.json, episodes.csv,
    tests.csv, checkpoints/ (resumable state), actor.keras, actor_final.keras, evaluation.json and
    the PNGs (:data:`RUN_FILES`)."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.checkpoints = self.out / "checkpoints"
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"the run folder {self.out} is a file; give --out a folder (new or a run's)")

    def holds_run(self) -> bool:
        """True if the folder has any of a run's files."""
        return any((self.out / name).exists() for name in RUN_FILES)

    def clear(self) -> None:
        """Remove the run's files (:data:`RUN_FILES`), nothing else."""
        for name in RUN_FILES:
            path = self.out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def save_config(self, config: DDPGConfig, settings: TrainSettings) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        write_atomically(self.out / "config.json", lambda p: p.write_text(config.to_json()))
        write_atomically(
            self.out / "settings.json", lambda p: p.write_text(json.dumps(dataclasses.asdict(settings), indent=2))
        )

    def load_config(self) -> tuple[DDPGConfig, TrainSettings]:
        """The run's (DDPGConfig, TrainSettings); ``ValueError`` naming the file if one is missing or bad."""
        config = read_file(self.out / "config.json", DDPGConfig.from_json)
        path = self.out / "settings.json"
        recorded = read_file(path, json.loads)
        check_observation_version(recorded, path)
        check_reward_version(recorded, path)
        settings = read_file(path, lambda text: TrainSettings(**json.loads(text)).validate())
        return config, settings

    def save_table(self, name: str, rows: list[dict], columns: list[str]) -> None:
        """Write ``rows`` (dicts) to ``out/name`` as CSV with ``columns``."""
        write_atomically(self.out / name, lambda p: pd.DataFrame(rows, columns=columns).to_csv(p, index=False))

    def save_episodes(self, episodes: list[dict]) -> None:
        self.save_table("episodes.csv", episodes, EPISODE_COLUMNS)

    def save_tests(self, history: list[dict]) -> None:
        self.save_table("tests.csv", history, TEST_COLUMNS)

    def load_episodes(self) -> list[dict]:
        path = self.out / "episodes.csv"
        if not path.exists():
            return []
        return read_file(path, lambda text: pd.read_csv(io.StringIO(text), usecols=EPISODE_COLUMNS).to_dict("records"))


def read_file(path: str | Path, parse: Callable[[str], Any]) -> Any:
    """``parse(text of path)``, with one ``ValueError`` naming the file for whatever goes wrong."""
    try:
        return parse(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} is missing") from None
    except (OSError, ValueError, TypeError, KeyError, pd.errors.ParserError) as error:
        raise ValueError(f"{path} is unreadable or incomplete ({type(error).__name__}: {error})") from None


def check_observation_version(settings: dict, path: str | Path) -> None:
    """Raise ``ValueError`` if the run whose settings.json (at ``path``) holds ``settings`` learned from
    another takeoff observation than this code makes (:data:`~quadcopter.tasks.OBSERVATION_VERSION`;
    a settings.json without the key is version 1's, written before the version was recorded)."""
    version = settings.get("observation_version", 1)
    if version != OBSERVATION_VERSION:
        raise ValueError(
            f"{path}: this run learned from takeoff observation version {version!r}, and this code makes "
            f"version {OBSERVATION_VERSION} (15 values; version 1 had the first 12), so its actors cannot be "
            "flown nor the run resumed here: use the code it was trained with"
        )


def check_reward_version(settings: dict, path: str | Path) -> None:
    """Raise ``ValueError`` if the run whose settings.json (at ``path``) holds ``settings`` learned with
    another takeoff reward than this code pays (:data:`~quadcopter.tasks.REWARD_VERSION`; a settings.json
    without the key is version 1's, written before the version was recorded): resuming it would mix two
    rewards in one critic. Its actors can still be flown (``evaluate``): the observation is the same."""
    version = settings.get("reward_version", 1)
    if version != REWARD_VERSION:
        raise ValueError(
            f"{path}: this run learned with takeoff reward version {version!r}, and this code pays version "
            f"{REWARD_VERSION} (with the rigid body's yaw term; version 2 had the hover bonus without it, 1 neither), "
            "so the run cannot be resumed here: "
            "evaluate its actors, or resume it with the code it was trained with"
        )


@contextlib.contextmanager
def claim_run_folder(
    out: str | Path | None = None, parent: str | Path = "runs", name: str = "takeoff"
) -> Iterator[Path]:
    """Hold a run folder's lock for the ``with`` block (see :mod:`quadcopter.folder_lock`) and give its path:
    ``out`` (``FolderInUseError`` at once if another process trains there), or, when ``out`` is None, the
    first of ``parent/name``, ``name-2``, ... that holds no run or population and that no other process has
    claimed, so that two trainings started together never share one."""
    if out is not None:
        with folder_lock.hold(out) as folder:
            yield folder
        return
    number = 1
    while True:
        candidate = Path(parent) / (name if number == 1 else f"{name}-{number}")
        if not Run(candidate).holds_run() and not holds_population(candidate):
            lock = folder_lock.FolderLock(candidate)
            try:
                lock.acquire()
            except folder_lock.FolderInUseError:
                pass  # another training has just claimed it
            else:
                if not Run(candidate).holds_run() and not holds_population(candidate):  # still free, now ours
                    break
                lock.release()
        number += 1
    with folder_lock.hold(candidate, acquired=lock) as folder:
        yield folder


def next_run_folder(parent: str | Path = "runs", name: str = "takeoff") -> Path:
    """``parent/name`` if it holds no run, else the first of ``parent/name-2``, ``name-3``, ... that holds
    none: what ``python -m quadcopter train`` uses without ``--out``, so that no run replaces another."""
    candidate, number = Path(parent) / name, 1
    while Run(candidate).holds_run():
        number += 1
        candidate = Path(parent) / f"{name}-{number}"
    return candidate


TEST_COLUMNS = ["test", "env_steps", "updates", "seconds", "episodes", "success_rate", "mean_return", "best"]
EPISODE_COLUMNS = [
    "episode",
    "episode_return",
    "length",
    "final_z",
    "success",
    "air_start",
    "env",
    "env_steps",
    "updates",
    "seconds",
]


def run_checkpoint(agent: Any, tests: Any, rollout: Any, state: tf.Variable) -> tf.train.Checkpoint:
    """Everything a resumed run needs, as one ``tf.train.Checkpoint``: the networks, optimizers, random
    generators, replay buffer and the best actor, and ``state`` (a string variable: the counters, the
    numpy generator's state, the test history, as JSON), so a checkpoint is complete on its own."""
    return tf.train.Checkpoint(
        best_actor=tf.train.Checkpoint(**{f"weight_{i}": w for i, w in enumerate(tests.best_weights)}),
        state=state,
        **agent.checkpointables(),
        **rollout.checkpointables(),
    )


def checkpoint_paths(directory: Path, manager: tf.train.CheckpointManager, say: Callable[[str], None]) -> list[str]:
    """The checkpoints in ``directory``, newest first: those of the manager's index file
    (``checkpoints/checkpoint``), or, when the index is missing, every ``ckpt-N`` whose files are there
    (then ``say`` so). Raises ``ValueError`` if there is none, without advice that would delete anything."""
    paths = list(reversed(manager.checkpoints))
    if paths:
        return paths
    found = sorted(
        (int(index.name[len("ckpt-") : -len(".index")]), str(index.with_suffix("")))
        for index in Path(directory).glob("ckpt-*.index")
        if index.name[len("ckpt-") : -len(".index")].isdigit()
    )
    if not found:
        raise ValueError(
            f"nothing to resume: {directory} holds no checkpoint files (ckpt-N.index and ckpt-N.data-*), so the "
            "run cannot continue; its other files are untouched. To train again, give a new folder (--out)"
        )
    index = Path(directory) / "checkpoint"
    say(f"the checkpoint index {index} is missing; found {len(found)} checkpoint(s) by their files, trying the newest")
    return [path for _, path in reversed(found)]


STATE_KEY = "state/.ATTRIBUTES/VARIABLE_VALUE"
"""Where :func:`run_checkpoint`'s ``state`` string lies in a checkpoint file."""

BUDGET_SETTINGS = ("env_steps", "seconds", "episodes")
"""The settings a resumed run may change (its budget): settings.json records the new one."""


def check_unedited(run: "Run", path: str) -> None:
    """Raise ``ValueError`` naming config.json or settings.json if it no longer holds what the checkpoint at
    ``path`` recorded (the budget aside): an edited file would make the checkpoint unreadable, or the
    run another run. A checkpoint from before the record was kept, or one that cannot be read, passes."""
    try:
        saved = json.loads(tf.train.load_checkpoint(path).get_tensor(STATE_KEY).decode())
    except (tf.errors.OpError, ValueError, KeyError, AttributeError, IndexError):  # a damaged file: no record
        return
    for name, recorded, ignore in (
        ("config.json", saved.get("config"), ()),
        ("settings.json", saved.get("settings"), BUDGET_SETTINGS),
    ):
        if recorded is None:
            continue
        now = read_file(run.out / name, json.loads)
        if not isinstance(now, dict):
            raise ValueError(f"{run.out / name} was edited: it must hold a JSON object; got a {type(now).__name__}")
        changed = sorted(
            key for key in set(now) | set(recorded) if key not in ignore and now.get(key) != recorded.get(key)
        )
        if changed:
            shown = ", ".join(f"{key} {recorded.get(key)!r} -> {now.get(key)!r}" for key in changed[:4])
            raise ValueError(
                f"{run.out / name} was edited after the run's checkpoints were written ({shown}): put the "
                "values back to resume this run, or train a new run in another folder with the new values"
            )


def restore_newest_intact(
    checkpoint: tf.train.Checkpoint,
    manager: tf.train.CheckpointManager,
    say: Callable[[str], None],
    paths: list[str] | None = None,
) -> str | None:
    """Restore the newest checkpoint that reads back whole, newest first (``paths``, default the
    manager's index); say which were skipped and why. Raises ``ValueError`` if none does."""
    paths = list(reversed(manager.checkpoints)) if paths is None else paths
    if not paths:
        raise ValueError(
            f"nothing to resume: {manager.directory} holds no checkpoint; its other files are untouched. "
            "To train again, give a new folder (--out)"
        )
    for path in paths:
        try:
            checkpoint.restore(path).assert_existing_objects_matched()
            return path
        except (tf.errors.OpError, ValueError, IndexError, AssertionError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            say(f"checkpoint {path} is unreadable ({reason}); trying an older one")
    raise ValueError(
        f"nothing to resume: every checkpoint in {manager.directory} is unreadable (if config.json or "
        "settings.json was edited since they were written, put it back)"
    )


ACTORS = {"selected": "actor.keras", "final": "actor_final.keras"}


def finish_run(
    agent: Any,
    episodes: pd.DataFrame,
    out: str | Path,
    settings: Any,
    evaluation_episodes: int = 100,
    flights_to_plot: int = 10,
    seed: int = EVALUATION_SEED,
) -> dict:
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
    run = Run(out)
    run.out.mkdir(parents=True, exist_ok=True)
    selected = agent.actor_weights()
    weights = dict(final=episodes.attrs.get("final_actor_weights", selected), selected=selected)
    for name in ("final", "selected"):  # the selected actor last: it stays in the agent
        agent.set_actor_weights(weights[name])
        agent.actor_local.model.save(run.out / ACTORS[name])
    summaries = evaluate_both(agent, weights, settings, evaluation_episodes, seed)
    summaries = {name: summaries[name] for name in ACTORS}
    write_atomically(run.out / "evaluation.json", lambda p: p.write_text(json.dumps(summaries, indent=2)))
    act = run_policy(greedy_policy(agent), settings)
    task = load_task(settings.task)
    common: dict[str, Any] = dict(
        dynamics=settings.dynamics,
        action_repeat=settings.action_repeat,
        runtime=settings.runtime,
        airframe=settings.airframe,
    )
    if settings.task == "takeoff":  # one takeoff from the ground at rest
        flight = fly_actor(act, **common)
    else:  # the first of the evaluation's starts
        flight = fly_evaluation_flights(act, 1, seed, task=task, **common)
    write_atomically(run.out / "flight.csv", lambda p: flight.to_csv(p, index=False, columns=LABELS))
    flights = fly_evaluation_flights(act, flights_to_plot, seed, task=task, **common)
    write_atomically(run.out / "evaluation_flights.csv", lambda p: flights.to_csv(p, index=False))
    if not (run.out / "episodes.csv").exists():  # train(out=None) kept none
        run.save_episodes(episodes)
    write_run_plots(run.out)  # from the CSVs: episodes.csv, flight.csv, evaluation_flights.csv
    return summaries
