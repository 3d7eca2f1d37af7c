# The charts: a wave's own (as soon as the wave is done) and those of the study as a whole.
# A rule per wave: each categorical question of its codebook adds a chart of its own.
for _wave in WAVES:
    _figures = f"{RESULTS}/figures/{_wave}"

    rule:
        """A wave's charts: prevalence by indicator, each categorical question as stacked bars,
        and each indicator by domain (dots, heat map)."""
        name:
            re.sub(r"\W", "_", f"charts_{_wave}")
        input:
            table=f"{PROCESSED}/{_wave}/published.csv",
            codebook=str(CONFIG.waves[_wave].codebook),
        output:
            report(
                [f"{_figures}/by_indicator.{e}" for e in EXTS],
                caption="../report/by_indicator.rst",
                category=_wave,
                subcategory="Charts",
            ),
            report(
                [f"{_figures}/{s}.{e}" for s in CATEGORICAL[_wave] for e in EXTS],
                caption="../report/categorical.rst",
                category=_wave,
                subcategory="Charts",
            ),
            report(
                [f"{_figures}/by_{d}.{e}" for d in CHART_DOMAINS for e in EXTS],
                caption="../report/by_domain.rst",
                category=_wave,
                subcategory="Charts",
            ),
            report(
                [f"{_figures}/heatmap_{d}.{e}" for d in CHART_DOMAINS for e in EXTS],
                caption="../report/heatmap.rst",
                category=_wave,
                subcategory="Charts",
            ),
            [f"{_figures}/{stem}.csv" for stem in wave_chart_stems(_wave)],
        params:
            wave=_wave,
            wave_label=WAVE_LABELS[_wave],
            domains=CHART_DOMAINS,
            population=None,
            of_whom=[],  # drawn by rule study_charts
            out_dir=lambda wc, output: os.path.dirname(output[0]),
            publication=CONFIG.publication,
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        conda:
            ENV
        log:
            f"{RESULTS}/logs/charts/{_wave}.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/charts/{_wave}.tsv",
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
                    of_whom_charts(wave, EXTS),
                    caption="../report/of_whom.rst",
                    category=wave,
                    subcategory="Charts",
                )
                for wave in WAVES
                if OF_WHOM[wave]
            ],
            *[of_whom_charts(wave, ["csv"]) for wave in WAVES],
            across_waves_charts(["csv"]),
            *(
                [
                    report(
                        across_waves_charts(EXTS),
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
            publication=CONFIG.publication,
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


# The charts of each population (figures.populations) in each wave whose codebook has its
# domain: a rule per wave and domain (its "of whom" charts and crossed domains are its own),
# the value a wildcard. rule all asks for the values each wave's published table holds.
for _wave in WAVES:
    for _domain in [d for d in CROSSED if d in CODEBOOKS[_wave].domains]:
        _stem = f"{RESULTS}/figures/{_wave}/{_domain}-{{value}}"

        rule:
            name:
                re.sub(r"\W", "_", f"population_charts_{_wave}_{_domain}")
            input:
                table=f"{PROCESSED}/{_wave}/published.csv",
                codebook=str(CONFIG.waves[_wave].codebook),
            output:
                report(
                    [f"{_stem}/{s}.{e}" for s in population_stems(_wave, _domain) for e in EXTS],
                    caption="../report/population.rst",
                    category=_wave,
                    subcategory=f"Charts: {_domain} {{value}}",
                ),
                [f"{_stem}/{s}.csv" for s in population_stems(_wave, _domain)],
            params:
                wave=_wave,
                wave_label=WAVE_LABELS[_wave],
                population=lambda wc, domain=_domain: [domain, wc.value],
                domains=CROSSED[_domain],
                of_whom=OF_WHOM[_wave],
                out_dir=lambda wc, output: os.path.dirname(output[0]),
                publication=CONFIG.publication,
            wildcard_constraints:
                value="[^/]+",
            threads: 1
            resources:
                mem_mb=1000,
                runtime=10,
            conda:
                ENV
            log:
                f"{RESULTS}/logs/charts/{_wave}/{_domain}-{{value}}.log",
            benchmark:
                f"{RESULTS}/logs/benchmarks/charts/{_wave}/{_domain}-{{value}}.tsv",
            script:
                "../../scripts/rule_charts.py"
