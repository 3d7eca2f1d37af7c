# The charts of each wave (as soon as the wave is done) and of each of its populations; those of
# the study as a whole (across waves, forest plots) are drawn by rule publish. A rule per wave
# (charts_<wave>), since the "of whom" breakdowns and categorical questions a wave has are its
# codebook's.
for _wave in WAVES:
    _folder = f"{RESULTS}/figures/{_wave}"

    rule:
        """A wave's charts: prevalence by indicator, each "of whom" breakdown, each categorical
        question as stacked bars, and each indicator by domain (dots, heat map)."""
        name:
            re.sub(r"\W", "_", f"charts_{_wave}")
        input:
            table=f"{PROCESSED}/{_wave}/published.csv",
            codebook=str(CONFIG.waves[_wave].codebook),
        output:
            report(
                [f"{_folder}/by_indicator.{e}" for e in EXTS],
                caption="../report/by_indicator.rst",
                category=_wave,
                subcategory="Charts",
            ),
            report(
                [f"{_folder}/{s}.{e}" for s in CATEGORICAL[_wave] for e in EXTS],
                caption="../report/categorical.rst",
                category=_wave,
                subcategory="Charts",
            ),
            report(
                [f"{_folder}/by_{d}.{e}" for d in CHART_DOMAINS for e in EXTS],
                caption="../report/by_domain.rst",
                category=_wave,
                subcategory="Charts",
            ),
            report(
                [f"{_folder}/heatmap_{d}.{e}" for d in CHART_DOMAINS for e in EXTS],
                caption="../report/heatmap.rst",
                category=_wave,
                subcategory="Charts",
            ),
            [f"{_folder}/{stem}.csv" for stem in wave_chart_stems(_wave)],
            report(
                of_whom_charts(_wave, EXTS),
                caption="../report/of_whom.rst",
                category=_wave,
                subcategory="Charts",
            ),
            of_whom_charts(_wave, ["csv"]),
        params:
            step=f"charts {_wave}",
            wave=_wave,
            wave_label=WAVE_LABELS[_wave],
            domains=CHART_DOMAINS,
            population=None,
            of_whom=OF_WHOM[_wave],
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
                step=f"charts {_wave} {_domain}",
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
