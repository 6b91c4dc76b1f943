"""The project's exceptions: one base, an input error that names where, an infeasibility."""

from __future__ import annotations


class FreightError(Exception):
    """Base of every error this project raises on purpose."""


class InputError(FreightError):
    """A problem in an input file, named by file, place in the file, and field.

    Parameters
    ----------
    file : str
        The file (or scenario key) the problem is in.
    where : str
        The row, feature or section, e.g. ``"row 7"``, ``"feature 12"``, ``"layer"``.
    field : str
        The column, property or key at fault.
    problem : str
        What is wrong and what was expected.
    """

    def __init__(self, file: str, where: str, field: str, problem: str) -> None:
        self.file = str(file)
        self.where = where
        self.field = field
        self.problem = problem
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message a planner reads."""
        return f"{self.file}: {self.where}: field '{self.field}': {self.problem}"


class InputErrors(FreightError):
    """Every problem found while validating an input, raised together."""

    def __init__(self, errors: list[InputError]) -> None:
        if not errors:
            raise ValueError("InputErrors needs at least one error")
        self.errors = list(errors)
        super().__init__("\n".join(e.line() for e in self.errors))


class InfeasibleError(FreightError):
    """The hard rule cannot hold: names the flows and the capacities in the way."""

    def __init__(self, message: str, *, flows: list[str], constraints: list[str]) -> None:
        self.flows = list(flows)
        self.constraints = list(constraints)
        super().__init__(message)


class SolverError(FreightError):
    """The solver ended without an optimum (an iteration or time limit, a numerical
    failure): nothing is written. ``status`` is the :class:`freight.problem.Status` value."""

    def __init__(self, message: str, *, status: str) -> None:
        self.status = status
        super().__init__(message)


class BusyError(FreightError):
    """Another run holds the lock of the result folder this run would replace."""


def raise_if_any(errors: list[InputError]) -> None:
    """Raise :class:`InputErrors` when ``errors`` is not empty."""
    if errors:
        raise InputErrors(errors)
