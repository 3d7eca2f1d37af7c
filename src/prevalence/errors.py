"""One exception type for every problem a user can fix.

A :class:`PrevalenceError` carries where the problem is (file, column, row,
value) and what to do about it. Scripts print ``str(error)`` and exit non-zero:
the user sees one message, never a traceback.
"""

from __future__ import annotations


class PrevalenceError(Exception):
    """A problem in the user's input, with its location and the fix.

    Parameters
    ----------
    problem
        What is wrong, in one sentence.
    file, column, row, value
        Where it is. An integer ``row`` is shown as "row N"; a string is shown
        as given, so a reader can say "line 7" (text files, header on line 1),
        "row 7" (a worksheet) or "case 6" (SPSS/Stata).
    fix
        What the user should do.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        column: str | None = None,
        row: int | str | None = None,
        value: object = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.column = column
        self.row = row
        self.value = value
        self.fix = fix
        super().__init__(self.message())

    def message(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row}" if isinstance(self.row, int) else str(self.row))
        if self.value is not None:
            where.append(f"value {self.value!r}")
        text = self.problem
        if where:
            text = f"{', '.join(where)}: {text}"
        if self.fix:
            text = f"{text}\n  fix: {self.fix}"
        return text


class DesignError(PrevalenceError):
    """A survey design that cannot be built or used as specified."""


class ConfigError(PrevalenceError):
    """A configuration or codebook that fails validation."""
