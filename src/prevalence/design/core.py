"""Survey designs: weights, strata, clusters, finite population corrections, replicates.

A :class:`SurveyDesign` holds, for every data row, what design-based variance
estimation needs, already reduced to integer codes and per-stratum / per-PSU
tables so that :mod:`prevalence.stats.variance` can work with ``np.bincount`` and
matrix products only. Two kinds of design are supported, as in R's ``survey``
package (the reference, version 4.1-1):

* Taylor linearisation (R's ``svydesign``): sampling weights, optional strata,
  one or two stages of clusters, optional finite population corrections at
  each stage, and a policy for strata with a single sampled PSU.
* Replicate weights (R's ``svrepdesign``): a matrix of analysis weights, one
  column per replicate, with the variance multipliers ``scale`` and
  ``rscales`` and the centring rule ``mse``.

Designs are built from a data frame and the ``design:`` block of
``config.yaml`` by :meth:`SurveyDesign.from_frame`; every problem in that block
or in the design columns raises :class:`prevalence.errors.DesignError` naming
the file, the column, the row and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from prevalence.design.arrays import (
    LONELY_PSU_POLICIES,
    SELF_REPRESENTING_TOL,
    dense_codes,
    readonly,
    sampling_complement,
)
from prevalence.design.replicates import ReplicateWeights, replicates_from_frame
from prevalence.design.spec import (
    check_block,
    check_no_lonely_psu,
    check_weight_values,
    column_names,
    first_row,
    frame_column,
    id_codes,
    numeric_column,
    scalar,
    spec_options,
    stage1_ids,
    stage_popsize,
    weights_of,
)
from prevalence.errors import DesignError

__all__ = [
    "DesignColumns",
    "SurveyDesign",
    "DESIGN_PREFIX",
    "design_frame",
    "wave_design",
    "design_columns",
]


# --------------------------------------------------------------------------------------
# design
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DesignColumns:
    """Names of the columns a design was built from (metadata only)."""

    source: str | None = None
    weight: str | None = None
    weights_from: str = "equal"  # "column", "fpc" or "equal"
    strata: str | None = None
    psu: tuple[str, ...] = ()
    fpc: tuple[str, ...] = ()
    nest: bool = False


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """Weights, strata, clusters (1 or 2 stages), FPC, lonely-PSU policy, or replicate weights.

    All row arrays have length ``n`` (rows of the data, in order). Codes are
    dense integers: strata ``0..H-1``, PSUs ``0..P-1`` (unique across strata),
    second-stage units ``0..S-1`` (unique across PSUs).

    Attributes
    ----------
    weights
        (n,) sampling weights, float64, all > 0.
    psu
        (n,) PSU codes. Without clusters every row is its own PSU.
    psu_stratum
        (P,) stratum of each PSU; :attr:`strata` gives each row's.
    stratum_popsize
        (H,) first-stage population size N_h (``inf`` without fpc).
    stratum_labels
        (H,) stratum values as text, for messages.
    ssu, psu_popsize
        Second stage: (n,) unit codes and (P,) population sizes N2_i. The
        second stage adds variance only when both are given (R: fpc given for
        both stages, ``survey.ultimate.cluster = FALSE``).
    lonely_psu
        One of :data:`LONELY_PSU_POLICIES` (R's ``survey.lonely.psu``).
    replicates
        Replicate weights; when given, the variance comes from them and the
        Taylor fields are unused (every row its own PSU, one stratum).
    columns
        Column names used, for :meth:`describe`.
    calibration
        The :class:`~prevalence.design.calibration.Calibration` of the weights, or None.
        ``weights`` (and the replicate weights) are then the calibrated ones, and
        Taylor variances use the residuals of the calibration regression.
    """

    weights: np.ndarray
    psu: np.ndarray
    psu_stratum: np.ndarray
    stratum_popsize: np.ndarray
    stratum_labels: tuple[str, ...] = ("1",)
    ssu: np.ndarray | None = None
    psu_popsize: np.ndarray | None = None
    lonely_psu: str = "fail"
    replicates: ReplicateWeights | None = None
    columns: DesignColumns = DesignColumns()
    calibration: Any = None
    stratum_n_psu: np.ndarray = field(init=False, repr=False)
    psu_n_ssu: np.ndarray | None = field(init=False, repr=False)
    ssu_psu: np.ndarray | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.weights.shape[0]
        if self.weights.ndim != 1:
            raise ValueError("weights must be one-dimensional")
        if self.psu.shape != (n,):
            raise ValueError("psu must have one value per row")
        if self.lonely_psu not in LONELY_PSU_POLICIES:
            raise ValueError(f"lonely_psu must be one of {LONELY_PSU_POLICIES}")
        n_strata = self.stratum_popsize.shape[0]
        object.__setattr__(
            self,
            "stratum_n_psu",
            readonly(np.bincount(self.psu_stratum, minlength=n_strata).astype(np.int64)),
        )
        n2 = None
        ssu_psu = None
        if self.ssu is not None:
            if self.ssu.shape != (n,):
                raise ValueError("ssu must have one value per row")
            n_ssu = int(self.ssu.max()) + 1 if n else 0
            ssu_psu = np.zeros(n_ssu, dtype=np.intp)
            ssu_psu[self.ssu] = self.psu
            n2 = readonly(np.bincount(ssu_psu, minlength=self.n_psu).astype(np.int64))
            ssu_psu = readonly(ssu_psu)
        object.__setattr__(self, "psu_n_ssu", n2)
        object.__setattr__(self, "ssu_psu", ssu_psu)
        if self.replicates is not None and self.replicates.weights.shape[0] != n:
            raise ValueError("replicate weights must have one row per data row")

    # ---------------------------------------------------------------- properties
    @cached_property
    def strata(self) -> np.ndarray:
        """(n,) stratum code of each row (from its PSU's)."""
        return readonly(self.psu_stratum[self.psu])

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.weights.shape[0])

    @property
    def is_replicate(self) -> bool:
        """True when the variance comes from replicate weights."""
        return self.replicates is not None

    @property
    def n_strata(self) -> int:
        return int(self.stratum_popsize.shape[0])

    @property
    def n_psu(self) -> int:
        return int(self.psu_stratum.shape[0])

    @property
    def has_stage2(self) -> bool:
        """True when a second stage contributes variance (fpc given at both stages)."""
        return self.ssu is not None and self.psu_popsize is not None

    @property
    def lonely_strata(self) -> np.ndarray:
        """Codes of strata with one sampled PSU that are not self-representing."""
        f = sampling_complement(self.stratum_n_psu, self.stratum_popsize)
        return np.flatnonzero((self.stratum_n_psu == 1) & (f >= SELF_REPRESENTING_TOL))

    def degf(self) -> int:
        """R's ``degf()``: PSUs minus strata (Taylor) or replicate rank minus 1."""
        if self.replicates is not None:
            return self.replicates.rank() - 1
        return self.n_psu - self.n_strata

    # ---------------------------------------------------------------- constructors
    @classmethod
    def srs(cls, n: int, weights: np.ndarray | None = None) -> SurveyDesign:
        """Each row its own PSU, one stratum, no fpc: R's ``svydesign(id=~1, weights=...)``.

        Parameters
        ----------
        n
            Number of rows (>= 1).
        weights
            Sampling weights (> 0, finite); all 1 when omitted (R then warns
            "No weights or probabilities supplied").

        Raises
        ------
        DesignError
            When a weight is missing, not finite or not positive.
        """
        n = int(n)
        if n < 1:
            raise DesignError("a design needs at least one row", fix="check the data is not empty")
        if weights is None:
            w = np.ones(n)
        else:
            w = np.array(weights, dtype=np.float64, copy=True).reshape(-1)
            if w.shape != (n,):
                raise ValueError(f"weights has {w.size} values for {n} rows")
            check_weight_values(w, None, None)
        return cls(
            weights=readonly(w),
            psu=readonly(np.arange(n, dtype=np.intp)),
            psu_stratum=readonly(np.zeros(n, dtype=np.intp)),
            stratum_popsize=readonly(np.array([np.inf])),
            columns=DesignColumns(weights_from="equal" if weights is None else "array"),
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        spec: Mapping[str, Any] | None,
        *,
        source: str = "responses",
        domains: pd.DataFrame | None = None,
        populations: Mapping[str, pd.DataFrame] | None = None,
    ) -> SurveyDesign:
        """Build from a data frame and the ``design:`` block of config.yaml.

        Parameters
        ----------
        frame
            The survey data, one row per respondent.
        spec
            The ``design:`` block (all keys optional; empty means R's
            ``svydesign(id=~1)``: weights 1, every row its own PSU):

            ``weight``
                Column of sampling weights (> 0, finite).
            ``strata``
                Column of strata.
            ``psu``
                Column, or list of two columns ``[stage1, stage2]`` for a
                two-stage design (R: ``id=~dnum+snum``). Second-stage ids are
                always taken within their PSU, as R does.
            ``fpc``
                Column, or one column per stage. Per stage, values > 1 are
                population counts (N_h for the stratum at stage 1, N2_i for
                the PSU at stage 2); when no value of the stage exceeds 1,
                they are sampling fractions (R: population = sampled / fpc).
                With fpc at both stages the second stage adds variance, as
                R's ``clus2``; with an fpc for stage 1 only, the second stage
                adds no variance (R's one-stage approximation, as without fpc).
                Without ``weight`` the weights are derived from the fpcs:
                ``prod_stage N/n`` (R's behaviour), which needs every stage's fpc.
            ``nest``
                PSU ids restart within strata (default False; without it a
                PSU id found in two strata is an error).
            ``lonely_psu``
                One of :data:`LONELY_PSU_POLICIES` (default ``"fail"``, which
                rejects any stratum with a single PSU here rather than at
                estimation time).
            ``replicates``
                ``{columns: [...] | prefix: "repw_", type, scale, rscales, mse,
                rho, combined_weights}``; needs ``weight`` (the full-sample
                weight) and excludes ``strata``, ``psu`` and ``fpc``.
            ``calibration``
                ``{method, population, margins, bounds, trim, maxit, epsilon}``:
                the weights are calibrated to the population totals
                (:mod:`prevalence.design.calibration`), every replicate too.
        source
            Name of the data (file) used in error messages.
        domains
            The rows' domain values (labels), needed with ``calibration``: its
            margins are domain ids.
        populations
            The population tables (columns ``margin, value, total``) by the
            path that ``calibration.population`` gives.

        Returns
        -------
        SurveyDesign

        Raises
        ------
        DesignError
            For any problem, with the file, column, 1-based data row, value and
            the fix: unknown keys, missing columns, non-numeric / missing / zero
            / negative / infinite weights, missing strata or PSU ids, a PSU in
            two strata without ``nest``, fpc that varies within a stratum (PSU
            at stage 2), fpc smaller than the number of sampled units, counts
            mixed with fractions, a lonely PSU under ``fail``, unknown
            ``lonely_psu`` or replicate type, replicate columns missing,
            non-numeric, negative, or with ``rscales`` of the wrong length.
        """
        block = spec.get("calibration") if isinstance(spec, Mapping) else None
        if block is not None:
            spec = {k: v for k, v in spec.items() if k != "calibration"}
        design = _build_from_frame(cls, frame, spec, source, patterns=block is None)
        if block is None:
            return design
        return _calibrated(design, block, domains, populations, source)

    # ---------------------------------------------------------------- metadata
    def describe(self) -> dict[str, Any]:
        """JSON-serialisable summary of the design for result metadata.

        Returns
        -------
        dict
            ``method`` ("taylor" or "replicate"), ``n_rows``, the columns used,
            ``weights_from``, number of strata, PSUs and second-stage units,
            ``lonely_psu`` and the lonely strata, ``df`` (R's ``degf``) and,
            for replicate designs, type, number of replicates, scale, rscales,
            mse, rho and combined_weights.
        """
        cols = self.columns
        out: dict[str, Any] = {
            "method": "replicate" if self.is_replicate else "taylor",
            "source": cols.source,
            "n_rows": self.n,
            "weight": cols.weight,
            "weights_from": cols.weights_from,
            "strata": cols.strata,
            "psu": list(cols.psu) or None,
            "fpc": list(cols.fpc) or None,
            "nest": bool(cols.nest),
            "lonely_psu": self.lonely_psu,
            "df": int(self.degf()),
        }
        out["calibration"] = None if self.calibration is None else self.calibration.describe()
        if self.replicates is None:
            lonely = self.lonely_strata
            out.update(
                n_strata=self.n_strata,
                n_psu=self.n_psu,
                n_ssu=None if self.ssu is None else int(self.ssu.max()) + 1,
                stage2_variance=self.has_stage2,
                lonely_strata=[self.stratum_labels[int(h)] for h in lonely],
                replicates=None,
            )
        else:
            rep = self.replicates
            rs = rep.rscales
            out.update(
                n_strata=None,
                n_psu=None,
                n_ssu=None,
                stage2_variance=False,
                lonely_strata=[],
                replicates={
                    "type": rep.type,
                    "n_replicates": rep.n_replicates,
                    "columns": list(rep.columns),
                    "scale": float(rep.scale),
                    "rscales": float(rs[0]) if np.all(rs == rs[0]) else [float(v) for v in rs],
                    "mse": bool(rep.mse),
                    "rho": rep.rho,
                    "combined_weights": bool(rep.combined_weights),
                },
            )
        return out


def _replicate_design(
    cls: type[SurveyDesign],
    frame: pd.DataFrame,
    spec: Mapping[str, Any],
    w_given: np.ndarray | None,
    source: str,
    patterns: bool,
    lonely: str,
    nest: bool,
) -> SurveyDesign:
    """A replicate-weights design (``design.replicates``) from its checked block."""
    n = len(frame)
    weight_col = spec.get("weight")
    present = [k for k in ("strata", "psu", "fpc") if spec.get(k) is not None]
    if present:
        raise DesignError(
            f"design.replicates cannot be combined with design.{present[0]}",
            file=source,
            value=present[0],
            fix="replicate weights already carry the strata and clusters; "
            "remove strata/psu/fpc, or remove replicates to use Taylor linearisation",
        )
    if w_given is None:
        raise DesignError(
            "replicate designs need the full-sample weight",
            file=source,
            fix="set design.weight to the full-sample weight column",
        )
    reps = replicates_from_frame(frame, spec["replicates"], w_given, source, patterns)
    return cls(
        weights=readonly(w_given),
        psu=readonly(np.arange(n, dtype=np.intp)),
        psu_stratum=readonly(np.zeros(n, dtype=np.intp)),
        stratum_popsize=readonly(np.array([np.inf])),
        lonely_psu=lonely,
        replicates=reps,
        columns=DesignColumns(source=source, weight=weight_col, weights_from="column", nest=nest),
    )


def _stage1(
    frame: pd.DataFrame, strata_col: Any, psu_cols: tuple[str, ...], nest: bool, source: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any, Any, np.ndarray]:
    """Strata and stage-one clusters: each row's PSU code, each PSU's stratum, the strata's values,
    each PSU's raw id and the raw ids' values, and the number of PSUs per stratum."""
    n = len(frame)
    strata_s = frame_column(frame, strata_col, "strata", source) if strata_col is not None else None
    if psu_cols:
        psu_s = frame_column(frame, psu_cols[0], "psu", source)
        psu, psu_stratum, strata_values, psu_raw_of, psu_values = stage1_ids(
            strata_s, psu_s, strata_col, psu_cols[0], source
        )
    else:
        if strata_s is not None:
            psu_stratum, strata_values = id_codes(strata_s, strata_col, source, "stratum")
        else:
            psu_stratum, strata_values = np.zeros(n, np.intp), np.array(["1"], dtype=object)
        psu = np.arange(n, dtype=np.intp)
        psu_values = psu_raw_of = None
    n_strata = len(strata_values)
    labels = tuple(str(v) for v in strata_values)
    if psu_cols and not nest and strata_col is not None:
        in_strata = np.bincount(psu_raw_of, minlength=len(psu_values))
        if (in_strata > 1).any():
            r = int(np.flatnonzero(in_strata > 1)[0])
            units = np.flatnonzero(psu_raw_of == r)  # the PSUs of id r, by stratum
            hs = psu_stratum[units]
            raise DesignError(
                f"PSU {scalar(psu_values[r])!r} appears in strata {labels[hs[0]]!r} and "
                f"{labels[hs[1]]!r}",
                file=source,
                column=psu_cols[0],
                row=first_row(psu == units[1]),
                value=scalar(psu_values[r]),
                fix="set design.nest: true if PSU ids restart within each stratum, "
                "otherwise correct the PSU or stratum ids",
            )
    n_h = np.bincount(psu_stratum, minlength=n_strata).astype(np.float64)
    return psu, psu_stratum, strata_values, psu_raw_of, psu_values, n_h


def _stage2(frame, psu_cols, fpc_cols, psu, n_psu, source, fpc_values, psu_label):
    """Stage two: each row's second-stage unit code, each PSU's population size N2_i (with an fpc
    for stage two) and number of sampled units; all None with one stage."""
    ssu = None
    psu_popsize = None
    n2 = None
    if len(psu_cols) == 2:
        raw_ssu, ssu_values = id_codes(
            frame_column(frame, psu_cols[1], "psu", source),
            psu_cols[1],
            source,
            "second-stage id",
            dense=False,
        )
        ssu, ssu_pairs = dense_codes(psu * len(ssu_values) + raw_ssu)
        ssu_psu = (ssu_pairs // len(ssu_values)).astype(np.intp)
        n2 = np.bincount(ssu_psu, minlength=n_psu).astype(np.float64)
        if len(fpc_cols) == 2:
            col = fpc_cols[1]
            psu_popsize = stage_popsize(
                fpc_values(col, "PSU population size (second stage)"),
                psu,
                np.arange(n_psu),
                n_psu,
                n2,
                col,
                source,
                "PSU",
                psu_label,
            )

    return ssu, psu_popsize, n2


def _build_from_frame(
    cls: type[SurveyDesign],
    frame: pd.DataFrame,
    spec: Mapping[str, Any] | None,
    source: str,
    *,
    patterns: bool = True,
) -> SurveyDesign:
    if spec is None:
        spec = {}
    lonely, nest = spec_options(spec, frame, source)
    weight_col = spec.get("weight")
    strata_col = spec.get("strata")
    psu_cols = column_names(spec, "psu", source, 2)
    fpc_cols = column_names(spec, "fpc", source, 2)
    weight_fix = f"give every row a positive, finite sampling weight in {weight_col!r}"

    w_given = None
    if weight_col is not None:
        s = frame_column(frame, weight_col, "weight", source)
        w_given = numeric_column(s, weight_col, source, "sampling weight", weight_fix)
        check_weight_values(w_given, weight_col, source)

    if spec.get("replicates") is not None:
        return _replicate_design(cls, frame, spec, w_given, source, patterns, lonely, nest)

    if len(fpc_cols) > max(1, len(psu_cols)):
        raise DesignError(
            "design.fpc has more stages than design.psu",
            file=source,
            value=list(fpc_cols),
            fix="give one fpc column per psu stage",
        )

    psu, psu_stratum, strata_values, psu_raw_of, psu_values, n_h = _stage1(
        frame, strata_col, psu_cols, nest, source
    )
    n_psu, n_strata = len(psu_stratum), len(strata_values)
    labels = tuple(str(v) for v in strata_values)

    def stratum_label(h: int) -> str:
        return f"{labels[h]!r}" if strata_col is not None else "(the whole sample)"

    def psu_label(p: int) -> str:
        if psu_values is None:
            return f"row {p + 1}"
        return f"{scalar(psu_values[psu_raw_of[p]])!r}"

    def stratum_first_row(h: int) -> int:
        return first_row(psu_stratum[psu] == h)

    def fpc_values(col: str, size: str) -> np.ndarray:
        return numeric_column(
            frame_column(frame, col, "fpc", source),
            col,
            source,
            "fpc",
            f"give the {size} in {col!r}",
            keep_int=True,
        )

    # ---- stage 1 fpc (checked PSU by PSU, then stratum by stratum)
    popsize = np.full(n_strata, np.inf)
    if fpc_cols:
        col = fpc_cols[0]
        popsize = stage_popsize(
            fpc_values(col, "stratum population size"),
            psu,
            psu_stratum,
            n_strata,
            n_h,
            col,
            source,
            "stratum",
            stratum_label,
        )

    ssu, psu_popsize, n2 = _stage2(
        frame, psu_cols, fpc_cols, psu, n_psu, source, fpc_values, psu_label
    )

    w, weights_from = weights_of(
        w_given, fpc_cols, len(psu_cols), source, popsize, n_h, psu_stratum, psu, psu_popsize, n2
    )

    if lonely == "fail":
        check_no_lonely_psu(
            source,
            n_h,
            popsize,
            n2,
            psu_popsize,
            strata=(strata_col, labels, strata_values, stratum_first_row),
            psus=(psu_cols, psu, psu_label, lambda p: scalar(psu_values[psu_raw_of[p]])),
        )

    return cls(
        weights=readonly(np.asarray(w, dtype=np.float64)),
        psu=readonly(psu),
        psu_stratum=readonly(psu_stratum),
        stratum_popsize=readonly(popsize),
        stratum_labels=labels,
        ssu=None if ssu is None else readonly(ssu),
        psu_popsize=None if psu_popsize is None else readonly(psu_popsize),
        lonely_psu=lonely,
        columns=DesignColumns(
            source=source,
            weight=weight_col,
            weights_from=weights_from,
            strata=strata_col,
            psu=psu_cols,
            fpc=fpc_cols,
            nest=nest,
        ),
    )


def _calibrated(
    design: SurveyDesign,
    block: Any,
    domains: pd.DataFrame | None,
    populations: Mapping[str, pd.DataFrame] | None,
    source: str,
) -> SurveyDesign:
    """The design with its weights (and replicate weights) calibrated to population totals."""
    from prevalence.design.calibration import CALIBRATION_KEYS, calibrate, parse_calibration

    check_block(
        block,
        CALIBRATION_KEYS,
        source,
        problem="design.calibration must be a mapping",
        where="design.calibration",
        example="write calibration: {method: raking, population: <file>, margins: [...]}",
    )
    path = block.get("population")
    table = (populations or {}).get(str(path)) if path is not None else None
    if table is None:
        raise DesignError(
            "design.calibration needs its population file",
            file=source,
            value=path,
            fix="set design.calibration.population to a CSV file with columns margin,value,total",
        )
    spec = parse_calibration(block, table, source=source, population_source=str(path))
    if domains is None:
        raise ValueError("calibration needs the rows' domain values")
    if design.replicates is None and design.lonely_psu == "average":
        raise DesignError(
            "lonely_psu: average cannot be combined with calibration",
            file=source,
            value="average",
            fix="set design.lonely_psu to remove, certainty or adjust",
        )
    rep = design.replicates
    cal = calibrate(
        domains,
        design.weights,
        spec,
        replicate_weights=None if rep is None else rep.weights,
        source=source,
    )
    if rep is not None:
        rep = ReplicateWeights.build(
            cal.replicate_weights,
            rep_type=rep.type,
            scale=rep.scale,
            rscales=rep.rscales,
            mse=rep.mse,
            rho=rep.rho,
            columns=rep.columns,
            combined_weights=rep.combined_weights,
            copy=False,
        )
    return replace(design, weights=readonly(cal.weights), replicates=rep, calibration=cal)


# --------------------------------------------------------------------------------------
# a wave's design from its harmonized frame and its ``design:`` block
# --------------------------------------------------------------------------------------
# Design columns are carried under this prefix, apart from domain and indicator ids.
DESIGN_PREFIX = "design:"


def design_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The design columns of a harmonized frame, under their names in the responses."""
    columns = [c for c in frame.columns if c.startswith(DESIGN_PREFIX)]
    return frame[columns].rename(columns=lambda c: c.removeprefix(DESIGN_PREFIX))


def wave_design(
    frame: pd.DataFrame,
    design: Any,
    *,
    source: str,
    populations: Mapping[str, pd.DataFrame] | None = None,
) -> Any:
    """The survey design of a harmonized wave, or None for a simple random sample.

    ``design`` is the wave's ``design:`` block (built from the frame's design columns;
    empty: None) or a :class:`~prevalence.design.core.SurveyDesign` already built for this
    frame (:attr:`Ingested.design`), used as it is: a large wave's design is built once.
    ``populations`` are the population tables a ``calibration:`` block names, by path.
    """
    if isinstance(design, SurveyDesign):
        return design
    if not design:
        return None
    return SurveyDesign.from_frame(
        design_frame(frame), dict(design), source=source, domains=frame, populations=populations
    )


def design_columns(design: Mapping[str, Any], columns: Iterable[str]) -> list[str]:
    """Columns of the responses that a ``design:`` block refers to, in a stable order."""
    names: list[str] = []
    for key in ("weight", "strata", "psu", "fpc"):
        value = design.get(key)
        if value is None:
            continue
        names.extend([value] if isinstance(value, str) else list(value))
    replicates = design.get("replicates") or {}
    if replicates.get("columns"):
        names.extend(replicates["columns"])
    elif replicates.get("prefix"):
        names.extend(sorted(c for c in columns if c.startswith(replicates["prefix"])))
    return list(dict.fromkeys(names))
