"""The command line: ``python -m quadcopter COMMAND --help``.

Commands: ``simulate`` flies a hand-written controller and writes the flight (CSV and PNG);
``train`` trains the DDPG takeoff agent; ``evaluate`` measures a saved actor's success rate;
``plot`` draws a flight CSV or a run folder (PNGs, and a GIF with ``--gif``).
"""

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np


def _floats(count):
    """An argparse type: ``count`` comma-separated numbers."""

    def parse(text):
        try:
            values = [float(part) for part in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {count} comma-separated numbers; got {text!r}")
        if len(values) != count:
            raise argparse.ArgumentTypeError(f"expected {count} comma-separated numbers; got {text!r}")
        return values

    return parse


def _add_simulate(commands):
    parser = commands.add_parser(
        "simulate", help="fly a hand-written controller and write the flight as CSV and PNG",
        description="Fly the quadcopter simulator with a hand-written controller, write the flight "
                    "as CSV (the original notebook's 17 columns) and its time-series panels as PNG.",
    )
    parser.add_argument("--controller", choices=["pd", "hover", "constant", "random"], default="pd",
                        help="pd: climb to the target altitude and hold it, equal rotors; hover: the same plus a "
                             "PD on roll and pitch, which holds level even when the start spins; constant: "
                             "--speeds on every step; random: the Udacity Basic_Agent (default: pd)")
    parser.add_argument("--speeds", type=_floats(4), default=[404.0] * 4, metavar="N0,N1,N2,N3",
                        help="rotor speeds in rev/s for --controller constant (default: 404,404,404,404)")
    parser.add_argument("--init-pose", type=_floats(6), default=[0, 0, 0, 0, 0, 0], metavar="X,Y,Z,PHI,THETA,PSI",
                        help="start pose in m and rad (default: on the ground, 0,0,0,0,0,0)")
    parser.add_argument("--target", type=_floats(3), default=[0, 0, 10], metavar="X,Y,Z",
                        help="target position in m; the pd controller climbs to its z (default: 0,0,10)")
    parser.add_argument("--runtime", type=float, default=5.0, help="flight length in s (default: 5)")
    parser.add_argument("--dynamics", choices=["udacity", "rigid_body"], default="udacity",
                        help="udacity: the original simulator, quirks included; rigid_body: corrected "
                             "physics (default: udacity)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random controller (default: 0)")
    parser.add_argument("--out", type=Path, default=Path("flight.csv"),
                        help="CSV to write; the PNG goes beside it with the suffix .png (default: flight.csv)")
    parser.set_defaults(run=_simulate)


def _simulate(args):
    from .controllers import ConstantController, PDAltitudeController, PDHoverController, RandomController
    from .flight import fly
    from .plots import plot_flight_panels
    from .sim import PhysicsSim

    sim = PhysicsSim(init_pose=args.init_pose, runtime=args.runtime, dynamics=args.dynamics)
    controller = {
        "pd": lambda: PDAltitudeController(target_z=args.target[2]),
        "hover": lambda: PDHoverController(target_z=args.target[2]),
        "constant": lambda: ConstantController(args.speeds),
        "random": lambda: RandomController(np.random.default_rng(args.seed)),
    }[args.controller]()
    flight = fly(sim, controller)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    flight.to_csv(args.out, index=False)
    figure = plot_flight_panels(flight, title=f"{args.controller} controller, {args.dynamics} dynamics",
                                target=args.target)
    png = args.out.with_suffix(".png")
    figure.savefig(png, dpi=100)
    end = "touched a bound" if sim.out_of_bounds else "reached the time limit"
    print(f"{len(flight) - 1} steps, {end} at t = {sim.time:.2f} s; final position "
          f"({sim.pose[0]:.2f}, {sim.pose[1]:.2f}, {sim.pose[2]:.2f}) m")
    print(f"wrote {args.out} and {png}")


def _add_train(commands):
    from .training import TrainSettings

    defaults = TrainSettings()
    parser = commands.add_parser(
        "train", help="train the DDPG takeoff agent (the README's main job)",
        description="Train the DDPG takeoff agent on vectorised environments; the actor saved is the one that "
                    "did best in the noise-free test flights during training. Writes OUT/episodes.csv, "
                    "tests.csv, config.json, settings.json, checkpoints/, actor.keras, evaluation.json, flight.csv, "
                    "evaluation_flights.csv, reward_curve.png, flight.png, flight_path.png and "
                    "evaluation_flights.png.",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/takeoff"), help="run folder (default: runs/takeoff)")
    parser.add_argument("--seed", type=int, default=0, help="seed of everything random in the run (default: 0)")
    parser.add_argument("--env-steps", type=int, default=None,
                        help=f"stop after this many environment steps (default: {defaults.env_steps:,}; the same seed "
                             "then gives the same run)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop after this many seconds of training instead (not reproducible: the run "
                             "ends at a different step each time)")
    parser.add_argument("--episodes", type=int, default=None, help="stop after this many episodes instead")
    parser.add_argument("--num-envs", type=int, default=defaults.num_envs,
                        help=f"takeoff episodes run side by side (default: {defaults.num_envs})")
    parser.add_argument("--dynamics", choices=["udacity", "rigid_body"], default=defaults.dynamics,
                        help=f"simulator dynamics (default: {defaults.dynamics})")
    parser.add_argument("--test-every", type=int, default=defaults.test_every,
                        help="environment steps between noise-free test flights; the best tested actor is kept "
                             f"(default: {defaults.test_every:,}; 0: no tests, keep the last actor)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a DDPGConfig setting, e.g. --set tau=0.005 --set actor_units=256,256")
    parser.add_argument("--numpy-path", action="store_true",
                        help="train on the numpy path (one compiled call per step), the reference of the default "
                             "fused path (a round in one compiled call); slower, for comparisons")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    parser.add_argument("--eval-episodes", type=int, default=100, help="evaluation episodes at the end (default: 100)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=_train)


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
                changes[name] = text.lower() in ("1", "true", "yes")
            else:
                changes[name] = type(default)(text)
        except ValueError:
            raise ValueError(f"--set {name} needs a value like {default!r}; got {text!r}") from None
    return changes


def _train(args):
    from .presets import takeoff_config
    from .training import ACTORS, TrainSettings, finish_run, train

    config = takeoff_config(args.seed).replace(**_config_overrides(args.set))
    # The budgets given on the command line replace the default one; those not given are then off (0).
    budgets = dict(env_steps=args.env_steps, seconds=args.seconds, episodes=args.episodes)
    given = any(value is not None for value in budgets.values())
    budgets = {name: value or 0 for name, value in budgets.items()} if given else {}
    settings = TrainSettings(num_envs=args.num_envs, dynamics=args.dynamics, test_every=args.test_every,
                             fused=not args.numpy_path, **budgets).validate()
    if args.eval_episodes < 1:
        raise ValueError(f"--eval-episodes must be >= 1; got {args.eval_episodes}")
    started = time.perf_counter()
    agent, episodes = train(config, settings, out=args.out, resume=args.resume, progress=not args.no_progress)
    seconds = time.perf_counter() - started
    summaries = finish_run(agent, episodes, args.out, settings, args.eval_episodes)
    print(f"trained for {seconds:.1f} s: {len(episodes)} episodes")
    for name, summary in summaries.items():
        print(f"{name} actor ({ACTORS[name]}), over {summary['episodes']} takeoffs: success {summary['success_rate']:.0%} "
              f"(held to {settings.runtime:g} s), long hold {summary['long_hold_success_rate']:.0%} (to 30 s), "
              f"median final z {summary['median_final_z']:.2f} m, mean return {summary['mean_return']:.1f}")
    print(f"wrote {args.out}/ (episodes.csv, tests.csv, config.json, settings.json, checkpoints/, actor.keras, "
          "actor_final.keras, evaluation.json, flight.csv, evaluation_flights.csv, reward_curve.png, flight.png, "
          "flight_path.png, evaluation_flights.png)")


def _add_evaluate(commands):
    from .training import EVALUATION_SEED

    parser = commands.add_parser(
        "evaluate", help="fly a saved actor from random starts and print its takeoff success rate",
        description="Fly deterministic takeoffs from random starts on the ground (at rest, z in [0, 0.5] m, a "
                    "small upward speed) and print the success rate by the take-off-and-hold rule (within "
                    "1 m of the target, roll and pitch under 0.3 rad, at every step from t = 5 s to the end "
                    "of the 10 s episode), the same for the long hold (to 30 s), the median final altitude "
                    "and the mean return.",
    )
    parser.add_argument("actor", type=Path, help="a saved actor, e.g. runs/takeoff/actor.keras")
    parser.add_argument("--episodes", type=int, default=100, help="takeoffs to fly (default: 100)")
    parser.add_argument("--dynamics", choices=["udacity", "rigid_body"], default=None,
                        help="simulator dynamics (default: the run's, from settings.json beside the actor, else udacity)")
    parser.add_argument("--seed", type=int, default=EVALUATION_SEED,
                        help=f"seed of the random starts (default: {EVALUATION_SEED})")
    parser.set_defaults(run=_evaluate)


def _evaluate(args):
    import json

    import keras

    import agents  # noqa: F401  (registers the actor's layers)

    from .tasks import LONG_HOLD_RUNTIME, TAKEOFF_RUNTIME
    from .training import evaluate_with_long_hold

    if args.episodes < 1:
        raise ValueError(f"--episodes must be >= 1; got {args.episodes}")
    if not args.actor.exists():
        raise ValueError(f"no saved actor at {args.actor}")
    settings_path = args.actor.parent / "settings.json"
    settings = json.loads(settings_path.read_text()) if settings_path.exists() else {}
    dynamics = args.dynamics or settings.get("dynamics", "udacity")
    model = keras.models.load_model(args.actor)
    act = lambda states: model(states.astype(np.float32)).numpy()  # noqa: E731
    summary = evaluate_with_long_hold(act, args.episodes, args.seed, dynamics, settings.get("action_repeat", 3),
                                      settings.get("runtime", TAKEOFF_RUNTIME))
    print(f"success rate {summary['success_rate']:.0%} over {summary['episodes']} takeoffs ({dynamics} dynamics)")
    print(f"long hold (to {LONG_HOLD_RUNTIME:g} s): success rate {summary['long_hold_success_rate']:.0%}")
    print(f"median final altitude {summary['median_final_z']:.2f} m")
    print(f"mean return {summary['mean_return']:.1f}")


def _add_plot(commands):
    parser = commands.add_parser(
        "plot", help="plot a flight CSV or a training run's folder (PNGs, and a GIF with --gif)",
        description="Plot a flight (a CSV with the 17 flight columns, as written by simulate or train): "
                    "FLIGHT.png with the time-series panels and FLIGHT_path.png with the 3-D path, beside "
                    "the CSV. Or plot a training run's folder: reward_curve.png, flight.png, flight_path.png "
                    "and evaluation_flights.png.",
    )
    parser.add_argument("source", type=Path, help="a flight CSV or a run folder (e.g. runs/takeoff)")
    parser.add_argument("--gif", action="store_true", help="also write an animation of the flight as GIF")
    parser.add_argument("--target", type=_floats(3), default=[0, 0, 10], metavar="X,Y,Z",
                        help="target position in m, marked on the plots (default: 0,0,10)")
    parser.set_defaults(run=_plot)


def _plot(args):
    import pandas as pd

    from .plots import write_flight_plots, write_run_plots

    if args.source.is_dir():
        written = write_run_plots(args.source, target=args.target, gif=args.gif)
    elif args.source.suffix == ".csv" and args.source.exists():
        flight = pd.read_csv(args.source)
        written = write_flight_plots(flight, args.source.with_suffix(""), title=args.source.stem,
                                     target=args.target, gif=args.gif)
    else:
        raise ValueError(f"plot needs a flight .csv file or a run folder; got {str(args.source)!r}")
    for path in written:
        print(f"wrote {path}")


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    parser = argparse.ArgumentParser(prog="python -m quadcopter", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _add_simulate(commands)
    _add_train(commands)
    _add_evaluate(commands)
    _add_plot(commands)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
