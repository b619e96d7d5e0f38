"""Bad input: every rejected value raises ValueError naming it, and a failed call changes nothing.

Property-based (Hypothesis): random finite and non-finite values for the simulator, the tasks, the
replay buffer, the agent and the configs.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.agent import DDPG, DDPGConfig
from agents.checks import LARGEST_INPUT
from agents.replay_buffer import ReplayBuffer, TensorReplayBuffer
from quadcopter.sim import MAX_ROTOR_SPEED, PhysicsSim
from quadcopter.tasks import TakeoffTask
from quadcopter.training import TrainSettings

SMALL = DDPGConfig(actor_units=(8,), critic_units=(8, 8), batch_size=4, warmup=4, buffer_size=64, update_every=1)
ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64)


def fits(values):
    """True if every value is finite and within LARGEST_INPUT, which the agent and its buffers take."""
    return all(math.isfinite(x) and abs(x) <= LARGEST_INPUT for x in values)


def sim_state(sim):
    return [np.copy(x) for x in (sim.pose, sim.v, sim.angular_v, sim.linear_accel, sim.angular_accels)] + [sim.time]


def assert_same_state(before, after):
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=200, deadline=None)
@given(st.lists(ANY_FLOAT, min_size=4, max_size=4))
def test_the_simulator_steps_good_speeds_and_refuses_bad_ones_unchanged(speeds):
    sim = PhysicsSim(init_pose=[0, 0, 10, 0, 0, 0])
    sim.next_timestep([404.0] * 4)
    before = sim_state(sim)
    if all(0 <= s <= 900 for s in speeds):
        sim.next_timestep(speeds)
        assert all(np.all(np.isfinite(x)) for x in sim_state(sim))
    elif all(0 <= s <= MAX_ROTOR_SPEED for s in speeds):
        sim.next_timestep(speeds)  # fast rotors are allowed by the simulator on its own, up to its limit
    else:
        with pytest.raises(ValueError, match="rotor"):
            sim.next_timestep(speeds)
        assert_same_state(before, sim_state(sim))


@settings(max_examples=100, deadline=None)
@given(st.lists(ANY_FLOAT, min_size=6, max_size=6))
def test_a_start_pose_is_finite_and_above_the_ground(pose):
    if (
        all(math.isfinite(p) for p in pose)
        and -150 <= pose[0] <= 150
        and -150 <= pose[1] <= 150
        and 0 <= pose[2] <= 300
    ):
        assert np.array_equal(PhysicsSim(init_pose=pose).pose, pose)
    else:
        with pytest.raises(ValueError, match="init_pose"):
            PhysicsSim(init_pose=pose)


@settings(max_examples=100, deadline=None)
@given(st.lists(ANY_FLOAT, min_size=4, max_size=4))
def test_the_task_clips_finite_actions_and_refuses_others_unchanged(action):
    task = TakeoffTask(init_pose=[0, 0, 5, 0, 0, 0])
    task.reset()
    before = sim_state(task.sim)
    if all(math.isfinite(a) for a in action):
        state, reward, done = task.step(action)
        assert np.all(np.isfinite(state)) and math.isfinite(reward)
    else:
        with pytest.raises(ValueError, match="rotor speeds must be finite"):
            task.step(action)
        assert_same_state(before, sim_state(task.sim))


def test_stepping_a_finished_task_raises_until_reset():
    task = TakeoffTask(init_pose=[0, 0, 5, 0, 0, 0], runtime=0.1)
    task.reset()
    done = False
    while not done:
        _, _, done = task.step([404.0] * 4)
    with pytest.raises(RuntimeError, match="the episode has ended"):
        task.step([404.0] * 4)
    task.reset()
    task.step([404.0] * 4)


def replay_rows(buffer):
    return [np.copy(column) for column in buffer.columns]


@settings(max_examples=100, deadline=None)
@given(st.lists(ANY_FLOAT, min_size=3, max_size=3), ANY_FLOAT)
def test_the_replay_buffer_stores_only_finite_experiences(state, reward):
    buffer = ReplayBuffer(8, 2)
    buffer.add([0.0, 0.0, 0.0], [0.5], 1.0, [0.0, 0.0, 0.0], False)
    before = replay_rows(buffer)
    if fits(state + [reward]):
        buffer.add(state, [0.5], reward, state, False)
        assert len(buffer) == 2
    else:
        with pytest.raises(ValueError, match=r"(state|reward) must be finite"):
            buffer.add(state, [0.5], reward, state, False)
        assert len(buffer) == 1
        for a, b in zip(before, replay_rows(buffer)):
            np.testing.assert_array_equal(a, b)


def test_replay_buffers_refuse_bad_sizes_and_shapes():
    for size, batch in ((0, 0), (10, 0), (10, 11), (2.5, 1)):
        with pytest.raises(ValueError, match="(buffer_size|batch_size) must be an integer"):
            ReplayBuffer(size, batch)
    with pytest.raises(ValueError, match="buffer_size must be an integer >= 1; got 0"):
        TensorReplayBuffer(0, 3, 1)
    buffer = ReplayBuffer(8, 2)
    buffer.add([0.0, 0.0, 0.0], [0.5], 1.0, [0.0, 0.0, 0.0], False)
    with pytest.raises(ValueError, match=r"state must have shape \(3,\)"):
        buffer.add([0.0, 0.0], [0.5], 1.0, [0.0, 0.0, 0.0], False)
    tensors = TensorReplayBuffer(8, 3, 1)
    with pytest.raises(ValueError, match="rewards must be finite"):
        tensors.add_batch(np.zeros((2, 3)), np.zeros((2, 1)), [1.0, math.nan], np.zeros((2, 3)), [0.0, 0.0])
    assert len(tensors) == 0


class TinyTask:
    """A 2-state, 1-action task for the agent's input checks."""

    state_size, action_size = 2, 1

    def __init__(self, low=-1.0, high=1.0):
        self.action_low, self.action_high = low, high

    def reset(self):
        return np.zeros(2)


@pytest.mark.parametrize("low, high", [(1.0, -1.0), (0.5, 0.5), (math.nan, 1.0), (0.0, math.inf)])
def test_the_agent_refuses_an_unusable_action_range(low, high):
    with pytest.raises(ValueError, match="action_(low|high)"):
        DDPG(TinyTask(low, high), SMALL)


@pytest.fixture(scope="module")
def agent():
    agent = DDPG(TinyTask(), SMALL)
    agent.reset_episode()
    for i in range(8):
        agent.step([0.1], 0.5, [0.1 * i, 0.0], False)
    return agent


def agent_snapshot(agent):
    return (
        [w.numpy().copy() for w in agent.actor_local.network.weights + agent.critic_local.model.weights],
        len(agent.memory),
        replay_rows(agent.memory),
    )


def assert_agent_unchanged(agent, before):
    weights, count, rows = agent_snapshot(agent)
    assert count == before[1]
    for a, b in zip(weights + rows, before[0] + before[2]):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=st.lists(ANY_FLOAT, min_size=2, max_size=2), reward=ANY_FLOAT, action=ANY_FLOAT)
def test_the_agent_refuses_non_finite_input_and_changes_nothing(agent, state, reward, action):
    before = agent_snapshot(agent)
    if fits(state + [reward, action]):
        return  # finite input is the ordinary case, tested elsewhere
    with pytest.raises(ValueError, match="must be finite"):
        agent.step([action], reward, state, False)
    assert_agent_unchanged(agent, before)
    if not fits(state):
        with pytest.raises(ValueError, match="state must be finite"):
            agent.act(state)
        batch = (np.array([state] * 4), np.zeros((4, 1)), np.ones(4), np.zeros((4, 2)), np.zeros(4))
        with pytest.raises(ValueError, match="states must be finite"):
            agent.learn(batch)
        assert_agent_unchanged(agent, before)


def test_the_agent_needs_an_episode_before_a_step():
    fresh = DDPG(TinyTask(), SMALL)
    with pytest.raises(ValueError, match="call reset_episode"):
        fresh.step([0.0], 1.0, [0.0, 0.0], False)
    assert len(fresh.memory) == 0


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["actor_lr", "critic_lr", "gamma", "tau", "noise_sigma", "target_noise", "final_init"]),
    value=ANY_FLOAT,
)
def test_config_floats_validate_or_raise_value_error_naming_them(name, value):
    try:
        config = DDPGConfig().replace(**{name: value})
    except ValueError as error:
        assert f"DDPGConfig.{name} must be" in str(error) and repr(value) in str(error)
    else:
        assert math.isfinite(getattr(config, name))


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(
        ["batch_size", "buffer_size", "warmup", "update_every", "updates_per_step", "policy_delay", "seed"]
    ),
    value=st.one_of(st.integers(-10, 10**6), ANY_FLOAT, st.none(), st.text(max_size=3)),
)
def test_config_integers_validate_or_raise_value_error(name, value):
    try:
        DDPGConfig().replace(**{name: value})
    except ValueError as error:
        # the setting itself, or one that depends on it (warmup lies between batch_size and buffer_size)
        related = {"batch_size": ("warmup",), "buffer_size": ("batch_size", "warmup")}.get(name, ())
        assert any(f"DDPGConfig.{other} must be" in str(error) for other in (name, *related))
    else:
        assert isinstance(value, int)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(
        [
            "num_envs",
            "env_steps",
            "seconds",
            "runtime",
            "air_starts",
            "test_every",
            "steps_per_round",
            "updates_per_round",
        ]
    ),
    value=st.one_of(st.integers(-10, 10**7), ANY_FLOAT),
)
def test_train_settings_validate_or_raise_value_error_naming_them(name, value):
    try:
        TrainSettings(**{name: value}).validate()
    except ValueError as error:
        assert f"TrainSettings.{name} must be" in str(error) or "needs a budget" in str(error)


def one_line_exit_2(capsys, argv, message):
    """``python -m quadcopter ARGV`` fails with exit code 2 and one line on stderr containing ``message``."""
    from quadcopter.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(argv)
    said = capsys.readouterr().err.strip()
    assert exit_.value.code == 2, said
    assert len(said.splitlines()) == 1 and message in said, said


def test_cli_errors_are_one_line_naming_the_value(tmp_path, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    one_line_exit_2(capsys, ["train", "--out", str(a_file)], "is a file")
    one_line_exit_2(
        capsys, ["train", "--out", "/proc/no-runs-here", "--env-steps", "64", "--no-progress"], "/proc/no-runs-here"
    )
    one_line_exit_2(
        capsys,
        ["train", "--set", "invert_gradients=ture", "--out", str(tmp_path / "r")],
        "--set invert_gradients needs a value like False; got 'ture'",
    )
    one_line_exit_2(capsys, ["train", "--resume"], "--resume needs --out")
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(DDPGConfig().to_json().replace('"tau"', '"tua"'))
    one_line_exit_2(capsys, ["train", "--out", str(run), "--resume"], "config.json is unreadable or incomplete")
    one_line_exit_2(capsys, ["evaluate", str(run)], f"no saved actor at {run / 'actor.keras'}")
    corrupt = tmp_path / "actor.keras"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    one_line_exit_2(capsys, ["evaluate", str(corrupt)], "is not a readable saved actor")
    one_line_exit_2(capsys, ["simulate", "--target", "0,0,nan"], "expected 3 comma-separated finite numbers")
    one_line_exit_2(
        capsys,
        ["simulate", "--init-pose", "0,0,-1,0,0,0", "--out", str(tmp_path / "f.csv")],
        "init_pose's position must lie within the bounds",
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    one_line_exit_2(capsys, ["plot", str(empty)], f"{empty} is not a readable CSV")
    missing = tmp_path / "missing.csv"
    one_line_exit_2(capsys, ["plot", str(missing)], f"plot: no such file or folder: {str(missing)!r}")
    (tmp_path / "notes.txt").write_text("hello")
    one_line_exit_2(capsys, ["plot", str(tmp_path / "notes.txt")], "plot needs a flight .csv file or a run folder")


def test_cli_takes_negative_numbers_in_comma_lists(tmp_path, capsys):
    from quadcopter.cli import main

    main(
        [
            "simulate",
            "--init-pose",
            "-1,0,0,0,0,0",
            "--target",
            "-1,0,10",
            "--out",
            str(tmp_path / "f.csv"),
            "--runtime",
            "0.2",
        ]
    )
    assert pd.read_csv(tmp_path / "f.csv")["x"].iloc[0] == -1.0


def test_an_unexpected_error_is_one_line_too_and_debug_shows_the_traceback(capsys, monkeypatch):
    from quadcopter import cli

    def broken(args):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "_plot", broken)
    one_line_exit_2(capsys, ["plot", "anything"], "KeyError: 'surprise' (run with --debug for the traceback)")
    with pytest.raises(KeyError):
        cli.main(["--debug", "plot", "anything"])


# --- Magnitudes that would overflow, limits on every count, NaN inside (issue: no input can exhaust the
# machine or poison an agent) ---


def test_a_huge_finite_reward_or_state_is_refused_before_it_reaches_the_agent():
    agent = DDPG(TakeoffTask(seed=0), SMALL)
    state = agent.reset_episode()
    action = agent.act(state)
    for reward, next_state, name in ((1e30, state, "reward"), (1.0, state + 1e7, "next_state")):
        with pytest.raises(ValueError, match=rf"{name} must be finite with \|x\| <= 1e\+06"):
            agent.step(action, reward, next_state, False)
        assert len(agent.memory) == 0
    with pytest.raises(ValueError, match=r"state must be finite with \|x\| <= 1e\+06"):
        agent.act(state + 1e7)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: TakeoffTask(init_angle_velocities=[1e300, 0, 0]), r"init_angle_velocities must lie within \+-1,000"),
        (lambda: PhysicsSim(init_velocities=[1e300, 0, 0]), r"init_velocities must lie within \+-1,000 m/s"),
        (lambda: PhysicsSim(init_velocities=[0, -1001, 0]), r"init_velocities must lie within"),
    ],
)
def test_start_velocities_and_rates_that_would_overflow_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_a_nan_inside_the_simulator_stops_the_step_and_names_it():
    sim = PhysicsSim(init_pose=[0, 0, 10, 0, 0, 0])
    sim.v = np.array([1e200, 0.0, 0.0])  # set by hand past the start's checks: the squared drag overflows
    before = sim_state(sim)
    with pytest.raises(FloatingPointError, match=r"the step from t = 0.00 s would make (v|pose|linear_accel)\["):
        sim.next_timestep([404.0] * 4)
    assert_same_state(before, sim_state(sim))


def test_a_nan_inside_the_networks_stops_the_step_and_names_its_first_source():
    agent = DDPG(TakeoffTask(seed=0), SMALL)
    state = agent.reset_episode()
    kernel = agent.actor_local.network.weights[0]
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    agent.policy.mark_stale()
    with pytest.raises(FloatingPointError, match=r"the first non-finite weight is actor's .*kernel"):
        agent.act(state)
    healthy = DDPG(TakeoffTask(seed=0), SMALL)
    critic_kernel = healthy.critic_local.model.weights[0]
    critic_kernel.assign(np.full(critic_kernel.shape, np.nan, np.float32))
    batch = tuple(np.zeros((4, width), np.float32) for width in (15, 4)) + (
        np.zeros(4, np.float32),
        np.zeros((4, 15), np.float32),
        np.zeros(4, np.float32),
    )
    with pytest.raises(FloatingPointError, match=r"losses are critic nan.*first non-finite weight is critic's"):
        healthy.learn(batch)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(buffer_size=10**8), r"buffer_size must be an integer in \[1, 10,000,000\]"),
        (dict(actor_units=(10**5,)), r"actor_units must be 1 to 8 layer widths, each an integer in \[1, 4,096\]"),
        (dict(critic_units=(8,) * 9), r"critic_units must be 1 to 8 layer widths"),
        (dict(batch_size=70_000, buffer_size=100_000), r"batch_size must be an integer in \[1, min\("),
    ],
)
def test_config_sizes_have_upper_bounds(changes, message):
    with pytest.raises(ValueError, match=message):
        DDPGConfig(**changes).validate()


def test_an_agent_that_would_not_fit_in_memory_is_refused_before_it_is_made(monkeypatch):
    import agents.checks

    monkeypatch.setattr(agents.checks, "available_memory", lambda: 100_000_000)  # 0.1 GB
    with pytest.raises(ValueError, match=r"buffer_size=1,000,000 .* would need about 0.1 GB of memory, and this"):
        DDPG(TakeoffTask(seed=0), SMALL.replace(buffer_size=1_000_000))


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("env_steps", 10**23, r"env_steps must be an integer in \[0, 100,000,000\]"),
        ("episodes", 10**7, r"episodes must be an integer in \[0, 1,000,000\]"),
        ("seconds", 1e9, r"seconds must be a number of seconds in \[0, 604,800\]"),
        ("updates_per_round", 10**6, r"updates_per_round must be an integer in \[0, 10,000\]"),
    ],
)
def test_train_budgets_have_upper_bounds(name, value, message):
    with pytest.raises(ValueError, match=message):
        TrainSettings(**{name: value}).validate()


def test_cli_counts_and_durations_have_upper_bounds(tmp_path, capsys):
    actor = tmp_path / "actor.keras"
    actor.write_bytes(b"")
    one_line_exit_2(capsys, ["evaluate", str(actor), "--episodes", "100000000"], "expected an integer in [1, 100,000]")
    one_line_exit_2(capsys, ["train", "--eval-episodes", "100000000"], "expected an integer in [1, 100,000]")
    one_line_exit_2(
        capsys, ["train", "--set", "buffer_size=100000000", "--out", str(tmp_path / "r")], "buffer_size must be"
    )
    one_line_exit_2(
        capsys, ["train", "--env-steps", str(10**23), "--out", str(tmp_path / "r")], "env_steps must be an integer"
    )
    one_line_exit_2(capsys, ["simulate", "--runtime", "1e9"], "expected a number of s in (0, 3,600]")
    assert not (tmp_path / "r").exists()


def test_a_long_evaluation_flies_in_groups_with_the_same_results(monkeypatch):
    import quadcopter.evaluation as evaluation

    sizes = []
    real = evaluation.VectorTakeoffTask

    def recording(num_envs, *args, **kwargs):
        sizes.append(num_envs)
        return real(num_envs, *args, **kwargs)

    monkeypatch.setattr(evaluation, "VectorTakeoffTask", recording)
    monkeypatch.setattr(evaluation, "EVALUATION_GROUP", 40)

    def act(states):  # a PD climb on the observation's z error and vertical speed, equal rotors
        return np.clip(404.0 - 40.0 * states[:, [2]] - 40.0 * states[:, [5]], 0.0, 900.0) * np.ones((1, 4))

    grouped = evaluation.evaluate_actor(act, 100, runtime=1.0)
    assert sizes == [40, 40, 20]
    monkeypatch.setattr(evaluation, "EVALUATION_GROUP", 1000)
    whole = evaluation.evaluate_actor(act, 100, runtime=1.0)
    pd.testing.assert_frame_equal(grouped, whole)
