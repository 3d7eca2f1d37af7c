"""The published-cell contract: one reader of booleans, flags and differences."""

import numpy as np
import pandas as pd
import pytest

from prevalence.contract import COLUMNS, join_flags, read_cells, signed, truthy


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([True, False, False]),
        pd.Series([1.0, 0.0, np.nan]),
        pd.Series(["1.0", "0.0", ""]),
        pd.Series(["True", "false", None]),
        pd.Series([" yes ", "no", np.nan], dtype=object),
        pd.Series([1, 0, 0]),
    ],
)
def test_a_boolean_column_reads_the_same_whatever_its_spelling(column):
    assert truthy(column).tolist() == [True, False, False]


def test_tables_and_comparisons_read_a_suppressed_cell_written_as_1_0_alike():
    row = dict.fromkeys(COLUMNS, "")
    row.update(wave="w", domain="overall", domain_value="All", indicator="a", denominator="all")
    row.update(n=40, estimate=0.5, ci_low=0.3, ci_high=0.7, level=0.95, suppressed=1.0)
    as_text = pd.DataFrame([{**row, "suppressed": "1.0"}])
    for table in (pd.DataFrame([row]), as_text):
        cells = read_cells(table)
        assert cells["suppressed"].tolist() == [True]
        # a suppressed cell's estimate and bounds are never read
        assert cells[["estimate", "ci_low", "ci_high"]].isna().all(axis=None)


def test_flags_are_joined_in_one_way_skipping_empty_and_missing_parts():
    out = join_flags(np.array(["a", "", "b", ""], dtype=object), ["c", "d", np.nan, ""])
    assert out.tolist() == ["a; c", "d", "b", ""]


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [(25.49, 1, "+25.5"), (-3.0, 0, "\u22123"), (-0.004, 2, "0.00"), (0.0, 1, "0.0")],
)
def test_a_difference_is_signed_with_the_decimals_asked_for(value, decimals, text):
    assert signed(value, decimals) == text
