"""Plots render headless (Agg) and show what they claim: the right axes, lines, labels and markers."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from quadcopter import PhysicsSim, plots
from quadcopter.cli import main
from quadcopter.controllers import PDAltitudeController, RandomController
from quadcopter.flight import LABELS, fly

TARGET = (0.0, 0.0, 10.0)


@pytest.fixture(scope="module")
def pd_flight():
    return fly(PhysicsSim(init_pose=np.zeros(6)), PDAltitudeController(target_z=10))


@pytest.fixture(scope="module")
def random_flight():
    return fly(PhysicsSim(), RandomController(np.random.default_rng(0)))


def labels_of(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_panels_show_every_quantity_with_units(pd_flight):
    figure = plots.plot_flight_panels(pd_flight, target=TARGET)
    axes = figure.axes
    assert [ax.get_ylabel() for ax in axes] == [
        "Position (m)",
        "Velocity (m/s)",
        "Euler angles, wrapped to [-pi, pi) (rad)",
        "Angular rates (rad/s)",
        "Rotor speeds (rev/s)",
    ]
    assert labels_of(axes[0])[:3] == ["x", "y", "z"]
    assert len(axes[0].get_lines()) == 6  # x, y, z and the dashed target lines
    assert labels_of(axes[4]) == ["rotor_speed1", "rotor_speed2", "rotor_speed3", "rotor_speed4"]
    assert axes[-1].get_xlabel() == "time (s)"
    z_line = axes[0].get_lines()[2]
    np.testing.assert_array_equal(z_line.get_ydata(), pd_flight["z"])


def test_angles_are_drawn_wrapped(pd_flight):
    """The simulator keeps angles in [0, 2 pi): a roll of -0.01 rad is stored as 6.27 and drawn as -0.01."""
    tilted = pd_flight.assign(phi=2 * np.pi - 0.01, theta=0.02)
    phi_line, theta_line, _ = plots.plot_flight_panels(tilted).axes[2].get_lines()
    np.testing.assert_allclose(phi_line.get_ydata(), -0.01)
    np.testing.assert_allclose(theta_line.get_ydata(), 0.02)


def test_path_3d_marks_start_target_and_end(random_flight):
    figure = plots.plot_path_3d(random_flight, target=TARGET)
    (ax,) = figure.axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x (m)", "y (m)", "z (m)")
    path = ax.get_lines()[0]
    np.testing.assert_array_equal(path.get_data_3d()[2], random_flight["z"])
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["path", "start", "end", "target"]
    offsets = {c.get_label(): np.asarray(c._offsets3d).ravel() for c in ax.collections}
    np.testing.assert_allclose(offsets["start"], random_flight[["x", "y", "z"]].iloc[0])
    np.testing.assert_allclose(offsets["end"], random_flight[["x", "y", "z"]].iloc[-1])
    np.testing.assert_allclose(offsets["target"], TARGET)


def test_overlaid_flights_draw_one_line_per_flight(pd_flight, random_flight):
    flights = [pd_flight, random_flight, pd_flight.assign(x=pd_flight["x"] + 2)]
    figure = plots.plot_flights_overlaid(flights, target=TARGET)
    altitude, paths = figure.axes
    assert labels_of(altitude) == ["flight 1", "flight 2", "flight 3", "target z"]
    assert len(paths.get_lines()) == 3
    assert altitude.get_ylabel() == "z (m)" and altitude.get_xlabel() == "time (s)"
    assert paths.get_xlim()[1] >= 2  # the shifted flight is inside the view


def test_reward_curve_has_returns_average_success_and_the_tests():
    episodes = pd.DataFrame(
        dict(
            episode=np.arange(1, 301),
            env_steps=16 * np.arange(1, 301),
            episode_return=np.linspace(0, 200, 300),
            success=np.arange(300) >= 150,
        )
    )
    tests = pd.DataFrame(
        dict(
            env_steps=[0, 2000, 4000],
            success_rate=[0.0, 1.0, 0.5],
            mean_return=[1.0, 300.0, 250.0],
            best=[True, True, False],
        )
    )
    figure = plots.plot_reward_curve(episodes, window=100, tests=tests)
    returns_ax, success_ax = figure.axes
    assert labels_of(returns_ax)[:2] == ["training episode return", "mean of last 100 training episodes"]
    assert success_ax.get_ylabel() == "success rate (%)" and success_ax.get_xlabel() == "environment steps"
    success = success_ax.get_lines()[0].get_ydata()
    assert success[0] == 0 and success[-1] == 100  # the last 100 episodes all succeeded
    test_line, kept = success_ax.get_lines()[1:3]
    np.testing.assert_array_equal(test_line.get_ydata(), [0, 100, 50])
    # the kept actor is the last test that was the best so far
    assert list(kept.get_xdata()) == [2000] and list(kept.get_ydata()) == [100]


def test_reward_curve_marks_the_late_actor_step(tmp_path):
    episodes = pd.DataFrame(
        dict(episode=np.arange(1, 101), env_steps=16 * np.arange(1, 101), episode_return=1.0, success=False)
    )
    label = "actor learning rate x 0.1 from here"
    for ax in plots.plot_reward_curve(episodes, actor_lr_step=(800, 0.1)).axes:
        assert label in labels_of(ax)
        (line,) = [line for line in ax.get_lines() if line.get_label() == label]
        assert list(line.get_xdata()) == [800, 800]
    # Not drawn for a run that stopped before the step, for a factor of 1 (no step), nor without one.
    for step in ((5_000, 0.1), (800, 1.0), None):
        for ax in plots.plot_reward_curve(episodes, actor_lr_step=step).axes:
            assert not [text for text in labels_of(ax) if text.startswith("actor learning rate")]
    # A run folder's settings.json gives the step; one from before the step (no keys) gives none.
    episodes.to_csv(tmp_path / "episodes.csv", index=False)
    (tmp_path / "settings.json").write_text(json.dumps(dict(late_actor_lr_from=800, late_actor_lr_factor=0.1)))
    assert plots._actor_lr_step(tmp_path / "settings.json") == (800, 0.1)
    assert plots.write_run_plots(tmp_path) == [tmp_path / "reward_curve.png"]
    (tmp_path / "settings.json").write_text(json.dumps(dict(env_steps=1600)))
    assert plots._actor_lr_step(tmp_path / "settings.json") is None
    (tmp_path / "settings.json").write_text("{")
    with pytest.raises(ValueError, match=r"settings.json is not readable JSON"):
        plots.write_run_plots(tmp_path)


def test_animation_is_a_gif_with_one_frame_per_every_steps(pd_flight, tmp_path):
    short = pd_flight.iloc[:40]
    frames = plots.animate_flight(short, tmp_path / "flight.gif", every=10)
    assert frames == 5  # rows 0, 10, 20, 30 and the last one (39)
    with Image.open(tmp_path / "flight.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == 5
        first = np.asarray(gif.convert("RGB"))
        gif.seek(4)
        last = np.asarray(gif.convert("RGB"))
    assert first.shape[2] == 3 and not np.array_equal(first, last)  # the quadcopter moved
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        plots.animate_flight(short, tmp_path / "bad.gif", every=0)


def test_a_flight_without_a_target_animates_around_its_end(pd_flight, tmp_path):
    """A reach run has no single goal to mark (plot --gif gives None): the view centres on the flight's end."""
    short = pd_flight.iloc[:40]
    assert plots.animate_flight(short, tmp_path / "reach.gif", target=None, every=10) == 5
    with Image.open(tmp_path / "reach.gif") as gif:
        assert gif.n_frames == 5
    figure = plots.draw_quadcopter(short.iloc[-1][["x", "y", "z", "phi", "theta", "psi"]], short[["x", "y", "z"]], None)
    assert "target" not in [text.get_text() for text in figure.axes[0].get_legend().get_texts()]


@pytest.mark.slow
def test_plot_command_on_a_flight_csv(pd_flight, tmp_path, capsys):
    csv = tmp_path / "pd.csv"
    pd_flight.to_csv(csv, index=False)
    (tmp_path / "pd.png").write_bytes(b"simulate's plot")
    main(["plot", str(csv), "--gif"])
    for name in ("pd_plot.png", "pd_plot_path.png", "pd_plot.gif"):
        assert (tmp_path / name).stat().st_size > 5_000
    assert (tmp_path / "pd.png").read_bytes() == b"simulate's plot"  # not replaced
    assert capsys.readouterr().out.strip() == (
        f"wrote {tmp_path / 'pd_plot.png'}, {tmp_path / 'pd_plot_path.png'}, {tmp_path / 'pd_plot.gif'}"
    )


def test_plot_command_on_a_run_folder(pd_flight, random_flight, tmp_path):
    pd_flight.to_csv(tmp_path / "flight.csv", index=False)
    both = pd.concat([pd_flight.assign(flight=1), random_flight.assign(flight=2)])[["flight"] + LABELS]
    both.to_csv(tmp_path / "evaluation_flights.csv", index=False)
    pd.DataFrame(dict(episode=[1, 2], episode_return=[1.0, 2.0], success=[False, True])).to_csv(
        tmp_path / "episodes.csv", index=False
    )
    main(["plot", str(tmp_path)])
    for name in ("reward_curve.png", "flight.png", "flight_path.png", "evaluation_flights.png"):
        assert (tmp_path / name).stat().st_size > 5_000


def test_plot_command_rejects_what_it_cannot_plot(tmp_path):
    with pytest.raises(SystemExit):
        main(["plot", str(tmp_path / "missing.csv")])
    bad = tmp_path / "bad.csv"
    pd.DataFrame(dict(time=[0.0], z=[1.0])).to_csv(bad, index=False)
    with pytest.raises(ValueError, match="missing columns"):
        plots.write_flight_plots(pd.read_csv(bad), tmp_path / "bad")
    with pytest.raises(ValueError, match="none of episodes.csv"):
        plots.write_run_plots(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SystemExit) as exit_:
        main(["plot", str(empty)])
    assert exit_.value.code == 2
    (tmp_path / "episodes.csv").write_text("")
    with pytest.raises(ValueError, match=r"episodes.csv is not a readable CSV"):
        plots.write_run_plots(tmp_path)
