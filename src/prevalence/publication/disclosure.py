"""What the published prevalence table may show: reliability and disclosure control.

:func:`disclose` takes the long table of :mod:`prevalence.stats.estimate` and decides,
cell by cell, whether its value can be published. Three layers, in this order:

1. **Reliability** (the ``standard`` of the ``publication:`` block; default the
   NCHS Data Presentation Standards for Proportions, Parker et al. 2017; or the
   DHS and MICS convention, ``dhs``; or Statistics Canada's quality grades,
   ``statcan``). Under NCHS every cell gets a 95% Korn–Graubard interval
   computed here from ``n``, ``estimate``, ``se`` and ``df``
   (:func:`nchs_interval`), whatever interval the table publishes, and
   :func:`reliability_checks` applies the rules.
2. **Disclosure control** (primary suppression, :func:`disclosure_checks`): a
   cell with 1 to k-1 cases, or 1 to k-1 non-cases, is suppressed.
3. **Secondary suppression**: no suppressed value may be derived from what is
   published, by subtraction within additive groups of cells or through the
   "of whom" link between an indicator and its denominator.

Suppressed rows come out with ``suppressed`` true, every reason in ``flag``
(joined with ``"; "``) and ``cases``, ``estimate``, ``se``, ``ci_low``,
``ci_high``, ``deff`` and ``n_eff`` blank: a published table never carries a
suppressed value.

Reliability rules
-----------------
With ``standard: nchs`` (the thresholds below are NCHS's; ``standard: custom``
sets each of them, ``standard: none`` applies no reliability rule) a cell is
suppressed when

* its sample size is below 30 (``"sample size n < 30"``);
* its effective sample size is below 30 (``"effective sample size < 30"``). The
  effective sample size is NCHS's: ``min(n, n* (t_{n-1}/t_df)**2)`` with Kish's
  ``n* = p(1-p)/se**2``, and ``n`` when ``p`` is 0 or 1 (the design effect is then
  undefined), as in NCHS's own implementation (the ``surveytable`` R package). A
  cell whose variance has no degrees of freedom (``df = 0``) has effective sample
  size 0 (NCHS sets the Korn–Graubard factor to 0 there);
* its Korn–Graubard interval is 0.30 wide or wider (``"CI width >= 30 points"``);
* its interval is wider than 0.05 and wider than 130% of the estimate
  (``"relative CI width > 130%"``);
* its interval cannot be computed though it has respondents (``"interval
  undefined"``: a missing estimate or standard error).

A published cell is flagged, not suppressed, when

* its degrees of freedom are below 8 (``"df < 8: review"``);
* its estimate is 0 or 1 (``"estimate 0%: review"``, ``"estimate 100%: review"``);
* its interval is wider than 0.05 and wider than 130% of the complement ``1 - p``
  (``"complement relative CI width > 130%"``, a footnote).

At ``p = 0`` or ``1`` the relative-width rules are not applied (the relative
width of ``p`` or of its complement is undefined there; NCHS refers such
estimates to statistical review instead) but the absolute-width rule is, on the
Clopper–Pearson interval with ``n`` that Korn–Graubard reduces to.

The interval is the ``korn-graubard-nchs`` method of :mod:`prevalence.stats.intervals`
at the 95% level of the standard: Clopper–Pearson on the NCHS effective sample
size (capped at ``n``), the interval of NCHS's implementation.

The DHS and MICS convention (``standard: dhs``)
-----------------------------------------------
The Demographic and Health Surveys (DHS) Program and UNICEF's Multiple Indicator
Cluster Surveys (MICS) judge a percentage by the unweighted number of cases in
its denominator, which is ``n`` here (``cases`` here counts the "yes" answers):

* fewer than 25 unweighted cases: the figure is not shown, an asterisk stands in
  its place (``"fewer than 25 unweighted cases"``, :func:`dhs_checks`);
* 25 to 49 unweighted cases: the figure is shown in parentheses, to be used with
  caution (``caution`` true, note ``"25-49 unweighted cases: use with caution"``).

Source: Croft TN, Marshall AMJ, Allen CK, et al. (2018), *Guide to DHS
Statistics* (DHS-7), ICF, chapter 1, "Data Suppression and Parenthesizing"; the
same footnotes stand under the tables of DHS final reports ("Figures in
parentheses are based on 25-49 unweighted cases"; an asterisk: a figure based on
fewer than 25 unweighted cases, suppressed), whose "Reading and understanding
tables" section explains them (for example the Malawi DHS 2015-16, report FR319:
fewer than 25 cases, an asterisk and no number; 25 to 49 cases, parentheses,
"use this number with caution").

Statistics Canada's quality grades (``standard: statcan``)
-----------------------------------------------------------
Each estimate is graded by its coefficient of variation, CV = ``se / estimate``
(:func:`statcan_checks`): A excellent (CV under 5%), B very good (5% to under
10%), C good (10% to under 15%), D acceptable (15% to under 25%), E use with
caution (25% to under 35%) and F too unreliable to be published (35% or more).
A CV at a bound takes the worse grade (StatCan writes the ranges 0.00%-4.99%,
5.00%-9.99%, ... on CVs in hundredths of a percent). E is published with
``caution`` true; F is suppressed (``"CV 35% or more: too unreliable to be
published (F)"``) and shown as ``F``. The grade of every published cell is in
the ``grade`` column; a cell hidden for another reason carries no grade (it
would bound its estimate). An estimate of 0 has no CV: it is published without
grade and flagged for review, as one of 100% (CV 0, grade A).

Sources: Statistics Canada, *Standard table symbols*,
https://www.statcan.gc.ca/eng/concepts/definitions/guide-symbol (the symbols of
every Statistics Canada table: A, B, C, D specific levels of data quality, or
"acceptable or better"; E use with caution; F too unreliable to be published,
the figure suppressed and F in its cell). That page defines the letters, not the
CV ranges: each survey programme sets those. The ranges here are those of
Statistics Canada's data quality indicators of its survey tables by CV (for
example the *Quarterly Survey of Financial Statistics for Enterprises*: A 0.00% to
4.99%, B 5.00% to 9.99%, C 10.00% to 14.99%, D 15.00% to 24.99%; E 25.00% to
34.99%; F 35.00% and more). Some Statistics Canada programmes release by other
cut-offs (the Canadian Community Health Survey: caution from 16.6%, suppression
above 33.3%); this standard is the A-F scale above (``cv_grades``).

Disclosure rule and zero cells
------------------------------
A cell with ``cases`` in ``1 .. k-1`` or ``n - cases`` in ``1 .. k-1`` is
suppressed (k = 3 by default), flagged ``"fewer than 3 cases or non-cases"``
whichever it is (see "What the flags say").
Both counts are checked because a small number of non-cases identifies the few
who did *not* report violence as surely as a small number of cases identifies
those who did. Zero cells follow from the same rule, as in NCHS's restricted-data
rule (``surveytable``): 0 or ``n`` cases are suppressed when ``n < k``, because
the other count is then between 1 and k-1 (a group of two who all said yes is as
identifying as one of two who did). A 0% or 100% in a cell of k or more
respondents is published: everybody in the cell gave the same answer (group
disclosure), but the group has at least k members, the size the rule protects
everywhere else; under the NCHS standard the cell is flagged for review. Raise
``disclosure_k`` to protect larger unanimous groups.

Secondary suppression
---------------------
Published per cell: ``n`` (always, except below), and ``cases``, the estimate and
its interval unless suppressed. Cells of one wave x indicator x denominator add
up in groups, each ``total = sum(parts) + residual``:

* every domain partitions ``overall``; every crossing partitions each value of a
  domain (single or crossing) made of some of its parts (``region=Africa`` is the
  sum of ``region+role = Africa+MP, Africa+staff``), and also ``overall``. A pair
  of domains with the same parts in another order (``region+role`` and
  ``role+region``) is a group of one cell equal to another;
* the **residual** is the respondents of the total with no value of the finer
  domain (a missing region or role). It is never published, but its size is
  known to a reader (``n`` of the total minus ``n`` of the parts), so it enters
  every group as a hidden pseudo-cell of that size: it protects as much as a
  suppressed cell of that size, and no more. It is not itself protected:
  respondents who did not give their region are not a group anyone outside the
  survey can name.

A reader knows every published count, every ``n`` and that each hidden count
lies between 0 and its ``n``. What a reader can then derive about a hidden count
is bounded by interval propagation over all groups at once (the "shuttle"
bounds of Buzzigoli & Giusti 1999: each group's equation bounds each of its
cells by the bounds of the others, repeated to a fixed point). The table is
safe when

* no suppressed cell (any reason, including secondary suppression) with
  respondents is pinned to one value;
* no disclosure-suppressed cell is pinned to fewer than ``min(k, n + 1)``
  values (all of ``0 .. n`` when ``n < k``);
* in a group whose total is known, the suppressed cells together (residual
  included) hold at least k cases and k non-cases whenever one of them is
  disclosure-suppressed (else their union is itself a disclosive cell).

(The first rule covers the textbook case of a group with a single suppressed
cell, and also a cell recovered through another group: two hidden cells in
``region=C`` are both pinned when ``role=staff`` has only one of them.) Until the
table is safe, one more published cell is suppressed

* for each unsafe union: a published member of the group that adds the missing
  cases or non-cases;
* for each cell pinned too closely: a published member of the groups whose
  equation gives it its bound, and, transitively, of the groups that bound the
  hidden cells used there.

The member hidden is, in this order of preference: a cell outside the published
populations (``populations``, the ``figures.populations`` of the configuration:
a cell of ``role = MP`` or of ``region+role = Africa+MP`` lies in the population
of women MPs) rather than one inside them; then the smallest ``n``, the least
information lost; then parts before totals, then table order. So when the staff's
cell of an "of whom" figure has 2 cases, the total of MPs and staff is hidden with
it, not the MPs' figure: the published population keeps its numbers, the total
cannot be rebuilt from the MPs' cell (the staff's is hidden) and the staff's
cannot be rebuilt from the MPs' (the total is hidden). These cells are flagged
``"secondary suppression"``. Each round is vectorized over the table; rounds repeat until no
cell is added (at worst everything is hidden, which is safe). Interval
propagation gives the exact bounds of a single equation and of chains of them;
over linked equations a reader solving all of them at once (an integer program)
could in principle do better, so the tests attack random tables with exactly
that and check that no suppressed count is pinned.

Categorical questions: the categories of a question (rows ``<question>=<category>``
of one wave, domain value and denominator) share their ``n`` and their cases sum to
it, so a single suppressed category would be ``n`` minus the published ones. When
exactly one is hidden, one more is suppressed (flagged ``"secondary suppression"``):
the published category with the fewest cases among those with at least k, else the
one with the most; the domain audit above then runs again on the new table.

The "of whom" link
------------------
A conditional indicator is estimated among the respondents whose answer to its
denominator indicator is yes, so its ``n`` in a cell is the denominator's
``cases`` there (less item non-response). When the denominator's cell is
suppressed (for any reason), the child cell is suppressed too and its ``n`` is
blanked (the column ``n_suppressed``, appended after the contract's columns,
is true; ``flag`` says ``"denominator suppressed: n hidden"``), and so on down a
chain of conditional indicators. The child's ``n`` adds up over cells like the
parent's cases, over exactly the same hidden cells and never more than them, so
the protection of the parent's cases protects the child's ``n`` too; the
propagation uses the true child ``n`` as the bound of its hidden cases, which is
more than a reader knows.

Interval notes already in ``flag`` (``"estimate 0: wilson with n=20"`` and the
like, :mod:`prevalence.stats.intervals`) are kept for published cells and dropped for
suppressed ones: they describe an interval that is not shown, and some reveal
the estimate. Other flags (``"no respondents"``) are kept.

What the flags say
------------------
A flag is published, and must not tell what the suppression hides:

* a cell whose ``n`` is hidden (``n_suppressed``) says only ``"denominator
  suppressed: n hidden"``. Its own reasons are facts about the hidden counts:
  ``"sample size n < 30"`` bounds its ``n``, which is its denominator's cases, and
  ``"fewer than 3 cases"`` would bound its cases;
* a disclosive cell says only ``"fewer than k cases or non-cases"``: not which of
  its counts is small (``"fewer than 3 cases"`` with its ``n`` published leaves 2
  values, fewer than the k the protection guarantees), nor the reliability rules,
  which read its estimate (a relative interval width above 130% or a Statistics
  Canada F says that the estimate is small, hence which count is), nor a grade.

References
----------
Buzzigoli L, Giusti A (1999). An algorithm to calculate the lower and upper
bounds of the elements of an array given its marginals. Statistical Data
Protection (SDP'98) Proceedings, Eurostat, 131-147.

Cox LH (1980). Suppression methodology and statistical disclosure control.
Journal of the American Statistical Association 75(370):377-385.

Hundepool A, Domingo-Ferrer J, Franconi L, et al. (2012). Statistical Disclosure
Control. Wiley. Chapter 5 (frequency tables: threshold rule, group disclosure,
secondary suppression, linked tables).

Korn EL, Graubard BI (1998). Confidence intervals for proportions with small
expected number of positive counts estimated from survey data. Survey
Methodology 24(2):193-201.

Croft TN, Marshall AMJ, Allen CK, et al. (2018). Guide to DHS Statistics (DHS-7).
Rockville, Maryland: ICF.

Parker JD, Talih M, Malec DJ, et al. (2017). National Center for Health
Statistics data presentation standards for proportions. Vital Health Stat
2(175). National Center for Health Statistics.

Statistics Canada. Standard table symbols. Ottawa: Statistics Canada.
https://www.statcan.gc.ca/eng/concepts/definitions/guide-symbol
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from prevalence.contract import (
    CAUTION,
    COLUMNS,
    CROSS,
    GRADE,
    N_SUPPRESSED,
    OVERALL,
    join_flags,
)
from prevalence.errors import ConfigError
from prevalence.schema import validate_document
from prevalence.stats import intervals

__all__ = [
    "CAUTION",
    "DHS",
    "EXTRA_COLUMNS",
    "GRADE",
    "NCHS",
    "STATCAN",
    "Marks",
    "Publication",
    "Reliability",
    "disclose",
    "disclosure_checks",
    "marks",
    "nchs_interval",
    "parse_publication",
    "reliability_checks",
]

log = logging.getLogger(__name__)

#: Columns :func:`disclose` appends after the contract's :data:`~prevalence.stats.estimate.COLUMNS`.
#: The column after the contract's: true where even ``n`` is hidden
#: (:data:`~prevalence.contract.N_SUPPRESSED`).
EXTRA_COLUMNS = [N_SUPPRESSED]
#: Columns of the standards that mark published cells, after ``n_suppressed``: true
#: where the standard says "use with caution" (DHS 25-49 cases, Statistics Canada
#: grade E), and Statistics Canada's quality grade (A-F; F only on suppressed cells).
MARK_COLUMNS = {"dhs": [CAUTION], "statcan": [CAUTION, GRADE]}

#: The level of the NCHS standard's Korn–Graubard interval.
NCHS_LEVEL = 0.95

STANDARDS = ("nchs", "dhs", "statcan", "custom", "none")
THRESHOLDS = (
    "min_n",
    "min_effective_n",
    "max_ci_width",
    "relative_ci_width",
    "relative_ci_width_above",
    "review_df_below",
)
#: The thresholds each standard uses (``custom`` uses NCHS's rules).
STANDARD_THRESHOLDS = {
    "nchs": THRESHOLDS,
    "custom": THRESHOLDS,
    "dhs": ("min_n", "caution_n"),
    "statcan": ("cv_grades",),
    "none": (),
}
#: Statistics Canada's grades, best first; a cell's grade is the first whose CV bound
#: (``Publication.cv_grades``) it is below, F beyond the last.
GRADES = ("A", "B", "C", "D", "E", "F")

FLAG_INTERVAL_UNDEFINED = "interval undefined"
FLAG_SECONDARY = "secondary suppression"
FLAG_OF_WHOM = "denominator suppressed: n hidden"
FLAG_EDGE_REVIEW = ("estimate 0%: review", "estimate 100%: review")

#: Joins part values into one merge key (a character no label contains).
_KEY = "\x1f"

#: Relative slack of threshold comparisons, so that a value at a threshold is not
#: pushed to the other side by floating-point rounding (0.7 - 0.4 < 0.3).
_EPS = 1e-9

#: Flags of :mod:`prevalence.stats.intervals`: notes on an interval, dropped when it is hidden.
_INTERVAL_NOTE = re.compile(
    "|".join(
        [r"^estimate [01]:", r"^zero-width: "]
        + [
            "^" + re.escape(text) + "$"
            for text in (
                intervals.FLAG_NO_OBSERVATIONS,
                intervals.FLAG_MISSING,
                intervals.FLAG_DF_ZERO,
                intervals.FLAG_SE_ZERO,
                intervals.FLAG_CLIPPED,
                intervals.FLAG_FOLD_LOW,
                intervals.FLAG_FOLD_HIGH,
                intervals.FLAG_CAPPED,
                intervals.FLAG_JEFFREYS_MOVED,
            )
        ]
    )
)


# --------------------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Publication:
    """The validated ``publication:`` block (defaults: the NCHS standard, k = 3).

    Attributes
    ----------
    standard
        ``"nchs"`` (the thresholds below at NCHS's values), ``"dhs"`` (DHS and
        MICS: ``min_n`` 25 and ``caution_n`` 50), ``"statcan"`` (Statistics
        Canada's grades by ``cv_grades``), ``"custom"`` (NCHS's rules with the
        thresholds given) or ``"none"`` (no reliability rule; the disclosure rules
        still apply).
    min_n, min_effective_n
        Suppress below these sample sizes (NCHS 30 and 30; DHS ``min_n`` 25).
    caution_n
        DHS: a cell of ``min_n`` to ``caution_n - 1`` respondents is shown in
        parentheses, "use with caution" (50).
    cv_grades
        Statistics Canada: the upper CV bounds of grades A to E (0.05, 0.10, 0.15,
        0.25, 0.35); E is "use with caution", F (CV at the last bound or above) is
        suppressed.
    max_ci_width
        Suppress an interval this wide or wider (0.30).
    relative_ci_width, relative_ci_width_above
        Suppress an interval wider than ``relative_ci_width`` times the estimate
        when it is wider than ``relative_ci_width_above`` (1.30 and 0.05); the
        same ratio to ``1 - p`` gives the complement footnote.
    review_df_below
        Flag for review below these degrees of freedom (8).
    disclosure_k
        Suppress 1 to k-1 cases or non-cases (3); 1 turns disclosure control off.
    protect_unreliable
        Also make sure a cell suppressed as *unreliable* cannot be recovered exactly
        by subtraction (default false). Unreliable is not secret: a statistics office
        protects confidential cells (the disclosure rule) by secondary suppression, and
        lets a reader who subtracts get an imprecise number. True hides more cells.
    """

    standard: str = "nchs"
    min_n: int = 30
    min_effective_n: float = 30.0
    max_ci_width: float = 0.30
    relative_ci_width: float = 1.30
    relative_ci_width_above: float = 0.05
    review_df_below: float = 8.0
    disclosure_k: int = 3
    protect_unreliable: bool = False
    caution_n: int = 50
    cv_grades: tuple[float, ...] = (0.05, 0.10, 0.15, 0.25, 0.35)

    @property
    def reliability(self) -> bool:
        """Whether reliability rules apply (``standard`` is not ``"none"``)."""
        return self.standard != "none"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable view (for manifests): the standard's own thresholds only."""
        used = STANDARD_THRESHOLDS[self.standard]
        out = {k: v for k, v in asdict(self).items() if k not in _ALL_THRESHOLDS or k in used}
        if "cv_grades" in out:
            out["cv_grades"] = list(out["cv_grades"])
        return out


#: The NCHS standard with k = 3: the defaults.
NCHS = Publication()
#: The DHS and MICS convention (see the module docstring), with k = 3.
DHS = Publication(standard="dhs", min_n=25)
#: Statistics Canada's quality grades by coefficient of variation, with k = 3.
STATCAN = Publication(standard="statcan")
#: Each named standard's thresholds.
PRESETS = {"nchs": NCHS, "dhs": DHS, "statcan": STATCAN, "custom": NCHS, "none": NCHS}
_ALL_THRESHOLDS = (*THRESHOLDS, "caution_n", "cv_grades")


def parse_publication(raw: Mapping[str, Any] | None, source: str = "config.yaml") -> Publication:
    """Validate the ``publication:`` block of the configuration.

    Parameters
    ----------
    raw
        The block (``config["publication"]``); ``None`` or empty gives the
        defaults (:data:`NCHS`).
    source
        The configuration file, for messages.

    Returns
    -------
    Publication

    Raises
    ------
    ConfigError
        Naming the key and the fix: an unknown key, a value of the wrong type or
        outside its range, a threshold that differs from the standard's under
        ``standard: nchs``, ``dhs`` or ``statcan``, or a threshold the standard does
        not use (any under ``standard: none``).
    """
    source = str(source)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            "publication: must be a mapping of keys",
            file=source,
            fix="write `publication:` followed by indented keys, for example `standard: nchs`",
        )
    validate_document(raw, "config", source=source, block="publication")
    standard = raw.get("standard", NCHS.standard)
    preset = PRESETS[standard]
    given = [key for key in _ALL_THRESHOLDS if key in raw]
    unused = [key for key in given if key not in STANDARD_THRESHOLDS[standard]]
    if unused:
        raise ConfigError(
            f"publication.{unused[0]}: has no effect with `standard: {standard}`",
            file=source,
            fix="remove it, or set `standard: custom` to apply your own thresholds"
            if standard != "custom"
            else "remove it: custom sets the thresholds of the NCHS rules only",
        )
    if standard in ("nchs", "dhs", "statcan"):
        for key in given:
            if (
                np.atleast_1d(np.asarray(raw[key], dtype=float)).tolist()
                != np.atleast_1d(np.asarray(getattr(preset, key), dtype=float)).tolist()
            ):
                raise ConfigError(
                    f"publication.{key}: the {_NAMES[standard]} standard sets {key} to "
                    f"{_number_list(getattr(preset, key))}",
                    file=source,
                    value=raw[key],
                    fix="remove the key, or set `standard: custom` to change a threshold",
                )
    return _build({**asdict(preset), **dict(raw)})


def _build(values: Mapping[str, Any]) -> Publication:
    return Publication(
        standard=str(values["standard"]),
        min_n=int(values["min_n"]),
        min_effective_n=float(values["min_effective_n"]),
        max_ci_width=float(values["max_ci_width"]),
        relative_ci_width=float(values["relative_ci_width"]),
        relative_ci_width_above=float(values["relative_ci_width_above"]),
        review_df_below=float(values["review_df_below"]),
        disclosure_k=int(values["disclosure_k"]),
        protect_unreliable=bool(values["protect_unreliable"]),
        caution_n=int(values["caution_n"]),
        cv_grades=tuple(float(v) for v in values["cv_grades"]),
    )


_NAMES = {"nchs": "NCHS", "dhs": "DHS", "statcan": "Statistics Canada"}


def _number_list(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    return str(value)


def _as_publication(publication: Publication | Mapping[str, Any] | None) -> Publication:
    """The rules of a :class:`Publication`, of the block a user wrote, or of its resolved form.

    The resolved form (:meth:`Publication.as_dict`, as the workflow passes it to its jobs)
    holds only the thresholds its standard uses, so it parses again to the same rules
    (``standard: none`` holds none, and is not refused for thresholds it never had).
    """
    if isinstance(publication, Publication):
        return publication
    return parse_publication(publication, source="publication settings")


# --------------------------------------------------------------------------------------
# reliability
# --------------------------------------------------------------------------------------
def _percent(x: float) -> str:
    return f"{x * 100:.10g}"


def _number_text(x: float) -> str:
    return f"{x:.10g}"


def _below(value: np.ndarray, threshold: float) -> np.ndarray:
    return value < threshold - _EPS * max(1.0, abs(threshold))


def _at_least(value: np.ndarray, threshold: float) -> np.ndarray:
    return value >= threshold - _EPS * max(1.0, abs(threshold))


def _above(value: np.ndarray, threshold: float) -> np.ndarray:
    return value > threshold + _EPS * max(1.0, abs(threshold))


@dataclass(frozen=True)
class Reliability:
    """The verdict of the reliability standard on a set of cells.

    Attributes
    ----------
    suppress
        Bool array: the cell fails a suppression rule.
    reasons
        Object array of str: the suppression rules that fired, joined by ``"; "``.
    notes
        Object array of str: review flags and footnotes (for cells not suppressed
        by a reliability rule), joined by ``"; "``.
    caution
        Bool array: "use with caution" (DHS 25-49 cases, Statistics Canada grade E);
        ``None`` under the other standards.
    grade
        Object array of str: Statistics Canada's grade A-F ("" where there is none);
        ``None`` under the other standards.
    """

    suppress: np.ndarray
    reasons: np.ndarray
    notes: np.ndarray
    caution: np.ndarray | None = None
    grade: np.ndarray | None = None


def nchs_interval(n, estimate, se, df, level: float = NCHS_LEVEL):
    """The NCHS standard's Korn–Graubard interval and effective sample size.

    Parameters
    ----------
    n, estimate, se, df
        Arrays (broadcast): unweighted sample size, proportion, its standard error
        and the design degrees of freedom (``np.inf`` without a design).
    level
        Confidence level (the standard's 0.95).

    Returns
    -------
    low, high, n_eff : numpy.ndarray
        The ``korn-graubard-nchs`` interval of :func:`prevalence.stats.intervals.confint`
        and the NCHS effective sample size ``min(n, n* (t_{n-1}/t_df)**2)``
        (``n`` at ``p = 0`` or ``1``, 0 where ``df = 0``, NaN where ``n = 0`` or an
        input is missing).
    """
    ci = intervals.confint("korn-graubard-nchs", estimate, se, n, df, level)
    n = np.broadcast_to(np.asarray(n, dtype=float), ci.low.shape)
    df = np.broadcast_to(np.asarray(df, dtype=float), ci.low.shape)
    n_eff = np.where((df == 0) & (n > 0), 0.0, ci.n_eff)
    return ci.low, ci.high, n_eff


def _text(mask: np.ndarray, text: str) -> np.ndarray:
    out = np.full(mask.shape, "", dtype=object)
    out[mask] = text
    return out


def reliability_checks(
    n, estimate, ci_low, ci_high, n_eff, df, publication: Publication = NCHS, *, se=None
) -> Reliability:
    """Apply the reliability standard to cells (see the module docstring).

    Parameters
    ----------
    n
        Unweighted sample size of each cell.
    estimate
        The proportion.
    ci_low, ci_high
        The Korn–Graubard interval (:func:`nchs_interval`).
    n_eff
        The NCHS effective sample size (:func:`nchs_interval`).
    df
        Design degrees of freedom (``np.inf`` without a design).
    publication
        Thresholds; ``standard: none`` passes every cell.
    se
        The standard error of the estimate (needed by ``standard: statcan``, whose
        grades are by coefficient of variation; the other standards ignore it).

    Returns
    -------
    Reliability
        Cells with ``n = 0`` or a missing estimate are neither suppressed nor
        flagged (they have nothing to assess). ``standard: dhs`` reads only ``n``
        (:func:`dhs_checks`), ``standard: statcan`` only ``estimate`` and ``se``
        (:func:`statcan_checks`).

    Notes
    -----
    Comparisons allow a relative slack of 1e-9, so a value exactly at a threshold
    is treated as at it: ``n_eff = 30`` passes, a width of 0.30 is suppressed, a
    relative width of exactly 130% is not. The rules, after Parker et al. (2017):

    * suppress ``n < min_n``, ``n_eff < min_effective_n``, ``width >=
      max_ci_width``, ``width > relative_ci_width_above`` and ``width / p >
      relative_ci_width`` (``0 < p < 1``), an undefined interval;
    * review ``df < review_df_below``, ``p`` = 0 or 1; footnote ``width >
      relative_ci_width_above`` and ``width / (1 - p) > relative_ci_width``
      (``0 < p < 1``).
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (n, estimate, ci_low, ci_high, n_eff, df))
    )
    n, p, low, high, n_eff, df = (np.array(a) for a in arrays)
    shape = p.shape
    if not publication.reliability:
        empty = np.full(shape, "", dtype=object)
        return Reliability(np.zeros(shape, dtype=bool), empty, empty.copy())
    if publication.standard == "dhs":
        return dhs_checks(n, p, publication)
    if publication.standard == "statcan":
        if se is None:
            raise ValueError("standard: statcan grades cells by their se: pass se")
        return statcan_checks(
            n, p, np.broadcast_to(np.asarray(se, dtype=float), shape), publication
        )
    rules = publication
    assessable = (n > 0) & ~np.isnan(p)
    width = high - low
    undefined = assessable & np.isnan(width) & ~(n_eff == 0)
    edge = assessable & ((p == 0) | (p == 1))
    interior = assessable & (p > 0) & (p < 1) & ~np.isnan(width)
    gate = _above(width, rules.relative_ci_width_above)
    relative = np.full(shape, np.nan)
    complement = np.full(shape, np.nan)
    np.divide(width, p, out=relative, where=interior)
    np.divide(width, 1.0 - p, out=complement, where=interior)

    small_n = assessable & (n < rules.min_n)
    small_eff = assessable & _below(n_eff, rules.min_effective_n)
    wide = assessable & _at_least(width, rules.max_ci_width)
    relative_wide = interior & gate & _above(relative, rules.relative_ci_width)
    suppress = small_n | small_eff | undefined | wide | relative_wide
    reasons = join_flags(
        _text(small_n, f"sample size n < {_number_text(rules.min_n)}"),
        _text(small_eff, f"effective sample size < {_number_text(rules.min_effective_n)}"),
        _text(undefined, FLAG_INTERVAL_UNDEFINED),
        _text(wide, f"CI width >= {_percent(rules.max_ci_width)} points"),
        _text(relative_wide, f"relative CI width > {_percent(rules.relative_ci_width)}%"),
    )
    shown = assessable & ~suppress
    low_df = shown & (df < rules.review_df_below)
    complement_wide = (
        shown & interior & gate & _above(complement, rules.relative_ci_width) & ~suppress
    )
    notes = join_flags(
        _text(low_df, f"df < {_number_text(rules.review_df_below)}: review"),
        _text(shown & edge & (p == 0), FLAG_EDGE_REVIEW[0]),
        _text(shown & edge & (p == 1), FLAG_EDGE_REVIEW[1]),
        _text(
            complement_wide,
            f"complement relative CI width > {_percent(rules.relative_ci_width)}%",
        ),
    )
    return Reliability(suppress=suppress, reasons=reasons, notes=notes)


def dhs_checks(n, estimate, publication: Publication = DHS) -> Reliability:
    """The DHS and MICS convention, on the unweighted number of cases ``n``.

    Below ``min_n`` (25) the cell is suppressed (``"fewer than 25 unweighted
    cases"``, shown as ``*``); from ``min_n`` to ``caution_n - 1`` (25-49) it is
    published in parentheses, ``caution`` true (note ``"25-49 unweighted cases:
    use with caution"``). Cells without respondents or estimate are left alone.
    """
    n, p = (np.asarray(a, dtype=float) for a in np.broadcast_arrays(n, estimate))
    mark = marks(publication)
    assessable = (n > 0) & ~np.isnan(p)
    suppress = assessable & (n < publication.min_n)
    caution = assessable & ~suppress & (n < publication.caution_n)
    return Reliability(
        suppress=suppress,
        reasons=_text(suppress, mark.hidden_reason),
        notes=_text(caution, mark.caution_reason),
        caution=caution,
        grade=None,
    )


def statcan_checks(n, estimate, se, publication: Publication = STATCAN) -> Reliability:
    """Statistics Canada's quality grades A-F by coefficient of variation ``se / estimate``.

    A cell's grade is the first of A-E whose bound in ``cv_grades`` its CV is below
    (A below 5%, B 5% to below 10%, C 10% to below 15%, D 15% to below 25%, E 25%
    to below 35%), F at the last bound or above. E is published with ``caution``
    true (note ``"CV 25% to under 35%: use with caution (E)"``); F is suppressed
    (``"CV 35% or more: too unreliable to be published (F)"``). A value exactly at
    a bound takes the worse grade (CV 5% is B). An estimate of 0 has no CV: it
    gets no grade and is flagged ``"estimate 0%: review"``; one of 100% has CV 0
    (grade A) and is flagged ``"estimate 100%: review"``. A missing ``se`` with a
    positive estimate is suppressed (``"interval undefined"``).
    """
    n, p, se = (np.asarray(a, dtype=float) for a in np.broadcast_arrays(n, estimate, se))
    mark = marks(publication)
    assessable = (n > 0) & ~np.isnan(p)
    positive = assessable & (p > 0)
    cv = np.full(p.shape, np.nan)
    np.divide(se, p, out=cv, where=positive)
    undefined = positive & np.isnan(cv)
    graded = positive & ~undefined
    rank = np.zeros(p.shape, dtype=np.int64)
    for bound in publication.cv_grades:  # five bounds, vectorized over cells
        rank += graded & ~_below(cv, bound)
    grade = np.where(graded, np.asarray(GRADES, dtype=object)[rank], "")
    too_wide = graded & (rank == len(GRADES) - 1)
    caution = graded & (rank == len(GRADES) - 2)
    suppress = too_wide | undefined
    shown = assessable & ~suppress
    notes = join_flags(
        _text(caution, mark.caution_reason),
        _text(shown & (p == 0), FLAG_EDGE_REVIEW[0]),
        _text(shown & (p == 1), FLAG_EDGE_REVIEW[1]),
    )
    reasons = join_flags(
        _text(too_wide, mark.hidden_reason), _text(undefined, FLAG_INTERVAL_UNDEFINED)
    )
    return Reliability(suppress, reasons, notes, caution=caution, grade=grade.astype(object))


@dataclass(frozen=True)
class Marks:
    """How a standard marks cells, in the flags and in every table (and chart).

    Attributes
    ----------
    hidden_reason
        The flag of a cell the standard itself suppresses; tables show it as
        ``hidden_mark`` instead of the suppressed mark and a footnote letter.
    hidden_mark
        ``"*"`` (DHS), ``"F"`` (Statistics Canada), ``""`` for the others.
    caution_reason
        The flag (a note) of a published "use with caution" cell; tables show the
        mark instead of a footnote letter.
    parentheses
        The figure of a "use with caution" cell is shown in parentheses (DHS).
    grades
        Each published cell carries its grade letter (Statistics Canada).
    notes
        The notes that explain the marks, under every table that uses them:
        (caution note, hidden note, grade note), "" where not used.
    """

    hidden_reason: str = ""
    hidden_mark: str = ""
    caution_reason: str = ""
    parentheses: bool = False
    grades: bool = False
    notes: tuple[str, str, str] = ("", "", "")


def marks(publication: Publication | None = None) -> Marks:
    """The marks of ``publication``'s standard (none for nchs, custom and none)."""
    rules = publication or NCHS
    if rules.standard == "dhs":
        low, high = rules.min_n, rules.caution_n - 1
        return Marks(
            hidden_reason=f"fewer than {low} unweighted cases",
            hidden_mark="*",
            caution_reason=f"{low}-{high} unweighted cases: use with caution",
            parentheses=True,
            notes=(
                f"( ) a figure in parentheses is based on {low}–{high} unweighted cases: "
                "use with caution.",
                f"* a figure based on fewer than {low} unweighted cases: not shown.",
                "",
            ),
        )
    if rules.standard == "statcan":
        bounds = [_percent(b) for b in rules.cv_grades]
        ranges = [f"A under {bounds[0]}%"] + [
            f"{g} {a}% to under {b}%"
            for g, a, b in zip(GRADES[1:5], bounds, bounds[1:], strict=False)
        ]
        return Marks(
            hidden_reason=f"CV {bounds[-1]}% or more: too unreliable to be published (F)",
            hidden_mark="F",
            caution_reason=f"CV {bounds[-2]}% to under {bounds[-1]}%: use with caution (E)",
            grades=True,
            notes=(
                "",
                f"F too unreliable to be published: a coefficient of variation of {bounds[-1]}% or "
                "more; not shown.",
                "A–E quality grade by the coefficient of variation (CV, the standard error "
                f"divided by the estimate): {', '.join(ranges)}; E: use with caution "
                "(Statistics Canada).",
            ),
        )
    return Marks()


# --------------------------------------------------------------------------------------
# disclosure
# --------------------------------------------------------------------------------------
def disclosure_checks(n, cases, k: int = NCHS.disclosure_k) -> tuple[np.ndarray, np.ndarray]:
    """The threshold rule: 1 to k-1 cases, or 1 to k-1 non-cases, is disclosive.

    Parameters
    ----------
    n, cases
        Unweighted counts (NaN: unknown, never disclosive here).
    k
        The threshold; ``k = 1`` flags nothing.

    Returns
    -------
    suppress : numpy.ndarray of bool
    reasons : numpy.ndarray of str
        ``"fewer than k cases"`` and/or ``"fewer than k non-cases"``.

    Notes
    -----
    0 or ``n`` cases are disclosive exactly when ``n < k`` (the other count is
    then between 1 and k-1); see the module docstring.
    """
    n, cases = (np.asarray(a, dtype=float) for a in np.broadcast_arrays(n, cases))
    non_cases = n - cases
    few_cases = (cases >= 1) & (cases <= k - 1)
    few_non_cases = (non_cases >= 1) & (non_cases <= k - 1)
    reasons = join_flags(
        _text(few_cases, f"fewer than {k} cases"),
        _text(few_non_cases, f"fewer than {k} non-cases"),
    )
    return few_cases | few_non_cases, reasons


# --------------------------------------------------------------------------------------
# additive structure of the table
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Structure:
    """The table's additive groups as membership arrays over cells.

    Cells ``0 .. R-1`` are the table's rows; cell ``R + g`` is group g's residual.
    Each membership (``gid``, ``cell``, ``sign``) says that ``cell`` enters the
    equation of group ``gid`` as its total (+1) or as a part (-1).
    """

    rows: int
    groups: int
    gid: np.ndarray
    cell: np.ndarray
    sign: np.ndarray
    total: np.ndarray  # total cell of each group
    parent: np.ndarray  # row of the denominator's cell of each row, -1 if none
    #: rows of a published population (``figures.populations``): hidden last as secondary
    kept: np.ndarray


def _parse_value(value: str, parts: tuple[str, ...], known: Mapping[str, set[str]]):
    """Split a crossing's value into its parts' values, using the parts' known values."""
    if not parts:
        return ()
    if len(parts) == 1:
        return (value,)
    head, rest = parts[0], parts[1:]
    candidates = [v for v in known.get(head, ()) if value.startswith(v + CROSS)]
    if not candidates and head not in known:
        candidates = [value.split(CROSS, 1)[0]]
    for candidate in sorted(candidates, key=len, reverse=True):
        tail = _parse_value(value[len(candidate) + len(CROSS) :], rest, known)
        if tail is not None:
            return (candidate, *tail)
    return None


def _domain_values(cells: pd.DataFrame) -> pd.DataFrame:
    """Each distinct (wave, domain, domain_value) with its parts' values (a tuple)."""
    keys = cells[["wave", "domain", "domain_value"]].drop_duplicates().reset_index(drop=True)
    single = keys[~keys["domain"].str.contains(CROSS, regex=False) & (keys["domain"] != OVERALL)]
    known: dict[Any, dict[str, set[str]]] = {}
    for (wave, domain), values in single.groupby(["wave", "domain"], sort=False)["domain_value"]:
        known.setdefault(wave, {})[domain] = set(values)
    parsed = []
    for wave, domain, value in keys.itertuples(index=False):  # one per domain value
        parts = () if domain == OVERALL else tuple(domain.split(CROSS))
        split = _parse_value(str(value), parts, known.get(wave, {}))
        if split is None:
            raise ValueError(
                f"domain value {value!r} of {domain!r} does not split into "
                f"{len(parts)} known values joined by {CROSS!r}"
            )
        parsed.append(split)
    return keys.assign(values=parsed)


def _links(values: pd.DataFrame) -> pd.DataFrame:
    """(wave, coarse domain and value, fine domain and value) of every additive link.

    A fine domain's value belongs to a coarse domain's value when the coarse
    domain's parts are among the fine domain's and the values agree on them.
    """
    out = []
    for wave, in_wave in values.groupby("wave", sort=False):  # one per pair of domains
        names = list(dict.fromkeys(in_wave["domain"]))
        parts = {d: () if d == OVERALL else tuple(d.split(CROSS)) for d in names}
        for coarse in names:
            for fine in names:
                a, b = set(parts[coarse]), set(parts[fine])
                if coarse == fine or not a <= b or (a == b and coarse > fine):
                    continue
                where = [parts[fine].index(name) for name in parts[coarse]]
                fine_values = in_wave[in_wave["domain"] == fine]
                coarse_values = in_wave[in_wave["domain"] == coarse]
                fine_key = [_KEY.join(v[i] for i in where) for v in fine_values["values"]]
                coarse_key = [_KEY.join(v) for v in coarse_values["values"]]
                pairs = pd.merge(
                    pd.DataFrame(
                        {"key": coarse_key, "coarse_value": coarse_values["domain_value"]}
                    ),
                    pd.DataFrame({"key": fine_key, "fine_value": fine_values["domain_value"]}),
                    on="key",
                )
                out.append(pairs.assign(wave=wave, coarse=coarse, fine=fine))
    columns = ["wave", "coarse", "coarse_value", "fine", "fine_value"]
    return pd.concat(out, ignore_index=True)[columns] if out else pd.DataFrame(columns=columns)


def _in_populations(values: pd.DataFrame, populations: Sequence[tuple[str, str]]) -> np.ndarray:
    """Whether each domain value of :func:`_domain_values` lies in one of ``populations``.

    A cell lies in the population ``(domain, value)`` when its domain has that part
    and its value there is ``value``: ``role = MP`` and ``region+role = Africa+MP``.
    """
    wanted = {(str(d), str(v)) for d, v in populations}
    if not wanted:
        return np.zeros(len(values), dtype=bool)
    parts = [() if d == OVERALL else tuple(d.split(CROSS)) for d in values["domain"]]
    return np.array(  # one per distinct domain value
        [
            bool(wanted & set(zip(p, v, strict=True)))
            for p, v in zip(parts, values["values"], strict=True)
        ],
        dtype=bool,
    )


def _structure(cells: pd.DataFrame, populations: Sequence[tuple[str, str]] = ()) -> _Structure:
    """Additive groups and "of whom" links of a table (see the module docstring)."""
    rows = len(cells)
    frame = cells[["wave", "domain", "domain_value", "indicator", "denominator"]].assign(
        row=np.arange(rows)
    )
    values = _domain_values(frame)
    links = _links(values)
    kept = (
        frame.merge(
            values.assign(kept=_in_populations(values, populations)),
            on=["wave", "domain", "domain_value"],
            how="left",
        )
        .sort_values("row")["kept"]
        .to_numpy(dtype=bool)
    )
    cell_key = ["wave", "domain", "domain_value"]
    totals = links.merge(
        frame, left_on=["wave", "coarse", "coarse_value"], right_on=cell_key
    ).rename(columns={"row": "row_total"})
    link = totals.merge(
        frame,
        left_on=["wave", "fine", "fine_value", "indicator", "denominator"],
        right_on=[*cell_key, "indicator", "denominator"],
        suffixes=("_total", ""),
    )
    gid = pd.MultiIndex.from_arrays([link["row_total"], link["fine"]]).factorize()[0]
    gid = np.asarray(gid, dtype=np.int64)
    groups = int(gid.max()) + 1 if len(gid) else 0
    total = np.zeros(groups, dtype=np.int64)
    total[gid] = link["row_total"].to_numpy(dtype=np.int64)
    parts = link["row"].to_numpy(dtype=np.int64)

    child = frame[frame["denominator"] != "all"]
    linked = child.merge(
        frame[[*cell_key, "indicator", "row"]],
        left_on=[*cell_key, "denominator"],
        right_on=[*cell_key, "indicator"],
        suffixes=("", "_parent"),
    )
    parent = np.full(rows, -1, dtype=np.int64)
    parent[linked["row"].to_numpy(dtype=np.int64)] = linked["row_parent"].to_numpy(dtype=np.int64)
    return _Structure(
        rows=rows,
        groups=groups,
        gid=np.concatenate([np.arange(groups), gid, np.arange(groups)]),
        cell=np.concatenate([total, parts, rows + np.arange(groups)]),
        sign=np.concatenate([np.ones(groups), -np.ones(len(gid)), -np.ones(groups)]),
        total=total,
        parent=parent,
        kept=kept,
    )


# --------------------------------------------------------------------------------------
# what a reader can derive
# --------------------------------------------------------------------------------------
def _propagate(s: _Structure, low: np.ndarray, high: np.ndarray):
    """Interval propagation to a fixed point over every group equation.

    Returns the cells' bounds and, for each membership, the bounds its group
    alone gives the cell at the fixed point.
    """
    g, c, pos = s.gid, s.cell, s.sign > 0
    while True:
        a = np.where(pos, low[c], -high[c])
        b = np.where(pos, high[c], -low[c])
        rest_a = np.bincount(g, a, minlength=s.groups)[g] - a
        rest_b = np.bincount(g, b, minlength=s.groups)[g] - b
        local_low = np.where(pos, -rest_b, rest_a)
        local_high = np.where(pos, -rest_a, rest_b)
        new_low, new_high = low.copy(), high.copy()
        np.maximum.at(new_low, c, local_low)
        np.minimum.at(new_high, c, local_high)
        if (new_low > new_high).any():
            raise ValueError(
                "the table's counts do not add up (a total differs from the sum of its parts)"
            )
        if np.array_equal(new_low, low) and np.array_equal(new_high, high):
            return low, high, local_low, local_high
        low, high = new_low, new_high


def _first_per(key: np.ndarray, order: list[np.ndarray], values: np.ndarray) -> np.ndarray:
    """For each distinct ``key``, the ``values`` entry ranking first by ``order``."""
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    rank = np.lexsort([*reversed(order), key])
    first = np.ones(len(rank), dtype=bool)
    first[1:] = key[rank][1:] != key[rank][:-1]
    return values[rank][first]


@dataclass(frozen=True)
class _Counts:
    """The counts of every cell: the table's rows, then each group's residual.

    ``n`` is a bound where the true ``n`` is unknown (a table already disclosed);
    ``x`` (cases) is NaN where unknown.
    """

    n: np.ndarray
    x: np.ndarray


def _counts(s: _Structure, n: np.ndarray, cases: np.ndarray) -> _Counts:
    """Append each group's residual (total minus its parts) to the rows' counts."""
    unknown_n = np.isnan(n)
    n_bound = np.where(unknown_n, float(np.nansum(n)) + 1.0, n)
    part = (s.sign < 0) & (s.cell < s.rows)
    g, c = s.gid[part], s.cell[part]
    n_parts = np.bincount(g, n_bound[c], minlength=s.groups)
    x_parts = np.bincount(g, np.nan_to_num(cases[c]), minlength=s.groups)
    some_n = (np.bincount(g, unknown_n[c], minlength=s.groups) > 0) | unknown_n[s.total]
    some_x = np.bincount(g, np.isnan(cases[c]), minlength=s.groups) > 0
    residual_n = n_bound[s.total] - n_parts
    if (residual_n[~some_n] < 0).any():
        raise ValueError("a total's n is smaller than the sum of its parts' n")
    residual_n = np.where(some_n, float(np.nansum(n)) + 1.0, residual_n)
    residual_x = np.where(some_n | some_x, np.nan, cases[s.total] - x_parts)
    return _Counts(np.concatenate([n_bound, residual_n]), np.concatenate([cases, residual_x]))


def _of_whom(s: _Structure, n: np.ndarray, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hide every cell whose denominator's cell is hidden, down chains of indicators.

    Returns the hidden rows and the rows hidden through the link (their ``n`` too).
    A denominator cell without respondents hides nothing.
    """
    has_parent = s.parent >= 0
    parent = np.where(has_parent, s.parent, 0)
    hidden = hidden.copy()
    while True:
        via = has_parent & hidden[parent] & ~(n[parent] == 0)
        if not (via & ~hidden).any():
            return hidden, via
        hidden |= via


def _union_picks(s, counts, shown, sensitive, total_known, candidate, is_total, k):
    """One cell per group whose hidden cells together hold fewer than k cases or non-cases.

    Only groups with a disclosive hidden part and a known total count. The pick is
    a published member that adds what is missing (cases or non-cases), then by
    :func:`_preference`. Returns the groups and their picks.
    """
    hidden_part = ~shown[s.cell] & ~is_total
    g, c = s.gid[hidden_part], s.cell[hidden_part]
    cases = np.bincount(g, counts.x[c], minlength=s.groups)
    non_cases = np.bincount(g, counts.n[c] - counts.x[c], minlength=s.groups)
    disclosive = np.zeros(len(c), dtype=bool)
    in_table = c < s.rows
    disclosive[in_table] = sensitive[c[in_table]]
    watched = (np.bincount(g, disclosive, minlength=s.groups) > 0) & total_known
    few_cases = watched & (cases < k)  # NaN (a count unknown) compares false
    few_non_cases = watched & (non_cases < k)
    m = np.flatnonzero(candidate & (few_cases | few_non_cases)[s.gid])
    x, n = counts.x[s.cell[m]], counts.n[s.cell[m]]
    helps = (few_cases[s.gid[m]] & (x >= 1)) | (few_non_cases[s.gid[m]] & (n - x >= 1))
    order = [~helps, *_preference(s, counts, is_total, m)]
    return np.unique(s.gid[m]), _first_per(s.gid[m], order, s.cell[m])


def _preference(s: _Structure, counts: _Counts, is_total: np.ndarray, m: np.ndarray):
    """The order in which published memberships ``m`` are hidden as secondary, first first.

    A cell outside the published populations before one inside them (the MPs'
    figures stay and a total or the staff's cell goes), then the smallest ``n``
    (the least information lost), parts before totals, then table order.
    """
    cell = s.cell[m]
    return [s.kept[cell], counts.n[cell], is_total[m], cell]


def _range_picks(s, counts, shown, prior, bounds, local, short, candidate, is_total):
    """One cell for each hidden cell that a reader can pin too closely.

    The groups to blame are those whose equation gives the cell its bound
    (binding groups), and, transitively, the binding groups of every hidden cell
    with a bound narrower than ``0 .. n`` in a blamed group: the tightness comes
    from published cells somewhere along that chain. The pick is the published
    member of a blamed group that comes first by :func:`_preference`. Returns the
    cells given a pick and their picks.
    """
    (low0, high0), (low, high), (local_low, local_high) = prior, bounds, local
    c = s.cell
    binding = ~shown[c] & (
        ((local_low == low[c]) & (low[c] > low0[c]))
        | ((local_high == high[c]) & (high[c] < high0[c]))
    )
    tight = (~shown & ((low > low0) | (high < high0)))[c]
    bind = pd.DataFrame({"cell": c[binding], "gid": s.gid[binding]})
    members = pd.DataFrame({"gid": s.gid[tight], "member": c[tight]}).drop_duplicates()
    blamed = bind[short[bind["cell"].to_numpy()]].rename(columns={"cell": "origin"})
    while True:
        through = blamed.merge(members, on="gid")[["origin", "member"]]
        more = through.merge(bind, left_on="member", right_on="cell")[["origin", "gid"]]
        grown = pd.concat([blamed, more], ignore_index=True).drop_duplicates()
        if len(grown) == len(blamed):
            break
        blamed = grown
    m = np.flatnonzero(candidate)
    options = blamed.merge(pd.DataFrame({"gid": s.gid[m], "m": m}), on="gid")
    m = options["m"].to_numpy(dtype=np.int64)
    origin = options["origin"].to_numpy(dtype=np.int64)
    return np.unique(origin), _first_per(origin, _preference(s, counts, is_total, m), s.cell[m])


def _category_partners(table: pd.DataFrame, hidden: np.ndarray, cases: np.ndarray, k: int):
    """Rows to hide so that no categorical question has exactly one category hidden.

    The categories of a question (``<question>=<category>`` rows of one wave, domain
    value and denominator) share their ``n`` and their cases sum to it: a single
    hidden category would be ``n`` minus the others. Its partner is the published
    category with the fewest cases among those with at least ``k`` (so that the
    pair's total hides the disclosive count), else the one with the most.
    """
    indicator = table["indicator"].astype(str)
    is_category = indicator.str.contains("=", regex=False).to_numpy()
    if not is_category.any():
        return np.zeros(0, dtype=np.intp)
    keys = ["wave", "domain", "domain_value", "denominator", "question"]
    cells = table.loc[is_category, keys[:-1]].astype(str)
    cells["question"] = indicator[is_category].str.partition("=")[0]
    cells["row"] = np.flatnonzero(is_category)
    cells["hidden"] = hidden[is_category]
    cells["cases"] = np.nan_to_num(cases[is_category], nan=0.0)
    lonely = cells.groupby(keys, sort=False)["hidden"].transform("sum").to_numpy() == 1
    open_cells = cells[lonely & ~cells["hidden"].to_numpy()].copy()
    small = open_cells["cases"] < k
    open_cells["rank"] = np.where(small, -open_cells["cases"], open_cells["cases"])
    open_cells["small"] = small
    picks = open_cells.sort_values(["small", "rank", "row"]).groupby(keys, sort=False).head(1)
    return np.sort(picks["row"].to_numpy(dtype=np.intp))


def _secondary(
    s: _Structure,
    n: np.ndarray,
    cases: np.ndarray,
    hidden: np.ndarray,
    sensitive: np.ndarray,
    k: int,
    protect_unreliable: bool = False,
):
    """Suppress published cells until no suppressed value can be derived.

    Each round: apply the "of whom" link, bound every hidden count by interval
    propagation, then pick one more cell for each unsafe union and each hidden
    cell pinned too closely (see the module docstring). Rounds repeat until no
    pick is needed.

    Returns the final hidden rows, the rows suppressed as secondary, and the rows
    hidden through the "of whom" link (their ``n`` is hidden too).
    """
    rows, groups = s.rows, s.groups
    counts = _counts(s, n, cases)
    is_total = s.sign > 0
    # what each hidden cell needs: not pinned; k values (or all of 0..n) if disclosive
    # other hidden cells (unreliable ones) must not be pinned only if protect_unreliable
    need_hidden = np.where(
        sensitive & ~np.isnan(n), np.minimum(k, n + 1), 2.0 if protect_unreliable else 1.0
    )
    secondary = np.zeros(rows, dtype=bool)
    for rounds in range(1, rows + 2):
        hidden, via = _of_whom(s, n, hidden)
        shown = np.concatenate([~hidden, np.zeros(groups, dtype=bool)])
        low0 = np.where(shown, counts.x, 0.0)
        high0 = np.where(shown, counts.x, counts.n)
        low, high, local_low, local_high = _propagate(s, low0, high0)
        need = np.ones(rows + groups)
        need[:rows] = np.where(hidden & (n != 0), need_hidden, 1.0)
        short = (high - low + 1) < need
        candidate = shown[s.cell] & (s.cell < rows)
        candidate[candidate] = n[s.cell[candidate]] > 0
        total_known = low[s.total] == high[s.total]
        union_groups, picks = _union_picks(
            s, counts, shown, sensitive, total_known, candidate, is_total, k
        )
        # a hidden total known through other groups: unpin it there first, so that the
        # pick can be a cell of those groups rather than a published population's
        deferred = ~shown[s.total[union_groups]]
        unpin = short.copy()
        unpin[s.total[union_groups[deferred]]] = True
        if unpin.any():
            origins, ranged = _range_picks(
                s,
                counts,
                shown,
                (low0, high0),
                (low, high),
                (local_low, local_high),
                unpin,
                candidate,
                is_total,
            )
            waits = deferred & np.isin(s.total[union_groups], origins)
            picks = np.concatenate([picks[~waits], ranged])
        chosen = np.unique(picks)
        if len(chosen) == 0:
            if short.any():
                raise RuntimeError("secondary suppression found no cell to suppress")
            log.debug("secondary suppression: %d rounds", rounds)
            return hidden, secondary, via & hidden
        secondary[chosen] = True
        hidden = hidden.copy()
        hidden[chosen] = True
    raise RuntimeError("secondary suppression did not converge")


# --------------------------------------------------------------------------------------
# the published table
# --------------------------------------------------------------------------------------
def _flags(parts: list[tuple[np.ndarray, np.ndarray]], rows: int) -> np.ndarray:
    """Join flag texts per row in the given order, each text once.

    ``parts`` holds (row indices, texts) pairs; a text may itself hold several
    flags joined by ``"; "``.
    """
    pieces = [
        pd.DataFrame({"row": r, "order": i, "text": t}) for i, (r, t) in enumerate(parts) if len(r)
    ]
    out = np.full(rows, "", dtype=object)
    if not pieces:
        return out
    long = pd.concat(pieces, ignore_index=True)
    long["text"] = long["text"].astype(str).str.split("; ")
    long = long.explode("text")
    long = long[long["text"].str.strip() != ""]
    long = long.reset_index(drop=True)
    long["seq"] = np.arange(len(long))
    long = long.drop_duplicates(["row", "text"]).sort_values(["row", "order", "seq"])
    joined = long.groupby("row", sort=True)["text"].agg("; ".join)
    out[joined.index.to_numpy()] = joined.to_numpy(dtype=object)
    return out


def _confidential_reason(k: int) -> str:
    """The flag of a disclosive cell, whichever of its counts is small."""
    return f"fewer than {k} cases or non-cases"


def _at(mask: np.ndarray, texts: np.ndarray | str) -> tuple[np.ndarray, np.ndarray]:
    """(rows, texts) for :func:`_flags`: the rows of ``mask``, each with its text or ``texts``."""
    rows = np.flatnonzero(mask)
    if isinstance(texts, str):
        return rows, np.full(len(rows), texts, dtype=object)
    return rows, texts[rows]


def disclose(
    table: pd.DataFrame,
    publication: Publication | Mapping[str, Any] | None = None,
    populations: Sequence[tuple[str, str]] = (),
) -> pd.DataFrame:
    """The publishable prevalence table: reliability, disclosure and secondary suppression.

    Parameters
    ----------
    table
        The long table of :func:`prevalence.stats.estimate.estimate_wave` (one wave or
        several concatenated), or an output of this function (applying it again
        changes nothing).
    publication
        The ``publication:`` block (a mapping, validated by
        :func:`parse_publication`) or a :class:`Publication`; ``None`` gives the
        defaults (NCHS standard, k = 3).
    populations
        The published populations, ``(domain, value label)`` pairs as in
        ``figures.populations`` (``("role", "MP")``): their cells, and those of
        crossings within them (``region+role = Africa+MP``), are hidden as
        secondary suppression only when no other cell of the margin can protect
        the suppressed one (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        The contract's columns in order, then any other columns of ``table``,
        then ``n_suppressed``. ``suppressed`` and ``flag`` are updated; for
        suppressed rows ``cases``, ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``deff`` and ``n_eff`` are blank, and ``n`` too where ``n_suppressed``.
        ``n`` and ``cases`` are nullable integers (``Int64``).

    Raises
    ------
    ConfigError
        If ``publication`` is not valid.
    ValueError
        If a contract column is missing, or the counts do not add up over the
        table's groups (a total differs from the sum of its parts).

    Notes
    -----
    The rules, the choice of secondary cells and the treatment of zero cells,
    residuals and conditional indicators are described in the module docstring.
    """
    rules = _as_publication(publication)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the prevalence table lacks the column(s) {', '.join(missing)}")
    table = table.reset_index(drop=True)
    rows = len(table)
    n = table["n"].to_numpy(dtype=float, na_value=np.nan)
    cases = table["cases"].to_numpy(dtype=float, na_value=np.nan)
    p = table["estimate"].to_numpy(dtype=float, na_value=np.nan)
    se = table["se"].to_numpy(dtype=float, na_value=np.nan)
    df = table["df"].to_numpy(dtype=float, na_value=np.nan)
    was_suppressed = table["suppressed"].fillna(False).to_numpy(dtype=bool)
    old_n_hidden = (
        table["n_suppressed"].fillna(False).to_numpy(dtype=bool)
        if "n_suppressed" in table.columns
        else np.zeros(rows, dtype=bool)
    )

    reliable = reliability_checks(n, p, *nchs_interval(n, p, se, df), df, rules, se=se)
    disclosive, _ = disclosure_checks(n, cases, rules.disclosure_k)
    hidden = was_suppressed | reliable.suppress | disclosive | np.isnan(cases) | (n == 0)
    structure = _structure(table, populations)
    partners = np.zeros(rows, dtype=bool)
    while True:  # each round hides one more category of a question, or stops
        hidden, picked, of_whom = _secondary(
            structure, n, cases, hidden, disclosive, rules.disclosure_k, rules.protect_unreliable
        )
        partners |= picked
        extra = _category_partners(table, hidden, cases, rules.disclosure_k)
        if len(extra) == 0:
            break
        partners[extra] = True
        hidden = hidden.copy()
        hidden[extra] = True
    secondary = partners
    n_hidden = old_n_hidden | of_whom

    existing = table["flag"].fillna("").astype(str).to_numpy(dtype=object)
    split = pd.Series(existing).str.split("; ").explode()
    split = split[split.notna() & (split != "")]
    note = split.str.contains(_INTERVAL_NOTE, regex=True)
    keep = ~(note & hidden[split.index.to_numpy()])
    split = split[keep]
    # what a flag may say of a hidden count (see "What the flags say"): a cell whose n is hidden
    # only that; a disclosive cell only that it is one, not which count is small, nor the
    # reliability rules, which read its estimate
    own = ~n_hidden
    confidential = disclosive & own
    graded = own & ~disclosive
    kept = (~of_whom | old_n_hidden)[split.index.to_numpy()]
    flags = _flags(
        [
            (split.index.to_numpy()[kept], split.to_numpy(dtype=object)[kept]),
            _at(graded, reliable.reasons),
            _at(confidential, _confidential_reason(rules.disclosure_k)),
            _at(of_whom, FLAG_OF_WHOM),
            _at(secondary & own, FLAG_SECONDARY),
            _at(~hidden, reliable.notes),
        ],
        rows,
    )

    out = table.copy()
    out["n"] = pd.array(np.where(n_hidden, np.nan, n), dtype="Float64").astype("Int64")
    out["cases"] = pd.array(np.where(hidden, np.nan, cases), dtype="Float64").astype("Int64")
    for column in ("estimate", "se", "ci_low", "ci_high", "deff", "n_eff"):
        values = out[column].to_numpy(dtype=float, na_value=np.nan)
        out[column] = np.where(hidden, np.nan, values)
    out["suppressed"] = hidden
    out["flag"] = flags
    out["n_suppressed"] = n_hidden
    standard_columns = MARK_COLUMNS.get(rules.standard, [])
    if standard_columns:
        out[CAUTION] = reliable.caution & ~hidden
    if GRADE in standard_columns:
        # a hidden cell shows no grade (it would bound its estimate), but F, its reason
        reason = "(?:^|; )" + re.escape(marks(rules).hidden_reason) + "(?:;|$)"
        failed = pd.Series(flags, dtype=object).str.contains(reason, regex=True).to_numpy(bool)
        grade = np.where(hidden, np.where(failed, "F", ""), reliable.grade)
        out[GRADE] = grade.astype(object)
    known = [*EXTRA_COLUMNS, CAUTION, GRADE]
    extra = [c for c in table.columns if c not in COLUMNS and c not in known]
    log.info(
        "disclosure: %d of %d cells suppressed (%d secondary, %d with n hidden)",
        int(hidden.sum()),
        rows,
        int(secondary.sum()),
        int(n_hidden.sum()),
    )
    return out[[*COLUMNS, *extra, *EXTRA_COLUMNS, *standard_columns]]
