rule estimate:
    """Prevalence of every indicator, overall and by domain, with intervals (analyst's copy)."""
    input:
        data=f"{PROCESSED}/{{wave}}/responses.parquet",
        codebook=lambda wc: str(wave_of(wc).codebook),
    output:
        table=f"{PROCESSED}/{{wave}}/prevalence.csv",
    params:
        by=[list(d) for d in CONFIG.by],
        design=lambda wc: wave_of(wc).design,
        ci_method=CONFIG.ci_method,
        level=CONFIG.level,
    threads: 1
    resources:
        mem_mb=mem_mb(30),
        runtime=runtime(0.5),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/estimate/{{wave}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/estimate/{{wave}}.tsv",
    script:
        "../../scripts/rule_estimate.py"


rule prevalence_table:
    """All waves in one long table, as published."""
    input:
        tables=expand(f"{PROCESSED}/{{wave}}/prevalence.csv", wave=WAVES),
    params:
        publication=CONFIG.publication,
    output:
        table=report(
            f"{RESULTS}/tables/prevalence.csv",
            caption="../report/prevalence.rst",
            category="Tables",
        ),
    threads: 1
    resources:
        mem_mb=mem_mb(5),
        runtime=runtime(0.05),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/prevalence_table.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/prevalence_table.tsv",
    script:
        "../../scripts/rule_prevalence_table.py"
