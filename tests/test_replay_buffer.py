"""The Udacity replay buffer."""

import numpy as np

from agents.replay_buffer import ReplayBuffer


def test_replay_buffer_keeps_the_newest_experiences_and_samples_without_replacement():
    from agents.replay_buffer import Experience

    memory = ReplayBuffer(buffer_size=5, batch_size=5, rng=np.random.default_rng(0))
    for i in range(7):  # the first two are overwritten
        memory.add(np.full(3, i), np.full(2, -i), float(i), np.full(3, i + 1), i == 6)
    assert len(memory) == 5
    batch = memory.sample()
    assert all(isinstance(e, Experience) for e in batch)
    assert sorted(e.reward for e in batch) == [2.0, 3.0, 4.0, 5.0, 6.0]  # each once: no replacement
    for e in batch:
        np.testing.assert_array_equal(e.state, np.full(3, e.reward))
        np.testing.assert_array_equal(e.action, np.full(2, -e.reward))
        np.testing.assert_array_equal(e.next_state, np.full(3, e.reward + 1))
        assert e.done is (e.reward == 6.0)
    states, actions, rewards, next_states, dones = memory.sample_arrays(3)
    assert states.shape == (3, 3) and actions.shape == (3, 2) and rewards.shape == dones.shape == (3,)
    np.testing.assert_array_equal(states[:, 0], rewards)
