# Stage 7: the baselines figure, figures/baselines.png and .pdf, and its table,
# results/baselines.csv: for each paper environment, the on-path priority order of
# HIMO, the first-order path gradient, the softmax policy gradient and dynamic
# programming side by side, and Kendall tau against the DP order by foresight;
# and results/prior_runs.csv, the same numbers for the runs from priors drawn near
# the uniform one (the sweeps over prior_seed), beside their uniform-prior runs.
# The runs compared are chosen by their attributes (paper_env, method, foresight;
# himo.verdicts.baselines), so the rule reads every run's measures.


rule baselines:
    """The baselines figure and table from every run's measures."""
    input:
        measures=get_measures_files(),
        code=get_code("baselines"),
    output:
        png=report("figures/baselines.png", caption="../report/baselines.rst", category="Baselines"),
        pdf="figures/baselines.pdf",
        csv="results/baselines.csv",
        priors="results/prior_runs.csv",
    log:
        "figures/baselines.log",
    shell:
        "himo baselines {input.measures} --png {output.png} --pdf {output.pdf} --csv {output.csv} --priors {output.priors} > {log} 2>&1"
