"""Hand-written controllers that fly a :class:`~quadcopter.PhysicsSim` directly, one simulator step at a time.

Each has ``act(sim) -> rotor speeds (4,)`` in rev/s. The PD altitude controller is the reference
for a perfect takeoff; the random one is the Udacity notebook's ``Basic_Agent``.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .dynamics import GRAVITY, UDACITY_AIRFRAME, hover_rotor_speed
from .sim import PhysicsSim
from .task_specs import FlightTask
from .tasks import ACTION_HIGH, ACTION_LOW, DEFAULT_TARGET, wrap_angle


class ConstantController:
    """The same rotor speeds (4 values, rev/s) at every step."""

    def __init__(self, rotor_speeds: ArrayLike) -> None:
        speeds = np.asarray(rotor_speeds, dtype=float)
        if speeds.shape != (4,) or not np.all((speeds >= ACTION_LOW) & (speeds <= ACTION_HIGH)):
            raise ValueError(
                f"rotor_speeds must be 4 values in [{ACTION_LOW}, {ACTION_HIGH}] rev/s; got {rotor_speeds!r}"
            )
        self.rotor_speeds = speeds

    def act(self, sim: PhysicsSim) -> np.ndarray:
        return self.rotor_speeds.copy()


class RandomController:
    """The Udacity ``Basic_Agent``: a common speed ~ N(450, 25) plus N(0, 1) per rotor, every step."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def act(self, sim: PhysicsSim) -> np.ndarray:
        common = self.rng.normal(450.0, 25.0)
        return np.clip(common + self.rng.normal(0.0, 1.0, size=4), ACTION_LOW, ACTION_HIGH)


class PDAltitudeController:
    """Climb to ``target_z`` (m) and hold it, with the same speed on all four rotors.

    The desired vertical acceleration is a PD law, a = kp (z* - z) - kd v_z (m/s^2). The four rotors
    share the thrust m (g + a), so each turns at n_hover sqrt((g + a) / g), clipped to [0, n_max] (the
    simulator's airframe's hover and fastest speeds: 404 and 900 rev/s for the Udacity quadcopter).
    Equal rotors produce no moments, so the quadcopter stays level. With kp = 4 /s^2 and kd = 4 /s
    the altitude settles in about 3 s without overshoot.
    """

    def __init__(self, target_z: float = 10.0, kp: float = 4.0, kd: float = 4.0) -> None:
        if not kp > 0 or not kd > 0:
            raise ValueError(f"kp and kd must be > 0; got kp={kp!r}, kd={kd!r}")
        self.target_z, self.kp, self.kd = float(target_z), float(kp), float(kd)
        self.hover_speed = hover_rotor_speed()

    def act(self, sim: PhysicsSim) -> np.ndarray:
        body = getattr(sim, "airframe", UDACITY_AIRFRAME)  # the reference transcription has none: the original
        hover_speed = self.hover_speed if body == UDACITY_AIRFRAME else body.hover_rotor_speed()
        accel = self.kp * (self.target_z - sim.pose[2]) - self.kd * sim.v[2]
        thrust_ratio = max(0.0, (-GRAVITY + accel) / -GRAVITY)
        speed = min(body.max_rotor_speed, hover_speed * np.sqrt(thrust_ratio))
        return np.full(4, speed)


class PDHoverController:
    """Climb to ``target_z`` and hold it level: :class:`PDAltitudeController` plus a PD law on roll and pitch.

    The altitude law sets the common rotor speed; roll is corrected by rotors 3 minus 2 and pitch by
    rotors 1 minus 0 (the pairs whose thrust difference makes those moments):
    n3 - n2 = -(k_angle phi + k_rate phi_dot) and n1 - n0 = -(k_angle theta + k_rate theta_dot), in rev/s
    per rad and per rad/s. A new action every ``every`` simulator steps (3, as the takeoff's agent
    acts), held in between. This holds the target even in the udacity dynamics, whose rotor inflow
    makes any small rotation grow: the standard a learned takeoff is compared with.
    """

    def __init__(self, target_z: float = 10.0, k_angle: float = 100.0, k_rate: float = 30.0, every: int = 3) -> None:
        if not (k_angle > 0 and k_rate > 0 and isinstance(every, int) and every >= 1):
            raise ValueError(
                f"k_angle and k_rate must be > 0 and every an integer >= 1; got k_angle={k_angle!r}, "
                f"k_rate={k_rate!r}, every={every!r}"
            )
        self.altitude = PDAltitudeController(target_z)
        self.k_angle, self.k_rate, self.every = float(k_angle), float(k_rate), every
        self.steps, self.action = 0, np.zeros(4)

    def act(self, sim: PhysicsSim) -> np.ndarray:
        if self.steps % self.every == 0:
            phi, theta = wrap_angle(sim.pose[3:5])
            roll = self.k_angle * phi + self.k_rate * sim.angular_v[0]
            pitch = self.k_angle * theta + self.k_rate * sim.angular_v[1]
            speeds = self.altitude.act(sim) + 0.5 * np.array([pitch, -pitch, roll, -roll])
            high = getattr(sim, "airframe", UDACITY_AIRFRAME).max_rotor_speed
            self.action = np.clip(speeds, ACTION_LOW, high)
        self.steps += 1
        return self.action


class ActorController:
    """Flies a policy like the hand-written controllers do (``act(sim)`` every simulator step): it
    asks ``policy(states (1, state_size)) -> rotor speeds (1, 4)`` for a new action on the task's
    observation (default: the takeoff's) of the goal ``target`` every ``action_repeat`` steps and holds it
    in between, as ``TakeoffTask.step`` would."""

    def __init__(
        self,
        policy: Callable[[np.ndarray], np.ndarray],
        action_repeat: int = 3,
        target: Any = DEFAULT_TARGET,
        task: Any = None,
    ) -> None:
        self.policy, self.action_repeat, self.target = policy, action_repeat, np.asarray(target, dtype=float)
        self.task = task or FlightTask()
        self.steps, self.action = 0, np.zeros(4)

    def act(self, sim: PhysicsSim) -> np.ndarray:
        if self.steps % self.action_repeat == 0:
            physics = np.concatenate([sim.pose, sim.v, sim.angular_v])[None, :]
            state = self.task.observe(physics, self.target[None, :])[0]
            high = sim.airframe.max_rotor_speed  # the body's fastest rotor speed (the Udacity one: 900 rev/s)
            low = sim.airframe.min_rotor_speed  # the actions' range: the Udacity one is [0, 900] rev/s
            self.action = np.clip(np.asarray(self.policy(state[None, :]))[0], low, high)
        self.steps += 1
        return self.action
