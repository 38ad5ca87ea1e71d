"""Ideas to and from CSV, the spreadsheets journey-mapping workshops produce.

Import is all or nothing: `csv_to_ideas` either returns every idea or raises CsvImportError
naming every bad cell. Export then import gives back equal IdeaDrafts: floats are written
exactly, list separators inside values are escaped with a backslash, and cells a spreadsheet
would run as a formula get a leading apostrophe that import takes off again.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

import msgspec

from services.scoring.csv_cells import (
    BadCell as _BadCell,
    escape as _escape,
    format_number,
    items as _items,
    parse_number as _parse_number,
    split as _split,
    unescape as _unescape,
)
from services.scoring.csv_owners import OWNER_COLUMNS, kpi_cell, overlay_owner, owner_cell, owner_of_cells, parse_kpis
from services.scoring.domain import (
    ESTIMATE_FIELDS,
    PHASES,
    DomainError,
    Estimates,
    IdeaDraft,
    JourneyContext,
    ordered_phases,
)

JOURNEY_COLUMNS: Final = ("persona", "journey_stage", "touchpoint", "channel", "pain_point", "department")
NUMBER_COLUMNS: Final = tuple(name for name in ESTIMATE_FIELDS if name != "effort")
COLUMNS: Final[tuple[str, ...]] = (
    "ref",
    "title",
    "description",
    *JOURNEY_COLUMNS,
    "tags",
    "customer_impact",
    "reach",
    "confidence",
    "effort",
    "cost",
    "annual_benefit",
    "time_criticality",
    "risk_reduction",
    "phases",
    "owner_subject",
    "owner_name",
    "owner_email",
    "owner_department",
    "kpis",
)
"""The columns, in the order export writes them."""

REQUIRED_COLUMNS: Final = ("ref", "title")

# A spreadsheet runs a cell starting with one of these as a formula; a leading TAB or CR is
# skipped by some, which then run what follows (OWASP's CSV injection list). Apostrophes
# already in front are counted too, so that a value which itself starts with "'=" survives the trip.
_RISKY = re.compile(r"'*[=+\-@\t\r]")


class CellProblem(msgspec.Struct, frozen=True):
    """What is wrong where: `row` as the spreadsheet numbers it (header = 1), `column` by header
    name, or "" when the problem concerns a whole row or the whole file."""

    row: int
    column: str
    message: str


class CsvImportError(Exception):
    """A file that cannot be imported; `problems` lists every bad cell, in file order."""

    def __init__(self, problems: list[CellProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the CSV file")
        self.problems = problems


# --- export ---------------------------------------------------------------------------


def _protect(cell: str) -> str:
    return "'" + cell if _RISKY.match(cell) else cell


def _row_of(idea: IdeaDraft) -> list[str]:
    journey, estimates = idea.journey, idea.estimates
    numbers = {name: getattr(estimates, name) for name in NUMBER_COLUMNS}
    cells = {
        "ref": idea.ref,
        "title": idea.title,
        "description": idea.description,
        **{name: getattr(journey, name) or "" for name in JOURNEY_COLUMNS},
        "tags": ";".join(_escape(tag) for tag in idea.tags),
        **{name: "" if value is None else format_number(value) for name, value in numbers.items()},
        "effort": ";".join(f"{_escape(team, ';:')}:{format_number(days)}" for team, days in estimates.effort.items()),
        "phases": ";".join(idea.phases),
        **{column: owner_cell(idea.owner, column) for column in OWNER_COLUMNS},
        "kpis": ";".join(kpi_cell(kpi) for kpi in idea.kpis),
    }
    return [_protect(cells[name]) for name in COLUMNS]


def ideas_to_csv(ideas: Iterable[IdeaDraft]) -> str:
    """The ideas as CSV text with a header row, one idea per row, in the given order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row_of(idea) for idea in ideas)
    return out.getvalue()


# --- import ---------------------------------------------------------------------------


def _unprotect(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and _RISKY.match(cell, 1) else cell


def _parse_estimate(name: str) -> Callable[[str], float | None]:
    def parse(cell: str) -> float | None:
        if not cell.strip():
            return None
        value = _parse_number(cell)
        try:
            Estimates(**{name: value})
        except DomainError as exc:
            raise _BadCell(exc.message) from None
        return value

    return parse


def _parse_effort(cell: str) -> dict[str, float]:
    effort: dict[str, float] = {}
    for item in _items(cell):
        pair = _split(item, ":")
        if len(pair) != 2:
            raise _BadCell(f"{_unescape(item)!r} is not a team:days pair (e.g. web:15;app:3)")
        team, days = _unescape(pair[0].strip()), pair[1]
        if not team:
            raise _BadCell(f"{_unescape(item)!r} has no team name")
        if team in effort:
            raise _BadCell(f"team {team!r} appears twice")
        try:
            effort[team] = _parse_number(days)
        except _BadCell as exc:
            raise _BadCell(f"team {team!r}: {exc}") from None
        if effort[team] < 0:
            raise _BadCell(f"team {team!r}: days must be at least 0")
    return effort


def _parse_phases(cell: str) -> tuple[str, ...]:
    names = [item.lower() for item in _items(cell)]
    if not names:
        return PHASES
    for name in names:
        if name not in PHASES:
            raise _BadCell(f"unknown phase {name!r}; expected one of {', '.join(PHASES)}")
    if len(set(names)) != len(names):
        raise _BadCell("phases must not repeat")
    return ordered_phases(names)


def _parse_required(cell: str) -> str:
    if not cell.strip():
        raise _BadCell("must not be blank")
    return cell


_PARSERS: Final[dict[str, Callable[[str], Any]]] = {
    "ref": _parse_required,
    "title": _parse_required,
    "description": lambda cell: cell,
    **{name: (lambda cell: cell or None) for name in JOURNEY_COLUMNS},
    "tags": lambda cell: tuple(_unescape(item) for item in _items(cell)),
    **{name: _parse_estimate(name) for name in NUMBER_COLUMNS},
    "effort": _parse_effort,
    "phases": _parse_phases,
    **{name: (lambda cell: cell.strip() or None) for name in OWNER_COLUMNS},
    "kpis": parse_kpis,
}


def _canonical(header: str) -> str:
    return re.sub(r"[\s\-_]+", "_", header.strip().lower())


def _read_header(cells: list[str], problems: list[CellProblem]) -> list[str | None]:
    """Canonical column names by position; None for a column to ignore."""
    while cells and not cells[-1].strip():
        cells = cells[:-1]  # empty trailing header cells are spreadsheet residue
    columns: list[str | None] = []
    first_at: dict[str, int] = {}
    for index, cell in enumerate(cells, start=1):
        name = _canonical(cell)
        if not name:
            problems.append(CellProblem(1, "", f"column {index} has no name"))
            columns.append(None)
        elif name not in _PARSERS:
            problems.append(CellProblem(1, cell, f"unknown column; expected one of {', '.join(COLUMNS)}"))
            columns.append(None)
        elif name in first_at:
            problems.append(CellProblem(1, name, f"duplicate column (columns {first_at[name]} and {index})"))
            columns.append(None)
        else:
            first_at[name] = index
            columns.append(name)
    for name in REQUIRED_COLUMNS:
        if name not in first_at:
            problems.append(CellProblem(1, name, "missing required column"))
    return columns


def _draft(values: dict[str, Any]) -> IdeaDraft:
    journey = JourneyContext(**{name: values[name] for name in JOURNEY_COLUMNS if name in values})
    numbers = {name: values[name] for name in (*NUMBER_COLUMNS, "effort") if name in values}
    rest = {name: values[name] for name in ("description", "tags", "phases", "kpis") if name in values}
    return IdeaDraft(
        ref=values["ref"],
        title=values["title"],
        journey=journey,
        estimates=Estimates(**numbers),
        owner=owner_of_cells({name: values.get(name) for name in OWNER_COLUMNS}),
        **rest,
    )


def column_of(field: str | None) -> str:
    # DomainError fields look like "phases[1]", "estimates.reach" or "estimates.effort.web".
    parts = re.split(r"[.\[]", field or "")
    if parts[0] == "owner" and len(parts) > 1:
        return f"owner_{parts[1]}"
    return parts[1] if parts[0] == "estimates" and len(parts) > 1 else parts[0]


def _records(text: str, problems: list[CellProblem]) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        problems.append(CellProblem(len(records) + 1, "", f"not readable as CSV: {exc}"))
    return records


class CsvRow(msgspec.Struct, frozen=True):
    """One idea of a file, with the row number the spreadsheet shows for it."""

    number: int
    idea: IdeaDraft


class CsvFile(msgspec.Struct, frozen=True):
    """The ideas of a file, and which of the columns it has: an upsert changes only those."""

    columns: frozenset[str]
    rows: list[CsvRow]


def csv_to_ideas(text: str, *, max_rows: int = 10_000) -> list[IdeaDraft]:
    """Every idea in the CSV text, or CsvImportError naming every bad row and column."""
    return [row.idea for row in read_csv(text, max_rows=max_rows).rows]


def overlay(stored: IdeaDraft, given: IdeaDraft, columns: frozenset[str]) -> IdeaDraft:
    """The stored idea with the values of `given` in `columns` only: what an upsert writes.

    A file with only `ref,title` changes titles and nothing else. Raises DomainError when the
    result breaks a rule (naming the field).
    """
    top = {name: getattr(given, name) for name in ("title", "description", "tags", "phases", "kpis") if name in columns}
    journey = {name: getattr(given.journey, name) for name in JOURNEY_COLUMNS if name in columns}
    estimates = {name: getattr(given.estimates, name) for name in (*NUMBER_COLUMNS, "effort") if name in columns}
    return IdeaDraft(
        ref=stored.ref,
        title=top.get("title", stored.title),
        description=top.get("description", stored.description),
        journey=msgspec.structs.replace(stored.journey, **journey),
        estimates=Estimates(**{**msgspec.structs.asdict(stored.estimates), **estimates}),
        phases=top.get("phases", stored.phases),
        tags=top.get("tags", stored.tags),
        owner=overlay_owner(stored.owner, given.owner, columns),
        kpis=top.get("kpis", stored.kpis),
    )


def read_csv(text: str, *, max_rows: int = 10_000) -> CsvFile:
    """The file's ideas with their row numbers and its columns, or CsvImportError naming every
    bad row and column."""
    problems: list[CellProblem] = []
    records = _records(text.removeprefix("\ufeff"), problems)
    if problems:
        raise CsvImportError(problems)
    if not records or not any(cell.strip() for cell in records[0]):
        raise CsvImportError([CellProblem(1, "", "the file is empty; expected a header row")])
    rows = [(number, cells) for number, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)]
    if len(rows) > max_rows:
        first_extra = rows[max_rows][0]
        raise CsvImportError([CellProblem(first_extra, "", f"more than {max_rows} ideas; split the file")])
    columns = _read_header(records[0], problems)
    ideas: list[CsvRow] = []
    ref_rows: dict[str, int] = {}
    for number, cells in rows:
        extra = cells[len(columns) :]
        if len(cells) < len(columns) or any(cell.strip() for cell in extra):
            message = f"the row has {len(cells)} cells but the header has {len(columns)}"
            problems.append(CellProblem(number, "", message))
            continue
        values: dict[str, Any] = {}
        row_ok = True
        for name, cell in zip(columns, cells):
            if name is None:
                continue
            try:
                values[name] = value = _PARSERS[name](_unprotect(cell))
                if name == "ref" and ref_rows.setdefault(value, number) != number:
                    raise _BadCell(f"duplicate ref {value!r} (first on row {ref_rows[value]})")
            except _BadCell as exc:
                problems.append(CellProblem(number, name, str(exc)))
                row_ok = False
        if row_ok and "ref" in values and "title" in values:
            try:
                ideas.append(CsvRow(number=number, idea=_draft(values)))
            except DomainError as exc:
                problems.append(CellProblem(number, column_of(exc.field), exc.message))
    if problems:
        raise CsvImportError(problems)
    return CsvFile(columns=frozenset(name for name in columns if name is not None), rows=ideas)
