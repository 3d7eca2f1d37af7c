"""Rule forest: forest plots of the differences (prevalence.compare.forest_step)."""

from prevalence.compare import forest_step
from prevalence.steps import run_step

run_step(
    snakemake,
    forest_step,
    snakemake.input.contrasts,
    snakemake.params.codebooks,
    wave_labels=snakemake.params.wave_labels,
    out_dir=snakemake.output[0],
)
