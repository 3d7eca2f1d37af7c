checkpoint wave:
    """A wave from its raw file to all its microdata give, read once: validated and harmonized
    responses (identifiers and free text dropped), the ingest log, the estimates, what of them may
    be published and, with comparisons, the differences and tests within the wave. A checkpoint:
    which populations' charts a wave has depends on the values its published table holds."""
    input:
        responses=lambda wc: str(wave_of(wc).responses),
        codebook=lambda wc: str(wave_of(wc).codebook),
        population=lambda wc: [str(p) for p in [wave_of(wc).population] if p is not None],
    output:
        data=f"{PROCESSED}/{{wave}}/responses.parquet",
        log=f"{PROCESSED}/{{wave}}/ingest_log.json",
        table=f"{PROCESSED}/{{wave}}/prevalence.csv",
        published=f"{PROCESSED}/{{wave}}/published.csv",
        published_log=report(
            f"{RESULTS}/ingest/{{wave}}.json",
            caption="../report/ingest_log.rst",
            category="{wave}",
            subcategory="Data",
        ),
        **WAVE_COMPARISON_FILES,
    params:
        design=lambda wc: wave_of(wc).design,
        privacy=CONFIG.privacy,
        by=[list(d) for d in CONFIG.by],
        ci_method=CONFIG.ci_method,
        level=CONFIG.level,
        publication=CONFIG.publication,
        populations=[list(p) for p in CONFIG.populations],
        comparisons=CONFIG.comparisons,
        waves=WAVES,
        # for the ingest log's caption in the report
        label=lambda wc: wave_of(wc).label,
        source=lambda wc: CODEBOOKS[wc.wave].source or "",
        synthetic=lambda wc: CODEBOOKS[wc.wave].synthetic,
    priority: 40  # first: every other job waits for the waves
    threads: 1
    resources:
        mem_mb=mem_mb(40, 1000),
        runtime=runtime(0.5),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/wave/{{wave}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/wave/{{wave}}.tsv",
    script:
        "../../scripts/rule_wave.py"
