# Validate the configuration before the DAG is built; shared names for the rules.
import sys

from prevalence.codebook import load_codebook
from prevalence.config import parse_config
from prevalence.errors import PrevalenceError

# Config and codebooks are validated before the DAG is built: a bad one fails in a second.
try:
    CONFIG = parse_config(
        config,
        source=workflow.configfiles[0] if workflow.configfiles else "config.yaml",
        root=workflow.basedir,
    )
    CODEBOOKS = {w.id: load_codebook(w.codebook) for w in CONFIG.waves.values()}
except PrevalenceError as error:
    sys.exit(f"Configuration error: {error}")

RESULTS = str(CONFIG.results)
WAVES = list(CONFIG.waves)
PROCESSED = "data/processed"
ENV = "../envs/prevalence.yaml"
# Charts by domain: single domains only (crossings stay in the tables).
CHART_DOMAINS = [d[0] for d in CONFIG.by if len(d) == 1]


wildcard_constraints:
    wave="|".join(WAVES) or "(?!)",


def mem_mb(factor, floor=500):
    """Memory for a job: ``floor`` MB plus ``factor`` times the size of its input."""

    def resource(wildcards, input, attempt):
        return int((floor + factor * input.size_mb) * attempt)

    return resource


def runtime(factor, floor=5):
    """Minutes for a job: ``floor`` plus ``factor`` minutes per MB of input."""

    def resource(wildcards, input, attempt):
        return int((floor + factor * input.size_mb) * attempt)

    return resource


def wave_of(wildcards):
    return CONFIG.waves[wildcards.wave]


def figure_files(wave):
    stems = ["by_indicator"] + [f"by_{d}" for d in CHART_DOMAINS]
    return [f"{RESULTS}/figures/{wave}/{s}.{ext}" for s in stems for ext in ("png", "svg", "pdf")]


def final_outputs():
    files = [f"{RESULTS}/tables/prevalence.csv"]
    for wave in WAVES:
        files += figure_files(wave)
        files.append(f"{RESULTS}/ingest/{wave}.json")
    if CONFIG.targets is not None:
        files.append(f"{RESULTS}/reproduction.csv")
    if CONFIG.coverage is not None:
        files.append(f"{RESULTS}/tables/coverage.csv")
        files += [f"{RESULTS}/figures/coverage/coverage.{e}" for e in ("png", "svg", "pdf")]
    return files
