"""The cross-run subcommands ``himo claims`` and ``himo replication`` (registered on import)."""

from __future__ import annotations

import argparse

from himo.cli import command
from himo.errors import HimoError
from himo.io import read_netcdf


#: ``himo claims`` reads the variables of at most this many values at once, the others when used.
CLAIMS_LOAD_MAX_SIZE = 100_000


def _claims_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("measures", nargs="+", help="measures files (one per run, from 'himo measures')")
    parser.add_argument("--json", required=True, help="the JSON file to write (results/claims.json)")
    parser.add_argument("--md", required=True, help="the Markdown file to write (results/claims.md)")
    parser.add_argument("--csv", default=None, metavar="OUT.csv",
                        help="also write the robustness table, one row per claim, run and priority definition "
                             "(results/robustness.csv)")
    parser.add_argument("--ranks", default=None, metavar="OUT.csv",
                        help="also write the on-path priority ranks, one row per run, priority definition and "
                             "on-path state (results/priority_ranks.csv)")


@command("claims", "decide each claim of the paper from measures files; write JSON and Markdown",
         _claims_args)
def _claims(args: argparse.Namespace) -> None:
    from himo.verdicts.claims import CLAIMS
    from himo.verdicts.judging import evaluate_claims
    from himo.verdicts.report import claims_json, claims_markdown
    from himo.verdicts.robustness import RANK_COLUMNS, ROBUSTNESS_COLUMNS, csv_text, rank_table, robustness_table
    from himo.io import write_texts

    # The claims read the small variables of each run (and the CD series of a few):
    # the long time series stay on disk until a claim reads them.
    runs = [read_netcdf(path, "measures", load_max_size=CLAIMS_LOAD_MAX_SIZE) for path in args.measures]
    for path, ds in zip(args.measures, runs):
        if "priority" not in ds.variables:
            raise HimoError(f"{path}: not a measures file (no variable 'priority')")
    records = evaluate_claims(CLAIMS, runs)
    texts = {args.json: claims_json(records), args.md: claims_markdown(records, CLAIMS)}
    if args.csv is not None:
        texts[args.csv] = csv_text(robustness_table(records, CLAIMS), ROBUSTNESS_COLUMNS)
    if args.ranks is not None:
        texts[args.ranks] = csv_text(rank_table(runs, records, CLAIMS), RANK_COLUMNS)
    write_texts(texts)


def _replication_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("claims", help="results/claims.json (from 'himo claims')")
    parser.add_argument("robustness", help="results/robustness.csv (from 'himo claims --csv')")
    parser.add_argument("baselines", help="results/baselines.csv (from 'himo baselines')")
    parser.add_argument("--md", required=True, help="the report to write (results/replication.md)")
    parser.add_argument("--metadata", required=True, metavar="OUT.yaml",
                        help="its ReScience C metadata to write (results/metadata.yaml)")
    parser.add_argument("--figure", action="append", default=[], metavar="PATH",
                        help="a figure the report shows, as a path from the working directory "
                             "(figures/fig1.png), repeatable")


@command("replication", "write the replication report (ReScience C style) and its metadata from the claims, "
                        "the robustness atlas and the baselines tables",
         _replication_args)
def _replication(args: argparse.Namespace) -> None:
    from himo.verdicts.replication import Results, metadata_yaml, replication_markdown
    from himo.io import write_texts
    from himo.provenance import package_versions

    try:
        results = Results.read(args.claims, args.robustness, args.baselines)
    except (OSError, ValueError, KeyError) as err:
        raise HimoError(f"cannot read the results tables: {err}") from None
    texts = {args.md: replication_markdown(results, package_versions(), tuple(args.figure)),
             args.metadata: metadata_yaml(results)}
    write_texts(texts)
