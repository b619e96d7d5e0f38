"""VectorPhysicsSim: every row is exactly a PhysicsSim."""

import numpy as np
import pytest

from quadcopter import PhysicsSim, VectorPhysicsSim


def random_starts(rng, n):
    pose = np.c_[rng.uniform(-1, 1, (n, 2)), rng.uniform(5, 15, n), rng.uniform(-0.3, 0.3, (n, 3))]
    return pose, rng.uniform(-1, 1, (n, 3)), rng.uniform(-0.3, 0.3, (n, 3))


@pytest.mark.parametrize("dynamics", ["udacity", "rigid_body"])
def test_each_row_is_a_physics_sim(dynamics):
    rng = np.random.default_rng(7)
    n = 12
    starts = random_starts(rng, n)
    vector = VectorPhysicsSim(*starts, runtime=5.0, dynamics=dynamics)
    singles = [PhysicsSim(starts[0][i], starts[1][i], starts[2][i], runtime=5.0, dynamics=dynamics) for i in range(n)]
    assert vector.pose.shape == (n, 6) and vector.v.shape == (n, 3) and vector.done.shape == (n,)
    for _ in range(160):
        speeds = rng.uniform(370, 440, (n, 4))
        speeds[0] = 0.0  # a row with its rotors off: zero thrust, no warnings
        done = vector.next_timestep(speeds)
        for i, sim in enumerate(singles):
            assert sim.next_timestep(speeds[i]) == done[i]
            for name in ("pose", "v", "angular_v", "linear_accel", "angular_accels", "prop_wind_speed"):
                np.testing.assert_array_equal(getattr(vector, name)[i], getattr(sim, name), err_msg=name)
            assert vector.time[i] == sim.time and vector.out_of_bounds[i] == sim.out_of_bounds
    assert done.any() and not done.all()  # some crashed, some still flying: both paths were exercised


def test_more_rows_than_one_block():
    rng = np.random.default_rng(3)
    n = VectorPhysicsSim._BLOCK_ROWS + 5
    starts = random_starts(rng, n)
    vector = VectorPhysicsSim(*starts)
    speeds = rng.uniform(380, 430, (n, 4))
    vector.next_timestep(speeds)
    for i in (0, n - 1):
        sim = PhysicsSim(starts[0][i], starts[1][i], starts[2][i])
        sim.next_timestep(speeds[i])
        np.testing.assert_array_equal(vector.pose[i], sim.pose)


def test_reset_chosen_rows_with_new_starts():
    rng = np.random.default_rng(0)
    vector = VectorPhysicsSim(*random_starts(rng, 4))
    for _ in range(10):
        vector.next_timestep(np.full((4, 4), 420.0))
    moved = vector.pose.copy()
    rows = vector.reset([1, 3], init_pose=[[0, 0, 1, 0, 0, 0], [0, 0, 2, 0, 0, 0]])
    np.testing.assert_array_equal(rows, [1, 3])
    np.testing.assert_array_equal(vector.pose[[0, 2]], moved[[0, 2]])
    np.testing.assert_array_equal(vector.pose[[1, 3], 2], [1, 2])
    assert vector.time[1] == 0 and vector.time[0] == pytest.approx(0.2)
    np.testing.assert_array_equal(vector.v[[1, 3]], vector.init_velocities[[1, 3]])
    vector.reset(np.array([True, False, False, False]))
    assert vector.time[0] == 0 and vector.time[2] > 0


def test_bad_input_raises_and_changes_nothing():
    rng = np.random.default_rng(0)
    vector = VectorPhysicsSim(*random_starts(rng, 3))
    vector.next_timestep(np.full((3, 4), 400.0))
    before = (vector.pose.copy(), vector.v.copy(), vector.time.copy(), vector.init_pose.copy())
    bad_speeds = [
        np.full((3, 3), 400.0),
        np.full((2, 4), 400.0),
        np.array([[400.0] * 4] * 2 + [[400, 400, -1, 400]]),
        np.array([[400.0] * 4] * 2 + [[400, 400, np.nan, 400]]),
    ]
    for speeds in bad_speeds:
        with pytest.raises(ValueError, match=r"rotor_speeds must be values in \[0, 10,000\] rev/s with shape \(3, 4\)"):
            vector.next_timestep(speeds)
    with pytest.raises(ValueError, match=r"rows must be indices in \[0, 2\]"):
        vector.reset([5])
    with pytest.raises(ValueError, match=r"init_pose must have shape \(2, 6\)"):
        vector.reset([0, 1], init_pose=np.zeros((3, 6)))
    with pytest.raises(ValueError, match=r"init_pose must have shape \(N, 6\)"):
        VectorPhysicsSim(np.zeros(6))
    after = (vector.pose, vector.v, vector.time, vector.init_pose)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


def test_rows_outside_the_active_mask_keep_their_whole_state():

    sim = VectorPhysicsSim(np.array([[0, 0, 10, 0, 0, 0]] * 3, dtype=float))
    speeds = np.full((3, 4), 500.0)
    sim.next_timestep(speeds)
    before = (sim.pose.copy(), sim.v.copy(), sim.angular_v.copy(), sim.time.copy())
    sim.next_timestep(speeds, active=np.array([True, False, True]))
    for array, old in zip((sim.pose, sim.v, sim.angular_v, sim.time), before):
        np.testing.assert_array_equal(array[1], old[1])  # the inactive row: untouched
    for array, old in zip((sim.pose, sim.v, sim.time), before):
        assert not np.array_equal(array[0], old[0])  # an active row moved on (equal rotors: no rotation)
    with pytest.raises(ValueError, match=r"active must be a boolean mask of shape \(3,\)"):
        sim.next_timestep(speeds, active=[1, 0, 1])
