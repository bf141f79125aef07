"""``himo figure MEASURES.nc OUT.png [--pdf OUT.pdf] [--normalized | --raw]``.

Draws the six-panel dynamics figure (paper Figs. 1, 2, S1) of one measures dataset.
``--normalized`` (the default; Fig. 1) shows PD~ and CD~, ``--raw`` (Figs. 2 and S1)
PD and CD. Outputs are written atomically and byte-for-byte reproducibly.
"""

from __future__ import annotations

import argparse

from himo.cli import command
from himo.errors import HimoError

#: What the figure reads from the measures dataset (docs/CONTRACTS.md); the curves
#: PD~, CD~ and the velocities are computed from PD and CD (himo.measures.dataset.time_series).
REQUIRED = ("time", "objective", "priority", "PD", "CD")


def _draw_off_screen() -> None:
    """The figure commands write files and show nothing: matplotlib's Agg backend,
    chosen before pyplot is imported."""
    import matplotlib

    matplotlib.use("Agg")


def _figure_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("measures", help="a measures dataset (netCDF, from 'himo measures')")
    parser.add_argument("out", help="the PNG file to write")
    parser.add_argument("--pdf", default=None, metavar="OUT.pdf", help="also write the figure as PDF")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--normalized", dest="normalized", action="store_true", default=True,
                       help="max-normalized PD~ and CD~, Eq. 14 (Fig. 1; the default)")
    scale.add_argument("--raw", dest="normalized", action="store_false",
                       help="PD and CD as they are, Eqs. 12-13 (Figs. 2 and S1)")
    parser.add_argument("--t-max", type=float, default=None,
                        help="crop the planning-time axis at this time (default: where the dynamics have "
                             "settled, see himo.plotting.figures.active_time; inf for the whole run)")
    parser.add_argument("--title", default=None, help="a title above the figure (default none)")


@command("figure", "draw the dynamics figure (paper Figs. 1, 2, S1) of a measures dataset",
         _figure_args)
def _figure(args: argparse.Namespace) -> None:
    _draw_off_screen()
    from himo.io import read_netcdf
    from himo.plotting.figures import dynamics_figure, write_figure

    measures = read_netcdf(args.measures, "measures")
    missing = [name for name in REQUIRED if name not in measures.variables]
    if missing:
        raise HimoError(f"{args.measures}: the measures dataset misses {', '.join(missing)} "
                        "(see docs/CONTRACTS.md, 'Measures dataset')")
    fig = dynamics_figure(measures, normalized=args.normalized, t_max=args.t_max, title=args.title)
    write_figure(fig, args.out, args.pdf)


def _baselines_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("measures", nargs="+",
                        help="measures files (one per run, from 'himo measures'); the runs compared are "
                             "chosen by their attributes paper_env, method and foresight")
    parser.add_argument("--png", required=True, metavar="OUT.png", help="the PNG file to write")
    parser.add_argument("--pdf", default=None, metavar="OUT.pdf", help="also write the figure as PDF")
    parser.add_argument("--csv", default=None, metavar="OUT.csv",
                        help="also write the table of the compared runs (one row per run: method, foresight, "
                             "Kendall tau against the DP order, resolution, ...)")
    parser.add_argument("--priors", default=None, metavar="OUT.csv",
                        help="also write the same table for the runs from priors drawn near the uniform one "
                             "(setting prior_seed), each setting's uniform-prior run first (results/prior_runs.csv)")


@command("baselines", "draw the baselines figure: the on-path priority orders of HIMO, the first-order "
                      "gradients and dynamic programming, and Kendall tau against the DP order by foresight",
         _baselines_args)
def _baselines(args: argparse.Namespace) -> None:
    _draw_off_screen()
    from himo.verdicts.baselines import PRIOR_COLUMNS, comparison_table, paper_environments, prior_table, table_csv
    from himo.plotting.baselines import baselines_figure, read_measures
    from himo.plotting.figures import write_figure

    runs = [read_measures(path) for path in args.measures]
    if not paper_environments(runs):
        raise HimoError("no run of a paper environment among the measures files (attribute paper_env: "
                        "hanoi, fourrooms or wormhole): the baselines figure compares those")
    extra = {args.csv: table_csv(comparison_table(runs))} if args.csv is not None else {}
    if args.priors is not None:
        extra[args.priors] = table_csv(prior_table(runs), PRIOR_COLUMNS)
    write_figure(baselines_figure(runs), args.png, args.pdf, extra)



def _lift_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("measures", nargs="+",
                        help="measures files (one per run, from 'himo measures'); every run of a paper "
                             "environment gets its rows, the figure draws the runs that vary the foresight alone")
    parser.add_argument("--csv", required=True, metavar="OUT.csv",
                        help="the table to write, one row per run and followed state "
                             "(results/bottleneck_lift.csv)")
    parser.add_argument("--png", required=True, metavar="OUT.png", help="the figure to write (PNG)")
    parser.add_argument("--pdf", default=None, metavar="OUT.pdf", help="also write the figure as PDF")


@command("lift", "the bottleneck lift: each claimed bottleneck's DP rank minus its rank on every run's own "
                 "optimal path (a table), and the lift against the foresight by method (a figure)",
         _lift_args)
def _lift(args: argparse.Namespace) -> None:
    _draw_off_screen()
    from himo.io import csv_text
    from himo.plotting.baselines import read_measures
    from himo.plotting.figures import write_figure
    from himo.plotting.lift import lift_figure
    from himo.verdicts.baselines import paper_environments
    from himo.verdicts.lift import LIFT_COLUMNS, OPTIONAL, REQUIRED, lift_profile, lift_table

    runs = [read_measures(path, REQUIRED, OPTIONAL) for path in args.measures]
    if not paper_environments(runs):
        raise HimoError("no run of a paper environment among the measures files (attribute paper_env: "
                        "hanoi, fourrooms or wormhole): the lift follows their claimed bottlenecks")
    rows = lift_table(runs)
    write_figure(lift_figure(lift_profile(rows, runs)), args.png, args.pdf,
                 {args.csv: csv_text(rows, LIFT_COLUMNS)})


def _atlas_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("robustness", help="the robustness table (results/robustness.csv, from 'himo claims --csv')")
    parser.add_argument("ranks", help="the priority ranks table (results/priority_ranks.csv, from 'himo claims "
                                      "--ranks')")
    parser.add_argument("--heatmap", required=True, metavar="OUT.png",
                        help="the heat map of verdicts to write (PNG)")
    parser.add_argument("--heatmap-pdf", default=None, metavar="OUT.pdf", help="also write it as PDF")
    parser.add_argument("--ranks-figure", dest="ranks_png", required=True, metavar="OUT.png",
                        help="the figure of the on-path priority ranks against the foresight to write (PNG)")
    parser.add_argument("--ranks-pdf", default=None, metavar="OUT.pdf", help="also write it as PDF")


@command("atlas", "draw the robustness atlas: the heat map of every claim's verdict on every variant, and the "
                  "on-path priority ranks against the foresight",
         _atlas_args)
def _atlas(args: argparse.Namespace) -> None:
    _draw_off_screen()
    from himo.plotting.figures import write_figure
    from himo.plotting.robustness import RANKS_NEEDS, ROBUSTNESS_NEEDS, rank_figure, read_table, verdict_heatmap

    verdicts = read_table(args.robustness, ROBUSTNESS_NEEDS)
    ranks = read_table(args.ranks, RANKS_NEEDS)
    if verdicts.empty:
        raise HimoError(f"{args.robustness}: the table has no rows")
    write_figure(verdict_heatmap(verdicts), args.heatmap, args.heatmap_pdf)
    write_figure(rank_figure(ranks), args.ranks_png, args.ranks_pdf)

