rule figures:
    """A wave's charts: prevalence by indicator, and each indicator by domain."""
    input:
        table=f"{RESULTS}/tables/prevalence.csv",
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
    params:
        wave_label=lambda wc: wave_of(wc).label,
        domains=CHART_DOMAINS,
        out_dir=lambda wc: f"{RESULTS}/figures/{wc.wave}",
    threads: 1
    resources:
        mem_mb=mem_mb(10, 1000),
        runtime=runtime(0.1),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/figures/{{wave}}.log",
    script:
        "../../scripts/figures.py"


rule manifest:
    """Provenance: hashes of every input and output, the resolved config, versions, commit."""
    input:
        final_outputs(),
        raw=[str(p) for w in CONFIG.waves.values() for p in (w.responses, w.codebook)]
        + ([str(CONFIG.targets)] if CONFIG.targets else []),
    output:
        f"{RESULTS}/manifest.json",
    params:
        config=CONFIG.resolved(),
        outputs=final_outputs(),
        raw=[str(p) for w in CONFIG.waves.values() for p in (w.responses, w.codebook)]
        + ([str(CONFIG.targets)] if CONFIG.targets else []),
    threads: 1
    resources:
        mem_mb=mem_mb(0, 300),
        runtime=runtime(0.01),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/manifest.log",
    script:
        "../../scripts/manifest.py"
