# Stage 8: the replication report, results/replication.md, and its ReScience C
# metadata, results/metadata.yaml: a replication article written from the tables
# of stages 5, 7 and 7b (every number read from them), with the figures it shows as
# inputs so that the report is written after them.


rule replication:
    """The replication report and its metadata, from the claims, the atlas, the baselines and the lift tables."""
    input:
        claims=rules.claims.output.json,
        robustness=rules.claims.output.robustness,
        baselines=rules.baselines.output.csv,
        lift=rules.lift.output.csv,
        priors=rules.baselines.output.priors,
        shown=get_named_figure_files(),
        figures=[*rules.robustness_figures.output, rules.baselines.output.png, rules.lift.output.png],
        code=get_code("replication"),
    output:
        md=report("results/replication.md", caption="../report/replication.rst", category="Replication"),
        metadata="results/metadata.yaml",
    params:
        shown=get_named_figure_args(),
    log:
        "results/replication.log",
    shell:
        "himo replication {input.claims} {input.robustness} {input.baselines} {input.lift}"
        " --priors {input.priors} --md {output.md} --metadata {output.metadata} {params.shown} > {log} 2>&1"
