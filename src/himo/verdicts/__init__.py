"""What is judged and written across runs: the paper's claims, their verdicts and the reports.

The second half of the analysis pipeline (``himo claims``, ``himo replication``,
``himo baselines``; ``himo claims-doc`` and ``himo readme`` write the repository's
documents), reading the measures datasets of :mod:`himo.measures` and the tables
written from them:

- :mod:`himo.verdicts.claims` holds the paper's claims, each one object
  (``docs/CLAIMS.md``); :mod:`himo.verdicts.judging` is the runner that decides them
  from measures datasets, and the words of a verdict;
- :mod:`himo.verdicts.robustness` is the atlas (every claim on every variant,
  results/robustness.csv) and :mod:`himo.verdicts.baselines` the comparison of
  HIMO's orders with the first-order baselines' (results/baselines.csv);
- :mod:`himo.verdicts.report` writes the claims' verdicts (results/claims.json,
  results/claims.md, docs/CLAIMS.md) and :mod:`himo.verdicts.replication` the replication
  report (results/replication.md) from the findings that :mod:`himo.verdicts.findings`
  reads from the tables, both worded by the Jinja2 templates of
  :mod:`himo.verdicts.templates`;
- :mod:`himo.verdicts.vocabulary` holds the words they are all written in: the verdicts,
  their letters, the priority definitions, how numbers are printed;
- :mod:`himo.verdicts.cli` registers the subcommands.

(The package imports none of its modules itself: every ``himo`` command loads
:mod:`himo.verdicts.cli`, and an eager import here would make the verdicts' code an
input of every workflow stage; see :mod:`himo.pipeline.sources`.)
"""
