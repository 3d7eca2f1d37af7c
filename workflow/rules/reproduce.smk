if CONFIG.targets is not None:

    rule check_reproduction:
        """Fail the run, naming them, if published figures do not reproduce (runs last)."""
        input:
            reproduction=f"{RESULTS}/reproduction.csv",
            after=final_outputs(),
            manifest=f"{RESULTS}/manifest.json",
        output:
            f"{RESULTS}/logs/reproduction_check.txt",
        threads: 1
        resources:
            mem_mb=mem_mb(0, 300),
            runtime=runtime(0, 1),
        conda:
            ENV
        log:
            f"{RESULTS}/logs/check_reproduction.log",
        benchmark:
            f"{RESULTS}/logs/benchmarks/check_reproduction.tsv",
        script:
            "../../scripts/rule_check_reproduction.py"
