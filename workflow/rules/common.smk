# Validate the configuration before the DAG is built; shared names for the rules.
import os
import re
import sys

from prevalence.data.codebook import of_whom_parents
from prevalence.errors import PrevalenceError
from prevalence.workflow.numerics import blas_environment
from prevalence.workflow.validate import validate_run

# Every job (a child of this process, or a SLURM job, which takes this environment) uses one
# OpenBLAS kernel, so that the tables are byte-identical on any x86-64 machine: see
# prevalence.workflow.numerics.
os.environ.update(blas_environment(os.environ))

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
# Every chart's images, then its data (what it draws) as CSV.
CHART_FILES = (*EXTS, "csv")
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
# the waves (the script pairs them with WAVES: prevalence.workflow.steps.files_by_wave).
WAVE_FILES = {
    "codebook": [str(w.codebook) for w in CONFIG.waves.values()],
    "table": [f"{PROCESSED}/{w}/prevalence.csv" for w in WAVES],
    "published": [f"{PROCESSED}/{w}/published.csv" for w in WAVES],
    **{key: [path.format(wave=w) for w in WAVES] for key, path in WAVE_COMPARISON_FILES.items()},
}


def domain_stems(domains):
    return [f"{kind}_{d}" for d in domains for kind in ("by", "heatmap")]


# Each categorical question of a wave's codebook gets a stacked-bar chart of its own.
CATEGORICAL = {wave: [f"categorical_{q}" for q in book.categoricals] for wave, book in CODEBOOKS.items()}


def wave_chart_stems(wave):
    """What charts_<wave> draws: by indicator, each categorical question, by domain."""
    return ["by_indicator", *CATEGORICAL[wave], *domain_stems(CHART_DOMAINS)]


def wave_charts(wave, exts=CHART_FILES):
    return [f"{RESULTS}/figures/{wave}/{s}.{ext}" for s in wave_chart_stems(wave) for ext in exts]


def of_whom_charts(wave, exts=CHART_FILES):
    return [f"{RESULTS}/figures/{wave}/of_whom_{p}.{ext}" for p in OF_WHOM[wave] for ext in exts]


def across_waves_charts(exts=CHART_FILES):
    return [f"{RESULTS}/figures/waves/{i}.{ext}" for i in ACROSS_WAVES for ext in exts]


ACROSS_WAVES_CHARTS = across_waves_charts()

# The charts of each population of figures.populations, in figures/<wave>/<domain>-<value>/:
# by indicator, each "of whom" breakdown, and by each single domain that estimates.by crosses
# with the population's domain (region+role gives the MPs by region).
CROSSED = {
    domain: [
        d for d in CHART_DOMAINS if d != domain and any(set(c) == {d, domain} for c in CONFIG.by)
    ]
    for domain, _ in CONFIG.populations
}


def population_stems(wave, domain):
    return [
        "by_indicator",
        *(f"of_whom_{p}" for p in OF_WHOM[wave]),
        *CATEGORICAL[wave],
        *domain_stems(CROSSED[domain]),
    ]


def wave_populations(wave):
    """The populations of the wave, as prevalence.publication.findings.populations_of finds them in its
    published table: known once rule wave (a checkpoint) has run."""
    from prevalence.publication.findings import populations_of
    from prevalence.workflow.steps import read_table

    published = checkpoints.wave.get(wave=wave).output.published
    return populations_of(CODEBOOKS[wave], read_table(published), CONFIG.populations)[1:]


def population_charts(wave, exts=CHART_FILES):
    return [
        f"{RESULTS}/figures/{wave}/{domain}-{value}/{stem}.{ext}"
        for domain, value in wave_populations(wave)
        for stem in population_stems(wave, domain)
        for ext in exts
    ]


def study_charts(wildcards, input, output):
    """What rule publish draws after the tables (prevalence.workflow.steps.study_charts_step), or None."""
    if not ACROSS_WAVES and CONFIG.comparisons is None:
        return None
    named = dict(output.items())
    return {
        "codebooks": dict(zip(WAVES, input.codebook, strict=True)),
        "wave_labels": WAVE_LABELS,
        "across_waves": ACROSS_WAVES,
        "contrasts": named.get("contrasts"),
        "figures_dir": f"{RESULTS}/figures",
        "comparisons_dir": named.get("forest"),
        "publication": CONFIG.publication,
    }


def population_outputs(wildcards=None):
    """The populations' charts of every wave: an input function (known once the waves ran)."""
    return [f for wave in WAVES for f in population_charts(wave)]


def final_outputs():
    """Every output of the run known before it starts (see also population_outputs)."""
    files = [f"{RESULTS}/tables/prevalence.csv", *TABLE_FILES]
    files += [f"{RESULTS}/tables/key_findings.csv", f"{RESULTS}/tables/key_findings.md"]
    files += ACROSS_WAVES_CHARTS
    for wave in WAVES:
        files += wave_charts(wave) + of_whom_charts(wave)
        files.append(f"{RESULTS}/ingest/{wave}.json")
        files += [f"{RESULTS}/study/{wave}.{ext}" for ext in ("html", "pdf")]  # rule study
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
    """The files and folder rule publish writes, by the names of prevalence.workflow.steps.publish_step."""
    named = dict(output.items())
    out = {"table": named["table"], "tables": os.path.dirname(named["table"])}
    keys = ("contrasts", "association", "reproduction", "findings", "findings_md")
    out.update({k: named[k] for k in keys if k in named})
    return out


def wave_chart_files(wildcards):
    """The wave's charts (PNG) and their data (CSV), all respondents' and each population's."""
    folder = f"{RESULTS}/figures/{wildcards.wave}/"
    files = [f for f in final_outputs() if isinstance(f, str) and f.startswith(folder)]
    if "population_charts" in globals():  # figures.populations: known once the wave ran
        files += population_charts(wildcards.wave)
    return [f for f in files if f.endswith((".png", ".csv"))]
