# What is published: the tables of all waves, and the provenance manifest.
PUBLISHED = {
    "table": report(
        f"{RESULTS}/tables/prevalence.csv",
        caption="../report/prevalence.rst",
        category="Tables",
    ),
    "tables": report(TABLE_FILES, caption="../report/tables.rst", category="Tables"),
    "findings": report(
        f"{RESULTS}/tables/key_findings.csv",
        caption="../report/key_findings.rst",
        category="Tables",
    ),
    "findings_md": f"{RESULTS}/tables/key_findings.md",
}
if CONFIG.comparisons is not None:
    PUBLISHED["contrasts"] = report(
        f"{RESULTS}/tables/contrasts.csv",
        caption="../report/contrasts.rst",
        category="Comparisons",
    )
    PUBLISHED["association"] = report(
        f"{RESULTS}/tables/association_tests.csv",
        caption="../report/association_tests.rst",
        category="Comparisons",
    )
    PUBLISHED["comparison_tables"] = report(
        COMPARISON_TABLES, caption="../report/contrasts.rst", category="Comparisons"
    )
# The charts of the study as a whole, drawn from the tables in the same job.
if ACROSS_WAVES:
    PUBLISHED["across_waves"] = report(
        across_waves_charts(EXTS), caption="../report/across_waves.rst", category="Across waves"
    )
    PUBLISHED["across_waves_data"] = across_waves_charts(["csv"])
if CONFIG.comparisons is not None:
    PUBLISHED["forest"] = report(
        directory(f"{RESULTS}/figures/comparisons"),
        patterns=["{name}.{ext}"],
        caption="../report/forest.rst",
        category="Comparisons",
    )
if CONFIG.targets is not None:
    PUBLISHED["reproduction"] = report(
        f"{RESULTS}/reproduction.csv",
        caption="../report/reproduction.rst",
        category="Reproduction",
    )


rule publish:
    """The published tables of all waves: prevalence (xlsx, md, tex, html, docx), the differences and
    tests of association with p-values adjusted over all waves, and each published figure against
    its estimate; then the charts of the study: each harmonized indicator across the waves, and
    forest plots of the differences."""
    input:
        **WAVE_FILES,
        targets=[str(CONFIG.targets)] if CONFIG.targets else [],
    output:
        **PUBLISHED,
    params:
        waves=WAVES,
        kinds=list(WAVE_FILES),
        wave_labels=WAVE_LABELS,
        domains=["+".join(d) for d in CONFIG.by],
        style=CONFIG.tables,
        comparisons=CONFIG.comparisons,
        level=CONFIG.level,
        populations=[list(p) for p in CONFIG.populations],
        publication=CONFIG.publication,
        out=publish_out,
        charts=study_charts,
    priority: 30  # before the charts: the study reports wait for it
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    log:
        f"{RESULTS}/logs/publish.log",
    benchmark:
        f"{RESULTS}/logs/benchmarks/publish.tsv",
    script:
        "../../scripts/rule_publish.py"


rule manifest:
    """Provenance: hashes of every input and output, the resolved config, versions, commit."""
    input:
        outputs=final_outputs(),
        population=population_outputs,
        raw=CONFIG.input_files(),
    output:
        f"{RESULTS}/manifest.json",
    params:
        config=CONFIG.resolved(),
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
