if CONFIG.comparisons is not None:

    rule contrasts:
        """Differences between domains within a wave and between waves, with adjusted tests."""
        input:
            table=f"{RESULTS}/tables/prevalence.csv",
            data=expand(f"{PROCESSED}/{{wave}}/responses.parquet", wave=WAVES),
            codebooks=[str(w.codebook) for w in CONFIG.waves.values()],
        output:
            report(
                f"{RESULTS}/tables/contrasts.csv",
                caption="../report/contrasts.rst",
                category="Comparisons",
            ),
        params:
            waves=WAVE_INPUTS,
            comparisons=CONFIG.comparisons,
            level=CONFIG.level,
        threads: 1
        resources:
            mem_mb=mem_mb(30),
            runtime=runtime(0.5),
        conda:
            ENV
        log:
            f"{RESULTS}/logs/contrasts.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/contrasts.tsv",
        script:
            "../../scripts/rule_contrasts.py"

    rule association_tests:
        """Rao-Scott tests of association of each indicator with each domain."""
        input:
            table=f"{RESULTS}/tables/prevalence.csv",
            data=expand(f"{PROCESSED}/{{wave}}/responses.parquet", wave=WAVES),
            codebooks=[str(w.codebook) for w in CONFIG.waves.values()],
        output:
            report(
                f"{RESULTS}/tables/association_tests.csv",
                caption="../report/association_tests.rst",
                category="Comparisons",
            ),
        params:
            waves=WAVE_INPUTS,
            comparisons=CONFIG.comparisons,
        threads: 1
        resources:
            mem_mb=mem_mb(30),
            runtime=runtime(0.5),
        conda:
            ENV
        log:
            f"{RESULTS}/logs/association_tests.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/association_tests.tsv",
        script:
            "../../scripts/rule_association_tests.py"

    rule forest:
        """Forest plots of the differences."""
        input:
            contrasts=f"{RESULTS}/tables/contrasts.csv",
            codebooks=[str(w.codebook) for w in CONFIG.waves.values()],
        output:
            report(
                directory(f"{RESULTS}/figures/comparisons"),
                patterns=["{name}.{ext}"],
                caption="../report/forest.rst",
                category="Comparisons",
            ),
        params:
            codebooks={w.id: str(w.codebook) for w in CONFIG.waves.values()},
            wave_labels=WAVE_LABELS,
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        conda:
            ENV
        log:
            f"{RESULTS}/logs/forest.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/forest.tsv",
        script:
            "../../scripts/rule_forest.py"

    rule comparison_tables:
        """The differences and tests as publication tables."""
        input:
            contrasts=f"{RESULTS}/tables/contrasts.csv",
            association=f"{RESULTS}/tables/association_tests.csv",
            codebooks=[str(w.codebook) for w in CONFIG.waves.values()],
        output:
            report(
                COMPARISON_TABLES,
                caption="../report/contrasts.rst",
                category="Comparisons",
            ),
        params:
            codebooks={w.id: str(w.codebook) for w in CONFIG.waves.values()},
            wave_labels=WAVE_LABELS,
            style=CONFIG.tables,
            out_dir=lambda wc, output: os.path.dirname(output[0]),
        threads: 1
        resources:
            mem_mb=1000,
            runtime=5,
        conda:
            ENV
        log:
            f"{RESULTS}/logs/comparison_tables.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/comparison_tables.tsv",
        script:
            "../../scripts/rule_comparison_tables.py"
