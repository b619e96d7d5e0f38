"""The Pendulum benchmarks' shared pieces: the Udacity loop on Gymnasium's ``Pendulum-v1`` with the default
DDPG (:func:`train`), the ``--set`` flag of the experiments and the first line of their output."""

import time

import gymnasium

from agents.agent import DDPG
from agents.checks import parse_overrides
from agents.config import DDPGConfig
from agents.gym_task import GymTask
from quadcopter.train_parts import device_name

TARGET = -200.0  # issue 11's target for the mean of the last 10 of 100 episodes, on each of seeds 0, 1, 2


def train(seed, episodes, changes, agent_seed=None, episode_hook=None):
    """``episodes`` episodes of the Udacity loop on Pendulum-v1 with the default DDPG (``changes``:
    settings to change, for experiments). ``seed`` seeds the environment (so fixes every episode's
    start) and, unless ``agent_seed`` is given, the agent too (its weights, noise and batches).
    ``episode_hook(episode, agent)``, if given, is called after each episode's reset, before its first
    action (for diagnostics). Returns the agent and the episodes' returns."""
    task = GymTask(gymnasium.make("Pendulum-v1"), seed=seed)
    agent = DDPG(task, DDPGConfig(seed=seed if agent_seed is None else agent_seed).replace(**changes))
    returns = []
    for episode in range(episodes):
        state, done, total = agent.reset_episode(), False, 0.0
        if episode_hook is not None:
            episode_hook(episode, agent)
        while not done:
            action = agent.act(state)
            next_state, reward, done = task.step(action)
            agent.step(action, reward, next_state, done)
            state, total = next_state, total + reward
        returns.append(total)
    return agent, returns


def add_settings_argument(parser):
    """``--set NAME=VALUE`` (repeatable) on ``parser``: the DDPGConfig settings an experiment changes; the
    Pendulum scripts read them with :func:`settings_changes`."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a DDPGConfig setting (an experiment, not the defaults)",
    )


def run_header(settings, episodes):
    """The first line of a Pendulum script's output: machine, gymnasium, date, the ``--set`` settings
    (a list of "NAME=VALUE") and the episodes a run trains for."""
    return (
        f"# {device_name()}, gymnasium {gymnasium.__version__}, {time.strftime('%Y-%m-%d')}; "
        f"default DDPGConfig{', ' + ', '.join(settings) if settings else ''}, {episodes} episodes"
    )


def settings_changes(pairs):
    """The ``--set`` pairs ("NAME=VALUE") as DDPGConfig changes, typed by their declarations."""
    return parse_overrides(DDPGConfig, pairs)
