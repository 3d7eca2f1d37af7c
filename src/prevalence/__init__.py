"""prevalence: design-based prevalence of violence against women in politics.

The library behind the Snakemake workflow: codebooks, ingest, survey designs,
variance, confidence intervals, estimation and publication outputs.
"""

from prevalence.errors import PrevalenceError

__all__ = ["PrevalenceError", "__version__"]
__version__ = "0.1.0"
