"""Quadcopter simulators: :class:`PhysicsSim` (one, the Udacity API) and :class:`VectorPhysicsSim` (N).

Both run the equations in :mod:`quadcopter.dynamics`; row ``i`` of a ``VectorPhysicsSim`` is the
same computation as a ``PhysicsSim`` given the same inputs.
"""

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import dynamics as physics
from .dynamics import ARRAY_OPS, SCALAR_OPS
from .randomise import bodies


def _check_runtime(runtime: float):
    if not (isinstance(runtime, (int, float, np.integer, np.floating)) and math.isfinite(runtime) and runtime > 0):
        raise ValueError(f"runtime must be a finite number of seconds > 0; got {runtime!r}")
    return float(runtime)


MAX_START_SPEED = 1_000.0
"""m/s: the largest start velocity component the simulators take (about three times the speed of sound;
the propeller and drag models mean nothing there, and a finite 1e300 m/s turns NaN at its first squared drag)."""
MAX_START_RATE = 1_000.0
"""rad/s: the largest start angular rate the simulators take (a rotor turns at most 900 rev/s, 5,655 rad/s,
and the rate drag, which squares the rate, overflows from about 1e154 rad/s)."""
START_LIMITS = {"init_velocities": (MAX_START_SPEED, "m/s"), "init_angle_velocities": (MAX_START_RATE, "rad/s")}


def _as_state_array(name: str, value, default, shape):
    """``value`` (or ``default`` when None) as a new float64 array of ``shape``, all finite, and within
    :data:`START_LIMITS` for the velocities and rates."""
    try:
        array = np.array(default if value is None else value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers; got {shown(value)}") from None
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}; got shape {array.shape} from {shown(value)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; got {shown(value)}")
    if name in START_LIMITS:
        largest, unit = START_LIMITS[name]
        if not np.all(np.abs(array) <= largest):
            raise ValueError(f"{name} must lie within +-{largest:,.0f} {unit}; got {shown(value)}")
    return array


def _as_float_array(rotor_speeds, shape):
    try:
        return np.asarray(rotor_speeds, dtype=float)
    except (TypeError, ValueError):
        raise _bad_rotor_speeds(rotor_speeds, shape) from None


def shown(value: Any) -> str:
    """``value`` as an error message shows it: itself when small, else its shape. The quadcopter side's
    copy of ``agents.checks.shown`` (importing ``agents`` would import TensorFlow)."""
    return repr(value) if np.size(value) <= 16 else f"an array of shape {np.shape(value)}"


STATE_NAMES = ("pose", "v", "angular_v", "linear_accel", "angular_accels", "prop_wind_speed")
"""The simulator's state, in the order the step functions return it."""


def _raise_if_not_finite(state, time, speeds):
    """``FloatingPointError`` naming the first non-finite value of one quadcopter's step result ``state``
    (the six parts of :data:`STATE_NAMES`), if there is one; the simulator's state is then left as it was."""
    for name, part in zip(STATE_NAMES, state):
        values = np.asarray(part, dtype=float)
        if not np.all(np.isfinite(values)):
            index = np.unravel_index(np.flatnonzero(~np.isfinite(values))[0], values.shape)
            raise FloatingPointError(
                f"the step from t = {time:.2f} s would make {name}{list(index)} = {values[index]} (rotor speeds "
                f"{shown(speeds)}): the model's arithmetic overflowed, which a flight within the bounds never "
                "does (a step after the episode ended can); the state is left as it was, reset() to go on"
            )


MAX_ROTOR_SPEED = 10_000.0
"""rev/s: the fastest rotor the simulators take, eleven times the tasks' 900 rev/s (a thrust of about 600
times the weight). Beyond it the model's squares overflow (from about 1e77 rev/s) long before anything
physical happens."""


def _bad_rotor_speeds(rotor_speeds, shape):
    return ValueError(
        f"rotor_speeds must be values in [0, {MAX_ROTOR_SPEED:,.0f}] rev/s with shape {shape}; "
        f"got {shown(rotor_speeds)}"
    )


class PhysicsSim:
    """One quadcopter: the Udacity ``PhysicsSim`` API.

    Args:
        init_pose: (x, y, z, phi, theta, psi) in m and rad; default (0, 0, 10, 0, 0, 0).
        init_velocities: (vx, vy, vz) in m/s, earth frame; default zeros.
        init_angle_velocities: angular rates in rad/s; default zeros. With ``dynamics="udacity"``
            these are the Euler-angle rates (phi_dot, theta_dot, psi_dot); with ``"rigid_body"``
            the body rates (p, q, r).
        runtime: episode length in s; ``done`` is set once ``time > runtime``.
        dynamics: ``"udacity"`` (default: the original, quirks included) or ``"rigid_body"``.
        airframe: the body flown, a name of :data:`~quadcopter.dynamics.AIRFRAMES` or an
            :class:`~quadcopter.dynamics.Airframe` (default: the Udacity quadcopter; another needs
            ``"rigid_body"``).

    Attributes (as in the original): ``pose`` (6,), ``v`` (3,), ``angular_v`` (3,),
    ``linear_accel`` (3,) m/s^2, ``angular_accels`` (3,) rad/s^2, ``prop_wind_speed`` (4,) m/s,
    ``time`` s, ``done``, ``out_of_bounds`` (a bound was touched since the reset: ``done`` is
    then a crash, not the time limit; not in the original), ``dt`` = 1/50 s, ``runtime``,
    ``lower_bounds``, ``upper_bounds``, and the
    constants ``gravity``, ``rho``, ``mass``, ``C_d``, ``l_to_rotor``, ``propeller_size``, ``dims``,
    ``areas``, ``moments_of_inertia`` (the airframe's), and ``airframe``.
    """

    gravity = physics.GRAVITY
    rho = physics.RHO
    mass = physics.MASS
    dt = physics.DT
    C_d = physics.C_D
    l_to_rotor = physics.ARM_LENGTH
    propeller_size = physics.PROPELLER_SIZE

    def __init__(
        self,
        init_pose: ArrayLike | None = None,
        init_velocities: ArrayLike | None = None,
        init_angle_velocities: ArrayLike | None = None,
        runtime: float = 5.0,
        dynamics: str = "udacity",
        airframe: "str | physics.Airframe | None" = None,
    ) -> None:
        self._step_function = physics.step_function(dynamics, airframe)
        self.dynamics = dynamics
        self.airframe = physics.check_airframe(dynamics, airframe)
        self.runtime = _check_runtime(runtime)
        self.init_pose = _as_state_array("init_pose", init_pose, [0.0, 0.0, 10.0, 0.0, 0.0, 0.0], (6,))
        if not np.all((self.init_pose[:3] >= physics.LOWER_BOUNDS) & (self.init_pose[:3] <= physics.UPPER_BOUNDS)):
            raise ValueError(
                f"init_pose's position must lie within the bounds {physics.LOWER_BOUNDS} to "
                f"{physics.UPPER_BOUNDS} m (z >= 0: the ground); got {init_pose!r}"
            )
        self.init_velocities = _as_state_array("init_velocities", init_velocities, np.zeros(3), (3,))
        self.init_angle_velocities = _as_state_array("init_angle_velocities", init_angle_velocities, np.zeros(3), (3,))
        body = self.airframe  # the original's attribute names, for the airframe flown
        self.mass, self.C_d, self.l_to_rotor, self.propeller_size = (
            body.mass,
            body.drag_coefficient,
            body.arm_length,
            body.propeller_size,
        )
        self.dims = np.array(body.dims)
        self.areas = np.array(body.areas)
        self.moments_of_inertia = np.array(body.inertia)
        self.lower_bounds = np.array(physics.LOWER_BOUNDS)
        self.upper_bounds = np.array(physics.UPPER_BOUNDS)
        self.reset()

    def reset(self) -> None:
        """Back to the initial state (copies of the init arrays), time 0, not done."""
        self.time = 0.0
        self.pose = self.init_pose.copy()
        self.v = self.init_velocities.copy()
        self.angular_v = self.init_angle_velocities.copy()
        self.linear_accel = np.zeros(3)
        self.angular_accels = np.zeros(3)
        self.prop_wind_speed = np.zeros(4)
        self.done = False
        self.out_of_bounds = False

    def next_timestep(self, rotor_speeds: ArrayLike) -> bool:
        """Advance one step of ``dt`` with the 4 rotor speeds (rev/s, each in [0, MAX_ROTOR_SPEED]).

        Returns ``done``: a bound was touched (the position is clamped to it) or ``time > runtime``.
        ``done`` stays set until :meth:`reset`. Raises ``ValueError`` on bad speeds, state unchanged.
        """
        speeds = _as_float_array(rotor_speeds, (4,))
        if speeds.shape != (4,):
            raise _bad_rotor_speeds(rotor_speeds, (4,))
        speeds = speeds.tolist()
        for n in speeds:
            if not 0.0 <= n <= MAX_ROTOR_SPEED:  # also false for nan
                raise _bad_rotor_speeds(rotor_speeds, (4,))

        pose, v, angular_v, linear_accel, angular_accels, wind = self._step_function(
            self.pose.tolist(), self.v.tolist(), self.angular_v.tolist(), speeds, SCALAR_OPS
        )
        new_state = (pose, v, angular_v, linear_accel, angular_accels, wind)
        # NaN and inf spread through a sum. After the end (a bound touched) the original may overflow,
        # and does so silently here too, as VectorPhysicsSim's rows do.
        if not self.done and not math.isfinite(sum(sum(part) for part in new_state)):
            _raise_if_not_finite(new_state, self.time, speeds)
        x, y, z, touched = physics.check_bounds(pose[0], pose[1], pose[2], SCALAR_OPS)

        self.pose = np.array((x, y, z, pose[3], pose[4], pose[5]))
        self.v = np.array(v)
        self.angular_v = np.array(angular_v)
        self.linear_accel = np.array(linear_accel)
        self.angular_accels = np.array(angular_accels)
        self.prop_wind_speed = np.array(wind)
        self.time += self.dt
        self.out_of_bounds = self.out_of_bounds or touched
        self.done = self.done or touched or self.time > self.runtime
        return self.done

    def settle(self, physics_row: np.ndarray) -> bool:
        """Put the state into ``physics_row`` (12,: pose, velocity, angular_v) and take back the step's bound
        touch: a task's contact rule (:meth:`~quadcopter.task_specs.Land.contact`) that let a gentle
        touchdown rest. Returns ``done`` as :meth:`next_timestep` would have with that state."""
        self.pose, self.v, self.angular_v = (
            np.array(physics_row[i : i + k], float) for i, k in ((0, 6), (6, 3), (9, 3))
        )
        self.out_of_bounds = False
        self.done = self.time > self.runtime
        return self.done


class VectorPhysicsSim:
    """N independent quadcopters stepped together; row ``i`` behaves as one :class:`PhysicsSim`.

    Args:
        init_pose: (N, 6) array of (x, y, z, phi, theta, psi); N is taken from it.
        init_velocities: (N, 3) m/s, default zeros.
        init_angle_velocities: (N, 3) rad/s, default zeros (same meaning as in ``PhysicsSim``).
        runtime: episode length in s, the same for every row.
        dynamics: ``"udacity"`` or ``"rigid_body"``.

    Attributes: ``pose`` (N, 6), ``v`` (N, 3), ``angular_v`` (N, 3), ``linear_accel`` (N, 3),
    ``angular_accels`` (N, 3), ``prop_wind_speed`` (N, 4), ``time`` (N,), ``done`` (N,) bool,
    ``out_of_bounds`` (N,) bool,
    ``num_envs`` = N. Rows keep stepping after they are done, as a ``PhysicsSim`` would: reset
    them with :meth:`reset` ``(rows)``.

    The state is stored component-major, shape (6, N) and so on, so that each component the
    equations touch is one contiguous array; ``pose`` and the others are (N, k) views of it.
    """

    dt = physics.DT
    _BLOCK_ROWS = 8192
    # The order of the step functions' results.
    _WIDTHS = {"pose": 6, "v": 3, "angular_v": 3, "linear_accel": 3, "angular_accels": 3, "prop_wind_speed": 4}

    def __init__(
        self,
        init_pose: Any,
        init_velocities: Any = None,
        init_angle_velocities: Any = None,
        runtime: float = 5.0,
        dynamics: str = "udacity",
        airframe: "str | physics.Airframe | None" = None,
    ) -> None:
        self._step_function = physics.step_function(dynamics, airframe)
        self.dynamics = dynamics
        self.airframe = physics.check_airframe(dynamics, airframe)
        self.runtime = _check_runtime(runtime)
        init_pose = np.array(init_pose, dtype=float)
        if init_pose.ndim != 2 or init_pose.shape[1] != 6 or len(init_pose) == 0:
            raise ValueError(f"init_pose must have shape (N, 6) with N >= 1; got shape {init_pose.shape}")
        self.num_envs = n = len(init_pose)
        self.init_pose = _as_state_array("init_pose", init_pose, None, (n, 6))
        self.init_velocities = _as_state_array("init_velocities", init_velocities, np.zeros((n, 3)), (n, 3))
        self.init_angle_velocities = _as_state_array(
            "init_angle_velocities", init_angle_velocities, np.zeros((n, 3)), (n, 3)
        )
        self.lower_bounds = np.array(physics.LOWER_BOUNDS)
        self.upper_bounds = np.array(physics.UPPER_BOUNDS)
        self.body_factors: np.ndarray | None = None
        """None (every row flies ``airframe``), or (N, 3) factors on each row's mass, inertia and thrust
        coefficient (:func:`quadcopter.randomise.bodies`; the rigid-body dynamics only)."""
        self._state = {name: np.zeros((width, n)) for name, width in self._WIDTHS.items()}
        self.time = np.zeros(n)
        self.done = np.zeros(n, dtype=bool)
        self.out_of_bounds = np.zeros(n, dtype=bool)
        self.reset()

    # (N, k) views of the component-major state.
    pose = property(lambda self: self._state["pose"].T)
    v = property(lambda self: self._state["v"].T)
    angular_v = property(lambda self: self._state["angular_v"].T)
    linear_accel = property(lambda self: self._state["linear_accel"].T)
    angular_accels = property(lambda self: self._state["angular_accels"].T)
    prop_wind_speed = property(lambda self: self._state["prop_wind_speed"].T)

    def _rows(self, rows):
        """``rows`` (None, a boolean mask of shape (N,), or integer indices) as an index array."""
        if rows is None:
            return np.arange(self.num_envs)
        rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.shape != (self.num_envs,):
                raise ValueError(f"a boolean rows mask must have shape ({self.num_envs},); got {rows.shape}")
            return np.flatnonzero(rows)
        if rows.dtype.kind not in "iu" or rows.ndim > 1 or np.any((rows < 0) | (rows >= self.num_envs)):
            raise ValueError(f"rows must be indices in [0, {self.num_envs - 1}]; got {rows!r}")
        return np.atleast_1d(rows)

    def reset(
        self,
        rows: Any = None,
        init_pose: Any = None,
        init_velocities: Any = None,
        init_angle_velocities: Any = None,
    ) -> np.ndarray:
        """Reset the chosen rows (all when ``rows`` is None) to their initial state.

        Optional ``init_pose`` (k, 6), ``init_velocities`` (k, 3), ``init_angle_velocities`` (k, 3)
        replace the initial state of those k rows first (for randomised starts).
        Returns the index array of the rows that were reset.
        """
        rows = self._rows(rows)
        k = len(rows)
        new_init = [
            (self.init_pose, _as_state_array("init_pose", init_pose, self.init_pose[rows], (k, 6))),
            (
                self.init_velocities,
                _as_state_array("init_velocities", init_velocities, self.init_velocities[rows], (k, 3)),
            ),
            (
                self.init_angle_velocities,
                _as_state_array(
                    "init_angle_velocities", init_angle_velocities, self.init_angle_velocities[rows], (k, 3)
                ),
            ),
        ]
        for target, values in new_init:  # everything is validated before anything changes
            target[rows] = values
        self._state["pose"][:, rows] = self.init_pose[rows].T
        self._state["v"][:, rows] = self.init_velocities[rows].T
        self._state["angular_v"][:, rows] = self.init_angle_velocities[rows].T
        for name in ("linear_accel", "angular_accels", "prop_wind_speed"):
            self._state[name][:, rows] = 0.0
        self.time[rows] = 0.0
        self.done[rows] = False
        self.out_of_bounds[rows] = False
        return rows

    def next_timestep(self, rotor_speeds: ArrayLike, active: np.ndarray | None = None) -> np.ndarray:
        """Advance the rows one step with rotor speeds of shape (N, 4) (rev/s, in [0, MAX_ROTOR_SPEED]).

        ``active``: a boolean mask (N,) of the rows to step (default: all). The others keep their
        whole state, time included, as a ``PhysicsSim`` that is not stepped would. Returns a copy of
        ``done`` (N,). Raises ``ValueError`` on bad speeds or mask, state unchanged.
        """
        speeds = _as_float_array(rotor_speeds, (self.num_envs, 4))
        if speeds.shape != (self.num_envs, 4) or not np.all((speeds >= 0.0) & (speeds <= MAX_ROTOR_SPEED)):
            raise _bad_rotor_speeds(rotor_speeds, (self.num_envs, 4))
        if active is not None:
            active = np.asarray(active)
            if active.shape != (self.num_envs,) or active.dtype != bool:
                raise ValueError(f"active must be a boolean mask of shape ({self.num_envs},); got {shown(active)}")
        speeds = np.ascontiguousarray(speeds.T)
        state = self._state
        touched = np.empty(self.num_envs, dtype=bool)
        # The rows whose arithmetic must stay finite: those stepped that had not ended. A row stepped on
        # after its end may overflow to inf and nan, silently, as in the original.
        live = ~self.done if active is None else active & ~self.done
        # Blocks of rows small enough that the equations' temporaries stay in the CPU cache
        # (measured here: twice as fast as whole arrays at N = 65,536). Every block is computed before
        # any is stored, so that a non-finite row leaves the state as it was.
        blocks = []
        for start in range(0, self.num_envs, self._BLOCK_ROWS):
            rows = slice(start, start + self._BLOCK_ROWS)
            with np.errstate(over="ignore", invalid="ignore"):
                results = self._block_step(rows)(
                    tuple(state["pose"][:, rows]),
                    tuple(state["v"][:, rows]),
                    tuple(state["angular_v"][:, rows]),
                    tuple(speeds[:, rows]),
                    ARRAY_OPS,
                )
                row_sums = sum(c for part in results for c in part)  # NaN or inf where any value is
            bad = np.flatnonzero(live[rows] & ~np.isfinite(row_sums))
            if len(bad):
                row = int(bad[0])
                _raise_if_not_finite(
                    [[c[row] for c in part] for part in results], self.time[start + row], speeds[:, start + row]
                )
            blocks.append((rows, results))
        for rows, results in blocks:
            pose = results[0]
            x, y, z, touched[rows] = physics.check_bounds(pose[0], pose[1], pose[2], ARRAY_OPS)
            results = ((x, y, z) + pose[3:],) + results[1:]
            for name, components in zip(self._WIDTHS, results):
                for j, component in enumerate(components):
                    if active is None:
                        state[name][j, rows] = component
                    else:
                        state[name][j, rows] = np.where(active[rows], component, state[name][j, rows])
        stepped = np.ones(self.num_envs, dtype=bool) if active is None else active
        touched &= stepped
        self.time = np.where(stepped, self.time + self.dt, self.time)
        self.out_of_bounds |= touched
        self.done |= touched | (stepped & (self.time > self.runtime))
        return self.done.copy()

    def _block_step(self, rows: slice) -> Any:
        """The step function for a block of ``rows``: each row's own body if :attr:`body_factors` is set."""
        if self.body_factors is None:
            return self._step_function
        return physics.step_function(self.dynamics, bodies(self.airframe, self.body_factors[rows]))

    def settle(self, rows: np.ndarray, physics_rows: np.ndarray) -> np.ndarray:
        """Put the rows of the boolean mask ``rows`` (N,) into the states of ``physics_rows`` (N, 12: pose,
        velocity, angular_v; the other rows' are ignored) and take back their bound touch: a task's contact
        rule (:meth:`~quadcopter.task_specs.Land.contact`) that let a gentle touchdown rest. Returns ``done``
        (N,) as :meth:`next_timestep` would have with that state."""
        rows = np.flatnonzero(rows)
        self._state["pose"][:, rows] = physics_rows[rows, 0:6].T
        self._state["v"][:, rows] = physics_rows[rows, 6:9].T
        self._state["angular_v"][:, rows] = physics_rows[rows, 9:12].T
        self.out_of_bounds[rows] = False
        self.done[rows] = self.time[rows] > self.runtime
        return self.done.copy()
