"""The command line: ``python -m quadcopter COMMAND --help``.

Commands: ``simulate`` flies a hand-written controller and writes the flight (CSV and PNG);
``train`` trains the DDPG takeoff agent; ``evaluate`` measures a saved actor's success rate;
``plot`` draws a flight CSV or a run folder (PNGs, and a GIF with ``--gif``); ``export`` writes an actor
for a flight controller; ``settings`` prints every training setting.
"""

import argparse
import importlib
import math
import os
import sys
from pathlib import Path
from typing import NoReturn

import numpy as np

from agents.checks import accepted_text, declared_fields, parse_setting, settings_table
from agents.config import DDPGConfig

from . import folder_lock
from .controllers import ActorController, ConstantController, PDAltitudeController, PDHoverController, RandomController
from .course import COURSES
from .dynamics import AIRFRAMES, DYNAMICS
from .evaluation import EVALUATION_GROUP, EVALUATION_SEED, MAX_EVALUATION_EPISODES
from .export import FORMATS
from .flight import fly
from .plots import check_flight, flight_plot_paths, read_csv, write_flight_plots, write_run_plots
from .settings import MAX_SEEDS, TrainSettings, holds_population, parse_seeds
from .sim import PhysicsSim
from .task_specs import TASK_SETTINGS, TASKS, NumpyDraw, load_task, task_runtime


def _floats(count: int):
    """An argparse type: ``count`` comma-separated finite numbers."""

    def parse(text: str):
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

    def parse(text: str):
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

    def parse(text: str):
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


def _add_simulate(commands) -> None:
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


def _add_flight_flags(parser) -> None:
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
        "--airframe",
        choices=tuple(AIRFRAMES),
        default="udacity",
        help="the quadcopter flown: the Udacity one, or a Crazyflie 2.x with --dynamics rigid_body (default: "
        "udacity; the hover controller's gains are tuned for the Udacity one)",
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
    outputs = [args.out, *flight_plot_paths(args.out.with_suffix(""))]
    existing = [str(path) for path in outputs if path.exists()]
    if existing and not args.overwrite:
        raise ValueError(
            f"simulate would replace {', '.join(existing)}: give another --out, or --overwrite to replace them"
        )
    if args.task == "course":
        return _learning(args).simulate_course(args)
    task = load_task(args.task) if args.task else None
    start = np.concatenate([np.zeros(6) if args.init_pose is None else args.init_pose, np.zeros(6)])
    if task is not None:
        starts, goals = task.test_starts(NumpyDraw(np.random.default_rng(args.seed)), 1)
        args.target = list(goals[0])
        if args.init_pose is None:
            start = starts[0]
    runtime = args.runtime or (task_runtime(args.task) if args.task else 5.0)
    sim = PhysicsSim(
        start[0:6], start[6:9], start[9:12], runtime=runtime, dynamics=args.dynamics, airframe=args.airframe
    )
    if args.actor is not None:
        controller = ActorController(_learning(args).load_actor(args.actor), target=args.target, task=task)
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
        title=f"{name}, {args.task + ', ' if args.task else ''}{args.dynamics} dynamics"
        + ("" if args.airframe == "udacity" else f", {args.airframe}"),
        target=args.target,
    )
    end = "touched a bound" if sim.out_of_bounds else "reached the time limit"
    print(
        f"{len(flight) - 1} steps, {end} at t = {sim.time:.2f} s; final position "
        f"({sim.pose[0]:.2f}, {sim.pose[1]:.2f}, {sim.pose[2]:.2f}) m"
    )
    print(f"wrote {', '.join(str(path) for path in [args.out, *written])}")


def _add_train(commands) -> None:
    parser = commands.add_parser(
        "train",
        help="train a DDPG agent on a task (the README's main job: the takeoff)",
        description="Train a DDPG agent on vectorised environments; the actor saved is the one that "
        "did best in the noise-free test flights during training. Writes OUT/episodes.csv, "
        "tests.csv, config.json, settings.json, checkpoints/, actor.keras, evaluation.json, flight.csv, "
        "evaluation_flights.csv, reward_curve.png, flight.png, flight_path.png and "
        "evaluation_flights.png. The run's settings are TrainSettings' (each flag below is one of "
        "them, the budgets --env-steps, --seconds and --episodes replacing the default one) and "
        "DDPGConfig's (--seed, --set NAME=VALUE); the README's settings tables list them all.",
    )
    _add_run_folder_flags(parser)
    seed = {field.name: (field, declared) for field, declared in declared_fields(DDPGConfig)}["seed"]
    _add_declared_flag(parser, DDPGConfig, *seed)
    for field, declared in declared_fields(TrainSettings):
        if declared.flag:
            _add_declared_flag(parser, TrainSettings, field, declared)
    parser.add_argument(
        "--seeds",
        type=_seeds,
        default=None,
        metavar="SEEDS",
        help=f"train one run per seed, side by side in this process (e.g. 0-9, 0,3,7 or 0-4,8; at most {MAX_SEEDS} "
        "seeds in [0, 2**31 - 1]), each in OUT/seed-S with a single run's files; OUT/population.csv has a row per "
        "seed (default OUT: runs/population, -2, ...). Not with --seed",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a DDPGConfig setting, e.g. --set tau=0.005 --set actor_units=256,256",
    )
    parser.add_argument(
        "--eval-episodes",
        type=_int_in(1, MAX_EVALUATION_EPISODES),
        default=100,
        help=f"evaluation episodes at the end, in [1, {MAX_EVALUATION_EPISODES:,}] (default: 100)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run="train")


def _seeds(text: str) -> list[int]:
    try:
        return parse_seeds(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_declared_flag(parser, settings_class, field, declared) -> None:
    """The flag of a declared setting (:func:`agents.checks.setting`): its help is the setting's line, its
    range and its default (and the tasks' own defaults, :data:`TASK_SETTINGS`); the value lands in
    ``args.<setting>``, None when the flag is not given. A bool's flag sets the opposite of its default."""
    own = "".join(
        f"; {task}: {changes[field.name]:,}"
        if isinstance(changes[field.name], int)
        else f"; {task}: {changes[field.name]}"
        for task, changes in TASK_SETTINGS.items()
        if field.name in changes and settings_class is TrainSettings
    )
    default = field.default
    if isinstance(default, bool):
        parser.add_argument(
            declared.flag,
            dest=field.name,
            action="store_const",
            const=not default,
            default=None,
            help=f"{declared.doc.rstrip('.')} (sets {field.name}={not default}; default: {default})",
        )
        return

    def parse(text: str):
        try:
            return parse_setting(settings_class, field.name, text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parser.add_argument(
        declared.flag,
        dest=field.name,
        type=parse,
        default=None,
        choices=declared.choices,
        metavar=None if declared.choices else field.name.upper(),
        help=f"{declared.doc.rstrip('.')} ({accepted_text(field, declared)}; default: {_shown(default)}{own})",
    )


def _shown(value):
    """A default as the help shows it: 256,000 for an int, else as written."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else f"{value}"


def _add_run_folder_flags(parser) -> None:
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


def _add_evaluate(commands) -> None:

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
    parser.add_argument(
        "--airframe",
        choices=tuple(AIRFRAMES),
        default=None,
        help="the quadcopter flown (default: the run's, from settings.json, else udacity; another than udacity "
        "needs the rigid_body dynamics)",
    )
    parser.add_argument(
        "--sweep",
        default=None,
        metavar="PARAMETER=LOW:HIGH[:POINTS]",
        help="fly the evaluation at each value of mass, inertia or thrust (factors of the run's airframe, 5 "
        "points unless given) or delay (whole agent steps), e.g. mass=0.8:1.2 or delay=0:2; writes "
        "robustness_PARAMETER.csv and .png beside the actor (quadcopter/robustness.py)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="with --sweep: replace the robustness files if they exist"
    )
    parser.set_defaults(run="evaluate")


def _add_export(commands) -> None:
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
    parser.set_defaults(run="export")


def _add_settings(commands) -> None:
    parser = commands.add_parser(
        "settings",
        help="print every training setting: its flag, default, accepted values and what it does",
        description="Print the tables of TrainSettings (how a run uses its time; each has a train flag) and "
        "DDPGConfig (the agent's hyperparameters; train --set NAME=VALUE) as Markdown, made from their "
        "declarations (the README's settings tables are this output).",
    )
    parser.set_defaults(run=_settings)


def _add_sweep(commands) -> None:
    parser = commands.add_parser(
        "sweep",
        help="train many runs with Ray Tune: settings to vary, seeds, a metric (pip install -e .[sweep])",
        description="Run the trials of the sweep in CONFIG (a TOML file: the task, the seeds, the metric, the fixed "
        "settings and those to vary; quadcopter/sweep.py and docs/sweeps.md) on Ray Tune, each trial a train run "
        "with its own run folder in OUT/trials, then write OUT/sweep.csv and OUT/sweep.png.",
    )
    parser.add_argument("config", type=Path, help="the sweep's TOML file")
    parser.add_argument("--out", type=Path, default=None, help="the sweep's folder (default: runs/sweep-CONFIG)")
    parser.add_argument("--address", default=None, help="a running Ray cluster's address (default: this machine)")
    parser.add_argument("--resume", action="store_true", help="continue the sweep in --out that was stopped")
    parser.set_defaults(run="sweep")


def _settings(args) -> None:
    print("### TrainSettings (`quadcopter/settings.py`)\n")
    print(settings_table(TrainSettings))
    print("### DDPGConfig (`agents/config.py`)\n")
    print(settings_table(DDPGConfig), end="")


def _add_plot(commands) -> None:
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


INTRA_OP_THREADS = "TF_NUM_INTRAOP_THREADS"
"""The environment variable TensorFlow reads, when it loads, for its threads within one operation."""


def _set_training_threads(args) -> None:
    """``train``'s threads within one TensorFlow operation, unless the environment sets them already: one for a
    single run, whose small operations run faster on the thread that calls them (57 s of training against 70
    s with TensorFlow's default of one per core, the same episodes; docs/benchmarks.md, "One thread per
    operation"), and one per seed training at once for a population, whose seeds' compiled calls run side by
    side, one on each (with one thread in all they wait for each other). Set before TensorFlow loads."""
    if "tensorflow" in sys.modules:
        return
    population = args.seeds is not None or (args.out is not None and holds_population(args.out))
    seeds = len(args.seeds) if args.seeds is not None else MAX_SEEDS
    os.environ.setdefault(INTRA_OP_THREADS, str(min(seeds, os.cpu_count() or 1) if population else 1))


def _learning(args):
    """:mod:`quadcopter.cli_learning`, the commands that need TensorFlow, loaded on first use: the one place
    the command line loads TensorFlow (by name, so that the other commands never do).

    TensorFlow's C++ start-up lines ("oneDNN custom operations are on", twice, each after an absl warning)
    are written before its logging reads ``TF_CPP_MIN_LOG_LEVEL``, so the first load runs with the
    process's stderr (file descriptor 2) sent to /dev/null (not with ``--debug``). So does the first look
    for GPUs: on a machine without CUDA it logs "failed call to cuInit" as an error, though TensorFlow then
    computes on the CPU as it should (``train`` prints the device it uses). A load that failed is repeated
    with stderr in place, so its error shows."""
    if not args.debug and "tensorflow" not in sys.modules:
        saved = os.dup(2)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 2)
                try:
                    importlib.import_module("tensorflow").config.list_physical_devices("GPU")
                except Exception:
                    pass
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    return importlib.import_module("quadcopter.cli_learning")


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line (argparse prints the usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
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
    _add_settings(commands)
    _add_sweep(commands)
    args = parser.parse_args(_join_negative_lists(sys.argv[1:] if argv is None else list(argv)))
    try:
        if args.run == "train":
            _set_training_threads(args)
            given = {name: getattr(args, name) for name in TrainSettings.flags() if getattr(args, name) is not None}
            _learning(args).train(args, given)
        elif isinstance(args.run, str):
            getattr(_learning(args), args.run)(args)
        else:
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
