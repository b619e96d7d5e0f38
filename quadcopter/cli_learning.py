"""The commands that need TensorFlow: ``train``, ``evaluate``, ``export``, and flying a saved actor in
``simulate``. :mod:`quadcopter.cli` parses every command without TensorFlow and loads this module (and
with it TensorFlow) only when one of these runs, so that ``simulate``, ``plot`` and ``--help`` start in a
fraction of a second instead of the five that importing TensorFlow takes here.
"""

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

import agents.actor  # noqa: F401  (registers the actor's output layer, for loading saved actors)
from agents.checks import parse_overrides
from agents.config import DDPGConfig

from . import folder_lock, robustness, training
from .course import SWITCH_RADIUS, fly_course, read_waypoints
from .evaluation import evaluate_with_long_hold
from .export import description, export_actor
from .exported import load_policy
from .plots import plot_flight_panels, plot_path_3d
from .population import train_population
from .presets import takeoff_config
from .randomise import describe, parse_randomise, run_policy
from .robustness import parse_sweep, plot_sweep
from .runs import (
    ACTORS,
    check_observation_version,
    claim_run_folder,
    finish_run,
    read_file,
    write_atomically,
)
from .settings import BUDGETS, TrainSettings, holds_population
from .sweep import INSTALL, ray_available, read_config, run_sweep
from .task_specs import load_task
from .tasks import LONG_HOLD_RUNTIME, TAKEOFF_RUNTIME
from .tensor_task import check_task
from .train_parts import device_name
from .training import TrainingInterrupted


def train(args: argparse.Namespace, given: dict[str, Any]) -> None:
    """``train``: ``given`` holds the TrainSettings flags given on the command line ({name: value}); the
    budgets among them replace the default budget, and those not given are then off (0)."""
    budgets = {name: given.get(name) or 0 for name in BUDGETS} if any(name in given for name in BUDGETS) else {}
    population = args.seeds is not None or bool(args.resume and args.out is not None and holds_population(args.out))
    if args.seeds is not None and args.seed is not None:
        raise ValueError(f"--seed {args.seed} and --seeds: give one (--seeds {args.seed} trains that seed alone)")
    if not population and args.out is not None and holds_population(args.out):
        raise ValueError(
            f"{args.out} holds a population of runs (train --seeds): resume it with --resume, or give a single "
            "run a folder of its own"
        )
    if args.resume:
        if args.out is None:
            raise ValueError("--resume needs --out: the folder of the run to continue")
        if args.overwrite:
            raise ValueError("--resume and --overwrite contradict each other: give one")
        changed = [flag for name, flag in TrainSettings.flags().items() if name in given and name not in BUDGETS]
        changed += (["--seed"] if args.seed is not None else []) + (["--set"] if args.set else [])
        if changed:
            raise ValueError(
                f"--resume continues the run with its own settings; {', '.join(changed)} would change "
                "them (only --env-steps, --seconds and --episodes may be given, as a new budget)"
            )
        config = settings = None
    else:
        overrides = parse_overrides(DDPGConfig, args.set)
        if args.seed is not None and overrides.get("seed", args.seed) != args.seed:
            raise ValueError(f"--seed {args.seed} and --set seed={overrides['seed']} disagree: give one of them")
        task = given.pop("task", TrainSettings.task)
        settings = TrainSettings.for_task(task, **{**given, **budgets}).validate()
        check_task(load_task(settings.task), settings.dynamics)  # a learner's task: on the fast path's tensors too
        if population and "seed" in overrides:
            raise ValueError("--set seed=... and --seeds: give the seeds with --seeds alone")
        config = takeoff_config(args.seed or 0, settings.dynamics).replace(**overrides)
    # The folder is locked from here until its last file is written: a second training into it is refused.
    if population:
        with claim_run_folder(args.out, name="population") as out:
            _train_population_in(args, config, settings, budgets, out)
        return
    with claim_run_folder(args.out) as out:
        _train_in(args, config, settings, budgets, out)


def _run_options(args: argparse.Namespace, budgets: dict) -> dict[str, Any]:
    """What ``train`` hands both :func:`~quadcopter.training.train` and a population: resume (with the new
    budget), the progress bar, overwrite."""
    return dict(
        resume=args.resume,
        progress=not args.no_progress,
        overwrite=args.overwrite,
        budget=budgets if args.resume else None,
    )


def _train_in(args, config, settings, budgets, out):
    """Train into the claimed folder ``out``, finish the run and say what it gave."""
    print(f"run folder: {out}")
    print(f"device: {device_name()}")
    if settings is not None and settings.randomise != "off":
        print(f"randomised training episodes: {describe(parse_randomise(settings.randomise))}")
    started = time.perf_counter()
    try:
        # training.train by its module, so that tests can stand in for it
        agent, episodes = training.train(config, settings, out=out, **_run_options(args, budgets))
    except TrainingInterrupted as stop:
        print(
            f"\ninterrupted after {stop.env_steps:,} environment steps; the run is saved in {out}/checkpoints. "
            f"Continue it with: python -m quadcopter train --out {out} --resume",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    seconds = time.perf_counter() - started
    settings = episodes.attrs["settings"]  # a resumed run's come from its folder
    summaries = finish_run(agent, episodes, out, settings, args.eval_episodes)
    print(f"trained for {seconds:.1f} s: {len(episodes)} episodes")
    for name, summary in summaries.items():
        print(
            f"{name} actor ({ACTORS[name]}), over {summary['episodes']} {settings.task} episodes: "
            f"success {summary['success_rate']:.0%} "
            f"(held to {settings.runtime:g} s), long hold {summary['long_hold_success_rate']:.0%} (to 30 s), "
            f"median final z {summary['median_final_z']:.2f} m, mean return {summary['mean_return']:.1f}"
        )
    written = sorted(path.name + ("/" if path.is_dir() else "") for path in Path(out).iterdir())
    print(f"wrote {out}/: {', '.join(written)}")


def _train_population_in(args, config, settings, budgets, out):
    """Train one run per seed into ``out/seed-S`` (:func:`~quadcopter.population.train_population`), finish each
    run as ``train`` does, write ``out/population.csv`` (one row per seed) and say what each gave."""
    print(f"population folder: {out}")
    print(f"device: {device_name()}")
    started = time.perf_counter()
    try:
        results = train_population(args.seeds, out, config, settings, **_run_options(args, budgets))
    except TrainingInterrupted as stop:
        print(
            f"\ninterrupted after {stop.env_steps:,} environment steps (the seed furthest behind); every seed is "
            f"saved in {out}/seed-S/checkpoints. Continue them with: python -m quadcopter train --out {out} --resume",
            file=sys.stderr,
        )
        raise SystemExit(130) from None
    seconds = time.perf_counter() - started
    rows = [_finished_seed(result, args.eval_episodes) for result in results]
    write_atomically(Path(out) / "population.csv", lambda p: pd.DataFrame(rows).to_csv(p, index=False))
    print(f"trained {len(results)} seeds in {seconds:.1f} s; per seed: {out}/population.csv")
    failed = [row["seed"] for row in rows if row["error"]]
    if failed:
        print(f"seeds {failed} stopped with an error (above); the others finished", file=sys.stderr)
        raise SystemExit(1)


def _finished_seed(result, eval_episodes: int) -> dict[str, Any]:
    """Finish one seed's run (evaluation, plots) and print its line; its row of population.csv."""
    row: dict[str, Any] = dict(seed=result.seed, folder=str(result.folder), error="")
    if result.error is not None:
        print(f"seed {result.seed}: stopped: {result.error}", file=sys.stderr)
        return dict(row, error=str(result.error))
    settings = result.episodes.attrs["settings"]
    summaries = finish_run(result.agent, result.episodes, result.folder, settings, eval_episodes)
    row["episodes"] = len(result.episodes)
    for name, summary in summaries.items():
        row.update({f"{name}_{key}": summary[key] for key in ("success_rate", "long_hold_success_rate", "mean_return")})
    print(
        f"seed {result.seed} ({result.folder}): "
        + ", ".join(
            f"{name} actor success {summary['success_rate']:.0%} (long hold {summary['long_hold_success_rate']:.0%})"
            for name, summary in summaries.items()
        )
    )
    return row


def evaluate(args: argparse.Namespace) -> None:
    """``evaluate``: fly a saved actor or an exported policy and print its report."""
    if (args.actor is None) == (args.policy is None):
        raise ValueError(
            "evaluate flies a saved actor (ACTOR, a .keras file or a run folder) or --policy FILE: give one"
        )
    act, settings, settings_path, label = _exported_policy(args.policy) if args.policy else _saved_actor(args.actor)
    if settings:  # an actor saved by train, or exported: refuse one that learned from another observation
        check_observation_version(settings, settings_path)
    trained_on = settings.get("dynamics")
    dynamics = args.dynamics or trained_on or "udacity"
    if trained_on and dynamics != trained_on:
        print(
            f"note: this actor learned on the {trained_on} dynamics and flies on {dynamics} here; "
            "a policy rarely carries over from one to the other (drop --dynamics to fly it on its own)"
        )
    print(label)
    task_name = settings.get("task", "takeoff")
    airframe = args.airframe or settings.get("airframe", "udacity")
    if args.sweep:
        return _sweep(args, act, {**settings, "dynamics": dynamics, "airframe": airframe}, settings_path.parent)
    summary = evaluate_with_long_hold(
        act,
        args.episodes,
        args.seed,
        dynamics,
        settings.get("action_repeat", 3),
        settings.get("runtime", TAKEOFF_RUNTIME),
        load_task(task_name),
        airframe=airframe,
    )
    print(
        f"success rate {summary['success_rate']:.0%} over {summary['episodes']} {task_name} episodes "
        f"({dynamics} dynamics)"
    )
    print(f"long hold (to {LONG_HOLD_RUNTIME:g} s): success rate {summary['long_hold_success_rate']:.0%}")
    print(f"median final altitude {summary['median_final_z']:.2f} m")
    print(f"mean return {summary['mean_return']:.1f}")


def _sweep(args: argparse.Namespace, act: Any, settings: dict[str, Any], folder: Path) -> None:
    """``evaluate --sweep``: the robustness table and plot (:mod:`quadcopter.robustness`), beside the actor."""
    parameter, values = parse_sweep(args.sweep)
    paths = [folder / f"robustness_{parameter}.csv", folder / f"robustness_{parameter}.png"]
    existing = [str(path) for path in paths if path.exists()]
    if existing and not args.overwrite:
        raise ValueError(f"evaluate --sweep would replace {', '.join(existing)}: give --overwrite to replace them")
    task_name = settings.get("task", "takeoff")
    table = robustness.sweep(act, parameter, values, settings, load_task(task_name), args.episodes, args.seed)
    table.to_csv(paths[0], index=False)
    title = f"{task_name}, {settings['dynamics']} dynamics, {settings['airframe']} airframe: {parameter}"
    plot_sweep({"actor": table}, title).savefig(paths[1], dpi=100)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
    print(f"wrote {paths[0]}, {paths[1]}")


def _run_settings_file(path):
    """The JSON object in ``path`` ({} when there is none); ``ValueError`` for anything but an object."""
    settings = read_file(path, json.loads) if path.exists() else {}
    if not isinstance(settings, dict):
        raise ValueError(f"{path} must hold a JSON object of the run's settings; got a {type(settings).__name__}")
    return settings


def _saved_actor(path):
    """(act, the run's settings, their path, a label) of a saved actor: a .keras file or a run folder's
    actor.keras; a note when its run is still training."""
    actor = path / "actor.keras" if path.is_dir() else path
    training = folder_lock.holder(actor.parent)
    if not actor.exists():
        still = (
            f": the run is still training (process {training}), and writes its actors at the end" if training else ""
        )
        raise ValueError(f"no saved actor at {actor}{still}")
    if training:
        print(
            f"note: the run in {actor.parent} is still training (process {training}); this flies the actor saved so far"
        )
    settings_path = actor.parent / "settings.json"
    settings = _run_settings_file(settings_path)
    model = _load_model(actor)
    act = run_policy(lambda states: model(states.astype(np.float32)).numpy(), settings)
    return act, settings, settings_path, f"actor: {actor}"


def _exported_policy(path):
    """(act, settings, their path, a label) of an exported policy (see :mod:`quadcopter.export`), its settings
    from the policy.json beside it."""
    if not path.exists():
        raise ValueError(f"no exported policy at {path}")
    settings_path = path.parent / "policy.json"  # beside the file, or beside the SavedModel's folder
    settings = _run_settings_file(settings_path)
    return run_policy(load_policy(path), settings), settings, settings_path, f"exported policy: {path}"


def _load_model(actor):
    """The Keras model saved in ``actor``; ``ValueError`` when the file is not one."""
    try:
        return keras.models.load_model(actor)
    except Exception as error:  # Keras reports a corrupt archive in several ways, some misleading
        raise ValueError(f"{actor} is not a readable saved actor (.keras file): {type(error).__name__}") from None


def export(args: argparse.Namespace) -> None:
    """``export``: write a run's actor in ``args.format``."""
    folder = args.source if args.source.is_dir() else args.source.parent
    training = folder_lock.holder(folder)
    if training:
        raise ValueError(f"{folder} is still training (process {training}): export once it has ended")
    actor = args.source / ACTORS[args.actor] if args.source.is_dir() else args.source
    if not actor.exists():
        raise ValueError(f"no saved actor at {actor}")
    settings = _run_settings_file(folder / "settings.json")
    out = args.out or folder / f"export-{args.format}"
    info = description(folder if args.source.is_dir() else None, settings, str(actor), args.format)
    written = export_actor(_load_model(actor), args.format, out, info)
    print(f"wrote {', '.join(str(path) for path in written)}")


def load_actor(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """``act(states) -> rotor speeds`` of a saved actor: a .keras file, or a run folder's actor_final.keras (shown
    its last actions if its run trained it so, :func:`quadcopter.randomise.run_policy`)."""
    actor = path / "actor_final.keras" if path.is_dir() else path
    if not actor.exists():
        raise ValueError(f"no saved actor at {actor}")
    model = _load_model(actor)
    settings = _run_settings_file(actor.parent / "settings.json")  # its run's, if it has one
    return run_policy(lambda states: model(np.asarray(states, np.float32)).numpy(), settings)


def simulate_course(args: argparse.Namespace) -> None:
    """``simulate --task course``: the reach actor ``--actor`` through ``--waypoints``; CSV, panels, 3-D path."""
    if args.actor is None:
        raise ValueError(
            "--task course flies a trained reach actor: give --actor (a .keras file or a reach run folder)"
        )
    waypoints = read_waypoints(args.waypoints)
    flight, summary = fly_course(load_actor(args.actor), waypoints, dynamics=args.dynamics)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    flight.to_csv(args.out, index=False)
    stem = args.out.with_suffix("")
    title = f"course {args.waypoints}, {args.dynamics} dynamics"
    written = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + "_path.png")]
    plot_flight_panels(flight, title=title).savefig(written[0], dpi=100)
    plot_path_3d(flight, title=title, waypoints=waypoints).savefig(written[1], dpi=100)
    print(
        f"passed {summary['passed']} of {len(waypoints) - 1} waypoints (within {SWITCH_RADIUS} m), "
        f"{'crashed' if summary['crashed'] else 'no crash'}, {summary['seconds']:.1f} s; the path strays at most "
        f"{summary['largest_distance']:.2f} m from the course"
    )
    print(f"wrote {', '.join(str(path) for path in [args.out, *written])}")


def sweep(args: argparse.Namespace) -> None:
    """``sweep``: the trials of a sweep on Ray Tune, then its table and plot (:mod:`quadcopter.sweep`)."""
    config = read_config(args.config)  # checked before Ray is needed
    if not ray_available():
        raise ValueError(INSTALL)
    out = args.out or Path("runs") / f"sweep-{args.config.stem}"
    started = time.perf_counter()
    table = run_sweep(config, out, address=args.address, resume=args.resume)
    print(table.to_string(index=False))
    print(f"{len(table)} trials in {time.perf_counter() - started:.1f} s; wrote {out}/sweep.csv, {out}/sweep.png")
