# Stage 5: a verdict on each claim of the paper from all runs' measures: the
# verdicts and their numbers (results/claims.json and results/claims.md) and the
# robustness atlas, every claim judged on every run under each priority
# definition (results/robustness.csv, with the on-path priority ranks behind it in
# results/priority_ranks.csv).


rule claims:
    """Every claim judged on every run it applies to (by the runs' paper_env)."""
    input:
        measures=get_measures_files(),
        code=get_code("claims"),
    output:
        json="results/claims.json",
        md=report("results/claims.md", caption="../report/claims.rst", category="Claims"),
        robustness="results/robustness.csv",
        ranks="results/priority_ranks.csv",
    log:
        "results/claims.log",
    # ahead of the baselines and the lift, ready at the same time: the atlas figures and
    # the report wait for it, the longest chain after the runs
    priority:
        1
    shell:
        "himo claims {input.measures} --json {output.json} --md {output.md}"
        " --csv {output.robustness} --ranks {output.ranks} > {log} 2>&1"
