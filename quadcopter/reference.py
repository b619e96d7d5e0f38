"""A plain transcription of the original Udacity simulator, written the way the original was.

This module is deliberately *not* optimised: it builds a rotation matrix with ``np.array`` of
nested lists every step, uses ``np.matmul`` and small numpy arrays everywhere, exactly like the
original ``physics_sim.py`` of the Udacity project (its equations, in words: ``docs/physics.md``).

It exists for two reasons:

* it is the oracle the tests compare ``PhysicsSim(dynamics="udacity")`` against, step for step;
* it is the baseline the simulator benchmark measures the optimised simulators against.

The one change from the original: rotor speed 0 gives zero thrust instead of ``nan``.
Use :class:`quadcopter.PhysicsSim` for real work.
"""

from typing import Any

import numpy as np


class ReferencePhysicsSim:
    """Original-style simulator. Same constructor and attributes as the Udacity ``PhysicsSim``."""

    def __init__(
        self,
        init_pose: Any = None,
        init_velocities: Any = None,
        init_angle_velocities: Any = None,
        runtime: float = 5.0,
    ) -> None:
        self.init_pose = np.array([0.0, 0.0, 10.0, 0.0, 0.0, 0.0]) if init_pose is None else np.array(init_pose, float)
        self.init_velocities = np.zeros(3) if init_velocities is None else np.array(init_velocities, float)
        self.init_angle_velocities = (
            np.zeros(3) if init_angle_velocities is None else np.array(init_angle_velocities, float)
        )
        self.runtime = runtime

        self.gravity = -9.81
        self.rho = 1.2
        self.mass = 0.958
        self.dt = 1 / 50.0
        self.C_d = 0.3
        self.l_to_rotor = 0.4
        self.propeller_size = 0.1
        width, length, height = 0.51, 0.51, 0.235
        self.dims = np.array([width, length, height])
        self.areas = np.array([length * height, width * height, width * length])
        I_x = 1 / 12.0 * self.mass * (height**2 + width**2)
        I_y = 1 / 12.0 * self.mass * (height**2 + length**2)
        I_z = 1 / 12.0 * self.mass * (width**2 + length**2)
        self.moments_of_inertia = np.array([I_x, I_y, I_z])

        env_bounds = 300.0 / 2
        self.lower_bounds = np.array([-env_bounds, -env_bounds, 0])
        self.upper_bounds = np.array([env_bounds, env_bounds, env_bounds * 2])
        self.reset()

    def reset(self) -> None:
        self.time = 0.0
        self.pose = self.init_pose.copy()
        self.v = self.init_velocities.copy()
        self.angular_v = self.init_angle_velocities.copy()
        self.linear_accel = np.array([0.0, 0.0, 0.0])
        self.angular_accels = np.array([0.0, 0.0, 0.0])
        self.prop_wind_speed = np.array([0.0, 0.0, 0.0, 0.0])
        self.done = False

    def rotation_matrix(self) -> np.ndarray:
        phi, theta, psi = self.pose[3], self.pose[4], self.pose[5]
        c, s = np.cos, np.sin
        return np.array(
            [
                [
                    c(psi) * c(theta),
                    c(psi) * s(theta) * s(phi) - s(psi) * c(phi),
                    c(psi) * s(theta) * c(phi) + s(psi) * s(phi),
                ],
                [
                    s(psi) * c(theta),
                    s(psi) * s(theta) * s(phi) + c(psi) * c(phi),
                    s(psi) * s(theta) * c(phi) - c(psi) * s(phi),
                ],
                [-s(theta), c(theta) * s(phi), c(theta) * c(phi)],
            ]
        )

    def find_body_velocity(self) -> np.ndarray:
        return np.matmul(self.rotation_matrix(), self.v)

    def get_linear_drag(self) -> np.ndarray:
        return 0.5 * self.rho * self.find_body_velocity() ** 2 * self.areas * self.C_d

    def get_linear_forces(self, thrusts: list[float]) -> np.ndarray:
        gravity_force = self.mass * self.gravity * np.array([0, 0, 1])
        thrust_body_force = np.array([0, 0, sum(thrusts)])
        drag_body_force = -self.get_linear_drag()
        body_forces = thrust_body_force + drag_body_force
        linear_forces = np.matmul(self.rotation_matrix().T, body_forces)
        return linear_forces + gravity_force

    def get_moments(self, thrusts: list[float]) -> np.ndarray:
        thrust_moment = np.array(
            [(thrusts[3] - thrusts[2]) * self.l_to_rotor, (thrusts[1] - thrusts[0]) * self.l_to_rotor, 0]
        )
        drag_moment = (
            self.C_d
            * 0.5
            * self.rho
            * self.angular_v
            * np.absolute(self.angular_v)
            * self.areas
            * self.dims
            * self.dims
        )
        return thrust_moment - drag_moment

    def calc_prop_wind_speed(self) -> None:
        body_velocity = self.find_body_velocity()
        phi_dot, theta_dot = self.angular_v[0], self.angular_v[1]
        s_0 = np.array([0.0, 0.0, theta_dot * self.l_to_rotor])
        s_1 = -s_0
        s_2 = np.array([0.0, 0.0, phi_dot * self.l_to_rotor])
        s_3 = -s_2
        speeds = [s_0, s_1, s_2, s_3]
        for num in range(4):
            perpendicular_speed = speeds[num] + body_velocity
            self.prop_wind_speed[num] = perpendicular_speed[2]

    def get_propeller_thrust(self, rotor_speeds: Any) -> list:
        self.calc_prop_wind_speed()
        thrusts = []
        for prop_number in range(4):
            V = self.prop_wind_speed[prop_number]
            D = self.propeller_size
            n = rotor_speeds[prop_number]
            J = V / (n * D) if n > 0 else 0.0  # the original divides by zero here
            C_T = max(0.12 - 0.07 * max(0, J) - 0.1 * max(0, J) ** 2, 0)
            thrusts.append(C_T * self.rho * n**2 * D**4)
        return thrusts

    def next_timestep(self, rotor_speeds: Any) -> bool:
        thrusts = self.get_propeller_thrust(rotor_speeds)
        self.linear_accel = self.get_linear_forces(thrusts) / self.mass

        position = self.pose[:3] + self.v * self.dt + 0.5 * self.linear_accel * self.dt**2
        self.v += self.linear_accel * self.dt

        moments = self.get_moments(thrusts)
        self.angular_accels = moments / self.moments_of_inertia
        angles = self.pose[3:] + self.angular_v * self.dt + 0.5 * self.angular_accels * self.angular_accels * self.dt**2
        angles = (angles + 2 * np.pi) % (2 * np.pi)
        self.angular_v = self.angular_v + self.angular_accels * self.dt

        new_positions = []
        for ii in range(3):
            if position[ii] <= self.lower_bounds[ii]:
                new_positions.append(self.lower_bounds[ii])
                self.done = True
            elif position[ii] > self.upper_bounds[ii]:
                new_positions.append(self.upper_bounds[ii])
                self.done = True
            else:
                new_positions.append(position[ii])

        self.pose = np.array(new_positions + list(angles))
        self.time += self.dt
        if self.time > self.runtime:
            self.done = True
        return self.done
