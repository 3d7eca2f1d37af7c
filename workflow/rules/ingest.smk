rule ingest:
    """Validate a wave against its codebook; harmonize; drop identifiers and free text."""
    input:
        responses=lambda wc: str(wave_of(wc).responses),
        codebook=lambda wc: str(wave_of(wc).codebook),
    output:
        data=f"{PROCESSED}/{{wave}}/responses.parquet",
        log=f"{PROCESSED}/{{wave}}/ingest_log.json",
    params:
        design=lambda wc: wave_of(wc).design,
        privacy=CONFIG.privacy,
    threads: 1
    resources:
        mem_mb=mem_mb(20),
        runtime=runtime(0.2),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/ingest/{{wave}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/ingest/{{wave}}.tsv",
    script:
        "../../scripts/rule_ingest.py"


rule publish_ingest_log:
    """The ingest log, for the report: row accounting and item non-response."""
    input:
        f"{PROCESSED}/{{wave}}/ingest_log.json",
    output:
        report(
            f"{RESULTS}/ingest/{{wave}}.json",
            caption="../report/ingest_log.rst",
            category="{wave}",
            subcategory="Data",
        ),
    threads: 1
    resources:
        mem_mb=mem_mb(1, 100),
        runtime=runtime(0, 1),
    conda:
        ENV
    log:
        f"{RESULTS}/logs/publish_ingest_log/{{wave}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/publish_ingest_log/{{wave}}.tsv",
    script:
        "../../scripts/rule_publish_ingest_log.py"
