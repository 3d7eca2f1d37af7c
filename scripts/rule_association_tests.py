"""Rule association_tests: Rao-Scott tests (prevalence.compare.association_step)."""

from prevalence.compare import association_step
from prevalence.steps import run_step

run_step(
    snakemake,
    association_step,
    snakemake.input.table,
    snakemake.params.waves,
    comparisons=snakemake.params.comparisons,
    out=snakemake.output[0],
)
