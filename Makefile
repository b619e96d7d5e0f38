# The two commands of the README. Each sets up its own virtual environment (.venv) on first use.
PYTHON ?= python3
VENV := .venv
# RUN=DIR trains into DIR; without it, into runs/takeoff, or the next free runs/takeoff-N (the newest run).
RUN ?=

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# An environment made before 2026-12-07 has TensorFlow's CPU-only wheel, which writes the same files as the
	# tensorflow wheel required now: take it out first (pip only warns when it is not there).
	$(VENV)/bin/pip uninstall --quiet --yes tensorflow-cpu
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt -e .
	touch $@

.PHONY: train test test-quick
# The main job: train the takeoff agent with the default settings, write its CSVs, model and plots.
train: $(VENV)/.installed
	$(VENV)/bin/python -m quadcopter train $(if $(RUN),--out $(RUN))

# The lint, format and type checks, then the test suite (pytest fails when it collects no tests).
test: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest

# What a contributor runs often (under 2 minutes here): lint, types, and the tests not marked slow (none takes
# more than a few seconds: no training, no notebook); make test runs them all.
test-quick: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest -m "not slow"
