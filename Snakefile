# prevalence: survey responses -> prevalence with intervals -> tables, charts, report.
# This file is a table of contents; each stage lives in workflow/rules/<stage>.smk.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/wave.smk"
include: "workflow/rules/publish.smk"
include: "workflow/rules/charts.smk"
include: "workflow/rules/reproduce.smk"
include: "workflow/rules/coverage.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/study.smk"


rule all:
    input:
        final_outputs(),
        population_outputs,
        manifest=f"{RESULTS}/manifest.json",
        check=[f"{RESULTS}/logs/reproduction_check.txt"] if CONFIG.targets else [],
    default_target: True
