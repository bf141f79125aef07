"""Which runs are compared with which: HIMO, the first-order baselines and the DP order.

The measures of every run carry its comparison with the dynamic-programming order
(``dp_priority``, ``kendall_tau_dp``, ``priority_rank``; :mod:`himo.measures.orders`
says what is compared and how near-ties are treated). This module picks, for each
paper environment, the runs to set side by side, from their attributes
(``paper_env``, ``method``, ``foresight`` and the choices of :func:`held_fixed`),
never from their keys, and lays the comparison out as tables: the on-path orders at
the main run's foresight (:func:`order_table`, panels A-C of the baselines figure)
and one row per compared run (:func:`comparison_table`, ``results/baselines.csv``
and panel D).

**The first-order runs' steps.** First-order flows cross a long plateau before they
settle the path within a short window (docs/MATH.md, section 9): a run that has not
yet escaped (its objective below :data:`REACHED_FRACTION` of the way to the
optimum) is reported as such, and its order is not the converged flow's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import xarray as xr

from himo.io import csv_text
from himo.measures import states
from himo.verdicts.judging import prior_seed, run_key, runs_of
from himo.measures.orders import compare_pair_orders, pair_signs, path_ranks, tied


# ------------------------------------------------------------ the runs compared
#: The methods compared, as families: HIMO's natural step (``newton`` is Algorithm 1
#: as printed, ``natural`` the same step computed sparsely: the same iterates), the
#: two first-order baselines, and Kakade's state-averaged natural policy gradient
#: (claim N1; docs/MATH.md, identity 11). Keys are the labels of the figure and the table.
METHOD_FAMILIES = {
    "HIMO": ("newton", "natural"),
    "gradient": ("gradient",),
    "softmax": ("softmax",),
    "kakade": ("kakade",),
}
#: A run whose objective has covered less than this fraction of the way from the
#: prior's value to the optimum has not escaped its plateau: its optimal path and
#: priorities are not yet the converged flow's, and its order is marked as such.
REACHED_FRACTION = 0.99


def method_family(ds: xr.Dataset) -> str | None:
    """The family of :data:`METHOD_FAMILIES` the run's ``method`` belongs to (None: another)."""
    return family_of_method(str(ds.attrs.get("method", "")))


def family_of_method(method: str) -> str | None:
    """The family of :data:`METHOD_FAMILIES` a ``method`` belongs to (None: another)."""
    return next((family for family, methods in METHOD_FAMILIES.items() if method in methods), None)


def held_fixed(ds: xr.Dataset, family: str) -> dict:
    """The choices a run must share with its environment's main run to be compared
    with it: the environment (its builder ``environment`` and every ``env_*``
    attribute but ``env_key``: rewards, sizes, maps), the dependent-action rule,
    the form of ``E``, the prior (``prior_seed``) and the features of a log-linear run (none
    for a tabular one); for HIMO also the step, so that the line varies the foresight only.
    (The first-order runs take their own step: see docs/MATH.md, section 9.)"""
    a = ds.attrs
    fixed = {name: _plain(value) for name, value in a.items() if name.startswith("env_") and name != "env_key"}
    fixed.update(environment=a.get("environment"), dependent_rule=a.get("dependent_rule"), e_form=a.get("e_form"),
                 prior_seed=int(a.get("prior_seed", 0)), features=str(a.get("features", "")))
    if family == "HIMO":
        fixed["step"] = _plain(a.get("step"))
    return fixed


def _plain(value):
    """An attribute value in a form that compares by value (netCDF gives numpy scalars and arrays)."""
    value = np.asarray(value)
    return value.item() if value.ndim == 0 else tuple(value.tolist())


def paper_environments(runs: Sequence[xr.Dataset]) -> list[str]:
    """The paper environments the runs are about, in the paper's order (the order of
    the claims registry, :data:`himo.verdicts.claims.CLAIMS`), others after, sorted."""
    from himo.verdicts.claims import CLAIMS

    present = {str(ds.attrs.get("paper_env", "")) for ds in runs} - {""}
    paper_order = list(dict.fromkeys(c.paper_env for c in CLAIMS if c.paper_env in present))
    return paper_order + sorted(present - set(paper_order))


def main_run(runs: Sequence[xr.Dataset], paper_env: str) -> xr.Dataset | None:
    """The environment's main run, as the claims choose it
    (:func:`himo.verdicts.judging.runs_of`); None if no run has that ``paper_env``."""
    found = runs_of(runs, paper_env)
    return found[0] if found else None


def comparison_runs(runs: Sequence[xr.Dataset], paper_env: str, family: str) -> dict[float, xr.Dataset]:
    """``{foresight: run}``: the runs of ``family`` compared for ``paper_env``, sorted by foresight.

    A run is compared when its ``paper_env`` is ``paper_env``, its ``method`` is of
    ``family`` and it shares :func:`held_fixed` with the main run. Of several at one
    foresight, the main run is taken, else the first by ``env_key``.
    """
    main = main_run(runs, paper_env)
    if main is None:
        return {}
    fixed = held_fixed(main, family)
    chosen: dict[float, xr.Dataset] = {}
    for ds in runs_of(runs, paper_env):  # the main run first, the others by env_key
        if method_family(ds) == family and held_fixed(ds, family) == fixed:
            chosen.setdefault(float(ds.attrs["foresight"]), ds)
    return dict(sorted(chosen.items()))


def compared_run_keys(runs: Sequence[xr.Dataset]) -> set[str]:
    """The ``env_key`` of every run that some family compares for its paper environment
    (:func:`comparison_runs`): the runs that vary the foresight alone around the main
    run, by method family (the lines of the lift and priority-ranks figures)."""
    return {run_key(ds) for env in paper_environments(runs) for family in METHOD_FAMILIES
            for ds in comparison_runs(runs, env, family).values()}


def reached_fraction(ds: xr.Dataset) -> float:
    """How far the run's objective got from the prior's value to the optimum:
    ``(R_T - R_0) / (R* - R_0)``; NaN without ``optimal_objective`` or when the prior
    is already optimal."""
    objective = np.asarray(ds["objective"].values, dtype=float)
    optimum = ds.attrs.get("optimal_objective")
    if optimum is None or float(optimum) == objective[0]:
        return float("nan")
    return float((objective[-1] - objective[0]) / (float(optimum) - objective[0]))



# ----------------------------------------------------------------- the tables
#: The columns of :func:`comparison_table`, in order.
TABLE_COLUMNS = (
    "paper_env", "family", "foresight", "env_key", "method", "step", "stop_reason", "n_iterations",
    "reached_fraction", "kendall_tau_dp", "kendall_tau_dp_half", "kendall_tau_gap", "kendall_tau_prior", "resolution",
    "n_compared", "n_tie_groups", "relative_resolution", "resolved_pairs", "agree_with_himo",
)
#: The columns of :func:`prior_table` (results/prior_runs.csv): the table's, and the prior's seed.
PRIOR_COLUMNS = (*TABLE_COLUMNS[:3], "seed", "prior_concentration", *TABLE_COLUMNS[3:])
#: A run whose rule orders fewer than this fraction of its on-path pairs (the others
#: tied at its grid's resolution) is mostly ties: its order is read only where it
#: resolves, never as a full order.
MOSTLY_TIED = 0.5


def comparison_table(runs: Sequence[xr.Dataset]) -> list[dict]:
    """One row per compared run (:func:`comparison_runs`): environment, family,
    foresight, the run's settings, how far it got (:func:`reached_fraction`), its
    agreement with the DP order (``kendall_tau_dp``, ``kendall_tau_dp_half``) and with
    the orders of decreasing gap of ``Q*`` and of the initial policy's ``Q``
    (``kendall_tau_gap``, ``kendall_tau_prior``: the mechanism's predictions,
    docs/MATH.md, section 10), and how well its grid resolves its own order
    (:func:`resolution_columns`: the grid's resolution relative to the spread of its
    on-path priorities, the fraction of its on-path pairs it orders, and of the pairs
    it and HIMO's run at its foresight both order, the fraction ordered alike), in the
    order environment, family, foresight."""
    rows = []
    for paper_env in paper_environments(runs):
        himo = comparison_runs(runs, paper_env, "HIMO")
        for family in METHOD_FAMILIES:
            for foresight, ds in comparison_runs(runs, paper_env, family).items():
                rows.append(_table_row(ds, paper_env, family, foresight, himo.get(foresight)))
    return rows


def _table_row(ds: xr.Dataset, paper_env: str, family: str, foresight: float, himo: xr.Dataset | None) -> dict:
    """A row of :data:`TABLE_COLUMNS` (and ``seed``) for run ``ds``; ``himo`` is the HIMO run
    its order is compared with (:func:`resolution_columns`)."""
    tau = ds["kendall_tau_dp"]
    a = ds.attrs
    return {
        "paper_env": paper_env, "family": family, "foresight": foresight,
        "env_key": str(a.get("env_key", "")), "method": str(a.get("method", "")),
        "step": _plain(a.get("step")), "stop_reason": str(a.get("stop_reason", "")),
        "n_iterations": _plain(a.get("n_iterations")),
        "reached_fraction": reached_fraction(ds),
        "kendall_tau_dp": float(tau), "kendall_tau_dp_half": float(ds["kendall_tau_dp_half"]),
        "kendall_tau_gap": float(ds["kendall_tau_gap"]),
        "kendall_tau_prior": float(ds["kendall_tau_prior"]),
        "resolution": float(tau.attrs["resolution"]),
        "n_compared": int(tau.attrs["n_compared"]), "n_tie_groups": int(tau.attrs["n_tie_groups"]),
        "seed": prior_seed(ds), "prior_concentration": _plain(a.get("prior_concentration")) if prior_seed(ds) else None,
        **resolution_columns(ds, himo),
    }


# ------------------------------------------------------------ the drawn priors
def prior_runs(runs: Sequence[xr.Dataset], paper_env: str, family: str) -> dict[float, list[xr.Dataset]]:
    """``{foresight: [run, ...]}``: the runs of ``family`` on ``paper_env`` started from a
    prior drawn near the uniform one (``prior_seed`` > 0) that share every other choice of
    :func:`held_fixed` with the main run, by seed; sorted by foresight."""
    main = main_run(runs, paper_env)
    if main is None:
        return {}
    fixed = {name: value for name, value in held_fixed(main, family).items() if name != "prior_seed"}
    found: dict[float, list[xr.Dataset]] = {}
    for ds in runs_of(runs, paper_env):
        mine = held_fixed(ds, family)
        if method_family(ds) == family and mine.pop("prior_seed") and mine == fixed:
            found.setdefault(float(ds.attrs["foresight"]), []).append(ds)
    return {f: sorted(found[f], key=prior_seed) for f in sorted(found)}


def prior_table(runs: Sequence[xr.Dataset]) -> list[dict]:
    """One row (:data:`PRIOR_COLUMNS`) per run from a drawn prior (:func:`prior_runs`), each
    setting's run from the uniform prior first (the compared run of its family at its
    foresight, ``seed`` empty; left out if there is none): the spread of the taus and
    resolutions over the priors, beside the uniform prior's. ``agree_with_himo`` compares
    a run with HIMO's from the same prior (seed) at its foresight."""
    rows = []
    for paper_env in paper_environments(runs):
        himo_uniform = comparison_runs(runs, paper_env, "HIMO")
        himo_drawn = {(f, prior_seed(ds)): ds for f, found in prior_runs(runs, paper_env, "HIMO").items()
                      for ds in found}
        for family in METHOD_FAMILIES:
            uniform = comparison_runs(runs, paper_env, family)
            for foresight, drawn in prior_runs(runs, paper_env, family).items():
                if foresight in uniform:
                    rows.append(_table_row(uniform[foresight], paper_env, family, foresight,
                                           himo_uniform.get(foresight)))
                rows += [_table_row(ds, paper_env, family, foresight, himo_drawn.get((foresight, prior_seed(ds))))
                         for ds in drawn]
    return rows


def _path_order(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(states, priorities, time)``: the run's on-path states with a priority, in path order."""
    prio = np.asarray(ds["priority"].values, dtype=float)
    path = np.array([int(s) for s in states.optimal_path(ds) if np.isfinite(prio[s])], dtype=int)
    return path, prio, np.asarray(ds["time"].values, dtype=float)


def resolution_columns(ds: xr.Dataset, himo: xr.Dataset | None) -> dict:
    """How well a run's time grid resolves its on-path order:

    * ``relative_resolution``: the coarsest resolution at which two of its on-path
      priorities are compared (``kendall_tau_dp``'s ``resolution``) over their spread
      (latest minus earliest); near 1 or above, the grid cannot order them;
    * ``resolved_pairs``: the fraction of its on-path pairs the rule orders (not tied;
      below :data:`MOSTLY_TIED` the order is mostly ties);
    * ``agree_with_himo``: of the pairs of states on both its and ``himo``'s path (HIMO's
      run at the same foresight) that both runs order, the fraction they order alike;
      empty without such a run or pair (and for HIMO itself, 1).
    """
    path, prio, time = _path_order(ds)
    signs = pair_signs(prio[path], time)
    spread = float(prio[path].max() - prio[path].min()) if path.size else float("nan")
    resolution = float(ds["kendall_tau_dp"].attrs["resolution"])
    agree = float("nan")
    if himo is not None:
        h_path, h_prio, h_time = _path_order(himo)
        common = path[np.isin(path, h_path)]
        pairs = compare_pair_orders(common, prio, time, h_prio, h_time)
        if pairs.alike + pairs.reversed:
            agree = pairs.alike / (pairs.alike + pairs.reversed)
    return {"relative_resolution": resolution / spread if spread > 0 else float("nan"),
            "resolved_pairs": float(np.mean(signs != 0)) if signs.size else float("nan"),
            "agree_with_himo": agree}


@dataclass(frozen=True)
class OrderColumn:
    """One method's order of the states of its own optimal path, row by row of an
    :class:`OrderTable` (the rows are the steps to the goal)."""

    name: str  # "DP", or a family of METHOD_FAMILIES
    run: xr.Dataset | None  # None for DP, or when no run of the family is at that foresight
    states: np.ndarray | None  # (n_rows,) the state of the run's own path at each row, -1 where it has none
    ranks: np.ndarray | None  # (n_rows,) ranks on its own path (0 = first; path_ranks), -1 where no state
    tied: np.ndarray | None  # (n_rows,) the state's priority is tied with another of its path's (the rule)
    tau: float  # Kendall tau-b against the DP order (the run's kendall_tau_dp; 1 for DP)
    resolution: float  # the run's time-grid resolution (0 for DP: sweeps are exact)
    reached: bool  # the run escaped its plateau (reached_fraction >= REACHED_FRACTION)


@dataclass(frozen=True)
class OrderTable:
    """The on-path orders of one environment at its main run's foresight, side by side:
    row ``i`` is the state ``n_rows - 1 - i`` steps from the goal on each run's own
    optimal path (the start at the top, the goal at the bottom)."""

    paper_env: str
    main: xr.Dataset  # the environment's main run, whose path names the rows
    foresight: float
    states: np.ndarray  # (n_rows,) the main run's path states by row, -1 above its start (a longer path)
    columns: list[OrderColumn]


def order_table(runs: Sequence[xr.Dataset], paper_env: str) -> OrderTable | None:
    """The DP order and each family's order at the main run's foresight, each method on
    its own optimal path: rows are the steps to the goal, the cell of a column the
    state its run's path passes there (which may differ from the main run's where
    shortest routes tie), its rank among that path's priorities on the run's time grid
    and whether it is tied with another of them (:func:`himo.measures.orders.path_ranks`,
    :func:`~himo.measures.orders.tied`: what the run's ``kendall_tau_dp`` compares). DP
    ranks the main run's path by sweep (exact). None when ``paper_env`` has no main run."""
    main = main_run(runs, paper_env)
    if main is None:
        return None
    foresight = float(main.attrs["foresight"])
    found = {family: comparison_runs(runs, paper_env, family).get(foresight) for family in METHOD_FAMILIES}
    n_rows = max(len(states.optimal_path(ds)) for ds in [main, *found.values()] if ds is not None)
    dp = np.asarray(main["dp_priority"].values, dtype=float)
    columns = [_order_column("DP", None, states.optimal_path(main), dp, None, n_rows, 1.0, 0.0, True)]
    for family, ds in found.items():
        if ds is None:
            columns.append(OrderColumn(family, None, None, None, None, float("nan"), float("nan"), False))
            continue
        tau = ds["kendall_tau_dp"]
        columns.append(_order_column(family, ds, states.optimal_path(ds), np.asarray(ds["priority"].values, dtype=float),
                                     np.asarray(ds["time"].values, dtype=float), n_rows, float(tau),
                                     float(tau.attrs["resolution"]), bool(reached_fraction(ds) >= REACHED_FRACTION)))
    return OrderTable(paper_env, main, foresight, _by_row(states.optimal_path(main), n_rows), columns)


def _by_row(path: np.ndarray, n_rows: int) -> np.ndarray:
    """The path's states by row, the goal in the last row, -1 in the rows above its start."""
    return np.concatenate([np.full(n_rows - len(path), -1, dtype=np.int64), np.asarray(path, dtype=np.int64)])


def _order_column(name: str, ds: xr.Dataset | None, path: np.ndarray, priorities: np.ndarray,
                  time: np.ndarray | None, n_rows: int, tau: float, resolution: float, reached: bool) -> OrderColumn:
    """A column: ``path``'s states by row, ranked by ``priorities`` on the grid ``time``
    (None: exactly), with their ties among the path's states."""
    rows = _by_row(path, n_rows)
    on_path = np.zeros(priorities.size, dtype=bool)
    on_path[path] = True
    ranks = np.where(rows >= 0, path_ranks(priorities, on_path, time)[rows], -1)
    ranked = rows[ranks >= 0]
    close = np.asarray(tied(priorities[ranked][:, None], priorities[ranked][None, :], time)).reshape(
        ranked.size, ranked.size)
    tied_rows = np.zeros(n_rows, dtype=bool)
    tied_rows[ranks >= 0] = (close.sum(axis=1) - 1) > 0  # tied with another than itself
    return OrderColumn(name, ds, rows, ranks, tied_rows, tau, resolution, reached)


def table_csv(rows: Sequence[dict], columns: Sequence[str] = TABLE_COLUMNS) -> str:
    """:func:`comparison_table` as CSV text (results/baselines.csv): the :data:`TABLE_COLUMNS`,
    written by :func:`himo.io.csv_text` (:func:`prior_table` with :data:`PRIOR_COLUMNS`)."""
    return csv_text(rows, columns)
