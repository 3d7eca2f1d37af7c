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
        mem_mb=mem_mb(10, 1000),
        runtime=runtime(0.1),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/figures/{{wave}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/figures/{{wave}}.tsv",
    script:
        "../../scripts/rule_figures.py"


rule of_whom:
    """A parent indicator and its conditional ("of whom") breakdown."""
    input:
        table=f"{RESULTS}/tables/prevalence.csv",
        codebook=lambda wc: str(wave_of(wc).codebook),
    output:
        report(
            multiext(f"{RESULTS}/figures/{{wave}}/of_whom_{{parent}}", ".png", ".svg", ".pdf"),
            caption="../report/of_whom.rst",
            category="{wave}",
            subcategory="Charts",
        ),
    params:
        wave_label=lambda wc: wave_of(wc).label,
        stem=lambda wc, output: os.path.splitext(output[0])[0],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    log:
        f"{RESULTS}/logs/of_whom/{{wave}}_{{parent}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/of_whom/{{wave}}_{{parent}}.tsv",
    script:
        "../../scripts/rule_of_whom.py"


rule across_waves:
    """Each harmonized indicator across the waves that asked it."""
    input:
        table=f"{RESULTS}/tables/prevalence.csv",
        codebooks=[str(w.codebook) for w in CONFIG.waves.values()],
    output:
        report(
            expand(f"{RESULTS}/figures/waves/{{indicator}}.{{ext}}", indicator=ACROSS_WAVES, ext=EXTS),
            caption="../report/across_waves.rst",
            category="Across waves",
        ),
    params:
        codebooks={w.id: str(w.codebook) for w in CONFIG.waves.values()},
        wave_labels=WAVE_LABELS,
        indicators=ACROSS_WAVES,
        out_dir=lambda wc, output: os.path.dirname(output[0]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    log:
        f"{RESULTS}/logs/across_waves.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/across_waves.tsv",
    script:
        "../../scripts/rule_across_waves.py"


rule tables:
    """Publication tables: a sheet per wave (xlsx), Markdown, LaTeX and HTML."""
    input:
        table=f"{RESULTS}/tables/prevalence.csv",
        codebooks=[str(w.codebook) for w in CONFIG.waves.values()],
    output:
        report(
            TABLE_FILES,
            caption="../report/tables.rst",
            category="Tables",
        ),
    params:
        codebooks={w.id: str(w.codebook) for w in CONFIG.waves.values()},
        wave_labels=WAVE_LABELS,
        domains=["+".join(d) for d in CONFIG.by],
        style=CONFIG.tables,
        out_dir=lambda wc, output: os.path.dirname(output[0]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    log:
        f"{RESULTS}/logs/tables.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/tables.tsv",
    script:
        "../../scripts/rule_tables.py"


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
    benchmark:
        f"{RESULTS}/logs/benchmarks/manifest.tsv",
    script:
        "../../scripts/rule_manifest.py"
