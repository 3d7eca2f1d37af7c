if CONFIG.coverage is not None:

    rule coverage:
        """Actual coverage of interval methods at the configured sample sizes."""
        output:
            table=report(
                f"{RESULTS}/tables/coverage.csv",
                caption="../report/coverage.rst",
                category="Methods",
            ),
            figure=report(
                multiext(f"{RESULTS}/figures/coverage/coverage", ".png", ".svg", ".pdf"),
                caption="../report/coverage.rst",
                category="Methods",
            ),
        params:
            coverage=CONFIG.coverage,
            level=CONFIG.level,
            stem=lambda wc, output: os.path.splitext(output.figure[0])[0],
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        conda:
            ENV
        log:
            f"{RESULTS}/logs/coverage.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/coverage.tsv",
        script:
            "../../scripts/rule_coverage.py"
