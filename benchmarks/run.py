"""Benchmarks: the cost of one exact HIMO iteration against its floor.

    python -m benchmarks                 # quick: a few minutes
    python -m benchmarks --full          # adds Hanoi 12 (531,441 states) and the 1000x1000 grid
    python -m benchmarks --cases hanoi10 grid100 --methods natural
    python -m benchmarks --list          # the known cases

Five groups of rows:

``sparse`` (methods ``natural`` and ``multiplicative``)
    *seconds per iteration* is measured on :func:`himo.solver.loop.run_himo` itself
    (dependent ``argmax``, a fixed step of 0.1) as ``(t(K iterations) - t(0 iterations)) / K``,
    so it holds exactly one evaluation, one step and the bookkeeping. The *floor* is
    one ``scipy.sparse.linalg.splu`` of ``I - lambda T_pi`` plus the two solves an
    iteration needs (values, and occupancy with ``trans="T"``), timed in the same
    process on the same matrix (the matrix is built outside the timing).
    Repeats are interleaved (floor, run, floor, ...) and medians reported, so that
    load from other processes hits both sides alike.
``linear`` (method ``natural``, each linear solver at several foresights)
    the same per-iteration measure and floor, at foresight 0.9, 0.95, 0.99 and
    0.999, once with ``linear_solver="direct"`` and once with ``"iterative"`` (each
    in its own subprocess, interleaved with its floor); *Krylov/eval* is the
    BiCGSTAB iterations per evaluation (two systems), *residual* the worst relative
    residual of the iterative solves (:mod:`himo.solver.linear`), *vs LU* the error
    of the last iterate's occupancy (1-norm, relative) and objective (relative to
    ``max |r_pi| / (1 - lambda)``) against a direct solve of the same policy, and
    *auto* what ``linear_solver="auto"`` picks there. Memory here is the growth of
    ``ru_maxrss`` over the first timed run, before any floor is taken (so the
    iterative row does not carry the floor's factors).
``newton`` (dense Algorithm 1)
    the floor is the dense work Algorithm 1 cannot avoid: ``inv(I - lambda T)``
    (the dense successor representation) and the solve of the Fisher system over
    the free pairs; the row also gives the ratio to ``natural`` per iteration.
``products`` (the Krylov products, two routes side by side)
    a product with ``A = I - lambda T_pi`` (CSR, as BiCGSTAB takes it) and with
    ``A^T``, by :class:`himo.solver.linear.kernels.Operator`'s two routes: SciPy's
    private kernel into a reused vector (*in place*) and the public ``A @ x`` copied
    into it (*public*, the fallback where the private kernel is missing); then a whole
    iterative HIMO iteration (as ``linear``) by each route. Routes are interleaved
    (A B B A ...), with the ratio *public / in place*. A product is timed in blocks
    of a few milliseconds and the fastest block reported (the product's own cost:
    on a shared machine a block is either run through or preempted for longer than
    it lasts, and more than half may be), an iteration by the median of repeats.
    *same bits* checks that both routes' runs end on the same policy, bit for bit.
``converge``
    a whole solve to convergence (dependent ``argmax``, step 0.1, the default step rule and
    ``tol``) of the
    paper's three environments, against value iteration on the same MDP; *floor*
    is then value iteration's time and the objective gap is reported.

Memory, two measures, both per case in a fresh subprocess:
``tracemalloc MB`` is the tracemalloc peak of one iteration (numpy and Python
allocations; SuperLU's own C allocations are invisible to it), and ``maxrss MB``
is the growth of the process's ``ru_maxrss`` from after the imports to the end
(MDP construction, SuperLU factors and everything else included).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

LAM = 0.9
STEP = 0.1

# name -> (builder name, builder parameters)
CASES = {
    **{f"hanoi{n}": ("hanoi", {"n_disks": n}) for n in range(3, 13)},
    "grid6": ("grid", {"rows": 6, "cols": 6}),
    "grid30": ("grid", {"rows": 30, "cols": 30}),
    "grid100": ("grid", {"rows": 100, "cols": 100}),
    "grid300": ("grid", {"rows": 300, "cols": 300}),
    "grid500": ("grid", {"rows": 500, "cols": 500}),
    "grid1000": ("grid", {"rows": 1000, "cols": 1000}),
    "fourrooms": ("fourrooms", {}),
    "wormhole": ("wormhole", {}),
}
PAPER = ("hanoi3", "fourrooms", "wormhole")

QUICK_SPARSE = ("fourrooms", "hanoi8", "hanoi10", "grid100")
FULL_SPARSE = QUICK_SPARSE + ("hanoi12", "grid1000")
FORESIGHTS = (0.9, 0.95, 0.99, 0.999)
QUICK_LINEAR = tuple((case, lam) for case in ("hanoi8", "grid100", "hanoi10") for lam in FORESIGHTS)
FULL_LINEAR = QUICK_LINEAR + tuple(
    (case, lam) for case in ("grid300", "grid500", "hanoi12") for lam in FORESIGHTS
) + (("grid1000", 0.95), ("grid1000", 0.99))
LINEAR_SOLVERS = ("direct", "iterative")
QUICK_PRODUCTS = ("grid100", "hanoi10")
FULL_PRODUCTS = QUICK_PRODUCTS + ("grid500", "hanoi12")
PRODUCTS_LAM = 0.95
QUICK_NEWTON = ("hanoi3", "hanoi4", "hanoi5", "fourrooms", "wormhole")
FULL_NEWTON = QUICK_NEWTON + ("hanoi6",)


# ------------------------------------------------------------------ the worker
def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _build(case: str):
    import himo

    builder, params = CASES[case]
    return himo.make_env(builder, **params)


def _sparse_floor(mdp, policy, lam=LAM) -> float:
    """One splu of I - lambda T_pi and the two solves; the matrix is built untimed."""
    import numpy as np
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    A = (sp.identity(mdp.n_states, format="csc") - lam * mdp.state_transitions(policy)).tocsc()
    rhs = np.ones(mdp.n_states)
    t0 = time.perf_counter()
    lu = spla.splu(A)
    lu.solve(rhs)
    lu.solve(mdp.start_distribution, trans="T")
    return time.perf_counter() - t0


def _dense_floor(mdp, policy) -> float:
    """Algorithm 1's unavoidable dense work: inv(I - lambda T) and the Fisher solve."""
    import numpy as np
    import scipy.linalg

    from himo.solver.counters import counter_correlations, fisher_information
    from himo.solver.policy import dependent_pairs, score_projection

    dependent = dependent_pairs(mdp, "argmax", policy)
    C, _ = counter_correlations(mdp, policy, LAM)
    fisher = fisher_information(C, score_projection(mdp, policy, dependent))
    del C
    dense = np.eye(mdp.n_states) - LAM * mdp.state_transitions(policy).toarray()
    rhs = np.ones(fisher.shape[0])
    t0 = time.perf_counter()
    scipy.linalg.inv(dense)
    scipy.linalg.solve(fisher, rhs, assume_a="sym")
    return time.perf_counter() - t0


def _per_iteration(mdp, method: str, iterations: int, lam: float = LAM, linear_solver: str = "auto"):
    """``(t(K) - t(0)) / K`` on run_himo, and the K-run (its last policy, its solves)."""
    from himo.solver.loop import SolverSettings, run_himo
    from himo.solver.storage import least_budget

    def timed(k):  # the least storage budget: the run holds as few iterations as it may
        settings = SolverSettings(lam=lam, method=method, step=STEP, step_rule="fixed", max_iter=k, tol=1e-300, dependent="argmax",
                                  storage_budget=least_budget(mdp), linear_solver=linear_solver)
        t0 = time.perf_counter()
        run = run_himo(mdp, settings)
        return time.perf_counter() - t0, run

    t_zero, _ = timed(0)
    t_k, run = timed(iterations)
    return (t_k - t_zero) / iterations, run


def _iteration_tracemalloc(mdp, method: str) -> float:
    from himo.solver.loop import SolverSettings, run_himo

    tracemalloc.start()
    run_himo(mdp, SolverSettings(lam=LAM, method=method, step=STEP, step_rule="fixed", max_iter=1, tol=1e-300,
                                 dependent="argmax"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def worker_iteration(case: str, method: str, iterations: int, repeats: int, compare_natural: bool) -> dict:
    import himo  # noqa: F401  (imported before the build is timed)

    rss0 = _maxrss_mb()
    t0 = time.perf_counter()
    mdp = _build(case)
    build = time.perf_counter() - t0
    floor_fn = _dense_floor if method == "newton" else _sparse_floor
    policy = mdp.uniform_policy()
    floors, per_iter, natural = [], [], []
    for _ in range(repeats):
        floors.append(floor_fn(mdp, policy))
        seconds, run = _per_iteration(mdp, method, iterations)
        policy = run.policy[-1]
        per_iter.append(seconds)
        floors.append(floor_fn(mdp, policy))
        if compare_natural:
            natural.append(_per_iteration(mdp, "natural", max(iterations, 5))[0])
    out = {
        "group": "newton" if method == "newton" else "sparse",
        "case": case, "method": method,
        "n_states": mdp.n_states, "n_pairs": mdp.n_pairs, "n_transitions": int(mdp.P.nnz),
        "build_s": build,
        "per_iter_s": statistics.median(per_iter),
        "floor_s": statistics.median(floors),
        "iterations": iterations, "repeats": repeats, "linear_solver": run.linear_solver,
    }
    out["ratio"] = out["per_iter_s"] / out["floor_s"]
    if natural:
        out["natural_s"] = statistics.median(natural)
        out["vs_natural"] = out["per_iter_s"] / out["natural_s"]
    out["tracemalloc_mb"] = _iteration_tracemalloc(mdp, method)
    out["maxrss_mb"] = _maxrss_mb() - rss0
    return out


def worker_linear(case: str, lam: float, linear_solver: str, iterations: int, repeats: int) -> dict:
    """One linear solver at one foresight, interleaved with the LU floor."""
    import numpy as np

    import himo  # noqa: F401
    from himo.solver.evaluation import evaluate
    from himo.solver.policy import state_sums

    mdp = _build(case)
    mdp.system_matrix(mdp.uniform_policy(), lam)  # the MDP's cached patterns, built untimed
    mdp.action_columns
    rss0 = _maxrss_mb()
    per_iter, floors = [], []
    for repeat in range(repeats):
        seconds, run = _per_iteration(mdp, "natural", iterations, lam, linear_solver)
        if repeat == 0:
            peak = _maxrss_mb() - rss0  # before any floor: this solver's own memory
        per_iter.append(seconds)
        floors.append(_sparse_floor(mdp, run.policy[-1], lam))
        floors.append(_sparse_floor(mdp, mdp.uniform_policy(), lam))
    last = run.policy[-1]
    exact = evaluate(mdp, last, lam)  # one LU, untimed
    value_scale = np.abs(state_sums(mdp, last * mdp.R)).max() / (1 - lam)
    evaluations = iterations + 1
    out = {
        "group": "linear", "case": case, "method": "natural", "lam": lam, "linear_solver": linear_solver,
        "n_states": mdp.n_states, "n_pairs": mdp.n_pairs, "n_transitions": int(mdp.P.nnz),
        "per_iter_s": statistics.median(per_iter), "floor_s": statistics.median(floors),
        "iterations": iterations, "repeats": repeats,
        "krylov_per_evaluation": run.linear.krylov_iterations / evaluations,
        "worst_residual": run.linear.worst_residual, "fallbacks": run.linear.fallback,
        "occupancy_error": float(np.abs(run.occupancy[-1] - exact.occupancy).sum() / exact.occupancy.sum()),
        "objective_error": abs(run.objective[-1] - exact.objective) / value_scale if value_scale else 0.0,
        "auto": _auto_choice(mdp, lam),
        "peak_mb": peak,
    }
    out["ratio"] = out["per_iter_s"] / out["floor_s"]
    return out


def _auto_choice(mdp, lam: float) -> str:
    """What ``linear_solver="auto"`` picks for a run from the uniform prior (with the
    prior's LU where auto decides by its fill, as the run does)."""
    import scipy.sparse.linalg as spla

    from himo.solver.linear import DECIDED_BY_FILL, choose_linear_solver, fill_ratio

    choice = choose_linear_solver("auto", mdp.n_states, lam)
    if choice == DECIDED_BY_FILL:
        A = mdp.system_matrix(mdp.uniform_policy(), lam)
        fill = fill_ratio(spla.splu(A), A)
        choice = f"{choose_linear_solver('auto', mdp.n_states, lam, fill=fill)} (fill {fill:.3g})"
    return choice


def worker_products(case: str, lam: float, iterations: int, repeats: int) -> dict:
    """Operator's two routes (in place, public) per product and per iterative iteration."""
    import numpy as np

    import himo  # noqa: F401
    from himo.solver.linear import kernels

    in_place = kernels.SPARSETOOLS_MATVEC
    if in_place is None:
        return {"error": "this SciPy has no scipy.sparse._sparsetools kernels: only the public route"}
    routes = {"in_place": in_place, "public": None}
    mdp = _build(case)
    A = kernels.SystemRows().matrix(mdp.state_transitions(mdp.uniform_policy()), lam)
    x = np.random.default_rng(0).normal(size=mdp.n_states)
    out = np.empty(mdp.n_states)
    block = max(5, 2_000_000 // int(A.nnz))  # products per timed block (a few ms)
    product = {}
    for transposed in (False, True):
        times = {route: [] for route in routes}
        for i in range(6 * repeats):
            for route, kernel in _alternating(routes, i):
                kernels.SPARSETOOLS_MATVEC = kernel
                operator = kernels.Operator(A, transposed=transposed)
                t0 = time.perf_counter()
                for _ in range(block):
                    operator.apply(x, out)
                times[route].append((time.perf_counter() - t0) / block)
        product["AT" if transposed else "A"] = {route: min(t) for route, t in times.items()}
    per_iter, last = {route: [] for route in routes}, {}
    for i in range(2 * repeats):
        for route, kernel in _alternating(routes, i):
            kernels.SPARSETOOLS_MATVEC = kernel
            seconds, run = _per_iteration(mdp, "natural", iterations, lam, "iterative")
            per_iter[route].append(seconds)
            last[route] = run.policy[-1]
    kernels.SPARSETOOLS_MATVEC = in_place
    return {
        "group": "products", "case": case, "lam": lam, "n_states": mdp.n_states, "nnz": int(A.nnz),
        "product_s": product, "per_iter_s": {route: statistics.median(t) for route, t in per_iter.items()},
        "iterations": iterations, "repeats": repeats,
        "same_bits": bool(np.array_equal(last["in_place"], last["public"])),
    }


def _alternating(routes: dict, i: int) -> list:
    """The routes' items in order on even ``i``, reversed on odd (A B, B A, ...): neither
    route always runs first, or always after the other."""
    items = list(routes.items())
    return items if i % 2 == 0 else items[::-1]


def worker_converge(case: str, method: str, max_iter: int) -> dict:
    import himo  # noqa: F401
    from himo.solver.loop import SolverSettings, run_himo
    from himo.solver.value_iteration import value_iteration

    rss0 = _maxrss_mb()
    mdp = _build(case)
    t0 = time.perf_counter()
    optimum = value_iteration(mdp, LAM)
    vi = time.perf_counter() - t0
    settings = SolverSettings(lam=LAM, method=method, step=STEP, max_iter=max_iter, dependent="argmax")
    t0 = time.perf_counter()
    run = run_himo(mdp, settings)
    seconds = time.perf_counter() - t0
    peak = _iteration_tracemalloc(mdp, method)  # traced apart: tracemalloc slows numpy down
    return {
        "group": "converge", "case": case, "method": method,
        "n_states": mdp.n_states, "n_pairs": mdp.n_pairs, "n_transitions": int(mdp.P.nnz),
        "per_iter_s": seconds / max(run.n_iterations, 1), "solve_s": seconds, "floor_s": vi,
        "ratio": seconds / vi, "n_iterations": run.n_iterations, "stop_reason": run.stop_reason,
        "gap": float(optimum.objective - run.objective[-1]), "vi_iterations": optimum.iterations,
        "tracemalloc_mb": peak, "maxrss_mb": _maxrss_mb() - rss0,
    }


# ------------------------------------------------------------------ the driver
def _spawn(args: list[str], timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", *args]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_root(), os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=_root())
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def machine() -> str:
    import numpy
    import scipy

    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"nproc {os.cpu_count()}, CPU {cpu}, Python {platform.python_version()}, "
            f"numpy {numpy.__version__}, scipy {scipy.__version__}, load average "
            f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")


LINEAR_HEADER = ("| case | states | transitions | lam | linear solver | s/iter | floor s | ratio | "
                 "Krylov/eval | residual | fallbacks | vs LU (occupancy, objective) | maxrss MB | auto |")


def format_linear_row(r: dict) -> str:
    if "error" in r:
        return f"| {r['case']} | | | {r['lam']} | {r['linear_solver']} | | | | | | | | | {r['error']} |"
    residual = "" if r["worst_residual"] is None else f"{r['worst_residual']:.1e}"
    krylov = f"{r['krylov_per_evaluation']:.0f}" if r["linear_solver"] == "iterative" else ""
    return (f"| {r['case']} | {r['n_states']} | {r['n_transitions']} | {r['lam']} | {r['linear_solver']} | "
            f"{r['per_iter_s']:.4g} | {r['floor_s']:.4g} | {r['ratio']:.2f} | {krylov} | {residual} | "
            f"{r['fallbacks']} | {r['occupancy_error']:.0e}, {r['objective_error']:.0e} | {r['peak_mb']:.0f} | "
            f"{r['auto']} |")


PRODUCTS_HEADER = ("| case | states | nnz(A) | lam | A x in place ms | public ms | ratio | A^T x in place ms | "
                   "public ms | ratio | s/iter in place | public | ratio | same bits |")


def format_products_row(r: dict) -> str:
    if "error" in r:
        return f"| {r['case']} | | | {r['lam']} | | | | | | | | | | {r['error']} |"
    cells = []
    for times, unit in ((r["product_s"]["A"], 1e3), (r["product_s"]["AT"], 1e3), (r["per_iter_s"], 1)):
        cells += [f"{times['in_place'] * unit:.4g}", f"{times['public'] * unit:.4g}",
                  f"{times['public'] / times['in_place']:.2f}"]
    return (f"| {r['case']} | {r['n_states']} | {r['nnz']} | {r['lam']} | {' | '.join(cells)} | "
            f"{'yes' if r['same_bits'] else 'NO'} |")


HEADER = ("| group | case | states | transitions | method | s/iter | floor s | ratio | "
          "vs natural | build s | tracemalloc MB | maxrss MB | note |")


def format_row(r: dict) -> str:
    if "error" in r:
        return f"| {r.get('group', '?')} | {r.get('case', '?')} | | | {r.get('method', '?')} | | | | | | | | {r['error']} |"
    note = ""
    if r["group"] == "converge":
        note = (f"solve {r['solve_s']:.2f} s, {r['n_iterations']} it, {r['stop_reason']}, gap {r['gap']:.1e}; "
                f"floor = value iteration ({r['vi_iterations']} sweeps)")
    elif r["group"] == "newton":
        note = "floor = dense inv(I - lam T) + Fisher solve"
    elif "linear_solver" in r:
        note = f"linear solver {r['linear_solver']} (auto)"
    g = lambda k, f: (f % r[k]) if k in r else ""  # noqa: E731
    return (f"| {r['group']} | {r['case']} | {r['n_states']} | {r['n_transitions']} | {r['method']} | "
            f"{r['per_iter_s']:.4g} | {r['floor_s']:.4g} | {r['ratio']:.2f} | {g('vs_natural', '%.1f')} | "
            f"{g('build_s', '%.2f')} | {r['tracemalloc_mb']:.1f} | {r['maxrss_mb']:.0f} | {note} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="add Hanoi 12 disks, the 1000x1000 grid and Hanoi 6 newton")
    parser.add_argument("--cases", nargs="*", metavar="CASE", help="sparse-method cases to run (see --list; empty: none)")
    parser.add_argument("--newton-cases", nargs="*", metavar="CASE", help="newton cases (empty: none)")
    parser.add_argument("--converge", nargs="*", metavar="CASE", help="whole solves (default: the paper's three)")
    parser.add_argument("--linear", nargs="*", metavar="CASE[@LAM]",
                        help="linear-solver cases, each at the foresights of --foresights or at @LAM (empty: none)")
    parser.add_argument("--foresights", nargs="+", type=float, default=list(FORESIGHTS),
                        help="foresights of the --linear cases given without @LAM")
    parser.add_argument("--products", nargs="*", metavar="CASE",
                        help=f"the Krylov products' two routes, side by side, at foresight {PRODUCTS_LAM} "
                             "(empty: none)")
    parser.add_argument("--methods", nargs="+", default=["natural", "multiplicative"],
                        choices=["natural", "multiplicative"], help="sparse methods")
    parser.add_argument("--iterations", type=int, default=None, help="K iterations per timed run (default: by size)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default: by size)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per case")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    parser.add_argument("--list", action="store_true", help="list the known cases")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        kind, case, method, *rest = args.worker
        if kind == "iteration":
            out = worker_iteration(case, method, int(rest[0]), int(rest[1]), rest[2] == "1")
        elif kind == "linear":
            out = worker_linear(case, float(method), rest[0], int(rest[1]), int(rest[2]))
        elif kind == "products":
            out = worker_products(case, float(method), int(rest[0]), int(rest[1]))
        else:
            out = worker_converge(case, method, int(rest[0]))
        print(json.dumps(out))
        return 0
    if args.list:
        for name, (builder, params) in CASES.items():
            print(f"{name}: make_env({builder!r}, {', '.join(f'{k}={v}' for k, v in params.items())})")
        return 0

    sparse = args.cases if args.cases is not None else (FULL_SPARSE if args.full else QUICK_SPARSE)
    newton = args.newton_cases if args.newton_cases is not None else (FULL_NEWTON if args.full else QUICK_NEWTON)
    converge = args.converge if args.converge is not None else PAPER
    if args.linear is None:
        linear = FULL_LINEAR if args.full else QUICK_LINEAR
    else:
        linear = [(c.split("@")[0], float(c.split("@")[1])) if "@" in c else (c, lam)
                  for c in args.linear for lam in ([None] if "@" in c else args.foresights)]
    products = args.products if args.products is not None else (FULL_PRODUCTS if args.full else QUICK_PRODUCTS)
    for name in (*sparse, *newton, *converge, *(case for case, _ in linear), *products):
        if name not in CASES:
            parser.error(f"unknown case {name!r} (see --list)")

    lines = [f"machine: {machine()}", "", HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    print("\n".join(lines), flush=True)

    def emit(result):
        row = format_row(result)
        lines.append(row)
        print(row, flush=True)

    def sizes(case):
        big = CASES[case][1].get("n_disks", 0) >= 12 or CASES[case][1].get("rows", 0) >= 1000
        medium = CASES[case][1].get("n_disks", 0) >= 10 or CASES[case][1].get("rows", 0) >= 300
        iterations = args.iterations or (2 if big else 5 if medium else 20)
        repeats = args.repeats or (1 if big else 3)
        return iterations, repeats

    for case in sparse:
        for method in args.methods:
            k, r = sizes(case)
            emit({"group": "sparse", "case": case, "method": method,
                  **_spawn(["iteration", case, method, str(k), str(r), "0"], args.timeout)})
    linear_lines = ["", LINEAR_HEADER, "|" + "---|" * (LINEAR_HEADER.count("|") - 1)]
    if linear:
        print("\n".join(linear_lines), flush=True)
    for case, lam in linear:  # 5 iterations: the warm start uses up to 4 previous solutions
        huge = CASES[case][1].get("rows", 0) >= 1000  # a direct iteration takes 15-35 s
        k, r = args.iterations or (3 if huge else 5), args.repeats or (1 if huge else 3)
        for solver in LINEAR_SOLVERS:
            row = format_linear_row({"case": case, "lam": lam, "linear_solver": solver,
                                     **_spawn(["linear", case, str(lam), solver, str(k), str(r)], args.timeout)})
            linear_lines.append(row)
            print(row, flush=True)
    products_lines = ["", PRODUCTS_HEADER, "|" + "---|" * (PRODUCTS_HEADER.count("|") - 1)]
    if products:
        print("\n".join(products_lines), flush=True)
    for case in products:
        k, r = args.iterations or 5, args.repeats or (1 if CASES[case][1].get("n_disks", 0) >= 12 else 3)
        row = format_products_row({"case": case, "lam": PRODUCTS_LAM,
                                   **_spawn(["products", case, str(PRODUCTS_LAM), str(k), str(r)], args.timeout)})
        products_lines.append(row)
        print(row, flush=True)
    if linear or products:
        print("\n".join(lines[2:4]), flush=True)  # the main table's header again
    for case in newton:
        k = args.iterations or (2 if CASES[case][1].get("n_disks", 0) >= 6 else 3)
        r = args.repeats or (1 if CASES[case][1].get("n_disks", 0) >= 6 else 3)
        emit({"group": "newton", "case": case, "method": "newton",
              **_spawn(["iteration", case, "newton", str(k), str(r), "1"], args.timeout)})
    for case in converge:
        for method in ("newton", "natural", "multiplicative"):
            emit({"group": "converge", "case": case, "method": method,
                  **_spawn(["converge", case, method, "3000"], args.timeout)})
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("\n".join(lines + (linear_lines if linear else []) + (products_lines if products else [])) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
