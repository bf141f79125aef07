# Stage 4: the six-panel figures, figures/<figure>.png and .pdf: the named figures
# of the config (fig1, fig2, figS1) and one per other run (figures/<key>.png).


rule figure:
    """The dynamics figure of one run, PD and CD normalized or raw."""
    input:
        measures=get_figure_measures,
        code=get_code("figure"),
    output:
        png=report(
            "figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
        pdf="figures/{figure}.pdf",
    params:
        style=get_figure_style,
    log:
        "figures/{figure}.log",
    # as soon as its run is measured, before the other runs (whose priority is their
    # number): the figures then fill the cores while the last runs are solved
    priority:
        100
    shell:
        "himo figure {input.measures} {output.png} --pdf {output.pdf} {params.style} > {log} 2>&1"
