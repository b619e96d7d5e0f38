"""The benchmark scripts load and explain themselves: ``python benchmarks/NAME.py --help`` runs and
prints the script's docstring, which says what it measures and how to call it.

The suite does not run the benchmarks themselves (they train for minutes); this catches a script
that no longer imports or parses its arguments before someone needs its numbers.
"""

import runpy
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def test_the_benchmarks_are_found():
    assert len(SCRIPTS) >= 10, SCRIPTS


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
