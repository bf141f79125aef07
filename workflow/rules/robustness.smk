# Stage 6: the robustness atlas drawn, from the tables of stage 5: the verdict of
# every claim on every variant (figures/robustness.png and .pdf) and the on-path
# priority ranks against the foresight (figures/priority_ranks.png and .pdf).


rule robustness_figures:
    """The heat map of verdicts and the priority ranks by foresight, one process."""
    input:
        robustness=rules.claims.output.robustness,
        ranks=rules.claims.output.ranks,
        code=get_code("atlas"),
    output:
        heatmap=report("figures/robustness.png", caption="../report/robustness.rst", category="Robustness"),
        heatmap_pdf="figures/robustness.pdf",
        ranks=report("figures/priority_ranks.png", caption="../report/priority_ranks.rst",
                     category="Robustness"),
        ranks_pdf="figures/priority_ranks.pdf",
    log:
        "figures/robustness.log",
    shell:
        "himo atlas {input.robustness} {input.ranks} --heatmap {output.heatmap} --heatmap-pdf {output.heatmap_pdf}"
        " --ranks-figure {output.ranks} --ranks-pdf {output.ranks_pdf} > {log} 2>&1"
