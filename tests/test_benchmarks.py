"""The benchmark scripts load and explain themselves: ``python benchmarks/NAME.py --help`` runs and
prints the script's docstring, which says what it measures and how to call it.

The suite does not run the learning benchmarks (they train for minutes); this catches a script that
no longer imports or parses its arguments before someone needs its numbers. The speed benchmarks run
to their tables with a tiny measuring time (their numbers are not checked).
"""

import runpy
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
HELPERS = {"pendulum_common.py"}  # shared pieces the scripts import, not benchmarks themselves
SCRIPTS = sorted(path for path in BENCHMARKS.glob("*.py") if path.name not in HELPERS)


def test_the_benchmarks_are_found():
    assert len(SCRIPTS) >= 10, SCRIPTS
    for script in SCRIPTS:  # every script runs as one; the helpers do not
        assert 'if __name__ == "__main__":' in script.read_text(), script
    for helper in HELPERS:
        assert 'if __name__ == "__main__":' not in (BENCHMARKS / helper).read_text(), helper


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_help_prints_the_docstring(script, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the scripts import each other, as when run from there
    script_globals = runpy.run_path(str(script), run_name="benchmark")  # loaded once, its imports with it
    monkeypatch.setattr(sys, "argv", [script.name, "--help"])
    with pytest.raises(SystemExit) as exit_info:
        script_globals["main"]()
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    docstring = script_globals["__doc__"]
    assert printed.startswith(f"usage: {script.name}")
    for line in docstring.strip().splitlines():  # the whole docstring, as written
        assert line in printed


def test_bench_pendulum_agent_offsets_keep_the_starts_and_count_the_target(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    script_globals = runpy.run_path(str(BENCHMARKS / "bench_pendulum.py"), run_name="benchmark")

    def printed(*arguments):
        monkeypatch.setattr(sys, "argv", ["bench_pendulum.py", "--seeds", "1", "--episodes", "2", *arguments])
        script_globals["main"]()
        return capsys.readouterr().out.splitlines()

    plain = [line for line in printed() if line.startswith("| 1 |")]
    lines = printed("--agent-offsets", "0", "5")
    runs = [line.split("|")[1:-1] for line in lines if line.startswith("| 1 | ")][:2]
    assert [int(run[1]) for run in runs] == [1, 6]  # the agent seeded with seed + K
    # Offset 0 is the plain run: the same starts and the same agent.
    assert round(float(runs[0][2])) == int(plain[0].split("|")[2])
    scores = [float(run[2]) for run in runs]
    assert scores[0] != scores[1]  # another agent seed, another run
    met = sum(score >= -200 for score in scores)
    assert f"| 1 | {met} of 2 | {sum(scores) / 2:.1f} |" in lines
    assert f"offsets reaching -200 on every seed: {met} of 2" in lines


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bench_sim", "bench_envs", "bench_fused", "bench_agent", "bench_update_cost"])
def test_speed_benchmarks_run_to_their_table(name, monkeypatch, capsys):
    """Each speed benchmark runs to the end with a tiny measuring time and prints a full table.

    The numbers are not checked (they depend on the machine); this catches a script that breaks when
    the code it measures changes shape (as when the takeoff observation grew from 12 to 15 values).
    """
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    script_globals = runpy.run_path(str(BENCHMARKS / f"{name}.py"), run_name="benchmark")
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--seconds", "0.01"])
    script_globals["main"]()
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) >= 5  # a header, its rule and at least three measured rows
    for row in rows[2:]:
        assert any(character.isdigit() for character in row.split("|")[2]), row
