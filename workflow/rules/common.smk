# Validate the configuration before the DAG is built; shared names for the rules.
import os
import sys

from prevalence.codebook import of_whom_parents
from prevalence.errors import PrevalenceError
from prevalence.validate import validate_run

# Config, codebooks and every name they share are validated before the DAG is built, by the
# same function as `python -m prevalence check`: a bad one fails in a second, before any job.
try:
    CONFIG, CODEBOOKS = validate_run(
        workflow.configfiles[0] if workflow.configfiles else "config.yaml",
        config=config,
        root=workflow.basedir,
    )
except PrevalenceError as error:
    sys.exit(f"Configuration error: {error}")

# The report's methods section reads the resolved settings (defaults filled in).
config["publication"] = CONFIG.publication
config["privacy"] = CONFIG.privacy
config["estimates"] = {"by": [list(d) for d in CONFIG.by], "ci_method": CONFIG.ci_method, "level": CONFIG.level}

RESULTS = str(CONFIG.results)
WAVES = list(CONFIG.waves)
PROCESSED = "data/processed"
ENV = "../envs/prevalence.yaml"
# Charts by domain: single domains only (crossings stay in the tables).
CHART_DOMAINS = [d[0] for d in CONFIG.by if len(d) == 1]


wildcard_constraints:
    wave="|".join(WAVES) or "(?!)",


def input_mb(input):
    """The size of a job's input files in MB, read from the file system. (Snakemake's
    ``input.size_mb`` is a coroutine that `snakemake --report` never awaits: it warns once
    per rule. The inputs here are local files.)"""
    return sum(os.path.getsize(f) for f in input if os.path.isfile(f)) / 1e6


def mem_mb(factor, floor=500):
    """Memory for a job: ``floor`` MB plus ``factor`` times the size of its input."""

    def resource(wildcards, input, attempt):
        return int((floor + factor * input_mb(input)) * attempt)

    return resource


def runtime(factor, floor=5):
    """Minutes for a job: ``floor`` plus ``factor`` minutes per MB of input."""

    def resource(wildcards, input, attempt):
        return int((floor + factor * input_mb(input)) * attempt)

    return resource


def wave_of(wildcards):
    return CONFIG.waves[wildcards.wave]


EXTS = ("png", "svg", "pdf")
WAVE_LABELS = {w.id: w.label for w in CONFIG.waves.values()}
OF_WHOM = {wave: of_whom_parents(book) for wave, book in CODEBOOKS.items()}
# Harmonized indicators asked in two waves or more get a chart across waves.
ACROSS_WAVES = sorted(
    {
        ind
        for book in CODEBOOKS.values()
        for ind in book.indicators
        if sum(ind in b.indicators for b in CODEBOOKS.values()) >= 2
    }
)
COMPARISON_TABLES = [f"{RESULTS}/tables/comparisons.{e}" for e in ("xlsx", "md", "tex", "html")]
TABLE_FILES = [
    f"{RESULTS}/tables/prevalence.{ext}" for ext in ("xlsx", "md", "tex", "html", "docx")
]
# What rule wave writes for the comparisons (p-values unadjusted; parquet keeps them exact).
WAVE_COMPARISON_FILES = (
    {
        "within": f"{PROCESSED}/{{wave}}/within.parquet",
        "association": f"{PROCESSED}/{{wave}}/association.parquet",
        "domain_values": f"{PROCESSED}/{{wave}}/domain_values.json",
    }
    if CONFIG.comparisons is not None
    else {}
)
# Every wave's files that rule publish reads, by kind, each list in the configured order of
# the waves (the script pairs them with WAVES: prevalence.steps.files_by_wave).
WAVE_FILES = {
    "codebook": [str(w.codebook) for w in CONFIG.waves.values()],
    "table": [f"{PROCESSED}/{w}/prevalence.csv" for w in WAVES],
    "published": [f"{PROCESSED}/{w}/published.csv" for w in WAVES],
    **{key: [path.format(wave=w) for w in WAVES] for key, path in WAVE_COMPARISON_FILES.items()},
}


def wave_charts(wave):
    stems = ["by_indicator"] + [f"{kind}_{d}" for d in CHART_DOMAINS for kind in ("by", "heatmap")]
    return [f"{RESULTS}/figures/{wave}/{s}.{ext}" for s in stems for ext in EXTS]


def of_whom_charts(wave):
    return [f"{RESULTS}/figures/{wave}/of_whom_{p}.{ext}" for p in OF_WHOM[wave] for ext in EXTS]


ACROSS_WAVES_CHARTS = [f"{RESULTS}/figures/waves/{i}.{ext}" for i in ACROSS_WAVES for ext in EXTS]
# Rule study_charts draws these, when there are any.
STUDY_CHARTS = [p for w in WAVES for p in of_whom_charts(w)] + ACROSS_WAVES_CHARTS
if CONFIG.comparisons is not None:
    STUDY_CHARTS.append(f"{RESULTS}/figures/comparisons")


def final_outputs():
    files = [f"{RESULTS}/tables/prevalence.csv", *TABLE_FILES]
    files += [f"{RESULTS}/tables/key_findings.csv", f"{RESULTS}/tables/key_findings.md"]
    files += ACROSS_WAVES_CHARTS
    for wave in WAVES:
        files += wave_charts(wave) + of_whom_charts(wave)
        files.append(f"{RESULTS}/ingest/{wave}.json")
    if CONFIG.targets is not None:
        files.append(f"{RESULTS}/reproduction.csv")
    if CONFIG.comparisons is not None:
        files += [
            f"{RESULTS}/tables/contrasts.csv",
            f"{RESULTS}/tables/association_tests.csv",
            f"{RESULTS}/figures/comparisons",
            *COMPARISON_TABLES,
        ]
    if CONFIG.coverage is not None:
        files.append(f"{RESULTS}/tables/coverage.csv")
        files += [f"{RESULTS}/figures/coverage/coverage.{e}" for e in ("png", "svg", "pdf")]
    return files


def publish_out(wildcards, output):
    """The files and folder rule publish writes, by the names of prevalence.steps.publish_step."""
    named = dict(output.items())
    out = {"table": named["table"], "tables": os.path.dirname(named["table"])}
    keys = ("contrasts", "association", "reproduction", "findings", "findings_md")
    out.update({k: named[k] for k in keys if k in named})
    return out
