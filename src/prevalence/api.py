"""The Python API: prevalence tables, design effects, contrasts and calibration in a notebook.

``import prevalence as pv`` gives these functions; they compute what the workflow computes,
through the same code (:func:`prevalence.stats.estimate.prevalence_table` for the table).

* :func:`prevalence`: the prevalence table of indicator columns coded 1/0/NaN, overall and
  by domains, with a design given as a mapping like the ``design:`` block of
  ``config.yaml`` (weights, strata, clusters, fpc, replicate weights, calibration).
* :func:`read_wave`: a wave's raw responses and codebook as ingest harmonizes them.
* :func:`design_effect`, :func:`contrasts`, :func:`calibrate`: R's ``deff``, differences
  between the values of a domain, calibrated weights.

A problem in the input raises a :class:`~prevalence.errors.PrevalenceError` (a
:class:`~prevalence.errors.DesignError` for the design) naming the column and the fix.
Rows in messages are counted from 1, by position in the frame.

Example
-------
>>> import pandas as pd
>>> import prevalence as pv
>>> frame = pd.DataFrame(
...     {
...         "online_gbv": [1, 1, 0, 1, 0, None, 1, 0],
...         "role": ["MP", "MP", "MP", "staff", "staff", "staff", "MP", "staff"],
...     }
... )
>>> table = pv.prevalence(frame, ["online_gbv"], by=["role"])
>>> table[["domain", "domain_value", "n", "cases", "estimate"]]
    domain domain_value  n  cases  estimate
0  overall          All  7      4  0.571429
1     role           MP  4      3  0.750000
2     role        staff  3      1  0.333333
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prevalence.errors import DesignError, PrevalenceError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from prevalence.data.codebook import Codebook

__all__ = ["Wave", "calibrate", "contrasts", "design_effect", "prevalence", "read_wave"]

#: how design errors name the data (replaced by no file name in the messages)
_SOURCE = "the data frame"
_DESIGN_PREFIX = "design:"  # ingest's design columns (prevalence.data.ingest.DESIGN_PREFIX)
_POPULATION = "the population table"


# --------------------------------------------------------------------------------------
# reading a wave
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Wave:
    """A wave read by :func:`read_wave`.

    Attributes
    ----------
    frame
        Ingest's harmonized responses: one categorical column per domain (its labels), one
        float column per indicator (1 yes, 0 no, NaN outside the denominator) and the
        design columns (``design:<column>``). No respondent id, no dropped column.
    log
        The ingest log, as ``results/ingest/<wave>.json`` holds it before publication:
        every row read, kept or excluded, and every item's counts.
    design
        The wave's :class:`~prevalence.design.core.SurveyDesign` (calibrated when the design
        says so), or None for a simple random sample. Pass it as ``design=`` to
        :func:`prevalence` to estimate with it.
    codebook
        The wave's codebook.
    """

    frame: pd.DataFrame
    log: dict[str, Any]
    design: Any
    codebook: Codebook

    @property
    def indicators(self) -> dict[str, str | None]:
        """Indicator id to its denominator indicator (None: all respondents), in order."""
        return {i.id: i.denominator for i in self.codebook.indicators.values()}

    @property
    def domains(self) -> list[str]:
        """The codebook's domain ids."""
        return list(self.codebook.domains)


def read_wave(
    responses: str | Path,
    codebook: str | Path,
    *,
    wave: str | None = None,
    design: Mapping[str, Any] | None = None,
    privacy: Mapping[str, Any] | None = None,
) -> Wave:
    r"""Read a wave's raw responses and codebook as the workflow's ingest does.

    Parameters
    ----------
    responses
        The responses file (``.csv``, ``.xlsx``, ``.sav``, ``.dta``, ``.parquet``).
    codebook
        Its ``codebook.yaml``.
    wave
        The wave id of the log (default: the responses' folder name, as in
        ``data/raw/<wave>/``).
    design
        The wave's ``design:`` block, as in ``config.yaml``: its columns are carried
        into the frame and the design is built (and calibrated) once. A calibration's
        ``population`` file is read from the path it gives.
    privacy
        ``{k, policy}`` as ``privacy:`` in ``config.yaml`` (default k 3, report).

    Returns
    -------
    Wave
        ``frame``, ``log``, ``design``, ``codebook``; ``indicators`` and ``domains``.

    Raises
    ------
    PrevalenceError
        Whatever ingest refuses: one message naming the file, the column, the row and
        the fix.

    Examples
    --------
    A wave of four respondents whose answers are coded 1 yes, 2 no, 9 refused:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import prevalence as pv
    >>> folder = Path(tempfile.mkdtemp()) / "2027-test"
    >>> folder.mkdir()
    >>> _ = (folder / "responses.csv").write_text(
    ...     "id,name,role,q1,q1a\n1,A,MP,1,1\n2,B,MP,2,7\n3,C,staff,1,2\n4,D,staff,9,7\n"
    ... )
    >>> _ = (folder / "codebook.yaml").write_text(
    ...     "respondent_id: id\n"
    ...     "drop: [name]\n"
    ...     "domains: {role: {column: role}}\n"
    ...     "indicators:\n"
    ...     "  online_gbv: {label: Online violence, column: q1}\n"
    ...     "  hate_speech: {label: Hate speech, column: q1a, denominator: online_gbv}\n"
    ... )
    >>> w = pv.read_wave(folder / "responses.csv", folder / "codebook.yaml")
    >>> w.frame
        role  online_gbv  hate_speech
    0     MP         1.0          1.0
    1     MP         0.0          NaN
    2  staff         1.0          0.0
    3  staff         NaN          NaN
    >>> w.indicators, w.log["rows"]["kept"]
    ({'online_gbv': None, 'hate_speech': 'online_gbv'}, 4)
    >>> pv.prevalence(w.frame, w.indicators)[["indicator", "denominator", "n", "estimate"]]
         indicator denominator  n  estimate
    0   online_gbv         all  3  0.666667
    1  hate_speech  online_gbv  2  0.500000
    >>> import shutil
    >>> shutil.rmtree(folder.parent)
    """
    from prevalence.workflow.steps import read_wave as read

    name = wave if wave is not None else Path(responses).parent.name or "wave"
    book, result, log = read(responses, codebook, wave=name, design=design, privacy=privacy)
    return Wave(frame=result.frame, log=log, design=result.design, codebook=book)


# --------------------------------------------------------------------------------------
# checking and preparing a frame
# --------------------------------------------------------------------------------------
def _check_frame(frame: Any, function: str) -> None:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise PrevalenceError(
            f"{function}() takes a pandas DataFrame, not {type(frame).__name__}",
            fix="pass the responses as a DataFrame (pv.read_wave(...).frame reads a raw file)",
        )


def _missing(frame: pd.DataFrame, column: Any, role: str) -> PrevalenceError:
    names = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(str(column), names, n=1)
    hint = f" (the frame has {close[0]!r})" if close else ""
    return PrevalenceError(
        f"column not found in the frame; {role} names it{hint}",
        column=str(column),
        fix=f"correct {role}, or add the column to the frame",
    )


def _require(frame: pd.DataFrame, column: Any, role: str) -> None:
    if not isinstance(column, str) or column not in frame.columns:
        raise _missing(frame, column, role)


def _indicator_map(indicators: Any) -> dict[str, str | None]:
    if isinstance(indicators, str):
        indicators = [indicators]
    if isinstance(indicators, Mapping):
        out = {str(k): (None if v in (None, "all") else v) for k, v in indicators.items()}
    else:
        out = {str(k): None for k in indicators}
    if not out:
        raise PrevalenceError(
            "no indicator to estimate", fix="pass a list of indicator columns coded 1/0/NaN"
        )
    return out


def _coded(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as float 1/0/NaN, or the error that says where it is not."""
    import numpy as np
    import pandas as pd

    series = frame[column]
    if isinstance(series, pd.DataFrame):
        raise PrevalenceError(
            "the frame has two columns of this name", column=column, fix="rename one of them"
        )
    numeric = pd.to_numeric(series, errors="coerce")
    text = numeric.isna().to_numpy() & series.notna().to_numpy()
    y = numeric.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = text | (~np.isnan(y) & (y != 0.0) & (y != 1.0))
    if bad.any():
        rows = np.flatnonzero(bad)
        found = np.unique(y[rows][~np.isnan(y[rows])])
        codes = found[(found == np.round(found)) & (np.abs(found) < 1000)]  # never a personal value
        listing = [f"{v:g}" for v in codes[:5]] + (["..."] if codes.size > 5 else [])
        if codes.size < found.size:
            listing.append("other numbers")
        if text.any():
            listing.append("text")
        raise PrevalenceError(
            f"indicator not coded 1/0/NaN ({rows.size} row{'s' if rows.size > 1 else ''} "
            f"hold {', '.join(listing)})",
            column=column,
            row=int(rows[0]) + 1,
            fix="code it 1 (yes), 0 (no) and NaN (missing, not asked), for example "
            f"frame[{column!r}].map({{1: 1, 2: 0}}), or read the raw file with "
            "pv.read_wave(), which codes it from the codebook",
        )
    return y


def _domain_column(frame: pd.DataFrame, column: str) -> pd.Categorical:
    """A domain as categories: kept if categorical, else its values as text, sorted."""
    import numpy as np
    import pandas as pd

    from prevalence.data.codebook import normalise_code

    series = frame[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        values = series.array
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        texts = [str(normalise_code(v)) for v in uniques]
        order = sorted({t for t in texts if t})
        position = {t: i for i, t in enumerate(order)}
        lookup = np.array([position.get(t, -1) for t in texts] + [-1], dtype=np.int64)
        values = pd.Categorical.from_codes(lookup[codes], categories=order)
    if not (np.asarray(values.codes) >= 0).any():
        raise PrevalenceError(
            "domain column has no value in any row",
            column=column,
            fix="name a column that holds the domain's values",
        )
    return values


def _by(by: Any) -> list[tuple[str, ...]]:
    if isinstance(by, str):
        by = [by]
    out = []
    for item in by:
        out.append((item,) if isinstance(item, str) else tuple(item))
    return out


def _margin_columns(design: Mapping[str, Any]) -> list[str]:
    block = design.get("calibration")
    if not isinstance(block, Mapping):
        return []
    margins = block.get("margins") or []
    if isinstance(margins, str):
        margins = [margins]
    names = [m for margin in margins for m in ([margin] if isinstance(margin, str) else margin)]
    return list(dict.fromkeys(str(m) for m in names))


def _populations(design: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """The design with a calibration's population named, and the population table."""
    import pandas as pd

    block = design.get("calibration")
    if not isinstance(block, Mapping) or block.get("population") is None:
        return dict(design), {}
    population = block["population"]
    if isinstance(population, pd.DataFrame):
        named = {**design, "calibration": {**block, "population": _POPULATION}}
        return named, {_POPULATION: population}
    from prevalence.data.io import read_populations

    if not Path(population).is_file():
        raise DesignError(
            "population file not found",
            file=str(population),
            fix="give design['calibration']['population'] the path of a CSV file with columns "
            "margin,value,total, or a DataFrame of them",
        )
    return dict(design), read_populations(design, None)[0]


def _survey(frame: pd.DataFrame, design: Any, domains: pd.DataFrame) -> Any:
    """The design of the frame's rows (None without one), built as ingest builds it."""
    from prevalence.design.core import SurveyDesign

    if design is None:
        return None
    if isinstance(design, SurveyDesign):
        if design.n != len(frame):
            raise DesignError(
                f"the design has {design.n} rows and the frame {len(frame)}",
                fix="pass the design built for this frame (pv.read_wave(...).design), or the "
                "design as a mapping of column names",
            )
        return design
    if not isinstance(design, Mapping):
        raise DesignError(
            f"design must be a mapping like the design: block of config.yaml, not "
            f"{type(design).__name__}",
            fix="pass for example design={'weight': 'w', 'strata': 'country', 'psu': 'chamber'}",
        )
    if not design:
        return None
    spec, populations = _populations(design)
    source = frame.rename(
        columns=lambda c: (
            c.removeprefix(_DESIGN_PREFIX)
            if isinstance(c, str)
            and c.startswith(_DESIGN_PREFIX)
            and c.removeprefix(_DESIGN_PREFIX) not in frame.columns
            else c
        )
    )
    try:
        return SurveyDesign.from_frame(
            source, spec, source=_SOURCE, domains=domains, populations=populations
        )
    except DesignError as error:
        if error.file != _SOURCE:
            raise
        raise DesignError(
            error.problem, column=error.column, row=error.row, value=error.value, fix=error.fix
        ) from None


def _prepare(
    frame: Any, indicators: Any, by: Any, design: Any, function: str
) -> tuple[pd.DataFrame, dict[str, str | None], list[tuple[str, ...]], Any]:
    """The frame as the estimation reads it (1/0/NaN floats, categorical domains), checked."""
    import numpy as np
    import pandas as pd

    _check_frame(frame, function)
    wanted = _indicator_map(indicators)
    domains = _by(by)
    for column in wanted:
        _require(frame, column, "indicators")
    for column, parent in wanted.items():
        if parent is not None:
            _require(frame, parent, f"the denominator of {column!r}")
    for crossing in domains:
        for column in crossing:
            _require(frame, column, "by")
    by_columns = list(dict.fromkeys(c for d in domains for c in d))
    both = [c for c in by_columns if c in wanted or c in wanted.values()]
    if both:
        raise PrevalenceError(
            "column named both as an indicator and as a domain",
            column=both[0],
            fix="estimate by another column, or copy it under a new name for the domain",
        )
    data: dict[str, Any] = {}
    for column in dict.fromkeys([*wanted, *(p for p in wanted.values() if p)]):
        data[column] = _coded(frame, column)
    for column, parent in wanted.items():
        if parent is None:
            continue
        outside = ~np.isnan(data[column]) & (data[parent] != 1.0)
        if outside.any():
            raise PrevalenceError(
                f"indicator {column!r} is answered in {int(outside.sum())} rows where its "
                f"denominator {parent!r} is not 1",
                column=column,
                row=int(np.flatnonzero(outside)[0]) + 1,
                fix=f"set {column!r} to NaN where {parent!r} is not 1 (not asked), or pass it "
                "without a denominator",
            )
    margins = _margin_columns(design) if isinstance(design, Mapping) else []
    for column in margins:
        _require(frame, column, "design['calibration']['margins']")
    categorical = pd.DataFrame(
        {c: _domain_column(frame, c) for c in dict.fromkeys(by_columns + margins)}
    )
    survey = _survey(frame, design, categorical)
    prepared = pd.DataFrame(data)
    for column in by_columns:
        prepared[column] = categorical[column].array
    return prepared, wanted, domains, survey


# --------------------------------------------------------------------------------------
# the API
# --------------------------------------------------------------------------------------
def prevalence(
    frame: pd.DataFrame,
    indicators: Sequence[str] | Mapping[str, str | None],
    *,
    by: Sequence[str | Sequence[str]] = (),
    design: Mapping[str, Any] | Any = None,
    ci_method: str = "wilson",
    level: float = 0.95,
    wave: str = "",
) -> pd.DataFrame:
    """The prevalence table of indicators, overall and by domain, with intervals.

    Parameters
    ----------
    frame
        One row per respondent.
    indicators
        The indicator columns, coded 1 (yes), 0 (no) and NaN (missing, not asked). A
        mapping gives each its denominator indicator ("of whom", None for all
        respondents): ``{"online_gbv": None, "online_hate_speech": "online_gbv"}``; an
        answer where the denominator is not 1 is an error, as at ingest.
    by
        Domain columns; a tuple (or list) in it is a crossing: ``["region", ("region",
        "role")]``. Overall is always first. A categorical column keeps its categories
        and their order (even empty ones); other columns take their values as text, sorted.
    design
        None for a simple random sample, or a mapping like the ``design:`` block of
        ``config.yaml``: ``weight``, ``strata``, ``psu``, ``fpc``, ``nest``,
        ``lonely_psu``, ``replicates`` and ``calibration`` (whose ``population`` is a CSV
        path or a DataFrame with columns ``margin, value, total``, and whose
        ``margins`` are columns of the frame), naming columns of the frame. Or the
        design :func:`read_wave` built (``Wave.design``).
    ci_method, level
        The interval method (``wilson``, ``wald``, ``clopper-pearson``, ``jeffreys``,
        ``agresti-coull``, ``korn-graubard``, ``logit``, ...; see
        :data:`prevalence.stats.intervals.METHODS`) and the confidence level.
    wave
        The text of the table's ``wave`` column.

    Returns
    -------
    pandas.DataFrame
        The contract's prevalence table, one row per domain value x indicator (the
        columns of ``results/tables/prevalence.csv`` before publication rules: nothing
        is suppressed but cells without respondents): ``wave, domain, domain_value,
        indicator, denominator, n, cases, estimate, se, ci_low, ci_high, ci_method,
        level, deff, n_eff, df, suppressed, flag``. The numbers are the workflow's for
        the same data, design and settings, and with a design R's ``survey``'s.

    Raises
    ------
    PrevalenceError
        A column that is not in the frame, an indicator not coded 1/0/NaN, an unknown
        interval method; a :class:`~prevalence.errors.DesignError` for an unknown design
        key or a design the data do not support.

    Examples
    --------
    A stratified sample with weights (design-based estimates, df from the design):

    >>> import pandas as pd
    >>> import prevalence as pv
    >>> frame = pd.DataFrame(
    ...     {
    ...         "physical": [1, 0, 0, 1, 0, 1, 1, 0],
    ...         "country": ["A", "A", "A", "A", "B", "B", "B", "B"],
    ...         "w": [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0],
    ...     }
    ... )
    >>> table = pv.prevalence(frame, ["physical"], design={"weight": "w", "strata": "country"})
    >>> row = table.iloc[0]
    >>> float(row["estimate"]), round(float(row["se"]), 6), float(row["df"])
    (0.5, 0.216025, 6.0)

    R's ``survey`` gives the same: ``svymean(~physical, svydesign(id = ~1, strata =
    ~country, weights = ~w, data = frame))`` is 0.5, SE 0.216024689946929, and
    ``degf()`` 6.

    An indicator not coded 1/0/NaN:

    >>> pv.prevalence(frame.assign(physical=frame["physical"] * 2), ["physical"])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    prevalence.errors.PrevalenceError: column 'physical', row 1: indicator not coded 1/0/NaN (4 rows hold 2)
      fix: code it 1 (yes), 0 (no) and NaN (missing, not asked), ...
    """
    from prevalence.stats.estimate import prevalence_table
    from prevalence.stats.intervals import check_method

    check_method(ci_method)
    prepared, wanted, domains, survey = _prepare(frame, indicators, by, design, "prevalence")
    return prevalence_table(
        prepared,
        wanted,
        wave=wave,
        by=domains,
        survey=survey,
        ci_method=ci_method,
        level=level,
    )


def design_effect(
    frame: pd.DataFrame,
    indicators: Sequence[str] | Mapping[str, str | None],
    *,
    by: Sequence[str | Sequence[str]] = (),
    design: Mapping[str, Any] | Any = None,
) -> pd.DataFrame:
    """Design effects of the prevalence estimates, as R's ``svymean(deff = ...)``.

    Arguments as for :func:`prevalence`.

    Returns
    -------
    pandas.DataFrame
        ``domain, domain_value, indicator, denominator, n, estimate, se, deff,
        deff_replace``: ``deff`` is R's ``deff = TRUE`` (the variance over that of a
        simple random sample without replacement of the same size, the prevalence
        table's ``deff``; NaN at an estimate of 0 or 1) and ``deff_replace`` R's ``deff =
        "replace"`` (over the with-replacement variance p(1 - p)/n). Without a design
        both are 1.

    Examples
    --------
    >>> import pandas as pd
    >>> import prevalence as pv
    >>> frame = pd.DataFrame(
    ...     {"y": [1, 0, 0, 1, 0, 1, 1, 0], "w": [1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 3.0]}
    ... )
    >>> d = pv.design_effect(frame, ["y"], design={"weight": "w"})
    >>> round(float(d.loc[0, "deff_replace"]), 4)
    1.1397

    As R's ``svymean(~y, svydesign(id = ~1, weights = ~w, data = frame), deff =
    "replace")``: DEff 1.1397.
    """
    from prevalence.stats.estimate import prevalence_table

    prepared, wanted, domains, survey = _prepare(frame, indicators, by, design, "design_effect")
    columns = ["domain", "domain_value", "indicator", "denominator", "n", "estimate", "se"]
    columns += ["deff", "deff_replace"]
    return prevalence_table(prepared, wanted, wave="", by=domains, survey=survey, columns=columns)


def contrasts(
    frame: pd.DataFrame,
    indicators: Sequence[str] | Mapping[str, str | None],
    *,
    domain: str,
    pairs: Sequence[Sequence[str]] | None = None,
    against: str | None = None,
    design: Mapping[str, Any] | Any = None,
    level: float = 0.95,
    adjust: str = "holm",
) -> pd.DataFrame:
    """Differences in prevalence between values of a domain, with intervals and tests.

    As ``comparisons.within`` of ``config.yaml`` computes them: Newcombe's interval and
    the score test without a design; with one, ``a - b`` with the design covariance of
    the two estimates, a t interval on the design df of the rows with a valid answer
    and a known domain value, as R's ``svycontrast(svyby(..., covmat = TRUE))``.

    Parameters
    ----------
    frame, indicators, design
        As for :func:`prevalence`.
    domain
        The domain column.
    pairs, against
        The differences: named ``pairs`` (``[("MP", "staff")]``: MP - staff), or
        ``against="others"`` (each value minus all other respondents) or
        ``against="pairs"`` (every pair of values). One of them.
    level
        The confidence level.
    adjust
        The adjustment of the p-values over these differences of an indicator:
        ``holm``, ``fdr_bh`` or ``none``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``results/tables/contrasts.csv`` (``comparison`` is ``within``;
        ``wave_a`` and ``wave_b`` are empty), nothing suppressed.

    Examples
    --------
    >>> import pandas as pd
    >>> import prevalence as pv
    >>> frame = pd.DataFrame(
    ...     {"y": [1, 1, 1, 0, 0, 0, 1, 0], "role": ["MP"] * 4 + ["staff"] * 4}
    ... )
    >>> d = pv.contrasts(frame, ["y"], domain="role", pairs=[("MP", "staff")])
    >>> d.loc[0, ["value_a", "value_b", "method"]].tolist(), float(d.loc[0, "difference"])
    (['MP', 'staff', 'newcombe'], 0.5)
    """
    from prevalence.stats.contrasts import compare_within, parse_comparisons
    from prevalence.stats.contrasts import contrasts as combine

    if (pairs is None) == (against is None):
        raise PrevalenceError(
            "contrasts() takes either pairs or against",
            fix="pass pairs=[('MP', 'staff')], or against='others' or 'pairs'",
        )
    if not isinstance(domain, str):
        raise PrevalenceError("domain must be one column name", value=domain, fix="domain='role'")
    prepared, wanted, _, survey = _prepare(frame, indicators, [domain], design, "contrasts")
    values = [str(v) for v in prepared[domain].cat.categories]
    unknown = [v for pair in pairs or () for v in pair if str(v) not in values]
    if unknown:
        raise PrevalenceError(
            f"pairs names {unknown[0]!r}, which is not a value of the domain",
            column=domain,
            fix=f"use its values: {', '.join(values)}",
        )
    entry: dict[str, Any] = {"domain": domain}
    if pairs is not None:
        entry["pairs"] = [list(p) for p in pairs]
    else:
        entry["against"] = against
    spec = parse_comparisons(
        {"within": [entry], "adjust": adjust, "family": "indicator"},
        source="contrasts()",
        waves=[""],
    )
    book = _codebook(wanted, domain)
    within = compare_within(prepared, book, survey, spec, wave="", level=level)
    return combine([within], spec)


def _codebook(indicators: Mapping[str, str | None], domain: str) -> Codebook:
    """The codebook of a frame already coded 1/0/NaN (what the comparisons read of it)."""
    from prevalence.data.codebook import Codebook, Domain, Indicator

    return Codebook(
        path="",
        respondent_id="",
        drop=(),
        domains={domain: Domain(domain, domain, domain)},
        indicators={
            i: Indicator(i, i, i, (1,), (0,), (), (), denominator=parent)
            for i, parent in indicators.items()
        },
    )


def calibrate(frame: pd.DataFrame, design: Mapping[str, Any]) -> pd.DataFrame:
    """Weights calibrated to population totals, as the workflow calibrates them.

    Parameters
    ----------
    frame
        One row per respondent, with the design's columns and the margins' columns.
    design
        A mapping like the ``design:`` block of ``config.yaml`` with a
        ``calibration`` block: ``method`` (``poststratify``, ``raking``, ``linear``,
        ``logit``), ``population`` (a CSV path, or a DataFrame with columns ``margin,
        value, total``; a crossing's margin is ``a+b`` and its value ``x+y``),
        ``margins`` (columns of the frame; a list inside is a crossing), and
        optionally ``bounds``, ``trim``, ``maxit``, ``epsilon``.

    Returns
    -------
    pandas.DataFrame
        ``weight`` (the calibrated weights, as R's ``weights(calibrate(...))``) and, for
        a replicate design, every replicate's recalibrated weights under its column's
        name; the frame's index.

    Examples
    --------
    >>> import pandas as pd
    >>> import prevalence as pv
    >>> frame = pd.DataFrame({"sex": ["f", "f", "f", "m"], "w": [1.0, 1.0, 2.0, 1.0]})
    >>> population = pd.DataFrame(
    ...     {"margin": ["sex", "sex"], "value": ["f", "m"], "total": [50, 50]}
    ... )
    >>> design = {
    ...     "weight": "w",
    ...     "calibration": {"method": "poststratify", "population": population, "margins": ["sex"]},
    ... }
    >>> pv.calibrate(frame, design)["weight"].tolist()
    [12.5, 12.5, 25.0, 50.0]
    """
    import pandas as pd

    if not isinstance(design, Mapping) or not design.get("calibration"):
        raise DesignError(
            "calibrate() needs a design with a calibration block",
            fix="pass design={'weight': ..., 'calibration': {'method': 'raking', "
            "'population': <file or DataFrame>, 'margins': [...]}}",
        )
    _check_frame(frame, "calibrate")
    margins = _margin_columns(design)
    for column in margins:
        _require(frame, column, "design['calibration']['margins']")
    domains = pd.DataFrame({c: _domain_column(frame, c) for c in margins})
    survey = _survey(frame, design, domains)
    out = pd.DataFrame({"weight": survey.weights}, index=frame.index)
    if survey.replicates is not None:
        names = list(survey.replicates.columns)
        reps = pd.DataFrame(survey.replicates.weights, index=frame.index, columns=names)
        out = pd.concat([out, reps], axis=1)
    return out
