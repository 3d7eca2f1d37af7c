"""The rows of one population (women MPs, say) as a prevalence table of their own.

The charts draw the ``overall`` cell as the whole group and a domain's values across it. For a
population, its own cell (``role`` = ``MP``) becomes ``overall`` / ``All``, and each crossing of
its domain with one other (``region+role`` = ``Pacific+MP``) becomes that other domain among the
population (``region`` = ``Pacific``). Every other row is left out, so each chart, drawn from
this table with ``population`` naming the group, shows the population alone. Pure pandas.
"""

from __future__ import annotations

import pandas as pd

from prevalence.stats.estimate import OVERALL

__all__ = ["population_table"]


def population_table(table: pd.DataFrame, domain: str, value: object) -> pd.DataFrame:
    """The rows of ``domain`` = ``value`` and of its crossings with one other domain, renamed
    as described in the module docstring; the columns and the table's row order are kept."""
    value = str(value)
    domains = table["domain"].astype(str)
    values = table["domain_value"].astype(str)
    own = (domains == domain) & (values == value)
    new_domain = domains.where(~own, OVERALL)
    new_value = values.where(~own, "All")
    keep = own.copy()
    for crossing in dict.fromkeys(domains):
        parts = crossing.split("+")
        if len(parts) != 2 or domain not in parts or parts[0] == parts[1]:
            continue
        mine, other = parts.index(domain), 1 - parts.index(domain)
        rows = domains == crossing
        split = values[rows].str.split("+", n=1, expand=True)
        if split.shape[1] < 2:
            continue
        match = split[mine] == value
        index = split.index[match]
        keep.loc[index] = True
        new_domain.loc[index] = parts[other]
        new_value.loc[index] = split.loc[index, other]
    result = table.loc[keep].copy()
    result["domain"] = new_domain[keep]
    result["domain_value"] = new_value[keep]
    return result
