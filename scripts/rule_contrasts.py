"""Rule contrasts: differences with intervals and tests (prevalence.compare.contrasts_step)."""

from prevalence.compare import contrasts_step
from prevalence.steps import run_step

run_step(
    snakemake,
    contrasts_step,
    snakemake.input.table,
    snakemake.params.waves,
    comparisons=snakemake.params.comparisons,
    level=snakemake.params.level,
    out=snakemake.output[0],
)
