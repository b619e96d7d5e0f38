"""The quadcopter's equations of motion, written once for one quadcopter or for many.

Each step function works on *components*: ``x``, ``y``, ``z``, ``phi`` ... are either Python
floats (one quadcopter, :class:`~quadcopter.PhysicsSim`) or numpy arrays of shape ``(N,)``
(N quadcopters, :class:`~quadcopter.VectorPhysicsSim`). The few operations that differ between
the two (``cos``, ``max(0, x)``, a division that must not divide by zero, ...) come from an
``ops`` object: :data:`SCALAR_OPS`, :data:`ARRAY_OPS`, or :data:`quadcopter.tensor_task.TENSOR_OPS` for
float64 TensorFlow tensors of shape ``(N,)`` (the fused training path, inside a compiled graph). Because
both numpy simulators run this same code, row ``i`` of the vector simulator is bit-for-bit the
scalar simulator given the same inputs; the TensorFlow step agrees with them to round-off.

Units: metres, seconds, kilograms, radians, newtons; rotor speeds in revolutions per second.
Frames: z points up; ``R`` below is the ZYX (yaw-pitch-roll) rotation matrix.

Two models:

* :func:`udacity_step` reproduces the original Udacity ``physics_sim.py`` with every quirk and the
  same order of floating-point operations (``quadcopter/reference.py`` transcribes the original).
* :func:`rigid_body_step` is a physically correct rigid body with the same constants and
  propeller model (docs/physics.md and docs/differences.md list what it corrects).
"""

import dataclasses
import functools
import math
from typing import Any

import numpy as np

# --- Constants of the Udacity quadcopter -------------------------------------------------------

GRAVITY = -9.81  # m/s^2, z points up
RHO = 1.2  # air density, kg/m^3
MASS = 0.958  # kg
DT = 1 / 50.0  # s, one simulator step
C_D = 0.3  # drag coefficient of the body
ARM_LENGTH = 0.4  # m, centre to rotor ("l_to_rotor" in the original)
PROPELLER_SIZE = 0.1  # m, propeller diameter D
WIDTH, LENGTH, HEIGHT = 0.51, 0.51, 0.235  # m, body dimensions
DIMS = (WIDTH, LENGTH, HEIGHT)
AREAS = (LENGTH * HEIGHT, WIDTH * HEIGHT, WIDTH * LENGTH)  # m^2, faces normal to x, y, z
I_X = 1 / 12.0 * MASS * (HEIGHT**2 + WIDTH**2)  # kg m^2
I_Y = 1 / 12.0 * MASS * (HEIGHT**2 + LENGTH**2)
I_Z = 1 / 12.0 * MASS * (WIDTH**2 + LENGTH**2)
MOMENTS_OF_INERTIA = (I_X, I_Y, I_Z)
LOWER_BOUNDS = (-150.0, -150.0, 0.0)  # m, x, y, z
UPPER_BOUNDS = (150.0, 150.0, 300.0)

# Thrust coefficient at zero inflow: C_T = 0.12 - 0.07 J - 0.1 J^2 (J = advance ratio).
C_T0 = 0.12
# Yaw drag torque per newton of thrust (rigid_body only), in metres: Q / T = (C_Q / C_T) * D with
# the power coefficient C_P = 0.05 typical of small fixed-pitch propellers and C_Q = C_P / (2 pi).
K_Q = (0.05 / (2 * math.pi)) / C_T0 * PROPELLER_SIZE  # about 0.0066 m

TWO_PI = 2 * math.pi
DYNAMICS = ("udacity", "rigid_body")


@dataclasses.dataclass(frozen=True)
class Airframe:
    """A quadcopter body for the rigid-body dynamics (:func:`rigid_body_step`); the ``udacity`` dynamics keep
    the original's constants, which are :data:`UDACITY_AIRFRAME`'s.

    | field | unit | meaning |
    |---|---|---|
    | ``mass`` | kg | the whole quadcopter |
    | ``inertia`` | kg m^2 | (I_x, I_y, I_z), principal moments about the body axes |
    | ``arm_length`` | m | centre to each rotor (rotors on the body's +-x and +-y axes) |
    | ``propeller_size`` | m | propeller diameter D |
    | ``thrust_coefficient`` | - | C_T at zero inflow: a rotor's thrust is C_T rho n^2 D^4 (n in rev/s) |
    | ``inflow_linear``, ``inflow_quadratic`` | - | C_T falls by these times J and J^2 (J = inflow / (n D)) |
    | ``torque_per_thrust`` | m | a rotor's yaw drag torque per newton of its thrust |
    | ``max_rotor_speed`` | rev/s | the actions' upper limit: the motors' fastest |
    | ``min_rotor_speed`` | rev/s | the actions' lower limit (see :data:`CRAZYFLIE_AIRFRAME`) |
    | ``dims`` | m | body width, length, height, for its drag |
    | ``drag_coefficient`` | - | the body's drag coefficient on each face |
    """

    name: str
    mass: float
    inertia: tuple[float, float, float]
    arm_length: float
    propeller_size: float
    thrust_coefficient: float
    inflow_linear: float
    inflow_quadratic: float
    torque_per_thrust: float
    max_rotor_speed: float
    min_rotor_speed: float
    dims: tuple[float, float, float]
    drag_coefficient: float

    @property
    def areas(self) -> tuple[float, float, float]:
        """m^2: the faces normal to x, y and z (length x height, width x height, width x length)."""
        width, length, height = self.dims
        return (length * height, width * height, width * length)

    def hover_rotor_speed(self) -> float:
        """rev/s at which four rotors with zero inflow exactly carry the weight: 4 C_T rho n^2 D^4 = m |g|."""
        return math.sqrt(self.mass * -GRAVITY / (4 * self.thrust_coefficient * RHO * self.propeller_size**4))

    def scaled(self, mass: float = 1.0, inertia: float = 1.0, thrust: float = 1.0) -> "Airframe":
        """The same airframe with its mass, its moments of inertia and its thrust coefficient times the given
        factors (a heavier or lighter build, a worn propeller): the bodies of ``evaluate --sweep``."""
        for name, factor in (("mass", mass), ("inertia", inertia), ("thrust", thrust)):
            if not (isinstance(factor, (int, float)) and math.isfinite(factor) and 0.1 <= factor <= 10):
                raise ValueError(f"the {name} factor must be a number in [0.1, 10]; got {factor!r}")
        return dataclasses.replace(
            self,
            mass=self.mass * mass,
            inertia=(self.inertia[0] * inertia, self.inertia[1] * inertia, self.inertia[2] * inertia),
            thrust_coefficient=self.thrust_coefficient * thrust,
        )


UDACITY_AIRFRAME = Airframe(
    name="udacity",
    mass=MASS,
    inertia=MOMENTS_OF_INERTIA,
    arm_length=ARM_LENGTH,
    propeller_size=PROPELLER_SIZE,
    thrust_coefficient=C_T0,
    inflow_linear=0.07,
    inflow_quadratic=0.1,
    torque_per_thrust=K_Q,
    max_rotor_speed=900.0,
    min_rotor_speed=0.0,
    dims=DIMS,
    drag_coefficient=C_D,
)
"""The Udacity project's quadcopter (the constants above), the body both dynamics fly by default."""

_CF_KF = 3.16e-10 * 3600.0  # N per (rev/s)^2: 3.16e-10 N per rpm^2
_CF_PROPELLER = 2 * 2.31348e-2  # m: twice the propeller radius
_CF_MASS = 0.027  # kg
_CF_MAX = math.sqrt(2.25 * _CF_MASS * -GRAVITY / (4 * _CF_KF))  # rev/s at thrust-to-weight 2.25: about 362
_CF_HOVER = math.sqrt(_CF_MASS * -GRAVITY / (4 * _CF_KF))  # rev/s: about 241
_UDACITY_MIDDLE = 450.0 / math.sqrt(MASS * -GRAVITY / (4 * C_T0 * RHO * PROPELLER_SIZE**4))  # 450 / 404 = 1.11
CRAZYFLIE_AIRFRAME = Airframe(
    name="crazyflie",
    mass=_CF_MASS,
    inertia=(1.4e-5, 1.4e-5, 2.17e-5),
    arm_length=0.0397,
    propeller_size=_CF_PROPELLER,
    thrust_coefficient=_CF_KF / (RHO * _CF_PROPELLER**4),  # about 0.207
    inflow_linear=0.07 * (_CF_KF / (RHO * _CF_PROPELLER**4)) / C_T0,  # the Udacity model's shape, scaled
    inflow_quadratic=0.1 * (_CF_KF / (RHO * _CF_PROPELLER**4)) / C_T0,
    torque_per_thrust=7.94e-12 / 3.16e-10,  # m: km / kf, about 0.025
    max_rotor_speed=_CF_MAX,
    min_rotor_speed=2 * _UDACITY_MIDDLE * _CF_HOVER - _CF_MAX,  # about 176 rev/s
    dims=(0.092, 0.092, 0.029),
    drag_coefficient=C_D,
)
"""A Crazyflie 2.x (Bitcraze's 27 g nano quadcopter), from the identification that gym-pybullet-drones' cf2x.urdf
carries (Panerati et al., 2021, after Forster, "System Identification of the Crazyflie 2.0 Nano Quadrocopter",
ETH Zurich, 2015): mass, inertia, arm, propeller radius, kf = 3.16e-10 N/rpm^2, km = 7.94e-12 N m/rpm^2 and a
thrust-to-weight ratio of 2.25. The inflow terms keep the Udacity model's shape and the body drag its
coefficient (neither is identified for the Crazyflie; both matter little below a few m/s). Hover: about
241 rev/s (14,500 rpm). Its actions span [176, 362] rev/s: their middle, the untrained actor's output, is
1.11 times the hover speed, as on the Udacity quadcopter (450 of [0, 900] against 404), so that an
untrained actor climbs there as it does on the Udacity one; [0, 362] put the middle at 0.75 times the hover
speed, where every flight falls (docs/decisions.md)."""

AIRFRAMES = {"udacity": UDACITY_AIRFRAME, "crazyflie": CRAZYFLIE_AIRFRAME}
"""The airframes by name (``--airframe``)."""


def airframe(name: str) -> Airframe:
    """The airframe called ``name`` (:data:`AIRFRAMES`); ``ValueError`` naming it and the accepted ones."""
    if name not in AIRFRAMES:
        raise ValueError(f"airframe must be one of {list(AIRFRAMES)}; got {name!r}")
    return AIRFRAMES[name]


Component = Any
"""One component of the state (x, phi, a rotor speed, ...): a Python float, a numpy array (N,), or a float64
tensor (N,) on the fused path."""
Ops = Any
"""The operations that differ between those: :data:`SCALAR_OPS`, :data:`ARRAY_OPS` or ``tensor_task.TENSOR_OPS``."""


def check_dynamics(name: str) -> str:
    """``name`` if it is one of :data:`DYNAMICS`; otherwise a ``ValueError`` that names it and the accepted ones."""
    if name not in DYNAMICS:
        raise ValueError(f"dynamics must be one of {DYNAMICS}; got {name!r}")
    return name


def hover_rotor_speed(body: Airframe | None = None) -> float:
    """Rotor speed (rev/s) at which four rotors with zero inflow exactly carry the weight of ``body``
    (default: the Udacity quadcopter's, about 404 rev/s).

    Thrust per rotor is ``C_T0 * rho * n^2 * D^4``; four of them balance ``m * |g|``.
    """
    return (body or UDACITY_AIRFRAME).hover_rotor_speed()


# --- The operations that differ between floats and arrays ---------------------------------------


class _ScalarOps:
    """Operations on Python floats (one quadcopter).

    The equations square with ``x * x``, never ``x ** 2``: on a float that overflows, ``**``
    raises where numpy (and the original) gives inf.
    """

    cos = staticmethod(math.cos)
    sin = staticmethod(math.sin)

    @staticmethod
    def relu(x):
        """max(0, x)."""
        return x if x > 0.0 else 0.0

    @staticmethod
    def advance_ratio(wind, n, size=PROPELLER_SIZE):
        """J = wind / (n * D) (D = ``size``, m), and 0 where the rotor stands still (n * D = 0, including a
        speed so small that the product underflows) instead of nan/inf."""
        swept = n * size
        return wind / swept if swept > 0.0 else 0.0

    @staticmethod
    def mod_2pi(x):
        """x mod 2 pi in [0, 2 pi), as Python's ``%``."""
        return x % TWO_PI

    @staticmethod
    def clamp(position, lower, upper):
        """The original's bound check: (clamped position, whether a bound was touched)."""
        if position <= lower:
            return lower, True
        if position > upper:
            return upper, True
        return position, False

    @staticmethod
    def logical_or(a, b):
        return a or b


class _ArrayOps:
    """The same operations on numpy arrays of shape (N,) (N quadcopters), element by element."""

    cos = staticmethod(np.cos)
    sin = staticmethod(np.sin)

    @staticmethod
    def relu(x):
        return np.maximum(x, 0.0)

    @staticmethod
    def advance_ratio(wind, n, size=PROPELLER_SIZE):
        j = np.zeros_like(wind)
        swept = n * size
        np.divide(wind, swept, out=j, where=swept > 0.0)
        return j

    @staticmethod
    def mod_2pi(x):
        # np.remainder is slow (about 10 ns an element here). For x in [-2 pi, 4 pi), which is
        # every angle after a step unless the rates are absurd, Python's x % 2 pi is exactly
        # x + 2 pi (x < 0), x (0 <= x < 2 pi) or x - 2 pi (x >= 2 pi, exact by Sterbenz's lemma).
        result = x + TWO_PI * (x < 0.0) - TWO_PI * (x >= TWO_PI)
        outside = (x < -TWO_PI) | (x >= 2 * TWO_PI)
        if outside.any():
            result[outside] = np.remainder(x[outside], TWO_PI)
        return result

    @staticmethod
    def clamp(position, lower, upper):
        touched = (position <= lower) | (position > upper)
        return np.clip(position, lower, upper), touched

    @staticmethod
    def logical_or(a, b):
        return a | b


SCALAR_OPS = _ScalarOps()
ARRAY_OPS = _ArrayOps()


# --- Shared pieces -------------------------------------------------------------------------------


def rotation_matrix(phi: Component, theta: Component, psi: Component, ops: Ops) -> tuple:
    """The ZYX rotation matrix R(phi, theta, psi), as its 9 entries row by row (r00, r01, ... r22).

    R maps body-frame vectors to the earth frame. (The original names it ``earth_to_body_frame``
    and applies it to earth-frame velocities; ``udacity_step`` keeps that, ``rigid_body_step`` not.)
    """
    return rotation_from_cos_sin(euler_cos_sin(phi, theta, psi, ops))


def euler_cos_sin(phi: Component, theta: Component, psi: Component, ops: Ops) -> tuple:
    """((cos phi, sin phi), (cos theta, sin theta), (cos psi, sin psi)), each computed once."""
    return (ops.cos(phi), ops.sin(phi)), (ops.cos(theta), ops.sin(theta)), (ops.cos(psi), ops.sin(psi))


def rotation_from_cos_sin(cos_sin: tuple) -> tuple:
    """:func:`rotation_matrix` from ((cos phi, sin phi), (cos theta, sin theta), (cos psi, sin psi))."""
    (c_phi, s_phi), (c_theta, s_theta), (c_psi, s_psi) = cos_sin
    return (
        c_psi * c_theta,
        c_psi * s_theta * s_phi - s_psi * c_phi,
        c_psi * s_theta * c_phi + s_psi * s_phi,
        s_psi * c_theta,
        s_psi * s_theta * s_phi + c_psi * c_phi,
        s_psi * s_theta * c_phi - c_psi * s_phi,
        -s_theta,
        c_theta * s_phi,
        c_theta * c_phi,
    )


def propeller_thrust(wind: Component, n: Component, ops: Ops, body: Airframe = UDACITY_AIRFRAME) -> Component:
    """Thrust (N) of one rotor of ``body`` turning at ``n`` rev/s with inflow ``wind`` (m/s, along the rotor axis).

    J = wind / (n D); C_T = max(C_T0 - a max(0, J) - b max(0, J)^2, 0) (the Udacity quadcopter's: 0.12, 0.07
    and 0.1); T = C_T rho n^2 D^4.
    """
    j = ops.relu(ops.advance_ratio(wind, n, body.propeller_size))
    c_t = ops.relu(body.thrust_coefficient - body.inflow_linear * j - body.inflow_quadratic * (j * j))
    return c_t * RHO * (n * n) * body.propeller_size**4


def check_bounds(x: Component, y: Component, z: Component, ops: Ops) -> tuple:
    """The original's bound check per axis: (x, y, z clamped to the bounds, whether any was touched)."""
    x, hit_x = ops.clamp(x, LOWER_BOUNDS[0], UPPER_BOUNDS[0])
    y, hit_y = ops.clamp(y, LOWER_BOUNDS[1], UPPER_BOUNDS[1])
    z, hit_z = ops.clamp(z, LOWER_BOUNDS[2], UPPER_BOUNDS[2])
    return x, y, z, ops.logical_or(ops.logical_or(hit_x, hit_y), hit_z)


# --- The two models ------------------------------------------------------------------------------
# Both take and return components, so that the same lines serve floats and arrays:
#   pose = (x, y, z, phi, theta, psi) in m and rad; velocity = (vx, vy, vz), earth frame, m/s;
#   angular_v = three angular rates in rad/s; rotor_speeds = (n0, n1, n2, n3) in rev/s, >= 0.
# They return (pose, velocity, angular_v, linear_accel, angular_accels, prop_wind_speed) as
# tuples of 6, 3, 3, 3, 3 and 4 components, the position not yet checked against the bounds.
# Squares are written x * x, never x ** 2 (on a Python float that overflows, ** raises).

_DT2 = DT**2
_L = ARM_LENGTH


def udacity_step(pose: tuple, velocity: tuple, angular_v: tuple, rotor_speeds: tuple, ops: Ops) -> tuple:
    """One step of the original Udacity simulator, quirks included, in its order of operations.

    ``angular_v`` holds Euler-angle rates (phi_dot, theta_dot, psi_dot); angles wrap to [0, 2 pi).
    ``ops`` is SCALAR_OPS when the components are floats, ARRAY_OPS when they are (N,) arrays.
    """
    x, y, z, phi, theta, psi = pose
    vx, vy, vz = velocity
    phi_dot, theta_dot, psi_dot = angular_v
    n0, n1, n2, n3 = rotor_speeds
    r00, r01, r02, r10, r11, r12, r20, r21, r22 = rotation_matrix(phi, theta, psi, ops)

    # The original's "body velocity": R applied to the earth-frame velocity.
    ux = r00 * vx + r01 * vy + r02 * vz
    uy = r10 * vx + r11 * vy + r12 * vz
    uz = r20 * vx + r21 * vy + r22 * vz

    # 1-2. Inflow and thrust per rotor (these signs anti-damp rotation: a quirk kept).
    wind0 = theta_dot * _L + uz
    wind1 = -(theta_dot * _L) + uz
    wind2 = phi_dot * _L + uz
    wind3 = -(phi_dot * _L) + uz
    t0, t1, t2, t3 = (propeller_thrust(w, n, ops) for w, n in ((wind0, n0), (wind1, n1), (wind2, n2), (wind3, n3)))

    # 3. Forces. The drag squares the velocity, so it always pushes the same way (a quirk kept).
    drag_x = 0.5 * RHO * (ux * ux) * AREAS[0] * C_D
    drag_y = 0.5 * RHO * (uy * uy) * AREAS[1] * C_D
    drag_z = 0.5 * RHO * (uz * uz) * AREAS[2] * C_D
    fx, fy, fz = 0.0 - drag_x, 0.0 - drag_y, t0 + t1 + t2 + t3 - drag_z
    ax = (r00 * fx + r10 * fy + r20 * fz) / MASS  # R^T @ body force, plus gravity
    ay = (r01 * fx + r11 * fy + r21 * fz) / MASS
    az = (r02 * fx + r12 * fy + r22 * fz + MASS * GRAVITY) / MASS

    # 4. Position with constant acceleration, then velocity.
    x = x + vx * DT + 0.5 * ax * _DT2
    y = y + vy * DT + 0.5 * ay * _DT2
    z = z + vz * DT + 0.5 * az * _DT2
    vx, vy, vz = vx + ax * DT, vy + ay * DT, vz + az * DT

    # 5. Moments: roll and pitch from rotor pairs, no yaw moment, quadratic drag on each rate.
    drag_coefficient = C_D * 0.5 * RHO
    alpha_phi = ((t3 - t2) * _L - drag_coefficient * phi_dot * abs(phi_dot) * AREAS[0] * DIMS[0] * DIMS[0]) / I_X
    alpha_theta = ((t1 - t0) * _L - drag_coefficient * theta_dot * abs(theta_dot) * AREAS[1] * DIMS[1] * DIMS[1]) / I_Y
    alpha_psi = (0.0 - drag_coefficient * psi_dot * abs(psi_dot) * AREAS[2] * DIMS[2] * DIMS[2]) / I_Z

    # 6. Angles: the original squares the angular acceleration here (a quirk kept).
    phi = ops.mod_2pi(phi + phi_dot * DT + 0.5 * alpha_phi * alpha_phi * _DT2 + TWO_PI)
    theta = ops.mod_2pi(theta + theta_dot * DT + 0.5 * alpha_theta * alpha_theta * _DT2 + TWO_PI)
    psi = ops.mod_2pi(psi + psi_dot * DT + 0.5 * alpha_psi * alpha_psi * _DT2 + TWO_PI)
    phi_dot, theta_dot, psi_dot = phi_dot + alpha_phi * DT, theta_dot + alpha_theta * DT, psi_dot + alpha_psi * DT

    return (
        (x, y, z, phi, theta, psi),
        (vx, vy, vz),
        (phi_dot, theta_dot, psi_dot),
        (ax, ay, az),
        (alpha_phi, alpha_theta, alpha_psi),
        (wind0, wind1, wind2, wind3),
    )


def rigid_body_step(
    pose: tuple, velocity: tuple, angular_v: tuple, rotor_speeds: tuple, ops: Ops, body: Airframe = UDACITY_AIRFRAME
) -> tuple:
    """One step of a physically correct rigid-body quadcopter, ``body`` (default: the original's constants).

    ``angular_v`` holds body rates (p, q, r). What it corrects in the original:

    * R is used as body-to-earth: body velocity u = R^T v, earth force = R @ body force;
    * rotor inflow is the rotor's own velocity, u_z + (w x r_i)_z, so rotation is damped; the
      rotors sit at body (x, y) = (+l, 0), (-l, 0), (0, -l), (0, +l), matching the moments;
    * drag keeps its sign: -rho/2 u|u| A C_d;
    * a yaw moment (T2 + T3 - T0 - T1) * K_Q;
    * Euler's equations I w' = tau - w x (I w) for the body rates, then the ZYX Euler-angle
      kinematics, integrated semi-implicitly (rates first, angles with the new rates), angles
      wrapped to (-pi, pi]. The kinematics are singular at theta = +-pi/2 (gimbal lock).
    """
    x, y, z, phi, theta, psi = pose
    vx, vy, vz = velocity
    p, q, r = angular_v
    n0, n1, n2, n3 = rotor_speeds
    cos_sin = euler_cos_sin(phi, theta, psi, ops)
    r00, r01, r02, r10, r11, r12, r20, r21, r22 = rotation_from_cos_sin(cos_sin)

    # Body-frame velocity u = R^T v.
    ux = r00 * vx + r10 * vy + r20 * vz
    uy = r01 * vx + r11 * vy + r21 * vz
    uz = r02 * vx + r12 * vy + r22 * vz

    # Inflow at each rotor: the z-component of u + w x r_i.
    arm = body.arm_length
    wind0, wind1, wind2, wind3 = uz - q * arm, uz + q * arm, uz - p * arm, uz + p * arm
    t0, t1, t2, t3 = (
        propeller_thrust(w, n, ops, body) for w, n in ((wind0, n0), (wind1, n1), (wind2, n2), (wind3, n3))
    )

    # Forces: body drag opposes the body velocity; thrust along body z; gravity in the earth frame.
    areas, c_d, mass = body.areas, body.drag_coefficient, body.mass
    fx = -0.5 * RHO * ux * abs(ux) * areas[0] * c_d
    fy = -0.5 * RHO * uy * abs(uy) * areas[1] * c_d
    fz = t0 + t1 + t2 + t3 - 0.5 * RHO * uz * abs(uz) * areas[2] * c_d
    ax = (r00 * fx + r01 * fy + r02 * fz) / mass
    ay = (r10 * fx + r11 * fy + r12 * fz) / mass
    az = (r20 * fx + r21 * fy + r22 * fz) / mass + GRAVITY
    x = x + vx * DT + 0.5 * ax * _DT2
    y = y + vy * DT + 0.5 * ay * _DT2
    z = z + vz * DT + 0.5 * az * _DT2
    vx, vy, vz = vx + ax * DT, vy + ay * DT, vz + az * DT

    (p_dot, q_dot, r_dot), (p, q, r) = _body_rates_step((p, q, r), (t0, t1, t2, t3), body)
    phi, theta, psi = _euler_angles_step((phi, theta, psi), (p, q, r), cos_sin, ops)
    return (
        (x, y, z, phi, theta, psi),
        (vx, vy, vz),
        (p, q, r),
        (ax, ay, az),
        (p_dot, q_dot, r_dot),
        (wind0, wind1, wind2, wind3),
    )


def _body_rates_step(rates: tuple, thrusts: tuple, body: Airframe) -> tuple:
    """The rigid body's angular accelerations and its body rates (p, q, r) rad/s one step later, from the rotor
    thrusts (T0, T1, T2, T3) N: body torques from the rotor pairs (yaw from their drag torque, ``torque_per_thrust``
    per newton) less the quadratic drag on each rate, then Euler's equations I w' = tau - w x (I w)."""
    p, q, r = rates
    t0, t1, t2, t3 = thrusts
    arm, (i_x, i_y, i_z) = body.arm_length, body.inertia
    areas, dims = body.areas, body.dims
    drag_coefficient = body.drag_coefficient * 0.5 * RHO
    tau_x = (t3 - t2) * arm - drag_coefficient * p * abs(p) * areas[0] * dims[0] * dims[0]
    tau_y = (t1 - t0) * arm - drag_coefficient * q * abs(q) * areas[1] * dims[1] * dims[1]
    tau_z = (t2 + t3 - t0 - t1) * body.torque_per_thrust - drag_coefficient * r * abs(r) * areas[2] * dims[2] * dims[2]
    p_dot = (tau_x - (i_z - i_y) * q * r) / i_x
    q_dot = (tau_y - (i_x - i_z) * r * p) / i_y
    r_dot = (tau_z - (i_y - i_x) * p * q) / i_z
    return (p_dot, q_dot, r_dot), (p + p_dot * DT, q + q_dot * DT, r + r_dot * DT)


def _euler_angles_step(angles: tuple, rates: tuple, cos_sin: tuple, ops: Ops) -> tuple:
    """The ZYX Euler angles (phi, theta, psi) one step later at the new body rates (p, q, r), from the Euler-angle
    kinematics (``cos_sin``: the old angles' cosines and sines, :func:`euler_cos_sin`), wrapped to (-pi, pi]."""
    phi, theta, psi = angles
    p, q, r = rates
    (c_phi, s_phi), (c_theta, s_theta), _ = cos_sin
    yaw_part = q * s_phi + r * c_phi
    phi = math.pi - ops.mod_2pi(math.pi - (phi + (p + yaw_part * s_theta / c_theta) * DT))
    theta = math.pi - ops.mod_2pi(math.pi - (theta + (q * c_phi - r * s_phi) * DT))
    psi = math.pi - ops.mod_2pi(math.pi - (psi + yaw_part / c_theta * DT))
    return phi, theta, psi


STEP_FUNCTIONS = {"udacity": udacity_step, "rigid_body": rigid_body_step}


def check_airframe(dynamics: str, body: "str | Airframe | None") -> Airframe:
    """The airframe ``body`` (a name of :data:`AIRFRAMES`, an :class:`Airframe`, or None: the Udacity one) for
    ``dynamics``; ``ValueError`` for the ``udacity`` dynamics with another airframe: they are the original's
    equations with its own constants (fly another body with ``rigid_body``)."""
    check_dynamics(dynamics)
    body = UDACITY_AIRFRAME if body is None else airframe(body) if isinstance(body, str) else body
    if not isinstance(body, Airframe):
        raise ValueError(f"airframe must be one of {list(AIRFRAMES)} or an Airframe; got {body!r}")
    if dynamics == "udacity" and body != UDACITY_AIRFRAME:
        raise ValueError(
            f"the udacity dynamics fly the original quadcopter only; airframe {body.name!r} needs dynamics='rigid_body'"
        )
    return body


def step_function(dynamics: str, body: "str | Airframe | None" = None) -> Any:
    """The step function of ``dynamics`` flying ``body`` (:func:`check_airframe`): ``step(pose, velocity,
    angular_v, rotor_speeds, ops)``."""
    body = check_airframe(dynamics, body)
    if dynamics == "udacity":
        return udacity_step
    return functools.partial(rigid_body_step, body=body)
