"""One run per folder: a folder that a process trains into is locked, and the lock dies with the process."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_bad_input import one_line_exit_2
from test_training import TINY, _saved_counters, tiny_settings

from quadcopter.cli import main
from quadcopter.folder_lock import FolderInUseError, FolderLock, holder
from quadcopter.runs import claim_run_folder
from quadcopter.training import train

FAST_TRAIN = ["--env-steps", "640", "--eval-episodes", "2", "--no-progress", "--numpy-path"]  # no XLA compile


def quadcopter(*argv, cwd):
    """``python -m quadcopter ARGV`` started in the background, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "quadcopter", *argv], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def hold_in_another_process(folder):
    """A process that locks ``folder`` as a training does and then waits; returns it once it holds the lock."""
    code = (
        "import sys, time\nfrom quadcopter.folder_lock import FolderLock\n"
        "FolderLock(sys.argv[1]).acquire()\nprint('locked', flush=True)\ntime.sleep(120)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_folder_in_use_is_refused_at_once_by_every_kind_of_train_and_by_plot(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text("{}")  # a run's file: refused before anything reads it
    other = hold_in_another_process(out)
    files = {p.name: p.stat().st_mtime_ns for p in out.rglob("*")}
    try:
        assert holder(out) == other.pid
        with pytest.raises(FolderInUseError, match=rf"{out} is in use: process {other.pid} is training into it"):
            train(TINY, tiny_settings(env_steps=200), out=out, progress=False, overwrite=True)
        for flags in (["--resume"], ["--overwrite"], []):
            one_line_exit_2(capsys, ["train", "--out", str(out), *flags], f"is in use: process {other.pid}")
        one_line_exit_2(capsys, ["plot", str(out)], f"{out} is still training (process {other.pid})")
        one_line_exit_2(capsys, ["evaluate", str(out)], f"the run is still training (process {other.pid})")
        assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*")} == files  # nothing written
    finally:
        other.kill()
        other.wait()
    assert holder(out) is None  # the lock died with its process
    FolderLock(out).acquire()  # (the slow test below resumes a real training killed so)


def test_nested_holds_in_one_process_share_the_lock(tmp_path):
    with claim_run_folder(tmp_path / "run") as folder:
        with claim_run_folder(folder):  # train() inside the command line's claim
            assert holder(folder) is None  # this process's own lock is no obstacle to it
        lock = FolderLock(folder)
        with pytest.raises(FolderInUseError):  # still held after the inner block
            lock.acquire()
    FolderLock(tmp_path / "run").acquire()


@pytest.mark.slow
def test_two_trainings_racing_for_one_folder_leave_one_run(tmp_path):
    out = tmp_path / "runs" / "x"
    started = time.perf_counter()
    first = quadcopter("train", "--out", str(out), "--seed", "1", *FAST_TRAIN, cwd=tmp_path)
    second = quadcopter("train", "--out", str(out), "--seed", "2", *FAST_TRAIN, cwd=tmp_path)
    ends = {}
    while len(ends) < 2:
        for name, process in (("first", first), ("second", second)):
            if name not in ends and process.poll() is not None:
                ends[name] = time.perf_counter() - started
        time.sleep(0.05)
    codes = {name: process.returncode for name, process in (("first", first), ("second", second))}
    assert sorted(codes.values()) == [0, 2], (codes, first.stderr.read(), second.stderr.read())
    winner, loser = ("first", "second") if codes["first"] == 0 else ("second", "first")
    seed = 1 if winner == "first" else 2
    message = (first if loser == "first" else second).stderr.read()
    assert "is in use: process" in message and len(message.strip().splitlines()) == 1, message
    assert ends[loser] < ends[winner]  # refused at once, not after training
    assert json.loads((out / "config.json").read_text())["seed"] == seed
    import tensorflow as tf

    from quadcopter.runs import STATE_KEY

    for checkpoint in sorted((out / "checkpoints").glob("ckpt-*.index")):
        state = json.loads(tf.train.load_checkpoint(str(checkpoint.with_suffix(""))).get_tensor(STATE_KEY).decode())
        assert state["config"]["seed"] == seed
    assert json.loads((out / "evaluation.json").read_text())["final"]["episodes"] == 2


@pytest.mark.slow
def test_two_trainings_without_out_started_together_get_two_folders(tmp_path):
    processes = [quadcopter("train", "--seed", str(seed), *FAST_TRAIN, cwd=tmp_path) for seed in (1, 2)]
    outputs = [process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    folders = sorted(out.splitlines()[0] for out, _ in outputs)
    assert folders == ["run folder: runs/takeoff", "run folder: runs/takeoff-2"]
    configs = [tmp_path / "runs" / name / "config.json" for name in ("takeoff", "takeoff-2")]
    seeds = {json.loads(config.read_text())["seed"] for config in configs}
    assert seeds == {1, 2}


@pytest.mark.slow
def test_a_lock_left_by_a_killed_training_does_not_block_its_resume(tmp_path):
    out = tmp_path / "run"
    code = (
        "import sys\nfrom test_training import TINY, tiny_settings\nfrom quadcopter.training import train\n"
        "settings = tiny_settings(env_steps=10**7, checkpoint_every=0.2, fused=False)\n"
        "train(TINY, settings, out=sys.argv[1], progress=False)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.dirname(__file__))
    process = subprocess.Popen([sys.executable, "-c", code, str(out)], env=env)
    try:
        deadline = time.perf_counter() + 120
        while not list((out / "checkpoints").glob("ckpt-*.index")) and time.perf_counter() < deadline:
            time.sleep(0.2)
        assert holder(out) == process.pid
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert holder(out) is None
    more = _saved_counters(out)["env_steps"] + 64
    assert main(["train", "--out", str(out), "--resume", "--env-steps", str(more), "--no-progress"]) == 0
    assert _saved_counters(out)["env_steps"] >= more
