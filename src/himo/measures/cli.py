"""The per-run subcommands ``himo measures`` and ``himo run`` (registered on import)."""

from __future__ import annotations

import argparse
import json

from himo.cli import COUNTERS, add_param_option, command
from himo.errors import HimoError
from himo.io import read_netcdf


def _measures_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trajectory", help="a trajectory file written by 'himo solve'")
    parser.add_argument("mdp", help="the MDP file the run solved")
    parser.add_argument("out", help="the measures file to write (netCDF)")


@command("measures", "compute PD, CD, their velocities and priorities (paper section 4) and the state "
                     "graph from a trajectory",
         _measures_args)
def _measures(args: argparse.Namespace) -> None:
    from himo.measures.dataset import measures_dataset
    from himo.io import write_netcdf
    from himo.mdpfile import load_mdp

    trajectory = read_netcdf(args.trajectory, "trajectory")
    for name in ("policy", "occupancy", "objective", "time"):
        if name not in trajectory.variables:
            raise HimoError(f"{args.trajectory}: not a trajectory file (no variable {name!r})")
    write_netcdf(measures_dataset(trajectory, load_mdp(args.mdp)), args.out)


#: The keys of each entry of ``himo run --runs`` (and optionally ``counters``, a key of
#: :data:`himo.cli.COUNTERS`, as ``himo solve --counters``; default auto).
RUN_KEYS = ("trajectory", "measures", "settings", "provenance")
#: The optional keys: ``counters`` and ``features`` (a registered feature set or a features
#: file, as ``himo solve --features``: a log-linear run).
OPTIONAL_RUN_KEYS = ("counters", "features")


def _run_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("mdp", nargs="?", default=None,
                        help="the MDP file the runs solve (netCDF); or build the MDP with --env")
    parser.add_argument("--env", default=None, metavar="NAME",
                        help="build the registered environment NAME (see 'himo envs') instead of reading an MDP file")
    add_param_option(parser, "a builder parameter of --env, repeatable (e.g. --param n_disks=4)")
    parser.add_argument("--save-mdp", default=None, metavar="OUT.nc",
                        help="also write the MDP built with --env, as 'himo env NAME OUT.nc' writes it")
    parser.add_argument("--runs", required=True, metavar="JSON",
                        help='a JSON list with one object per run: {"trajectory": OUT.nc (or null: do not keep '
                             'it), "measures": OUT.nc, '
                             '"settings": {solver settings, as the options of himo solve}, "provenance": '
                             '{attributes to record}, and optionally "counters": auto | yes | no, as himo solve '
                             '--counters (default auto), and "features": a feature set or file, as himo solve '
                             '--features}')


@command("run", "solve and measure several runs on one MDP in one process: for each run, what 'himo solve' "
                "and then 'himo measures' write (the workflow's jobs); the MDP is read from a file or built "
                "as 'himo env' builds it",
         _run_args)
def _run(args: argparse.Namespace) -> None:
    import sys

    from himo import solve
    from himo.measures.dataset import measures_dataset
    from himo.cli import parse_params, solve_summary
    from himo.envs import make_env
    from himo.envs.features import load_features
    from himo.io import write_netcdf
    from himo.mdpfile import load_mdp, save_mdp
    from himo.solver.settings import SolverSettings

    if (args.mdp is None) == (args.env is None):
        raise HimoError("give the MDP file or --env NAME, not both or neither")
    if args.env is None and (args.param or args.save_mdp):
        raise HimoError("--param and --save-mdp go with --env")
    runs = _run_list(args.runs)
    for i, run in enumerate(runs):  # every run checked before any is solved
        try:
            SolverSettings(**run["settings"])
        except (TypeError, HimoError) as err:  # an unknown setting, a bad value
            raise HimoError(f"--runs[{i}].settings: {err}") from None
    if args.env is None:
        mdp = load_mdp(args.mdp)
    else:
        mdp = make_env(args.env, **parse_params(args.param))
        if args.save_mdp is not None:
            save_mdp(mdp, args.save_mdp)
    features = [None if run.get("features") is None else load_features(mdp, run["features"]) for run in runs]
    for run, run_features in zip(runs, features):
        trajectory = solve(mdp, **run["settings"], provenance=run["provenance"],
                           store_counters=COUNTERS[run.get("counters", "auto")], features=run_features)
        if run["trajectory"] is not None:
            write_netcdf(trajectory, run["trajectory"])
        write_netcdf(measures_dataset(trajectory, mdp), run["measures"])
        print(solve_summary(trajectory, run["trajectory"] or run["measures"]), file=sys.stderr)


def _run_list(text: str) -> list[dict]:
    """The runs of ``himo run --runs``, checked for their keys."""
    try:
        runs = json.loads(text)
    except json.JSONDecodeError as err:
        raise HimoError(f"--runs is not valid JSON: {err}") from None
    if not isinstance(runs, list) or not runs:
        raise HimoError("--runs must be a non-empty JSON list of runs")
    for i, run in enumerate(runs):
        if not isinstance(run, dict) or not set(RUN_KEYS) <= set(run) <= {*RUN_KEYS, *OPTIONAL_RUN_KEYS}:
            raise HimoError(f"--runs[{i}] must be an object with the keys {', '.join(RUN_KEYS)} "
                            f"(and optionally {', '.join(OPTIONAL_RUN_KEYS)})")
        if not isinstance(run["settings"], dict) or not isinstance(run["provenance"], dict):
            raise HimoError(f"--runs[{i}]: settings and provenance must be JSON objects")
        if run.get("counters", "auto") not in COUNTERS:
            raise HimoError(f"--runs[{i}].counters must be one of {', '.join(COUNTERS)}, "
                            f"got {run['counters']!r}")
    return runs
