"""Population training: one independent run per seed, all in one process (``train --seeds 0-9``).

Each seed is a whole run, :class:`~quadcopter.training.RunTraining`, in a folder of its own, ``OUT/seed-S``,
with the files, checkpoints, resume and evaluation of a single run: ``evaluate``, ``plot`` and
``train --resume --out OUT/seed-S`` take it as they take any run. ``OUT/population.json`` lists the seeds,
so that ``train --resume --out OUT`` continues them all.

How the seeds share the machine: each round of each seed is one compiled call, as in a single run, and the
calls run on a pool of threads, one per CPU core (at most one per seed), a seed's next round queued as soon as
its last one ends. TensorFlow lets go of Python while a compiled call runs, so two seeds' rounds compute at
once, one on each core; a single run cannot use the second core, its rounds depend on one another. The
command line gives TensorFlow as many threads per operation as seeds train at once (``quadcopter.cli``):
with one, the seeds' calls would queue for it. Stacking the seeds' weights into batched matrix products (one
call for all seeds) was measured too and saved less (nothing, with one thread per operation);
docs/benchmarks.md, "Many seeds in one process", has the figures.

A seed's run does not depend on the others beside it: each has its own networks, generators and buffer,
made one after the other from its own seed, and nothing random is shared. ``tests/test_population.py``
checks that a seed trained in a population ends with the weights it has when trained alone.
"""

import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from agents.agent import DDPG, DDPGConfig

from . import folder_lock
from .runs import Run, RunExistsError, write_atomically
from .settings import MAX_SEEDS, POPULATION_FILE, TrainSettings, holds_population, parse_seeds
from .train_parts import StopAtRoundBoundary, TrainingError, TrainingInterrupted
from .training import RunTraining, checked_run_settings


def seed_folder(out: str | Path, seed: int) -> Path:
    """The run folder of ``seed`` in the population folder ``out``."""
    return Path(out) / f"seed-{seed}"


def population_seeds(out: str | Path) -> list[int]:
    """The seeds of the population in ``out``; ``ValueError`` naming the folder if it holds none."""
    path = Path(out) / POPULATION_FILE
    try:
        seeds = json.loads(path.read_text())["seeds"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{out} holds no population to resume ({path}: {error})") from None
    return [int(seed) for seed in seeds]


@dataclasses.dataclass
class SeedResult:
    """What one seed's training gave: its ``agent`` and ``episodes`` (as :func:`~quadcopter.training.train`
    returns them), or the ``error`` that stopped it (its folder keeps the last good checkpoint)."""

    seed: int
    folder: Path
    agent: DDPG | None = None
    episodes: pd.DataFrame | None = None
    error: Exception | None = None


def train_population(
    seeds: Sequence[int] | None,
    out: str | Path,
    config: DDPGConfig | None = None,
    settings: TrainSettings | None = None,
    resume: bool = False,
    progress: bool = True,
    overwrite: bool = False,
    budget: dict | None = None,
    workers: int | None = None,
) -> list[SeedResult]:
    """Train one run per seed, side by side in this process, each in ``out/seed-S``; returns their results.

    Args:
        seeds: the seeds (:func:`parse_seeds`); with ``resume``, None continues every seed of the population.
        out: the population's folder.
        config: the ``DDPGConfig`` of every seed, its ``seed`` replaced by each one (default: the task's
            preset). Not with ``resume``: each run's own is used.
        settings: the :class:`TrainSettings` of every seed (default: the defaults). Likewise.
        resume, overwrite, budget: as for :func:`~quadcopter.training.train`, for every seed.
        progress: one progress bar for the whole population.
        workers: the threads that run the seeds' rounds (default: one per CPU core, at most one per seed).

    Everything is checked before anything is written or removed: a seed folder holding a run (without
    ``resume`` or ``overwrite``) is refused with :class:`~quadcopter.runs.RunExistsError`, a bad setting with
    ``ValueError``. Each seed folder is locked while training writes there. A seed whose losses stop being
    finite stops (its :class:`SeedResult` holds the error); the others go on. Ctrl-C or SIGTERM stops every
    seed at the end of its round with a checkpoint and raises
    :class:`~quadcopter.train_parts.TrainingInterrupted`; ``resume`` continues them all.
    """
    if workers is not None and not 1 <= workers <= MAX_SEEDS:
        raise ValueError(f"workers must be an integer in [1, {MAX_SEEDS}]; got {workers!r}")
    seeds = _checked_seeds(seeds, out, resume, overwrite)
    with contextlib.ExitStack() as locks:
        for seed in seeds:
            locks.enter_context(folder_lock.hold(seed_folder(out, seed)))
        runs = _prepared_runs(seeds, out, config, settings, resume, overwrite, budget)
        trainings = [
            RunTraining(own_config, own_settings, run, resume, budget) for run, own_config, own_settings in runs
        ]  # every seed restored (on resume) before anything is written
        write_atomically(Path(out) / POPULATION_FILE, lambda p: p.write_text(json.dumps(dict(seeds=seeds))))
        results = [SeedResult(seed, seed_folder(out, seed)) for seed in seeds]
        workers = workers or min(len(seeds), os.cpu_count() or 1)
        with ThreadPoolExecutor(workers) as pool:
            _train_side_by_side(trainings, results, pool, progress, Path(out))
            for result, outcome in zip(results, pool.map(_finish, trainings, results)):
                if result.error is None:
                    result.agent, result.episodes = outcome
    return results


def _checked_seeds(seeds, out, resume: bool, overwrite: bool) -> list[int]:
    """The seeds to train, every folder checked: ``ValueError`` (or ``RunExistsError``) before any change."""
    if resume:
        if overwrite:
            raise ValueError("resume and overwrite contradict each other: give one")
        saved = population_seeds(out)
        if seeds is not None and list(seeds) != saved:
            raise ValueError(f"{out} holds the population of seeds {saved}; resume continues those (got {list(seeds)})")
        seeds = saved
    if not seeds:
        raise ValueError("a population needs at least one seed (--seeds 0-9, 0,3,7, ...)")
    if Run(out).holds_run():
        raise RunExistsError(f"{out} holds a single run; give a population its own folder (--out)")
    if not resume and not overwrite and holds_population(out):
        raise RunExistsError(
            f"{out} holds a population already: resume it (--resume), replace its runs (--overwrite), or train "
            "into another folder (--out)"
        )
    seeds = parse_seeds(",".join(str(int(seed)) for seed in seeds))
    for seed in seeds:
        run = Run(seed_folder(out, seed))
        if resume and not run.holds_run():
            raise ValueError(f"{run.out} holds no run to resume; the population in {out} is incomplete")
        if not resume and run.holds_run() and not overwrite:
            raise RunExistsError(
                f"{run.out} holds a training run already: resume the population (--resume), replace it "
                "(--overwrite), or train into another folder (--out)"
            )
    return seeds


def _prepared_runs(seeds, out, config, settings, resume: bool, overwrite: bool, budget) -> list[tuple]:
    """(Run, config, settings) of each seed, validated; the runs replaced with ``overwrite`` are cleared only
    once every seed's settings have passed."""
    prepared = []
    if not resume:  # the defaults and checks of a single run's, once for all seeds
        config, settings = checked_run_settings(None, config, settings, False, False, budget)
    for seed in seeds:
        run = Run(seed_folder(out, seed))
        if resume:
            prepared.append((run, *checked_run_settings(run, None, None, True, False, budget)))
        else:  # checked, not cleared yet: a run in the folder is not in the way of the check
            prepared.append((run, config.replace(seed=seed), settings))
    if overwrite:
        for run, _, _ in prepared:
            if run.holds_run():
                run.clear()
    return prepared


def _one_round(training: RunTraining, result: SeedResult) -> None:
    """A round of one seed; a seed whose losses stop being finite stops, and the others go on."""
    try:
        training.one_round()
    except TrainingError as error:
        result.error = error


def _finish(training: RunTraining, result: SeedResult):
    return None if result.error is not None else training.finish()


def _train_side_by_side(trainings, results, pool, progress: bool, out: Path) -> None:
    """Rounds of every seed, on ``pool``, until each has spent its budget or failed. A seed's next round is
    queued as soon as its last one ends, so that no thread waits for the others (the rounds of seeds differ
    in length: test flights, checkpoints); a seed's own rounds stay in order, one at a time."""
    for training in trainings:
        training.start()
    with StopAtRoundBoundary() as stop, PopulationBar(progress, trainings, results) as bar:
        pending = {}
        for training, result in zip(trainings, results):
            if not training.record.budget_spent():
                pending[pool.submit(_one_round, training, result)] = (training, result)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                training, result = pending.pop(future)
                future.result()  # raises what the round raised, other than a seed's own TrainingError
                if not stop.requested and result.error is None and not training.record.budget_spent():
                    pending[pool.submit(_one_round, training, result)] = (training, result)
            bar.show()
        going = [t for t, r in zip(trainings, results) if r.error is None and not t.record.budget_spent()]
        if going:  # stopped by Ctrl-C or SIGTERM before the end
            for training, result in zip(trainings, results):
                if result.error is None:
                    training.keeper.save()
            raise TrainingInterrupted(out, min(t.record.env_steps for t in going))


class PopulationBar:
    """The text bar of a population: the environment steps of all seeds against their budgets (episodes, else
    seconds, when that is the budget), with the seeds still training, the mean return and noisy success of
    the seeds' last 100 training episodes, the range of their best tests, and the steps/s of all together."""

    def __init__(self, enabled: bool, trainings: list[RunTraining], results: list[SeedResult]) -> None:
        self.trainings, self.results, self.bar = trainings, results, None
        self.started = self.shown = time.perf_counter()
        self.steps_before = sum(t.record.env_steps for t in trainings)
        if enabled:
            total, unit = self._total()
            self.bar = tqdm(total=total, initial=self._done(), unit=unit, desc=f"train {len(trainings)} seeds")

    def _total(self) -> tuple[int, str]:
        settings = self.trainings[0].settings
        if settings.env_steps:
            return sum(t.settings.env_steps for t in self.trainings), "step"
        if settings.episodes:
            return sum(t.settings.episodes for t in self.trainings), "episode"
        return math.ceil(max(t.settings.seconds for t in self.trainings)), "s"

    def _done(self) -> int:
        unit = self._total()[1]
        if unit == "step":
            return sum(min(t.record.env_steps, t.settings.env_steps) for t in self.trainings)
        if unit == "episode":
            return sum(min(len(t.record.episodes), t.settings.episodes) for t in self.trainings)
        return int(max(t.record.counters["seconds"] for t in self.trainings))

    def show(self) -> None:
        """Move the bar, at most twice a second (it is called after every round of every seed)."""
        if self.bar is None or time.perf_counter() - self.shown < 0.5:
            return
        self.shown = time.perf_counter()
        self.bar.update(min(self._done(), self.bar.total) - self.bar.n)
        recent = [t.record.episodes[-100:] for t in self.trainings if t.record.episodes]
        best = [t.tests.best_score[0] for t in self.trainings if t.tests.best_score]
        steps = sum(t.record.env_steps for t in self.trainings) - self.steps_before
        self.bar.set_postfix(
            training=sum(r.error is None and not t.record.budget_spent() for t, r in zip(self.trainings, self.results)),
            ret=f"{np.mean([np.mean([e['episode_return'] for e in r]) for r in recent]):.1f}" if recent else "-",
            noisy_success=f"{np.mean([np.mean([e['success'] for e in r]) for r in recent]):.0%}" if recent else "-",
            best_test=f"{min(best):.0%}-{max(best):.0%}" if best else "-",
            steps_s=f"{steps / max(time.perf_counter() - self.started, 1e-9):.0f}",
            refresh=False,
        )

    def __enter__(self) -> "PopulationBar":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.shown = -math.inf  # the bar's last position, however soon after the one before
            self.show()
            self.bar.close()
