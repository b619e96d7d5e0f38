"""Plots of flights and training runs. Each function takes a DataFrame and returns a matplotlib Figure.

A flight DataFrame has the 17 columns of :data:`quadcopter.flight.LABELS`.
"""

from matplotlib.figure import Figure

PANELS = [
    ("Position", "m", ["x", "y", "z"]),
    ("Velocity", "m/s", ["x_velocity", "y_velocity", "z_velocity"]),
    ("Euler angles", "rad", ["phi", "theta", "psi"]),
    ("Angular rates", "rad/s", ["phi_velocity", "theta_velocity", "psi_velocity"]),
    ("Rotor speeds", "rev/s", ["rotor_speed1", "rotor_speed2", "rotor_speed3", "rotor_speed4"]),
]


def plot_flight_panels(flight, title="Flight", target=None):
    """The original notebook's panels over time: position, velocity, angles, angular rates, rotor speeds.

    ``target`` (x, y, z in m), when given, is drawn as dashed lines on the position panel.
    """
    figure = Figure(figsize=(9, 13), layout="constrained")
    axes = figure.subplots(len(PANELS), 1, sharex=True)
    for ax, (name, unit, columns) in zip(axes, PANELS):
        for column in columns:
            ax.plot(flight["time"], flight[column], label=column)
        ax.set_ylabel(f"{name} ({unit})")
        ax.grid(alpha=0.3)
    if target is not None:
        for value, color in zip(target, ["C0", "C1", "C2"]):
            axes[0].axhline(value, color=color, linestyle="--", linewidth=1)
    for ax in axes:
        ax.legend(loc="upper left", fontsize="small", ncol=4)
    axes[-1].set_xlabel("time (s)")
    figure.suptitle(title)
    return figure


def plot_reward_curve(episodes, window=100):
    """Episode returns with a moving average (left axis) and the moving success rate (right axis).

    ``episodes``: a DataFrame with the columns episode, episode_return, success (episodes.csv).
    """
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    ax = figure.subplots()
    ax.plot(episodes["episode"], episodes["episode_return"], ".", markersize=2, alpha=0.3, color="C0",
            label="episode return")
    rolling = episodes["episode_return"].rolling(window, min_periods=1).mean()
    ax.plot(episodes["episode"], rolling, color="C0", label=f"mean of last {window}")
    ax.set_xlabel("episode")
    ax.set_ylabel("return (sum of rewards)")
    success = ax.twinx()
    success.plot(episodes["episode"], 100 * episodes["success"].astype(float).rolling(window, min_periods=1).mean(),
                 color="C2", label=f"success rate, last {window} (%)")
    success.set_ylabel("success rate (%)")
    success.set_ylim(0, 100)
    lines = ax.get_legend_handles_labels()
    more = success.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    figure.suptitle("Training: takeoff")
    return figure
