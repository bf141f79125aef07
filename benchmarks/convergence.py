"""Convergence benchmark: how many iterations ``himo.solve`` takes with no options, against
policy iteration on the same MDP.

    python -m benchmarks.convergence                     # every case and 1,000 random MDPs
    python -m benchmarks.convergence --random 100        # fewer random MDPs
    python -m benchmarks.convergence --candidates        # the schedules compared before choosing
    python -m benchmarks.convergence --markdown FILE     # also write the tables to FILE

**Cases.** The paper's three environments at the default foresight; Gymnasium's
FrozenLake-v1 (slippery and not), FrozenLake8x8-v1, CliffWalking-v1 and Taxi-v4 at
foresight 0.95 (:func:`himo.from_gymnasium`); pymdptoolbox's ``small()`` and ``forest()``
examples (``mdptoolbox.example``) at the discount of their documentation, 0.9,
QuantEcon's ``DiscreteDP`` example of its documentation at its 0.95 and a
``random_discrete_dp`` in the sparse state-action-pairs form at its beta
(:func:`himo.from_arrays` on the arrays the packages' own functions make; both
packages are pinned in requirements.lock); and random MDPs (:func:`random_mdps`), a
third of them with near-tied actions.

**Columns.** *PI* is policy iteration's number of evaluations
(:func:`himo.solver.value_iteration.policy_iteration`, from the greedy policy of the
rewards as pymdptoolbox starts it), *PI from prior* the same from the uniform prior a
HIMO run starts from; *himo* is ``n_iterations`` of ``himo.solve(mdp, lam=...)`` with
every other setting at its default (one exact evaluation per iteration, plus the
first), *of which fixed step* the iterations it takes at the fixed ``step`` before its
flow is slow (:func:`fixed_step_phase`), *ratio* is *himo / PI* and *ratio to PI from
prior* *himo / PI from prior* (the same start as the run's); *gap* is ``(V*(p0) - R(A)) / |V*(p0)|`` at the run's
last iteration, against value iteration; *fixed* the iterations the same run takes with
``step_rule="fixed"`` (the default before the step schedule; ``max_iter`` is 20,000).

``--candidates`` compares step schedules (the growth threshold ``SLOW_SPEED`` and the
factor ``GROWTH_FACTOR`` of :class:`himo.solver.steps.StepSchedule`) on the named cases
and the random MDPs, and how far each moves the on-path priorities of the paper's
environments from the fixed step's (at the library's step 1 and the workflow's 0.1).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from unittest import mock

import numpy as np

import himo
from himo.solver import steps
from himo.solver.value_iteration import policy_iteration, value_iteration

GYMNASIUM = (
    ("FrozenLake-v1", {}, "FrozenLake 4x4 slippery"),
    ("FrozenLake-v1", {"is_slippery": False}, "FrozenLake 4x4"),
    ("FrozenLake8x8-v1", {}, "FrozenLake 8x8 slippery"),
    ("CliffWalking-v1", {}, "CliffWalking"),
    ("Taxi-v4", {}, "Taxi"),
)
GYMNASIUM_LAM = 0.95
RANDOM_SEED = 2026
FIXED_MAX_ITER = 20_000
#: QuantEcon's random_discrete_dp case: states, actions, successors of each pair
QE_RANDOM_STATES, QE_RANDOM_ACTIONS, QE_RANDOM_SUCCESSORS = 200, 5, 10


def named_cases() -> list[tuple[str, himo.MDP, float]]:
    """``(name, mdp, foresight)`` of every named case, in table order."""
    import mdptoolbox.example
    from quantecon.markov import random_discrete_dp

    from tests.importers.test_arrays import QE_EXAMPLE

    lam = himo.SolverSettings().lam
    cases = [(name, himo.make_env(name), lam) for name in ("hanoi", "fourrooms", "wormhole")]
    cases += [(label, himo.from_gymnasium(env_id, **kwargs), GYMNASIUM_LAM) for env_id, kwargs, label in GYMNASIUM]
    cases += [
        ("pymdptoolbox small()", himo.from_arrays("pymdptoolbox", **dict(zip("PR", mdptoolbox.example.small()))), 0.9),
        ("pymdptoolbox forest()", himo.from_arrays("pymdptoolbox", **dict(zip("PR", mdptoolbox.example.forest()))), 0.9),
        ("QuantEcon DiscreteDP", himo.from_arrays("quantecon", R=QE_EXAMPLE.R, Q=QE_EXAMPLE.Q), QE_EXAMPLE.beta),
    ]
    pairs = random_discrete_dp(QE_RANDOM_STATES, QE_RANDOM_ACTIONS, 0.95, k=QE_RANDOM_SUCCESSORS, sparse=True,
                               sa_pair=True, random_state=RANDOM_SEED)
    cases.append((f"QuantEcon random_discrete_dp({QE_RANDOM_STATES}, {QE_RANDOM_ACTIONS}, k={QE_RANDOM_SUCCESSORS})",
                  himo.from_arrays("quantecon", R=pairs.R, Q=pairs.Q, s_indices=pairs.s_indices,
                                   a_indices=pairs.a_indices), pairs.beta))
    return cases


def random_mdps(count: int, seed: int = RANDOM_SEED) -> list[tuple[str, himo.MDP, float]]:
    """``count`` random MDPs (``tests.conftest.build_random_mdp``): 2-30 states of 1-5
    actions (a third of the states one), foresights uniform in [0.5, 0.99]. A third have
    near-tied actions: in every state with two or more actions the second is a twin of
    the first (the same transitions) whose reward differs by ``delta max |R|`` times a
    standard normal, ``delta`` log-uniform in [1e-9, 1e-2]."""
    from tests.conftest import build_random_mdp

    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        n_states = int(rng.integers(2, 31))
        counts = tuple(int(c) for c in rng.choice([1, 1, 2, 3, 4, 5], size=n_states))
        lam = float(np.round(rng.uniform(0.5, 0.99), 3))
        mdp = build_random_mdp(seed=seed + k, action_counts=counts)
        name = f"random {k}"
        if rng.random() < 1 / 3:
            delta = float(10.0 ** rng.uniform(-9, -2))
            mdp, name = near_tied(mdp, rng, delta), f"random {k}, ties {delta:.0e}"
        out.append((name, mdp, lam))
    return out


def near_tied(mdp: himo.MDP, rng: np.random.Generator, delta: float) -> himo.MDP:
    """``mdp`` with each multi-action state's second action a near twin of its first."""
    P, R = mdp.P.toarray(), mdp.R.copy()
    first = mdp.state_offsets[:-1][mdp.actions_per_state >= 2]
    P[first + 1] = P[first]
    R[first + 1] = R[first] + delta * np.abs(R).max() * rng.standard_normal(first.size)
    return himo.MDP.from_pairs(
        name=f"{mdp.name}-ties", state_labels=list(mdp.state_labels), action_labels=list(mdp.action_labels),
        pair_state=mdp.pair_state, pair_action=mdp.pair_action, P=P, R=R, start=mdp.start,
    )


def measure(name: str, mdp: himo.MDP, lam: float, fixed: bool = False) -> dict:
    """One row: policy iteration's evaluations and the default run's iterations and gap."""
    optimum = value_iteration(mdp, lam).objective
    t0 = time.perf_counter()
    run = himo.solve(mdp, lam=lam, store_counters=False)
    seconds = time.perf_counter() - t0
    row = {
        "case": name, "states": mdp.n_states, "pairs": mdp.n_pairs, "lam": lam,
        "pi": policy_iteration(mdp, lam).iterations,
        "pi_prior": policy_iteration(mdp, lam, mdp.uniform_policy()).iterations,
        "himo": run.attrs["n_iterations"], "stop": run.attrs["stop_reason"], "seconds": seconds,
        "fast": fixed_step_phase(run),
        "gap": (optimum - float(run.objective[-1])) / abs(optimum) if optimum else optimum - float(run.objective[-1]),
    }
    row["ratio"] = row["himo"] / row["pi"]
    if fixed:
        slow = himo.solve(mdp, lam=lam, step_rule="fixed", max_iter=FIXED_MAX_ITER, store_counters=False)
        row["fixed"] = f"{slow.attrs['n_iterations']}" + ("" if slow.attrs["stop_reason"] == "converged" else " (not converged)")
    return row


def fixed_step_phase(run) -> int:
    """The iterations a default run takes at the fixed ``step``, before its flow is slow
    (the first iteration whose speed is below ``SLOW_SPEED`` still takes ``step``)."""
    slow = np.flatnonzero(run.flow_speed.values < steps.SLOW_SPEED)
    return int(slow[0]) + 1 if slow.size else run.attrs["n_iterations"]


NAMED_HEADER = ("| case | states | lam | PI | PI from prior | himo | of which fixed step | ratio | ratio to PI from prior "
                "| gap | stop | fixed | seconds |")


def named_row(r: dict) -> str:
    return (f"| {r['case']} | {r['states']} | {r['lam']:g} | {r['pi']} | {r['pi_prior']} | {r['himo']} | {r['fast']} | "
            f"{r['ratio']:.1f} | {r['himo'] / r['pi_prior']:.1f} | {r['gap']:.1e} | {r['stop']} | {r.get('fixed', '')} "
            f"| {r['seconds']:.2f} |")


def random_summary(rows: list[dict]) -> list[str]:
    """The random MDPs in a few lines: counts, iterations, ratios and the worst cases."""
    himo_it = np.array([r["himo"] for r in rows])
    ratio = np.array([r["ratio"] for r in rows])
    ratio_prior = himo_it / np.array([r["pi_prior"] for r in rows])
    gaps = np.array([r["gap"] for r in rows])
    ties = np.array(["ties" in r["case"] for r in rows])
    converged = sum(r["stop"] == "converged" for r in rows)
    pi = np.array([r["pi"] for r in rows])
    above = ratio > 10
    # runs whose fixed-step phase alone leaves fewer than 2 iterations of the 10 x PI budget
    crowded = above & (np.array([r["fast"] for r in rows]) > 10 * pi - 2)
    lines = [
        f"{len(rows)} random MDPs ({ties.sum()} with near-tied actions): {converged} converged, "
        f"largest relative gap {gaps.max():.1e}, {sum(r['seconds'] for r in rows):.0f} s of himo.solve in all",
        f"himo iterations: median {np.median(himo_it):g}, 90th percentile {np.percentile(himo_it, 90):g}, "
        f"max {himo_it.max()}; PI: median {np.median([r['pi'] for r in rows]):g}, max {max(r['pi'] for r in rows)}",
        f"ratio himo / PI: median {np.median(ratio):.1f}, 90th percentile {np.percentile(ratio, 90):.1f}, "
        f"max {ratio.max():.1f}, above 10: {int(above.sum())} ({int((above & (pi == 1)).sum())} of them with PI 1, "
        f"{int(crowded.sum())} whose fixed-step phase alone is more than 10 PI - 2 iterations, "
        f"{int((above & ties).sum())} with near-tied actions)",
        f"ratio himo / PI from the prior: median {np.median(ratio_prior):.1f}, 90th percentile "
        f"{np.percentile(ratio_prior, 90):.1f}, max {ratio_prior.max():.1f}, above 10: {int((ratio_prior > 10).sum())}",
        "",
        "The ten largest ratios:",
        "",
        NAMED_HEADER,
        "|" + "---|" * (NAMED_HEADER.count("|") - 1),
    ]
    return lines + [named_row(rows[i]) for i in np.argsort(-ratio, kind="stable")[:10]]


# ------------------------------------------------------------------ --candidates
CANDIDATES = [(slow, growth) for slow in (0.01, 0.03, 0.1) for growth in (2.0, 4.0, 8.0)]


@contextlib.contextmanager
def schedule_constants(slow: float, growth: float):
    """The step schedule with threshold ``slow`` and factor ``growth`` (module constants)."""
    with mock.patch.object(steps, "SLOW_SPEED", slow), mock.patch.object(steps, "GROWTH_FACTOR", growth):
        yield


def priority_shift(step: float, tol: float) -> tuple[float, bool]:
    """The largest change of an on-path priority of the paper's environments (planning
    time) from the fixed step's, at ``step`` and ``tol``, and whether any on-path order changed."""
    from himo.measures.dataset import measures_dataset

    largest, reordered = 0.0, False
    for name in ("hanoi", "fourrooms", "wormhole"):
        mdp = himo.make_env(name)
        priorities = []
        for rule in ("fixed", "geometric"):
            run = himo.solve(mdp, method="natural", step=step, tol=tol, step_rule=rule, max_iter=FIXED_MAX_ITER,
                             store_counters=False)
            ds = measures_dataset(run, mdp)
            on_path = ds.on_optimal_path.values.astype(bool)
            priorities.append(ds.priority.values[on_path])
        fixed, geometric = priorities
        largest = max(largest, float(np.nanmax(np.abs(geometric - fixed))))
        reordered |= not np.array_equal(np.argsort(fixed, kind="stable"), np.argsort(geometric, kind="stable"))
    return largest, reordered


def candidates(random_count: int) -> list[str]:
    cases = named_cases()
    randoms = random_mdps(random_count)
    pi = {name: policy_iteration(mdp, lam).iterations for name, mdp, lam in cases + randoms}
    header = ("| SLOW_SPEED | GROWTH_FACTOR | " + " | ".join(name for name, _, _ in cases[:8])
              + " | random: median / max | worst ratio | priority shift at step 1 / 0.1 |")
    lines = [header, "|" + "---|" * (header.count("|") - 1),
             "| policy iteration | | " + " | ".join(str(pi[name]) for name, _, _ in cases[:8]) + " | "
             f"{statistics.median(pi[n] for n, _, _ in randoms):g} / {max(pi[n] for n, _, _ in randoms)} | | |"]
    print("\n".join(lines), flush=True)
    for slow, growth in CANDIDATES:
        with schedule_constants(slow, growth):
            named = [himo.solve(mdp, lam=lam, store_counters=False).attrs["n_iterations"] for _, mdp, lam in cases[:8]]
            counts = [(name, himo.solve(mdp, lam=lam, store_counters=False).attrs["n_iterations"]) for name, mdp, lam in randoms]
            shifts = [priority_shift(step, 1e-6) for step in (1.0, 0.1)]
        its = [c for _, c in counts]
        worst = max(c / pi[name] for name, c in counts)
        shift = " / ".join(f"{s:.2f}{' (reordered)' if r else ''}" for s, r in shifts)
        line = (f"| {slow:g} | {growth:g} | " + " | ".join(map(str, named))
                + f" | {statistics.median(its):g} / {max(its)} | {worst:.1f} | {shift} |")
        lines.append(line)
        print(line, flush=True)
    return lines


# ------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.convergence", description=__doc__.split("\n\n")[0])
    parser.add_argument("--random", type=int, default=1000, metavar="N", help="random MDPs (default 1000)")
    parser.add_argument("--no-fixed", action="store_true", help="skip the fixed step's column (20,000 iterations on some)")
    parser.add_argument("--candidates", action="store_true", help="compare the schedules' constants instead")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables to FILE")
    args = parser.parse_args(argv)

    if args.candidates:
        lines = candidates(args.random)
    else:
        lines = [NAMED_HEADER, "|" + "---|" * (NAMED_HEADER.count("|") - 1)]
        print("\n".join(lines), flush=True)
        for case in named_cases():
            line = named_row(measure(*case, fixed=not args.no_fixed))
            lines.append(line)
            print(line, flush=True)
        if args.random:
            summary = random_summary([measure(*case) for case in random_mdps(args.random)])
            lines += [""] + summary
            print("\n" + "\n".join(summary), flush=True)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
