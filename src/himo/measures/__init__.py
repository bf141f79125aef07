"""What is computed per run, from one trajectory: the measures of the paper's section 4.

The first half of the analysis pipeline (``himo measures``, ``himo run``):

- :mod:`himo.measures.dataset` turns a trajectory into a measures dataset: the
  policy divergence PD and counter difference CD (their normalized forms and time
  derivatives are computed when read, :func:`~himo.measures.dataset.time_series`),
  each state's priority, the optimal path, the state graph and the
  reference orders (dynamic programming, optimal gap, prior rate);
- :mod:`himo.measures.orders` compares priority orders under the project's tie rule
  (the time grid's resolution between two priorities) and Kendall's tau-b;
- :mod:`himo.measures.states` reads the states of a measures dataset (roles, start,
  goal, optimal path, state graph, rooms);
- :mod:`himo.measures.cli` registers the subcommands.

Nothing here reads more than one run; the cross-run verdicts and reports are
:mod:`himo.verdicts`, which imports this package and never the other way round.

(The package imports none of its modules itself: every ``himo`` command loads
:mod:`himo.measures.cli`, and an eager import here would make the measures code an
input of every workflow stage; see :mod:`himo.pipeline.sources`.)
"""
