# The charts: a wave's own (as soon as the wave is done) and those of the study as a whole.
rule charts:
    """A wave's charts: prevalence by indicator, and each indicator by domain (dots, heat map)."""
    input:
        table=f"{PROCESSED}/{{wave}}/published.csv",
        codebook=lambda wc: str(wave_of(wc).codebook),
    output:
        report(
            expand(
                f"{RESULTS}/figures/{{{{wave}}}}/by_indicator.{{ext}}", ext=["png", "svg", "pdf"]
            ),
            caption="../report/by_indicator.rst",
            category="{wave}",
            subcategory="Charts",
        ),
        report(
            expand(
                f"{RESULTS}/figures/{{{{wave}}}}/by_{{domain}}.{{ext}}",
                domain=CHART_DOMAINS,
                ext=["png", "svg", "pdf"],
            ),
            caption="../report/by_domain.rst",
            category="{wave}",
            subcategory="Charts",
        ),
        report(
            expand(
                f"{RESULTS}/figures/{{{{wave}}}}/heatmap_{{domain}}.{{ext}}",
                domain=CHART_DOMAINS,
                ext=["png", "svg", "pdf"],
            ),
            caption="../report/heatmap.rst",
            category="{wave}",
            subcategory="Charts",
        ),
    params:
        wave_label=lambda wc: wave_of(wc).label,
        domains=CHART_DOMAINS,
        out_dir=lambda wc, output: os.path.dirname(output[0]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    log:
        f"{RESULTS}/logs/charts/{{wave}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/charts/{{wave}}.tsv",
    script:
        "../../scripts/rule_charts.py"


if STUDY_CHARTS:

    rule study_charts:
        """The charts of the study: each "of whom" breakdown, each harmonized indicator across
        waves, and forest plots of the differences."""
        input:
            table=f"{RESULTS}/tables/prevalence.csv",
            contrasts=[f"{RESULTS}/tables/contrasts.csv"] if CONFIG.comparisons else [],
            codebooks=[str(w.codebook) for w in CONFIG.waves.values()],
        output:
            *[
                report(
                    of_whom_charts(wave),
                    caption="../report/of_whom.rst",
                    category=wave,
                    subcategory="Charts",
                )
                for wave in WAVES
                if OF_WHOM[wave]
            ],
            *(
                [
                    report(
                        ACROSS_WAVES_CHARTS,
                        caption="../report/across_waves.rst",
                        category="Across waves",
                    )
                ]
                if ACROSS_WAVES
                else []
            ),
            *(
                [
                    report(
                        directory(f"{RESULTS}/figures/comparisons"),
                        patterns=["{name}.{ext}"],
                        caption="../report/forest.rst",
                        category="Comparisons",
                    )
                ]
                if CONFIG.comparisons is not None
                else []
            ),
        params:
            waves=WAVES,
            wave_labels=WAVE_LABELS,
            of_whom={w: p for w, p in OF_WHOM.items() if p},
            across_waves=ACROSS_WAVES,
            figures_dir=lambda wc, output: f"{RESULTS}/figures",
            comparisons_dir=lambda wc, output: f"{RESULTS}/figures/comparisons",
        priority: 20  # the longest chart job, started before the charts of each wave
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        conda:
            ENV
        log:
            f"{RESULTS}/logs/study_charts.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/study_charts.tsv",
        script:
            "../../scripts/rule_study_charts.py"
