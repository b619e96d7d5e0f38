"""Flights as data: one row per simulator step with the original notebook's 17 labels."""

from typing import Any

import numpy as np
import pandas as pd

from .task_specs import has_contact_rule

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


def flight_row(sim: Any, rotor_speeds: Any) -> list[float]:
    """The 17 values of one step: the sim's time, pose, v, angular_v after it, and the rotor speeds used."""
    return [sim.time, *sim.pose, *sim.v, *sim.angular_v, *rotor_speeds]


def fly(sim: Any, controller: Any, task: Any = None) -> pd.DataFrame:
    """Reset ``sim`` and fly it with ``controller.act(sim)`` until done; returns the flight DataFrame.

    The first row is the start (time 0); each row's rotor speeds are those of the step that ended
    at its time, and the start row repeats the first step's. ``task``: a
    :class:`~quadcopter.task_specs.FlightTask` whose contact rule applies after each step (the landing's
    lets a gentle touchdown rest instead of ending the flight); default none (a touch ends it).
    """
    contact_rule = task is not None and has_contact_rule(task)
    sim.reset()
    start = flight_row(sim, np.zeros(4))
    rows = []
    done = False
    while not done:
        rotor_speeds = controller.act(sim)
        done = sim.next_timestep(rotor_speeds)
        if contact_rule and sim.out_of_bounds:
            physics = np.concatenate([sim.pose, sim.v, sim.angular_v])[None, :]
            physics, crashed = task.contact(physics, np.array([True]))
            if not crashed[0]:
                done = sim.settle(physics[0])
        rows.append(flight_row(sim, rotor_speeds))
    start[-4:] = rows[0][-4:]
    return pd.DataFrame([start] + rows, columns=LABELS)
