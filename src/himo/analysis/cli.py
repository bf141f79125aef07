"""The ``himo measures`` and ``himo claims`` subcommands (registered on import)."""

from __future__ import annotations

import argparse

from himo.cli import command
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
    from himo.analysis.measures import measures_dataset
    from himo.io import write_netcdf
    from himo.mdpfile import load_mdp

    trajectory = read_netcdf(args.trajectory, "trajectory")
    for name in ("policy", "occupancy", "objective", "time"):
        if name not in trajectory.variables:
            raise HimoError(f"{args.trajectory}: not a trajectory file (no variable {name!r})")
    write_netcdf(measures_dataset(trajectory, load_mdp(args.mdp)), args.out)


def _claims_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("measures", nargs="+", help="measures files (one per run, from 'himo measures')")
    parser.add_argument("--json", required=True, help="the JSON file to write (results/claims.json)")
    parser.add_argument("--md", required=True, help="the Markdown file to write (results/claims.md)")


@command("claims", "decide each claim of the paper from measures files; write JSON and Markdown",
         _claims_args)
def _claims(args: argparse.Namespace) -> None:
    from himo.analysis.claims import CLAIMS
    from himo.analysis.judging import evaluate_claims
    from himo.analysis.report import claims_json, claims_markdown
    from himo.io import atomic_output

    runs = [read_netcdf(path, "measures") for path in args.measures]
    for path, ds in zip(args.measures, runs):
        if "priority" not in ds.variables:
            raise HimoError(f"{path}: not a measures file (no variable 'priority')")
    records = evaluate_claims(CLAIMS, runs)
    json_text, md_text = claims_json(records), claims_markdown(records)
    with atomic_output(args.json) as tmp:
        tmp.write_text(json_text)
    with atomic_output(args.md) as tmp:
        tmp.write_text(md_text)
