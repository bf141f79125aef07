"""Reference numbers of the paper's three environments, held by tests/regression.

The measures of each run below (the settings of :data:`SOLVER`, every one pinned, with
the ``natural`` method, which takes the same steps as ``newton`` at a fraction of the
cost) are reduced to a few numbers per state and stored in ``reference_numbers.json``. The test fails when a
change to the solver or the measures moves any of them.

Regenerate on purpose (after a deliberate change, and say why in the commit)::

    .venv/bin/python tests/regression/reference_runs.py --write

(part of ``make baselines``).
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

import numpy as np
import xarray as xr

import himo
from himo.measures import states
from himo.measures.dataset import measures_dataset

REFERENCE_FILE = Path(__file__).with_name("reference_numbers.json")
#: Every setting the reference numbers depend on, pinned (not the library defaults,
#: which may change): the settings the numbers were computed with.
SOLVER = dict(lam=0.9, method="natural", dependent="argmax", step=0.1, step_rule="fixed", max_iter=3000, tol=1e-5)
ENVIRONMENTS = ("hanoi", "fourrooms", "wormhole")


@functools.lru_cache(maxsize=None)
def reference_measures(env: str) -> xr.Dataset:
    """The measures dataset of one reference run (computed once per test session)."""
    mdp = himo.make_env(env)
    return measures_dataset(himo.solve(mdp, store_counters=False, **SOLVER), mdp)


def summarize(measures: xr.Dataset) -> dict:
    """The numbers held to their reference: per state and along the value curve."""
    every_tenth = slice(None, None, 10)
    return {
        "n_iterations": int(measures.attrs["n_iterations"]),
        "stop_reason": str(measures.attrs["stop_reason"]),
        "objective_every_10": measures["objective"].values[every_tenth].tolist(),
        "time_every_10": measures["time"].values[every_tenth].tolist(),
        "priority": _nan_to_none(measures["priority"].values),
        "max_PD": measures["PD"].max("iteration").values.tolist(),
        "final_CD": measures["CD"].values[-1].tolist(),
        "min_CD": measures["CD"].min("iteration").values.tolist(),
        "optimal_path": [states.labels(measures)[s] for s in states.optimal_path(measures)],
    }


def _nan_to_none(values: np.ndarray) -> list:
    return [None if np.isnan(v) else float(v) for v in values]


def compute_reference() -> dict:
    return {env: summarize(reference_measures(env)) for env in ENVIRONMENTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {REFERENCE_FILE.name}")
    args = parser.parse_args()
    text = json.dumps({"solver": SOLVER, "runs": compute_reference()}, indent=1, sort_keys=True)
    if args.write:
        REFERENCE_FILE.write_text(text + "\n")
        print(f"wrote {REFERENCE_FILE}")
    else:
        print(text)


if __name__ == "__main__":
    main()
