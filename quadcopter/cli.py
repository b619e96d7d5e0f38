"""The command line: ``python -m quadcopter COMMAND --help``.

Commands: ``simulate`` flies a hand-written controller and writes the flight (CSV and PNG).
"""

import argparse
import sys
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
    parser.add_argument("--controller", choices=["pd", "constant", "random"], default="pd",
                        help="pd: climb to the target altitude and hold it; constant: --speeds on every "
                             "step; random: the Udacity Basic_Agent (default: pd)")
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
    from .controllers import ConstantController, PDAltitudeController, RandomController
    from .flight import fly
    from .plots import plot_flight_panels
    from .sim import PhysicsSim

    sim = PhysicsSim(init_pose=args.init_pose, runtime=args.runtime, dynamics=args.dynamics)
    controller = {
        "pd": lambda: PDAltitudeController(target_z=args.target[2]),
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m quadcopter", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _add_simulate(commands)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
