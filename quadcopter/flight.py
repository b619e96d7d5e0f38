"""Flights as data: one row per simulator step with the original notebook's 17 labels."""

import numpy as np
import pandas as pd

LABELS = [
    "time",
    "x",
    "y",
    "z",
    "phi",
    "theta",
    "psi",
    "x_velocity",
    "y_velocity",
    "z_velocity",
    "phi_velocity",
    "theta_velocity",
    "psi_velocity",
    "rotor_speed1",
    "rotor_speed2",
    "rotor_speed3",
    "rotor_speed4",
]


def flight_row(sim, rotor_speeds):
    """The 17 values of one step: the sim's time, pose, v, angular_v after it, and the rotor speeds used."""
    return [sim.time, *sim.pose, *sim.v, *sim.angular_v, *rotor_speeds]


def fly(sim, controller):
    """Reset ``sim`` and fly it with ``controller.act(sim)`` until done; returns the flight DataFrame.

    The first row is the start (time 0); each row's rotor speeds are those of the step that ended
    at its time, and the start row repeats the first step's.
    """
    sim.reset()
    start = flight_row(sim, np.zeros(4))
    rows = []
    done = False
    while not done:
        rotor_speeds = controller.act(sim)
        done = sim.next_timestep(rotor_speeds)
        rows.append(flight_row(sim, rotor_speeds))
    start[-4:] = rows[0][-4:]
    return pd.DataFrame([start] + rows, columns=LABELS)
