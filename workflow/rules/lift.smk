# Stage 7b: the bottleneck lift, results/bottleneck_lift.csv and figures/lift.png
# and .pdf: for every run of a paper environment, each claimed bottleneck's (and the
# state it is crossed from) DP rank minus its rank on the run's own optimal path
# (himo.verdicts.lift); the figure draws it against the foresight by method.


rule lift:
    """The bottleneck lift table and figure from every run's measures."""
    input:
        measures=get_measures_files(),
        code=get_code("lift"),
    output:
        csv="results/bottleneck_lift.csv",
        png=report("figures/lift.png", caption="../report/lift.rst", category="Baselines"),
        pdf="figures/lift.pdf",
    log:
        "figures/lift.log",
    shell:
        "himo lift {input.measures} --csv {output.csv} --png {output.png} --pdf {output.pdf} > {log} 2>&1"
