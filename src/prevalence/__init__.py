"""prevalence: design-based prevalence of violence against women in politics.

The library behind the Snakemake workflow: codebooks, ingest, survey designs,
variance, confidence intervals, estimation and publication outputs.

From Python (a notebook)::

    import prevalence as pv

    wave = pv.read_wave("data/raw/2016-global/responses.csv", "data/raw/2016-global/codebook.yaml")
    table = pv.prevalence(wave.frame, wave.indicators, by=["region", ("region", "role")])

:func:`prevalence`, :func:`read_wave`, :func:`design_effect`, :func:`contrasts` and
:func:`calibrate` are documented in :mod:`prevalence.api`. They are imported on first use,
so that ``import prevalence`` stays fast (the workflow's jobs import it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prevalence.errors import PrevalenceError

if TYPE_CHECKING:
    from prevalence.api import Wave, calibrate, contrasts, design_effect, prevalence, read_wave

__all__ = [
    "PrevalenceError",
    "Wave",
    "__version__",
    "calibrate",
    "contrasts",
    "design_effect",
    "prevalence",
    "read_wave",
]
_API = frozenset(__all__) - {"PrevalenceError", "__version__"}
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _API:
        from prevalence import api

        return getattr(api, name)
    raise AttributeError(f"module 'prevalence' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_API})
