"""``himo figure MEASURES.nc OUT.png [--pdf OUT.pdf] [--normalized | --raw]``.

Draws the six-panel dynamics figure (paper Figs. 1, 2, S1) of one measures dataset.
``--normalized`` (the default; Fig. 1) shows PD~ and CD~, ``--raw`` (Figs. 2 and S1)
PD and CD. Outputs are written atomically and byte-for-byte reproducibly.
"""

from __future__ import annotations

import argparse

from himo.cli import command
from himo.errors import HimoError

#: What the figure reads from the measures dataset (docs/CONTRACTS.md).
REQUIRED = ("time", "objective", "priority")


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
    import matplotlib

    matplotlib.use("Agg")
    from himo.io import atomic_output, read_netcdf
    from himo.plotting.figures import dynamics_figure, save_figure

    measures = read_netcdf(args.measures, "measures")
    curves = [f"{base}_norm" if args.normalized else base for base in ("PD", "CD")]
    needed = list(REQUIRED) + curves + [f"d{c}_dt" for c in curves]
    missing = [name for name in needed if name not in measures.variables]
    if missing:
        raise HimoError(f"{args.measures}: the measures dataset misses {', '.join(missing)} "
                        "(see docs/CONTRACTS.md, 'Measures dataset')")
    fig = dynamics_figure(measures, normalized=args.normalized, t_max=args.t_max, title=args.title)
    with atomic_output(args.out) as png:
        if args.pdf is None:
            save_figure(fig, png=png)
        else:
            with atomic_output(args.pdf) as pdf:
                save_figure(fig, png=png, pdf=pdf)
