"""The command line: ``python -m quadcopter COMMAND --help``.

Commands: ``simulate`` flies a hand-written controller and writes the flight (CSV and PNG);
``train`` trains the DDPG takeoff agent; ``evaluate`` measures a saved actor's success rate;
``plot`` draws a flight CSV or a run folder (PNGs, and a GIF with ``--gif``).
"""

import argparse
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import folder_lock
from .course import COURSES
from .dynamics import DYNAMICS
from .evaluation import EVALUATION_GROUP, EVALUATION_SEED, MAX_EVALUATION_EPISODES
from .settings import TrainSettings
from .task_specs import TASK_SETTINGS, TASKS, NumpyDraw, load_task, task_runtime


def _floats(count):
    """An argparse type: ``count`` comma-separated finite numbers."""

    def parse(text):
        try:
            values = [float(part) for part in text.split(",")]
        except ValueError:
            values = []
        if len(values) != count or not all(np.isfinite(values)):
            raise argparse.ArgumentTypeError(f"expected {count} comma-separated finite numbers; got {text!r}")
        return values

    return parse


def _int_in(low, high):
    """An argparse type: an integer in [low, high]."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected an integer in [{low:,}, {high:,}]; got {text!r}")
        return value

    return parse


def _number_in(low, high, unit, low_open=False):
    """An argparse type: a finite number in [low, high] (or (low, high] with ``low_open``), in ``unit``."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        above_low = value > low if low_open else value >= low
        if not (above_low and value <= high):
            bracket = "(" if low_open else "["
            raise argparse.ArgumentTypeError(
                f"expected a number of {unit} in {bracket}{low:g}, {high:,g}]; got {text!r}"
            )
        return value

    return parse


MAX_SIMULATE_RUNTIME = 3_600.0
"""s: the longest flight ``simulate`` flies (180,000 steps, a 25 MB CSV, about a minute here)."""

# The options that take a comma list: "--init-pose -1,0,0,0,0,0" would otherwise read "-1,..." as an option.
COMMA_LIST_OPTIONS = ("--speeds", "--init-pose", "--target")


def _join_negative_lists(argv):
    """``["--init-pose", "-1,0,..."]`` -> ``["--init-pose=-1,0,..."]``, so that argparse takes a comma list
    starting with a minus sign as the option's value."""
    joined, i = [], 0
    while i < len(argv):
        if (
            argv[i] in COMMA_LIST_OPTIONS
            and i + 1 < len(argv)
            and argv[i + 1][:1] == "-"
            and argv[i + 1][1:2] in "0123456789."
        ):
            joined.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def _add_simulate(commands):
    parser = commands.add_parser(
        "simulate",
        help="fly a hand-written controller and write the flight as CSV and PNG",
        description="Fly the quadcopter simulator with a hand-written controller, write the flight "
        "as CSV (the original notebook's 17 columns) and its time-series panels as PNG.",
    )
    parser.add_argument(
        "--controller",
        choices=["pd", "hover", "constant", "random"],
        default="pd",
        help="pd: climb to the target altitude and hold it, equal rotors; hover: the same plus a "
        "PD on roll and pitch, which holds level even when the start spins; constant: "
        "--speeds on every step; random: the Udacity Basic_Agent (default: pd)",
    )
    parser.add_argument(
        "--speeds",
        type=_floats(4),
        default=[404.0] * 4,
        metavar="N0,N1,N2,N3",
        help="rotor speeds in rev/s for --controller constant (default: 404,404,404,404)",
    )
    parser.add_argument(
        "--actor",
        type=Path,
        default=None,
        help="fly a saved actor (a .keras file or a run folder) instead of --controller",
    )
    _add_flight_flags(parser)
    parser.set_defaults(run=_simulate)


def _add_flight_flags(parser):
    """simulate's flags for where the flight starts, what it aims at, how long it lasts and where it goes."""
    parser.add_argument(
        "--init-pose",
        type=_floats(6),
        default=None,
        metavar="X,Y,Z,PHI,THETA,PSI",
        help="start pose in m and rad (default: on the ground, 0,0,0,0,0,0, or --task's start)",
    )
    parser.add_argument(
        "--target",
        type=_floats(3),
        default=[0, 0, 10],
        metavar="X,Y,Z",
        help="target position in m; the pd controller climbs to its z (default: 0,0,10)",
    )
    parser.add_argument(
        "--runtime",
        type=_number_in(0.0, MAX_SIMULATE_RUNTIME, "s", low_open=True),
        default=None,
        help=f"flight length in s, in (0, {MAX_SIMULATE_RUNTIME:,.0f}] (default: 5, or with --task its training "
        "episode's: 10, the landing's 15)",
    )
    parser.add_argument(
        "--dynamics",
        choices=DYNAMICS,
        default="udacity",
        help="udacity: the original simulator, quirks included; rigid_body: corrected physics (default: udacity)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the random controller and of --task's start (default: 0)"
    )
    parser.add_argument(
        "--task",
        default=None,
        metavar="NAME",
        help=f"start where the task's evaluation starts (drawn with --seed) and aim at its goal: one of "
        f"{', '.join(TASKS)}, MODULE:CLASS, or course (a trained reach actor, --actor, through --waypoints)",
    )
    parser.add_argument(
        "--waypoints",
        default="square",
        help=f"with --task course: {' or '.join(COURSES)} (built in, 2-5 m apart), or a CSV of x,y,z lines in m "
        "(default: square)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("flight.csv"),
        help="CSV to write; the panels (.png) and the 3-D path (_path.png) go beside it (default: flight.csv). "
        "Files that exist are not replaced without --overwrite",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the CSV and PNGs of --out if they exist")


def _simulate(args):
    from .controllers import (
        ActorController,
        ConstantController,
        PDAltitudeController,
        PDHoverController,
        RandomController,
    )
    from .flight import fly
    from .plots import flight_plot_paths, write_flight_plots
    from .sim import PhysicsSim

    outputs = [args.out, *flight_plot_paths(args.out.with_suffix(""))]
    existing = [str(path) for path in outputs if path.exists()]
    if existing and not args.overwrite:
        raise ValueError(
            f"simulate would replace {', '.join(existing)}: give another --out, or --overwrite to replace them"
        )
    if args.task == "course":
        return _simulate_course(args)
    task = load_task(args.task) if args.task else None
    start = np.concatenate([np.zeros(6) if args.init_pose is None else args.init_pose, np.zeros(6)])
    if task is not None:
        starts, goals = task.test_starts(NumpyDraw(np.random.default_rng(args.seed)), 1)
        args.target = list(goals[0])
        if args.init_pose is None:
            start = starts[0]
    runtime = args.runtime or (task_runtime(args.task) if args.task else 5.0)
    sim = PhysicsSim(start[0:6], start[6:9], start[9:12], runtime=runtime, dynamics=args.dynamics)
    if args.actor is not None:
        controller = ActorController(_load_actor(args.actor), target=args.target, task=task)
        name = f"actor {args.actor}"
    else:
        controller = {
            "pd": lambda: PDAltitudeController(target_z=args.target[2]),
            "hover": lambda: PDHoverController(target_z=args.target[2]),
            "constant": lambda: ConstantController(args.speeds),
            "random": lambda: RandomController(np.random.default_rng(args.seed)),
        }[args.controller]()
        name = f"{args.controller} controller"
    flight = fly(sim, controller, task)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    flight.to_csv(args.out, index=False)
    written = write_flight_plots(
        flight,
        args.out.with_suffix(""),
        title=f"{name}, {args.task + ', ' if args.task else ''}{args.dynamics} dynamics",
        target=args.target,
    )
    end = "touched a bound" if sim.out_of_bounds else "reached the time limit"
    print(
        f"{len(flight) - 1} steps, {end} at t = {sim.time:.2f} s; final position "
        f"({sim.pose[0]:.2f}, {sim.pose[1]:.2f}, {sim.pose[2]:.2f}) m"
    )
    print(f"wrote {', '.join(str(path) for path in [args.out, *written])}")


def _load_actor(path):
    """``act(states) -> rotor speeds`` of a saved actor: a .keras file, or a run folder's actor_final.keras."""
    actor = path / "actor_final.keras" if path.is_dir() else path
    if not actor.exists():
        raise ValueError(f"no saved actor at {actor}")
    model = _load_model(actor)
    return lambda states: model(np.asarray(states, np.float32)).numpy()


def _simulate_course(args):
    """``simulate --task course``: the reach actor ``--actor`` through ``--waypoints``; CSV, panels, 3-D path."""
    from .course import SWITCH_RADIUS, fly_course, read_waypoints
    from .plots import plot_flight_panels, plot_path_3d

    if args.actor is None:
        raise ValueError(
            "--task course flies a trained reach actor: give --actor (a .keras file or a reach run folder)"
        )
    waypoints = read_waypoints(args.waypoints)
    flight, summary = fly_course(_load_actor(args.actor), waypoints, dynamics=args.dynamics)
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


def _add_train(commands):
    defaults = TrainSettings()
    parser = commands.add_parser(
        "train",
        help="train the DDPG takeoff agent (the README's main job)",
        description="Train the DDPG takeoff agent on vectorised environments; the actor saved is the one that "
        "did best in the noise-free test flights during training. Writes OUT/episodes.csv, "
        "tests.csv, config.json, settings.json, checkpoints/, actor.keras, evaluation.json, flight.csv, "
        "evaluation_flights.csv, reward_curve.png, flight.png, flight_path.png and "
        "evaluation_flights.png.",
    )
    _add_run_folder_flags(parser)
    parser.add_argument("--seed", type=int, default=None, help="seed of everything random in the run (default: 0)")
    parser.add_argument(
        "--task",
        default=None,
        metavar="NAME",
        help=f"the task to learn: one of {', '.join(TASKS)} (quadcopter/task_specs.py), or MODULE:CLASS, a "
        "FlightTask of your own in MODULE.py beside you (default: takeoff)",
    )
    _add_budget_flags(parser, defaults)
    parser.add_argument(
        "--num-envs", type=int, default=None, help=f"takeoff episodes run side by side (default: {defaults.num_envs})"
    )
    parser.add_argument(
        "--dynamics", choices=DYNAMICS, default=None, help=f"simulator dynamics (default: {defaults.dynamics})"
    )
    parser.add_argument(
        "--test-every",
        type=int,
        default=None,
        help="environment steps between noise-free test flights; the best tested actor is kept "
        f"(default: {defaults.test_every:,}; 0: no tests, keep the last actor)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a DDPGConfig setting, e.g. --set tau=0.005 --set actor_units=256,256",
    )
    parser.add_argument(
        "--numpy-path",
        action="store_true",
        help="train on the numpy path (one compiled call per step), the reference of the default "
        "fused path (a round in one compiled call); slower, for comparisons",
    )
    parser.add_argument(
        "--eval-episodes",
        type=_int_in(1, MAX_EVALUATION_EPISODES),
        default=100,
        help=f"evaluation episodes at the end, in [1, {MAX_EVALUATION_EPISODES:,}] (default: 100)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=_train)


def _add_run_folder_flags(parser):
    """train's run folder: where, and whether to resume or replace the run there."""
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="run folder (default: runs/takeoff, or runs/takeoff-2, -3, ... if it holds a run: "
        "the highest number is the newest)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its newest intact checkpoint, with its own settings; "
        "--env-steps, --seconds or --episodes then set a new budget",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace the run in --out (its files only)")


def _add_budget_flags(parser, defaults):
    """train's budgets: the first one given replaces the default; the others given end the run too."""
    own = [(task, changes["env_steps"]) for task, changes in TASK_SETTINGS.items() if "env_steps" in changes]
    own_budgets = "".join(f", {task}: {steps:,}" for task, steps in own)
    parser.add_argument(
        "--env-steps",
        type=int,
        default=None,
        help=f"stop after this many environment steps (default: {defaults.env_steps:,}{own_budgets}; the same "
        "seed then gives the same run)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="stop after this many seconds of training instead (not reproducible: the run "
        "ends at a different step each time)",
    )
    parser.add_argument("--episodes", type=int, default=None, help="stop after this many episodes instead")


def _config_overrides(pairs):
    """``["tau=0.005", "actor_units=256,256"]`` -> {"tau": 0.005, "actor_units": (256, 256)}."""
    from agents.agent import DDPGConfig

    fields = {f.name: f for f in dataclasses.fields(DDPGConfig)}
    changes = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in fields or not text:
            raise ValueError(f"--set takes NAME=VALUE with NAME one of {sorted(fields)}; got {pair!r}")
        default = getattr(DDPGConfig(), name)
        try:
            if isinstance(default, tuple):
                changes[name] = tuple(int(part) for part in text.split(","))
            elif isinstance(default, bool):
                words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
                if text.lower() not in words:
                    raise ValueError
                changes[name] = words[text.lower()]
            else:
                changes[name] = type(default)(text)
        except ValueError:
            raise ValueError(f"--set {name} needs a value like {default!r}; got {text!r}") from None
    return changes


def _train(args):
    from .presets import takeoff_config
    from .runs import claim_run_folder

    # The budgets given on the command line replace the default one; those not given are then off (0).
    budgets = dict(env_steps=args.env_steps, seconds=args.seconds, episodes=args.episodes)
    given = any(value is not None for value in budgets.values())
    budgets = {name: value or 0 for name, value in budgets.items()} if given else {}
    if args.resume:
        if args.out is None:
            raise ValueError("--resume needs --out: the folder of the run to continue")
        if args.overwrite:
            raise ValueError("--resume and --overwrite contradict each other: give one")
        changed = (
            [
                flag
                for flag, value in (
                    ("--seed", args.seed),
                    ("--task", args.task),
                    ("--num-envs", args.num_envs),
                    ("--dynamics", args.dynamics),
                    ("--test-every", args.test_every),
                )
                if value is not None
            ]
            + (["--set"] if args.set else [])
            + (["--numpy-path"] if args.numpy_path else [])
        )
        if changed:
            raise ValueError(
                f"--resume continues the run with its own settings; {', '.join(changed)} would change "
                "them (only --env-steps, --seconds and --episodes may be given, as a new budget)"
            )
        config = settings = None
    else:
        defaults = TrainSettings()
        dynamics = args.dynamics or defaults.dynamics
        overrides = _config_overrides(args.set)
        if args.seed is not None and overrides.get("seed", args.seed) != args.seed:
            raise ValueError(f"--seed {args.seed} and --set seed={overrides['seed']} disagree: give one of them")
        config = takeoff_config(args.seed or 0, dynamics).replace(**overrides)
        given = dict(num_envs=args.num_envs, test_every=args.test_every)
        settings = TrainSettings.for_task(
            args.task or defaults.task,
            dynamics=dynamics,
            fused=not args.numpy_path,
            **{name: value for name, value in given.items() if value is not None},
            **budgets,
        ).validate()
    # The folder is locked from here until its last file is written: a second training into it is refused.
    with claim_run_folder(args.out) as out:
        _train_in(args, config, settings, budgets, out)


def _train_in(args, config, settings, budgets, out):
    """Train into the claimed folder ``out``, finish the run and say what it gave."""
    from .runs import ACTORS, finish_run
    from .train_parts import device_name
    from .training import TrainingInterrupted, train

    print(f"run folder: {out}")
    print(f"device: {device_name()}")
    started = time.perf_counter()
    try:
        agent, episodes = train(
            config,
            settings,
            out=out,
            resume=args.resume,
            progress=not args.no_progress,
            overwrite=args.overwrite,
            budget=budgets if args.resume else None,
        )
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


def _add_evaluate(commands):

    parser = commands.add_parser(
        "evaluate",
        help="fly a saved actor from random starts and print its takeoff success rate",
        description="Fly deterministic takeoffs from random starts on the ground (at rest, z in [0, 0.5] m, a "
        "small upward speed) and print the success rate by the take-off-and-hold rule (within "
        "1 m of the target, roll and pitch under 0.3 rad, at every step from t = 5 s to the end "
        "of the 10 s episode), the same for the long hold (to 30 s), the median final altitude "
        "and the mean return.",
    )
    parser.add_argument(
        "actor",
        type=Path,
        nargs="?",
        help="a saved actor, e.g. runs/takeoff/actor.keras, or a run folder (its actor.keras)",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=None,
        help="fly an exported policy instead (python -m quadcopter export): policy.c (compiled here with the C "
        "compiler), policy.tflite, policy.onnx or a SavedModel folder, with the run's settings from the "
        "policy.json beside it",
    )
    parser.add_argument(
        "--episodes",
        type=_int_in(1, MAX_EVALUATION_EPISODES),
        default=100,
        help=f"takeoffs to fly, in [1, {MAX_EVALUATION_EPISODES:,}], in groups of {EVALUATION_GROUP:,} (default: 100)",
    )
    parser.add_argument(
        "--dynamics",
        choices=DYNAMICS,
        default=None,
        help="simulator dynamics (default: the run's, from settings.json beside the actor, else udacity)",
    )
    parser.add_argument(
        "--seed", type=int, default=EVALUATION_SEED, help=f"seed of the random starts (default: {EVALUATION_SEED})"
    )
    parser.set_defaults(run=_evaluate)


def _evaluate(args):
    from .evaluation import evaluate_with_long_hold
    from .runs import check_observation_version
    from .tasks import LONG_HOLD_RUNTIME, TAKEOFF_RUNTIME

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
    summary = evaluate_with_long_hold(
        act,
        args.episodes,
        args.seed,
        dynamics,
        settings.get("action_repeat", 3),
        settings.get("runtime", TAKEOFF_RUNTIME),
        load_task(task_name),
    )
    print(
        f"success rate {summary['success_rate']:.0%} over {summary['episodes']} {task_name} episodes "
        f"({dynamics} dynamics)"
    )
    print(f"long hold (to {LONG_HOLD_RUNTIME:g} s): success rate {summary['long_hold_success_rate']:.0%}")
    print(f"median final altitude {summary['median_final_z']:.2f} m")
    print(f"mean return {summary['mean_return']:.1f}")


def _run_settings_file(path):
    """The JSON object in ``path`` ({} when there is none); ``ValueError`` for anything but an object."""
    import json

    from .runs import read_file

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
    return lambda states: model(states.astype(np.float32)).numpy(), settings, settings_path, f"actor: {actor}"


def _exported_policy(path):
    """(act, settings, their path, a label) of an exported policy (see :mod:`quadcopter.export`), its settings
    from the policy.json beside it."""
    from .export import load_policy

    if not path.exists():
        raise ValueError(f"no exported policy at {path}")
    settings_path = path.parent / "policy.json"  # beside the file, or beside the SavedModel's folder
    settings = _run_settings_file(settings_path)
    return load_policy(path), settings, settings_path, f"exported policy: {path}"


def _load_model(actor):
    """The Keras model saved in ``actor``; ``ValueError`` when the file is not one."""
    import keras

    import agents  # noqa: F401  (registers the actor's layers)

    try:
        return keras.models.load_model(actor)
    except Exception as error:  # Keras reports a corrupt archive in several ways, some misleading
        raise ValueError(f"{actor} is not a readable saved actor (.keras file): {type(error).__name__}") from None


def _add_export(commands):
    from .export import FORMATS

    parser = commands.add_parser(
        "export",
        help="write a trained actor as C, LiteRT (tflite), ONNX or a SavedModel, with policy.json",
        description="Write a run's actor for a flight controller or another program: dependency-free C "
        "(policy.c, policy.h: void policy(const float obs[15], float rotor_speeds[4]), and observe() for the "
        "built-in tasks), policy.tflite (LiteRT), policy.onnx (needs pip install -e .[export]) or a "
        "SavedModel, and policy.json (the observation's layout and scaling, the action's scaling, the body, "
        "the task, the run). evaluate --policy FILE flies the export.",
    )
    parser.add_argument("source", type=Path, help="a run folder (e.g. runs/takeoff) or a saved actor (.keras file)")
    parser.add_argument("--format", choices=FORMATS, required=True, help="what to write")
    parser.add_argument(
        "--actor",
        choices=("final", "selected"),
        default="final",
        help="from a run folder: the actor as training left it (final, actor_final.keras; default) or the "
        "one that did best in the test flights (selected, actor.keras)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder to write into (default: SOURCE/export-FORMAT); never replaced"
    )
    parser.set_defaults(run=_export)


def _export(args):
    from .export import description, export_actor
    from .runs import ACTORS

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


def _add_plot(commands):
    parser = commands.add_parser(
        "plot",
        help="plot a flight CSV or a training run's folder (PNGs, and a GIF with --gif)",
        description="Plot a flight (a CSV with the 17 flight columns, as written by simulate or train): "
        "FLIGHT_plot.png with the time-series panels and FLIGHT_plot_path.png with the 3-D path, "
        "beside the CSV. Or plot a training run's folder: reward_curve.png, flight.png, flight_path.png "
        "and evaluation_flights.png.",
    )
    parser.add_argument("source", type=Path, help="a flight CSV or a run folder (e.g. runs/takeoff)")
    parser.add_argument("--gif", action="store_true", help="also write an animation of the flight as GIF")
    parser.add_argument(
        "--target",
        type=_floats(3),
        default=None,
        metavar="X,Y,Z",
        help="target position in m, marked on the plots (default: the run's task's goal: 0,0,10 for the "
        "takeoff and a flight CSV, the pad for land, none for reach, whose goals are drawn)",
    )
    parser.set_defaults(run=_plot)


def _plot(args):
    from .plots import check_flight, read_csv, write_flight_plots, write_run_plots

    folder = args.source if args.source.is_dir() else args.source.parent
    training = folder_lock.holder(folder)
    if training:
        raise ValueError(
            f"{folder} is still training (process {training}): plot writes its pictures there, so run it once the "
            "training has ended"
        )
    if args.source.is_dir():
        written = write_run_plots(args.source, target=args.target, gif=args.gif)
    elif args.source.suffix == ".csv" and args.source.exists():
        flight = check_flight(read_csv(args.source), str(args.source))
        # FLIGHT_plot.png, not FLIGHT.png: that one may be simulate's, with a better title.
        written = write_flight_plots(
            flight,
            args.source.with_name(args.source.stem + "_plot"),
            title=args.source.stem,
            target=(0.0, 0.0, 10.0) if args.target is None else args.target,
            gif=args.gif,
        )
    elif not args.source.exists():
        raise ValueError(f"plot: no such file or folder: {str(args.source)!r}")
    else:
        raise ValueError(f"plot needs a flight .csv file or a run folder; got {str(args.source)!r}")
    print(f"wrote {', '.join(str(path) for path in written)}")


def _import_tensorflow_quietly():
    """Import TensorFlow with the process's stderr (file descriptor 2) sent to /dev/null meanwhile.

    TensorFlow's C++ start-up lines ("oneDNN custom operations are on", twice, each after an absl
    warning) are written before its logging reads ``TF_CPP_MIN_LOG_LEVEL``, so only this silences them.
    A failed import is repeated with stderr in place, so its error shows."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            try:
                import tensorflow  # noqa: F401
            except Exception:
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    import tensorflow  # noqa: F401, F811  (a no-op if the first import worked)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (argparse prints the usage first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv=None):
    """Run a command; every error is one line on stderr and exit code 2 (``--debug`` shows its
    traceback), an interruption exit code 130."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    parser = _Parser(prog="python -m quadcopter", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_simulate(commands)
    _add_train(commands)
    _add_evaluate(commands)
    _add_export(commands)
    _add_plot(commands)
    args = parser.parse_args(_join_negative_lists(sys.argv[1:] if argv is None else list(argv)))
    try:
        if (args.command in ("train", "evaluate", "export") or getattr(args, "actor", None)) and not args.debug:
            _import_tensorflow_quietly()
        args.run(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        parser.exit(130, "\ninterrupted\n")
    except (ValueError, OSError) as error:
        if args.debug:
            raise
        parser.exit(2, f"error: {error}\n")
    except Exception as error:
        if args.debug:
            raise
        parser.exit(2, f"error: {type(error).__name__}: {error} (run with --debug for the traceback)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
