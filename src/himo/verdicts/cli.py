"""The cross-run subcommands (registered on import): ``himo claims`` and ``himo replication``, which
the workflow runs, and ``himo claims-doc`` and ``himo readme``, which write the repository's
generated documents (docs/CLAIMS.md, the README's summary of the results)."""

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
    from himo.io import csv_text, write_texts
    from himo.verdicts.report import claims_json, claims_markdown
    from himo.verdicts.robustness import RANK_COLUMNS, ROBUSTNESS_COLUMNS, rank_table, robustness_table

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
    parser.add_argument("lift", help="results/bottleneck_lift.csv (from 'himo lift')")
    parser.add_argument("--priors", default=None, metavar="PRIORS.csv",
                        help="results/prior_runs.csv (from 'himo baselines --priors'): the runs from priors "
                             "drawn near the uniform one, for the report's section on how firm the orders are")
    parser.add_argument("--md", required=True, help="the report to write (results/replication.md)")
    parser.add_argument("--metadata", required=True, metavar="OUT.yaml",
                        help="its ReScience C metadata to write (results/metadata.yaml)")
    parser.add_argument("--figure", action="append", default=[], metavar="PATH",
                        help="a figure the report shows, as a path from the working directory "
                             "(figures/fig1.png), repeatable")


@command("replication", "write the replication report (ReScience C style) and its metadata from the claims, "
                        "the robustness atlas, the baselines and the bottleneck lift tables",
         _replication_args)
def _replication(args: argparse.Namespace) -> None:
    from himo.io import write_texts
    from himo.provenance import package_versions
    from himo.verdicts.findings import Tables
    from himo.verdicts.replication import write_report

    try:
        tables = Tables.read(args.claims, args.robustness, args.baselines, args.lift, args.priors)
    except (OSError, ValueError, KeyError) as err:
        raise HimoError(f"cannot read the results tables: {err}") from None
    report, metadata = write_report(tables, package_versions(), tuple(args.figure))
    write_texts({args.md: report, args.metadata: metadata})


def _claims_doc_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="the Markdown file to write (docs/CLAIMS.md)")


@command("claims-doc", "write the reference of the claims registry, what docs/CLAIMS.md holds", _claims_doc_args)
def _claims_doc(args: argparse.Namespace) -> None:
    from himo.io import write_texts
    from himo.verdicts.report import claims_reference

    write_texts({args.out: claims_reference()})


def _readme_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", help="the replication report (results/replication.md)")
    parser.add_argument("readme", help="the README whose summary of the results to update (README.md)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; only say (on stderr) whether the README's copy is the report's summary")


@command("readme", "copy the summary of a replication report into the README, between its marks", _readme_args)
def _readme(args: argparse.Namespace) -> None:
    import sys

    from himo.io import write_texts
    from himo.verdicts.replication import updated_readme

    readme, updated = updated_readme(args.report, args.readme)
    if updated == readme:
        return
    if args.check:
        print(f"note: the summary in {args.readme} differs from {args.report}'s; `make readme` copies it",
              file=sys.stderr)
    else:
        write_texts({args.readme: updated})
