"""Teach a quadcopter how to fly: simulator, tasks and tools (the TensorFlow 2 port of the Udacity project).

Importing it does not import TensorFlow; the agents live in the top-level ``agents`` package, and
``takeoff_agent`` / ``takeoff_config`` (the takeoff's tuned DDPG, :mod:`quadcopter.presets`) import
it when first asked for.
"""

import importlib
from typing import Any

from .dynamics import hover_rotor_speed
from .sim import PhysicsSim, VectorPhysicsSim
from .task_specs import TASKS, FlightTask, Hover, Land, Reach

__all__ = [
    "TASKS",
    "FlightTask",
    "Hover",
    "Land",
    "PhysicsSim",
    "Reach",
    "VectorPhysicsSim",
    "hover_rotor_speed",
    "takeoff_agent",
    "takeoff_config",
]


def __getattr__(name: str) -> Any:
    # The presets need TensorFlow: loaded by name on first use (PEP 562), so the simulator stays numpy-only.
    if name in ("takeoff_agent", "takeoff_config"):
        return getattr(importlib.import_module("quadcopter.presets"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
