"""Controllers (the PD takeoff is the reference for success) and the simulate command."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quadcopter import PhysicsSim
from quadcopter.cli import main
from quadcopter.controllers import ConstantController, PDAltitudeController, RandomController
from quadcopter.flight import LABELS, fly
from quadcopter.tasks import LONG_HOLD_RUNTIME, TakeoffTask

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("dynamics", ["udacity", "rigid_body"])
@pytest.mark.parametrize("z0", np.linspace(0, 0.5, 6))
def test_pd_controller_takes_off_from_any_start_at_rest(dynamics, z0):
    task = TakeoffTask(init_pose=[0, 0, z0, 0, 0, 0], dynamics=dynamics, runtime=LONG_HOLD_RUNTIME)
    task.reset()
    pd_controller, done = PDAltitudeController(target_z=10), False
    while not done:
        _, _, done = task.step(pd_controller.act(task.sim))
    assert task.success and task.sim.time > LONG_HOLD_RUNTIME  # took off and held to 30 s
    assert abs(task.sim.pose[2] - 10) < 0.02


def test_random_controller_is_the_basic_agent_and_reproducible():
    a = fly(PhysicsSim(), RandomController(np.random.default_rng(3)))
    b = fly(PhysicsSim(), RandomController(np.random.default_rng(3)))
    pd.testing.assert_frame_equal(a, b)
    speeds = a[["rotor_speed1", "rotor_speed2", "rotor_speed3", "rotor_speed4"]].to_numpy()
    assert 400 < speeds.mean() < 500 and speeds.std() > 10


def test_constant_controller_checks_its_speeds():
    with pytest.raises(ValueError, match=r"4 values in \[0.0, 900.0\]"):
        ConstantController([1000, 0, 0, 0])


def test_simulate_writes_the_flight_csv_and_panels(tmp_path):
    out = tmp_path / "flights" / "pd.csv"
    main(["simulate", "--controller", "pd", "--init-pose", "0,0,0.3,0,0,0", "--out", str(out)])
    flight = pd.read_csv(out)
    assert list(flight.columns) == LABELS
    assert flight["z"].iloc[0] == 0.3 and abs(flight["z"].iloc[-1] - 10) < 0.1
    assert flight["time"].iloc[-1] > 5
    png = out.with_suffix(".png")
    assert png.stat().st_size > 10_000


def test_simulate_constant_speeds_and_dynamics(tmp_path):
    out = tmp_path / "c.csv"
    main(
        [
            "simulate",
            "--controller",
            "constant",
            "--speeds",
            "0,0,0,0",
            "--init-pose",
            "0,0,5,0,0,0",
            "--dynamics",
            "rigid_body",
            "--out",
            str(out),
        ]
    )
    flight = pd.read_csv(out)
    assert flight["z"].iloc[-1] == 0  # fell to the ground
    assert (flight[["rotor_speed1", "rotor_speed4"]] == 0).all().all()


def test_module_entry_point_help_and_bad_flags():
    run = [sys.executable, "-m", "quadcopter", "simulate"]
    helped = subprocess.run(run + ["--help"], capture_output=True, text=True, cwd=ROOT)
    assert helped.returncode == 0
    for flag in ("--controller", "--speeds", "--init-pose", "--target", "--runtime", "--dynamics", "--seed", "--out"):
        assert flag in helped.stdout
    bad = subprocess.run(run + ["--speeds", "1,2"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "expected 4 comma-separated finite numbers" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1  # one line, no usage block, no traceback


@pytest.mark.parametrize("dynamics", ["udacity", "rigid_body"])
def test_pd_hover_controller_takes_off_and_holds_level(dynamics):
    from quadcopter.controllers import PDHoverController

    rng = np.random.default_rng(3)
    for _ in range(3):
        # A takeoff by the take-off-and-hold rule, to the long hold's 30 s, from the ground with a
        # small random spin. The task holds each action for 3 simulator steps, so the controller
        # gives a new one at every call.
        rates = rng.uniform(-0.05, 0.05, 3)
        task = TakeoffTask(np.zeros(6), np.zeros(3), rates, runtime=LONG_HOLD_RUNTIME, dynamics=dynamics)
        task.reset()
        hover, done = PDHoverController(every=1), False
        while not done:
            _, _, done = task.step(hover.act(task.sim))
        assert task.success, task.sim.pose
        if dynamics == "udacity":  # its rotor inflow makes a spin grow: the altitude PD alone tumbles
            sim = PhysicsSim(np.zeros(6), np.zeros(3), rates, runtime=LONG_HOLD_RUNTIME, dynamics=dynamics)
            altitude_only = PDAltitudeController()
            while not sim.next_timestep(altitude_only.act(sim)):
                pass
            assert sim.out_of_bounds
