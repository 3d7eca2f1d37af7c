"""Confidence intervals for a proportion from its estimate and standard error.

Every method takes the same inputs: the estimated proportion ``p``, its
standard error (design-based, or ``sqrt(p(1-p)/n)`` for a simple random
sample), the number ``n`` of valid observations in the domain and the design
degrees of freedom ``df`` (``np.inf`` for the classical, no-design case);
``logit`` also takes the standard error of the log-odds where the design has
its own (replicate weights). Everything is vectorised over cells: inputs
broadcast against each other and no Python loop runs over cells.

Notation used below: ``alpha = 1 - level``; ``t`` is the ``1 - alpha/2``
quantile of Student's t with ``df`` degrees of freedom (the normal quantile
``z`` when ``df`` is infinite); ``var = se**2``; ``n* = p(1-p)/var`` is the
effective sample size (Kish's ``n/deff``) and ``x* = p n*`` the effective
number of cases.

Methods
-------
``wald``
    ``p -/+ t se``, R ``svyciprop(method="mean")``. R does not truncate; for
    publication the bounds are clipped to [0, 1] and flagged.
``wilson``
    Score interval (Wilson 1927) on ``n*`` with ``t`` instead of ``z``; the
    design-based form of R's ``svyciprop(method="wilson")`` (survey >= 4.5).
``clopper-pearson``
    Exact binomial interval (Clopper & Pearson 1934) on ``(x*, n*)``.
``jeffreys``
    Equal-tailed Beta(x* + 1/2, n* - x* + 1/2) interval (Brown, Cai &
    DasGupta 2001), with their boundary rule: lower bound 0 at ``p = 0``,
    upper bound 1 at ``p = 1`` (statsmodels does not apply it). The same rule
    covers effective counts ``x* < 1`` (or ``n* - x* < 1``), where the
    equal-tailed interval can exclude ``p``: the bound is moved to ``p``.
``agresti-coull``
    Adjusted Wald interval (Agresti & Coull 1998) on ``n*`` with ``t``.
``xlogit``
    Wald interval on the log-odds: ``expit(logit(p) -/+ t se/(p(1-p)))``,
    R ``svyciprop(method="xlogit")``.
``logit``
    Wald interval on the log-odds with the standard error of the log-odds
    itself: ``expit(logit(p) -/+ t logit_se)``, R
    ``svyciprop(method="logit")``, which fits ``svyglm(y ~ 1, quasibinomial)``.
    On linearisation (Taylor) designs, and when no ``logit_se`` is given,
    ``logit_se = se/(p(1-p))`` and the interval is exactly ``xlogit`` (R's
    numbers differ by glm convergence noise, a few 1e-9). On replicate-weight
    designs R refits the model on every replicate, so ``logit_se`` is the
    replicate standard error of the replicates' log-odds
    (:attr:`prevalence.stats.variance.DomainProportions.logit_se`), not the delta
    method of ``xlogit``. Where a replicate estimate is 0 or 1 (its log-odds
    is infinite) R's value depends on where its glm fit stops; such cells are
    flagged ``"replicate estimate 0 or 1: logit interval as R's glm fit"``.
``asin``
    ``sin(asin(sqrt p) -/+ t se / (2 sqrt(p(1-p))))**2``, R
    ``svyciprop(method="asin")``, including R's fold: when an argument leaves
    [0, pi/2] the square of the sine folds it back into [0, 1] (the bound is
    then *not* the transform's end point and the lower bound may even exceed
    ``p``). R's numbers are kept and such cells are flagged.
``likelihood``
    Exact roots ``mu`` below and above ``p`` of
    ``2 KL(p || mu) = t**2 var/(p(1-p)) n/(n-1)`` (KL of Bernoulli
    distributions), the equation behind R's ``svyciprop(method="likelihood")``:
    the binomial deviance ``2 n KL`` cut at ``t**2`` times the design effect of
    the log-odds ``n var/(p(1-p))`` times the dispersion ``n/(n-1)``.
    R locates the root on a coarse interpolated profile, so R's bounds differ
    from the exact root by up to about 1e-3; on replicate designs R returns NA.
``korn-graubard``
    Korn & Graubard (1998), R ``svyciprop(method="beta")``: Clopper–Pearson on
    ``n_eff = n* (t_{n-1}/t_df)**2`` (quantiles at ``alpha/2``) and
    ``x = p n_eff``, not capped at ``n``. The t factor is capped at 1, which
    changes nothing when ``df <= n - 1`` (every design) and makes the classical
    case (``df = inf``) exactly Clopper–Pearson instead of R's narrowing
    intervals for small ``n``.
``korn-graubard-nchs``
    The Korn–Graubard interval of the NCHS Data Presentation Standards for
    Proportions (Parker et al. 2017). For ``0 < p < 1`` the effective sample
    size is ``min(n, n* (t_{n-1}/t_df)**2)``: the degrees-of-freedom adjusted
    ``n_eff``, capped at the actual sample size ``n``. At ``p = 0`` or ``1``
    the design effect is undefined and the effective sample size is the actual
    sample size ``n``, with no degrees-of-freedom factor, which gives the
    Clopper–Pearson interval ``[0, 1 - (alpha/2)**(1/n)]`` or
    ``[(alpha/2)**(1/n), 1]``. This is the rule of NCHS's own implementations
    of the standard (its Korn–Graubard SAS macro for NHANES and the
    ``surveytable`` R package's ``svyciprop_adjusted``). The standard's
    presentation criteria (suppress when ``n_eff < 30``, when the interval is
    0.30 or wider, or wider than 0.05 and 130% of ``p``; review ``p`` of 0 or
    1 and ``df < 8``) are applied elsewhere, not here.

Edge cases (same precedence as listed; ``flag`` gives the exact text)
--------------------------------------------------------------------
* ``n == 0``: NaN bounds, flag ``"no observations"``.
* a NaN estimate, se, n or df (with ``n > 0``): NaN bounds, flag
  ``"missing estimate, se, n or df"``.
* ``df == 0`` (a domain in a single PSU): the variance has no degrees of
  freedom and ``t`` is undefined (R gives NaN). NaN bounds for *every* method,
  flag ``"df = 0: interval undefined"``.
* ``p == 0`` or ``p == 1`` (then ``se == 0`` and ``n* = 0/0``): ``n*`` is
  replaced by ``n``. ``wilson``, ``clopper-pearson``, ``jeffreys``,
  ``agresti-coull``, ``korn-graubard`` and ``korn-graubard-nchs`` are computed
  with ``n* = n`` (flag e.g. ``"estimate 0: wilson with n=20"``). ``xlogit``,
  ``logit``, ``asin`` and ``likelihood`` are undefined there and fall back to
  Clopper–Pearson with ``n`` (flag e.g. ``"estimate 0: xlogit undefined,
  clopper-pearson with n=20"``). ``wald`` gives ``[p, p]`` with flag
  ``"zero-width: wald at estimate 0"``. The se is not used in these cells.
* ``se == 0`` with ``0 < p < 1`` (for example a census stratum): ``n*`` is
  infinite and every method except ``korn-graubard-nchs`` collapses to
  ``[p, p]`` with flag ``"se = 0: zero-width interval"``; the NCHS variant caps
  ``n_eff`` at ``n`` and returns a proper interval.
* clipping: ``"clipped to [0, 1]"`` (``wald``, ``agresti-coull``); folding:
  ``"asin lower bound folded at 0"`` / ``"asin upper bound folded at 1"``;
  capping: ``"n_eff capped at n"`` (``korn-graubard-nchs``); Jeffreys with
  ``0 < p < 1``: ``"jeffreys bound moved to the estimate"``. Several flags in
  one cell are joined with ``"; "``.

References
----------
Agresti A, Coull BA (1998). Approximate is better than "exact" for interval
estimation of binomial proportions. The American Statistician 52(2):119-126.

Brown LD, Cai TT, DasGupta A (2001). Interval estimation for a binomial
proportion. Statistical Science 16(2):101-133.

Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits
illustrated in the case of the binomial. Biometrika 26(4):404-413.

Korn EL, Graubard BI (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. Survey
Methodology 24(2):193-201.

Parker JD, Talih M, Malec DJ, et al. (2017). National Center for Health
Statistics data presentation standards for proportions. Vital Health Stat
2(175). National Center for Health Statistics.

Wilson EB (1927). Probable inference, the law of succession, and statistical
inference. Journal of the American Statistical Association 22(158):209-212.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from prevalence.contract import join_flags
from prevalence.errors import ConfigError

__all__ = ["METHODS", "METHOD_NAMES", "Intervals", "check_method", "confint", "wilson_bounds"]

METHODS = (
    "wald",
    "wilson",
    "clopper-pearson",
    "jeffreys",
    "agresti-coull",
    "logit",
    "xlogit",
    "asin",
    "likelihood",
    "korn-graubard",
    "korn-graubard-nchs",
)

#: Each method as named in notes, captions and reports.
METHOD_NAMES = {
    "wald": "Wald",
    "wilson": "Wilson",
    "clopper-pearson": "Clopper\u2013Pearson",
    "jeffreys": "Jeffreys",
    "agresti-coull": "Agresti\u2013Coull",
    "logit": "logit",
    "xlogit": "logit",
    "asin": "arcsine",
    "likelihood": "likelihood-ratio",
    "korn-graubard": "Korn\u2013Graubard",
    "korn-graubard-nchs": "Korn\u2013Graubard (NCHS)",
}

#: Methods that are undefined at p = 0 or 1 and fall back to Clopper–Pearson with n.
_FALLBACK_AT_EDGE = frozenset({"logit", "xlogit", "asin", "likelihood"})

#: Bisection steps of the likelihood root finder (each halves the bracket).
_BISECTION_STEPS = 100

FLAG_NO_OBSERVATIONS = "no observations"
FLAG_MISSING = "missing estimate, se, n or df"
FLAG_DF_ZERO = "df = 0: interval undefined"
FLAG_SE_ZERO = "se = 0: zero-width interval"
FLAG_CLIPPED = "clipped to [0, 1]"
FLAG_FOLD_LOW = "asin lower bound folded at 0"
FLAG_FOLD_HIGH = "asin upper bound folded at 1"
FLAG_CAPPED = "n_eff capped at n"
FLAG_JEFFREYS_MOVED = "jeffreys bound moved to the estimate"
FLAG_LOGIT_EDGE = "replicate estimate 0 or 1: logit interval as R's glm fit"


@dataclass(frozen=True)
class Intervals:
    """Confidence intervals for a set of cells (arrays of one broadcast shape).

    Attributes
    ----------
    low, high
        The bounds (float). NaN only for cells without observations, with a
        missing input or with ``df == 0``.
    n_eff
        The effective sample size the method used: ``n*`` for ``wilson``,
        ``clopper-pearson``, ``jeffreys`` and ``agresti-coull``, the
        Korn–Graubard ``n_eff`` for the two ``korn-graubard`` methods, ``n``
        where a method fell back to Clopper–Pearson at ``p = 0`` or ``1``, and
        NaN for methods that use none (``wald``, ``logit``, ``xlogit``,
        ``asin``, ``likelihood``).
    flag
        Object array of str: ``""`` or a short lowercase reason when a
        fallback or an adjustment happened (see the module docstring).
    """

    low: np.ndarray
    high: np.ndarray
    n_eff: np.ndarray
    flag: np.ndarray


def check_method(method: str) -> str:
    """Return ``method`` if it is one of :data:`METHODS`.

    Parameters
    ----------
    method
        An interval method name. Matching is exact: no case folding, no
        stripping, no prefix matching (``"jeff"`` and ``"Wilson "`` are
        rejected), and R's names (``"beta"``, ``"mean"``) are not aliases.

    Returns
    -------
    str
        ``method`` unchanged.

    Raises
    ------
    ConfigError
        If ``method`` is not a valid name; the message lists the valid names.
    """
    if isinstance(method, str) and method in METHODS:
        return method
    raise ConfigError(
        f"unknown confidence interval method {method!r}",
        fix=f"use one of: {', '.join(METHODS)}",
    )


def confint(
    method: str,
    estimate,
    se,
    n,
    df,
    level: float = 0.95,
    *,
    logit_se=None,
    logit_edge=None,
) -> Intervals:
    """Confidence intervals for proportions, vectorised over cells.

    Parameters
    ----------
    method
        One of :data:`METHODS`; see the module docstring for the formulas.
    estimate
        Estimated proportion ``p`` in [0, 1] (NaN allowed: missing).
    se
        Its standard error, finite and >= 0: design-based, or
        ``sqrt(p(1-p)/n)`` for a simple random sample (NaN allowed).
    n
        Number of valid observations in the domain (R's ``nrow`` of the domain
        design), >= 0. Used by ``korn-graubard`` (the ``t_{n-1}`` factor),
        ``korn-graubard-nchs`` (the cap), ``likelihood`` (``n/(n-1)``) and in
        every method at ``p = 0`` or ``1``.
    df
        Design degrees of freedom, >= 0; ``np.inf`` gives normal quantiles
        (classical case). ``df == 0`` gives NaN bounds.
    level
        Confidence level in (0, 1).
    logit_se
        Standard error of ``logit(estimate)``, used by ``logit`` only (finite
        and >= 0; NaN allowed where ``p`` is 0 or 1, or as missing). Omitted:
        ``se/(p(1-p))``, the linearised one. A replicate design's own is
        :attr:`prevalence.stats.variance.DomainProportions.logit_se`.
    logit_edge
        Boolean, used by ``logit`` only: cells whose ``logit_se`` rests on a
        replicate estimate of 0 or 1 (flagged :data:`FLAG_LOGIT_EDGE`).

    Returns
    -------
    Intervals
        Arrays of the broadcast shape of the inputs.

    Raises
    ------
    ConfigError
        If ``method`` is unknown or ``level`` is not in (0, 1).
    ValueError
        If an estimate is outside [0, 1], an se is negative or infinite, an
        ``n`` is negative or infinite, or a ``df`` is negative.

    Notes
    -----
    In the classical case (``se = sqrt(p(1-p)/n)``, ``df = inf``) ``wald``,
    ``wilson``, ``clopper-pearson`` and ``agresti-coull`` equal statsmodels'
    ``proportion_confint`` methods ``normal``, ``wilson``, ``beta`` and
    ``agresti_coull``; ``jeffreys`` equals statsmodels' ``jeffreys`` except
    at ``x = 0`` (lower bound 0 here) and ``x = n`` (upper bound 1 here).
    """
    method = check_method(method)
    alpha = 1.0 - check_level(level)
    logit = method == "logit" and logit_se is not None
    p, se, n, df, lse, ledge = _broadcast_inputs(
        estimate, se, n, df, logit_se if logit else None, logit_edge
    )

    shape = p.shape
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)
    n_eff = np.full(shape, np.nan)
    flag = np.full(shape, "", dtype=object)

    empty = n == 0
    missing = ~empty & (np.isnan(p) | np.isnan(se) | np.isnan(n) | np.isnan(df))
    if logit:  # a logit_se is needed where p is neither 0 nor 1
        missing |= ~empty & (p > 0) & (p < 1) & np.isnan(lse)
    df_zero = ~empty & ~missing & (df == 0)
    usable = ~(empty | missing | df_zero)
    flag[empty] = FLAG_NO_OBSERVATIONS
    flag[missing] = FLAG_MISSING
    flag[df_zero] = FLAG_DF_ZERO

    edge = usable & ((p == 0) | (p == 1))
    flat = usable & ~edge & (se == 0)
    if method == "korn-graubard-nchs":  # the cap at n turns se = 0 into a proper interval
        regular, flat = usable & ~edge, np.zeros(shape, dtype=bool)
    else:
        regular = usable & ~edge & ~flat

    t = np.full(shape, np.nan)
    t[usable] = _t_upper(alpha, df[usable])

    if regular.any():
        if logit:
            lo, hi, ne, fl = _reg_logit(p[regular], lse[regular], t[regular], ledge[regular] > 0)
        else:
            lo, hi, ne, fl = _REGULAR[method](
                p[regular], se[regular], n[regular], t[regular], alpha
            )
        low[regular], high[regular], n_eff[regular], flag[regular] = lo, hi, ne, fl

    if flat.any():
        low[flat] = high[flat] = p[flat]
        n_eff[flat] = np.inf if method in _USES_EFFECTIVE_N else np.nan
        flag[flat] = FLAG_SE_ZERO

    if edge.any():
        lo, hi, ne, fl = _at_edge(method, p[edge], n[edge], t[edge], alpha)
        low[edge], high[edge], n_eff[edge], flag[edge] = lo, hi, ne, fl

    return Intervals(low=low, high=high, n_eff=n_eff, flag=flag)


def _broadcast_inputs(estimate, se, n, df, logit_se, logit_edge):
    """The inputs of :func:`confint` as float arrays of one shape, checked.

    ``logit_se`` is None unless the ``logit`` method uses it; then its values
    are checked and ``logit_edge`` (None: no edge) is read as 1.0/0.0.
    """
    logit = logit_se is not None
    replicate_edge = False if not logit or logit_edge is None else logit_edge
    values = (estimate, se, n, df, logit_se if logit else np.nan, replicate_edge)
    p, se, n, df, lse, ledge = (
        np.array(a, dtype=float)
        for a in np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))
    )
    _check_inputs(p, se, n, df)
    if logit:
        bad = (lse < 0) | np.isinf(lse)
        if bad.any():
            raise ValueError(
                f"logit_se must be finite and >= 0: {int(bad.sum())} value(s) invalid, "
                f"first {lse[bad].flat[0]!r}"
            )
    return p, se, n, df, lse, ledge


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def check_level(level: float) -> float:
    """Return ``level`` as float if it is a real number strictly inside (0, 1)."""
    ok = isinstance(level, int | float | np.floating | np.integer) and not isinstance(
        level, bool | np.bool_
    )
    if ok:
        value = float(level)
        if 0.0 < value < 1.0:
            return value
    raise ConfigError(
        "confidence level must be a number strictly between 0 and 1",
        value=level,
        fix="use for example 0.95 for a 95% interval",
    )


def _check_inputs(p: np.ndarray, se: np.ndarray, n: np.ndarray, df: np.ndarray) -> None:
    """Raise ValueError for values no caller should pass (NaN means missing and passes)."""
    problems = (
        ("estimate", p, (p < 0) | (p > 1), "must be in [0, 1]"),
        ("se", se, (se < 0) | np.isinf(se), "must be finite and >= 0"),
        ("n", n, (n < 0) | np.isinf(n), "must be finite and >= 0"),
        ("df", df, df < 0, "must be >= 0 (np.inf for normal quantiles)"),
    )
    for name, values, bad, rule in problems:
        if bad.any():
            first = values[bad].flat[0]
            raise ValueError(f"{name} {rule}: {int(bad.sum())} value(s) invalid, first {first!r}")


# --------------------------------------------------------------------------------------
# building blocks (all on 1-d arrays of usable cells)
# --------------------------------------------------------------------------------------
def _t_upper(alpha: float, df: np.ndarray) -> np.ndarray:
    """The ``1 - alpha/2`` quantile of t with ``df`` (> 0) degrees of freedom; normal if inf."""
    finite = np.isfinite(df)
    t = np.full(df.shape, -special.ndtri(alpha / 2))
    t[finite] = special.stdtrit(df[finite], 1.0 - alpha / 2)
    return t


def _beta_bounds(
    a: np.ndarray, b: np.ndarray, alpha: float, prior: float
) -> tuple[np.ndarray, np.ndarray]:
    """Beta-quantile interval for ``a`` cases and ``b`` non-cases (real-valued).

    ``prior = 0`` gives Clopper–Pearson: ``[B(alpha/2; a, b+1), B(1-alpha/2; a+1, b)]``;
    ``prior = 0.5`` gives Jeffreys: quantiles of ``Beta(a+1/2, b+1/2)``. The lower
    bound is 0 when ``a == 0`` and the upper bound 1 when ``b == 0``.
    """
    has_cases = a > 0
    has_noncases = b > 0
    low = np.zeros(a.shape)
    high = np.ones(a.shape)
    # the beta quantiles of scipy.stats.beta.ppf / .isf, which call these (the same bits),
    # without importing scipy.stats (a second per job)
    low[has_cases] = special.betaincinv(
        a[has_cases] + prior, b[has_cases] + (1.0 - prior), alpha / 2
    )
    high[has_noncases] = special.betainccinv(
        a[has_noncases] + (1.0 - prior), b[has_noncases] + prior, alpha / 2
    )
    return low, high


def _clopper_pearson(p, m, alpha):
    return _beta_bounds(p * m, (1.0 - p) * m, alpha, prior=0.0)


def _jeffreys(p, m, alpha):
    """Jeffreys bounds, moved to ``p`` where they would exclude it.

    The equal-tailed Beta(x + 1/2, n - x + 1/2) interval excludes ``p = x/n``
    when ``x`` is 0 or n (Brown, Cai & DasGupta 2001 then set the bound to 0 or 1)
    and, for a non-integer effective count, when ``x* < 1`` or ``n* - x* < 1``
    at low levels or tiny ``n*``. Both are handled by the same rule: the bound is
    moved to ``p``. Returns the bounds and a mask of cells with ``0 < p < 1``
    where that happened.
    """
    low, high = _beta_bounds(p * m, (1.0 - p) * m, alpha, prior=0.5)
    moved = ((low > p) | (high < p)) & (p > 0) & (p < 1)
    return np.minimum(low, p), np.maximum(high, p), moved


def _wilson(p, m, t):
    t2 = t * t
    denom = 1.0 + t2 / m
    centre = (p + t2 / (2.0 * m)) / denom
    half = t * np.sqrt(p * (1.0 - p) / m + t2 / (4.0 * m * m)) / denom
    # the bounds are exactly 0 at p = 0 and 1 at p = 1; keep rounding from crossing p
    low = np.where(p == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(p == 1, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def wilson_bounds(cases: Any, n: Any, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson (1927) score bounds of ``cases`` out of ``n`` (arrays broadcast together).

    The bounds are exactly 0 at ``cases = 0`` and 1 at ``cases = n`` (rounding
    never moves them past the estimate); NaN where ``n <= 0``. The same bounds
    as :func:`confint` with ``method="wilson"`` on a simple random sample.
    """
    x, m = (np.asarray(v, dtype=np.float64) for v in (cases, n))
    t = float(special.ndtri(0.5 + check_level(level) / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        low, high = _wilson(x / m, m, t)
    empty = ~(m > 0)
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _agresti_coull(p, m, t):
    t2 = t * t
    m_tilde = m + t2
    p_tilde = (p * m + t2 / 2.0) / m_tilde
    half = t * np.sqrt(p_tilde * (1.0 - p_tilde) / m_tilde)
    return p_tilde - half, p_tilde + half


def _clip(low, high):
    """Clip to [0, 1]; return the bounds and the flags (FLAG_CLIPPED where clipped)."""
    clipped = (low < 0) | (high > 1)
    return np.clip(low, 0.0, 1.0), np.clip(high, 0.0, 1.0), _flags(clipped, FLAG_CLIPPED)


def _flags(mask: np.ndarray, text: str) -> np.ndarray:
    out = np.full(mask.shape, "", dtype=object)
    out[mask] = text
    return out


def _effective_n(p, se):
    """``n* = p(1-p)/se**2`` (se > 0, 0 < p < 1); infinite when se == 0."""
    var = se * se
    out = np.full(p.shape, np.inf)
    pos = var > 0
    out[pos] = p[pos] * (1.0 - p[pos]) / var[pos]
    return out


def _kg_ratio(n, t, alpha):
    """Korn–Graubard factor ``min(1, (t_{n-1}/t_df)**2)``; 1 where ``n <= 1`` (no t_{n-1}).

    The factor corrects for a variance estimated with fewer degrees of freedom
    than ``n - 1``. With ``df > n - 1`` (only when ``df`` is not a design's
    PSUs-minus-strata count, e.g. ``df = inf``) R's unbounded factor would
    inflate ``n_eff`` above ``n*`` and make the interval *narrower* at higher
    levels (``n = 2``: the 99% interval inside the 80% one), so it is capped at 1.
    Every design with ``df <= n - 1`` gets R's value.
    """
    ratio = np.ones(n.shape)
    big = n > 1
    ratio[big] = (special.stdtrit(n[big] - 1.0, 1.0 - alpha / 2) / t[big]) ** 2
    return np.minimum(ratio, 1.0)


def _kl_lower_root(p, c):
    """The ``mu <= p`` with ``KL(p || mu) = c`` (Bernoulli KL), for 0 < p < 1, c >= 0.

    Writes ``mu = p exp(-s)``; ``g(s) = KL - c`` increases in ``s`` from ``-c``, and
    ``KL >= p s - 1/e`` puts the root below ``s = (c + 1)/p``. Fixed-step bisection on
    ``s`` gives a relative precision of about ``(c + 1)/p * 2**-100`` on ``mu``.
    ``c = inf`` gives 0.
    """
    finite = np.isfinite(c)
    pf, cf = p[finite], c[finite]
    q = 1.0 - pf
    log_q = np.log1p(-pf)
    lo = np.zeros(pf.shape)
    hi = (cf + 1.0) / pf
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        g = pf * mid + q * (log_q - np.log1p(-pf * np.exp(-mid))) - cf
        above = g > 0
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    out = np.zeros(p.shape)
    out[finite] = pf * np.exp(-0.5 * (lo + hi))
    return out


# --------------------------------------------------------------------------------------
# methods on regular cells (0 < p < 1, df > 0; se > 0 except for korn-graubard-nchs)
# each returns low, high, n_eff, flag
# --------------------------------------------------------------------------------------
def _no_flags(p):
    return np.full(p.shape, "", dtype=object)


def _nan(p):
    return np.full(p.shape, np.nan)


def _reg_wald(p, se, n, t, alpha):
    low, high, flag = _clip(p - t * se, p + t * se)
    return low, high, _nan(p), flag


def _reg_wilson(p, se, n, t, alpha):
    m = _effective_n(p, se)
    low, high = _wilson(p, m, t)
    return low, high, m, _no_flags(p)


def _reg_clopper_pearson(p, se, n, t, alpha):
    m = _effective_n(p, se)
    low, high = _clopper_pearson(p, m, alpha)
    return low, high, m, _no_flags(p)


def _reg_jeffreys(p, se, n, t, alpha):
    m = _effective_n(p, se)
    low, high, moved = _jeffreys(p, m, alpha)
    return low, high, m, _flags(moved, FLAG_JEFFREYS_MOVED)


def _reg_agresti_coull(p, se, n, t, alpha):
    m = _effective_n(p, se)
    low, high, flag = _clip(*_agresti_coull(p, m, t))
    return low, high, m, flag


def _reg_xlogit(p, se, n, t, alpha):
    eta = special.logit(p)
    half = t * se / (p * (1.0 - p))
    return special.expit(eta - half), special.expit(eta + half), _nan(p), _no_flags(p)


def _reg_logit(p, logit_se, t, edge):
    """``expit(logit(p) -/+ t logit_se)``: the log-odds' own standard error (R's svyglm)."""
    eta = special.logit(p)
    half = t * logit_se
    flag = _flags(edge, FLAG_LOGIT_EDGE)
    return special.expit(eta - half), special.expit(eta + half), _nan(p), flag


def _reg_asin(p, se, n, t, alpha):
    centre = np.arcsin(np.sqrt(p))
    half = t * se / (2.0 * np.sqrt(p * (1.0 - p)))
    arg_low, arg_high = centre - half, centre + half
    flag = join_flags(
        _flags(arg_low < 0, FLAG_FOLD_LOW), _flags(arg_high > np.pi / 2, FLAG_FOLD_HIGH)
    )
    return np.sin(arg_low) ** 2, np.sin(arg_high) ** 2, _nan(p), flag


def _reg_likelihood(p, se, n, t, alpha):
    # 2 KL(p || mu) = t^2 var/(p(1-p)) n/(n-1); infinite (bounds 0 and 1) when n <= 1
    c = np.full(p.shape, np.inf)
    big = n > 1
    nb = n[big]
    c[big] = (t[big] * se[big]) ** 2 / (2.0 * p[big] * (1.0 - p[big])) * nb / (nb - 1.0)
    low = _kl_lower_root(p, c)
    high = 1.0 - _kl_lower_root(1.0 - p, c)
    return low, high, _nan(p), _no_flags(p)


def _reg_korn_graubard(p, se, n, t, alpha):
    m = _effective_n(p, se) * _kg_ratio(n, t, alpha)
    low, high = _clopper_pearson(p, m, alpha)
    return low, high, m, _no_flags(p)


def _reg_korn_graubard_nchs(p, se, n, t, alpha):
    raw = _effective_n(p, se) * _kg_ratio(n, t, alpha)
    capped = raw > n
    m = np.where(capped, n, raw)
    low, high = _clopper_pearson(p, m, alpha)
    return low, high, m, _flags(capped, FLAG_CAPPED)


_Method = Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
_REGULAR: dict[str, _Method] = {
    "wald": _reg_wald,
    "wilson": _reg_wilson,
    "clopper-pearson": _reg_clopper_pearson,
    "jeffreys": _reg_jeffreys,
    "agresti-coull": _reg_agresti_coull,
    "logit": _reg_xlogit,
    "xlogit": _reg_xlogit,
    "asin": _reg_asin,
    "likelihood": _reg_likelihood,
    "korn-graubard": _reg_korn_graubard,
    "korn-graubard-nchs": _reg_korn_graubard_nchs,
}
_USES_EFFECTIVE_N = frozenset(
    {
        "wilson",
        "clopper-pearson",
        "jeffreys",
        "agresti-coull",
        "korn-graubard",
        "korn-graubard-nchs",
    }
)
assert set(_REGULAR) == set(METHODS)


# --------------------------------------------------------------------------------------
# p = 0 or 1
# --------------------------------------------------------------------------------------
def _at_edge(method, p, n, t, alpha):
    """Bounds at p = 0 or 1 (se unused): the effective sample size is n."""
    which = np.where(p == 0, "estimate 0", "estimate 1")
    if method == "wald":
        flag = np.char.add("zero-width: wald at ", which).astype(object)
        return p.copy(), p.copy(), _nan(p), flag

    n_text = np.char.mod("%.15g", n)
    if method in _FALLBACK_AT_EDGE:
        middle = f": {method} undefined, clopper-pearson with n="
    else:
        middle = f": {method} with n="
    flag = np.char.add(np.char.add(which, middle), n_text).astype(object)

    if method == "wilson":
        low, high = _wilson(p, n, t)
    elif method == "jeffreys":
        low, high, _ = _jeffreys(p, n, alpha)
    elif method == "agresti-coull":
        low, high, clip_flag = _clip(*_agresti_coull(p, n, t))
        flag = join_flags(flag, clip_flag)
    else:  # clopper-pearson, both korn-graubard and the fallbacks
        low, high = _clopper_pearson(p, n, alpha)
    return low, high, n.astype(float), flag
