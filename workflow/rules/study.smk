# The study report of each wave, HTML and PDF, for people who read rather than browse.
# (final_outputs() lists them, so that the manifest holds them.)


rule study:
    """A wave's study report: sample, key findings, charts, main table, methods, limitations and
    the published figures against their recomputed values; the PDF printed by headless Chromium."""
    input:
        table=f"{RESULTS}/tables/prevalence.csv",
        findings=f"{RESULTS}/tables/key_findings.csv",
        ingest_log=f"{RESULTS}/ingest/{{wave}}.json",
        codebook=lambda wc: str(wave_of(wc).codebook),
        methods=os.path.join(workflow.basedir, "workflow/report/workflow.rst"),
        charts=wave_chart_files,
        reproduction=[f"{RESULTS}/reproduction.csv"] if CONFIG.targets else [],
    output:
        html=f"{RESULTS}/study/{{wave}}.html",
        pdf=f"{RESULTS}/study/{{wave}}.pdf",
    params:
        wave_label=lambda wc: wave_of(wc).label,
        domains=["+".join(d) for d in CONFIG.by],
        populations=[list(p) for p in CONFIG.populations],
        style=CONFIG.tables,
        publication=CONFIG.publication,
        # what the methods text reads as snakemake.config, this wave only
        settings=lambda wc: {
            "estimates": config["estimates"],
            "publication": config["publication"],
            "privacy": config["privacy"],
            "comparisons": config.get("comparisons"),
            "targets": bool(CONFIG.targets),
            "coverage": CONFIG.coverage is not None,
            "waves": {wc.wave: config["waves"][wc.wave]},
            "design": config.get("design"),
        },
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    log:
        f"{RESULTS}/logs/study/{{wave}}.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/study/{{wave}}.tsv",
    script:
        "../../scripts/rule_study.py"
