"""The owner and KPI columns of the ideas CSV.

An owner is four columns (`owner_subject`, `owner_name`, `owner_email`, `owner_department`),
all empty for an idea nobody owns; the KPIs are one cell, `key:name:unit:direction:baseline:target`
per KPI, KPIs separated by `;` (escape a `:` or `;` in a name with a backslash).
"""

from __future__ import annotations

import re
from typing import Final

from services.scoring.accountability import Kpi, Owner, make_kpis
from services.scoring.csv_cells import BadCell, escape, format_number, items, parse_number, split, unescape
from services.scoring.errors import DomainError

OWNER_COLUMNS: Final = ("owner_subject", "owner_name", "owner_email", "owner_department")
KPI_FIELDS: Final = ("key", "name", "unit", "direction", "baseline", "target")


def owner_cell(owner: Owner | None, column: str) -> str:
    """The text of one owner column for `owner` (empty for none)."""
    return "" if owner is None else getattr(owner, column.removeprefix("owner_")) or ""


def kpi_cell(kpi: Kpi) -> str:
    """One KPI as `key:name:unit:direction:baseline:target`, escaped for a list cell."""
    numbers = ["" if value is None else format_number(value) for value in (kpi.baseline, kpi.target)]
    return ":".join([*(escape(text, ";:") for text in (kpi.key, kpi.name, kpi.unit)), kpi.direction, *numbers])


def parse_kpis(cell: str) -> tuple[Kpi, ...]:
    """The KPIs of a cell, or BadCell saying which KPI is wrong and how."""
    parsed = []
    for number, item in enumerate(items(cell), start=1):
        fields = [unescape(part.strip()) for part in split(item, ":")]
        if len(fields) != len(KPI_FIELDS):
            raise BadCell(f"KPI {number} has {len(fields)} parts; expected {':'.join(KPI_FIELDS)}")
        values: dict[str, object] = dict(zip(KPI_FIELDS, fields, strict=True))
        values["direction"] = values["direction"] or "increase"
        try:
            for name in ("baseline", "target"):
                values[name] = parse_number(fields[KPI_FIELDS.index(name)]) if values[name] else None
        except BadCell as exc:
            raise BadCell(f"KPI {number}: {exc}") from None
        parsed.append(values)
    try:
        return make_kpis(parsed)
    except DomainError as exc:
        # "kpis[1].key" -> "KPI 2 key", as the spreadsheet user counts.
        where = re.sub(r"kpis\[(\d+)\]\.?", lambda m: f"KPI {int(m.group(1)) + 1} ", exc.field or "kpis")
        raise BadCell(f"{where.strip()}: {exc.message}") from None


def owner_of_cells(cells: dict[str, str | None]) -> Owner | None:
    """The owner of a row's owner columns; none when they are all empty."""
    if not any(cells.values()):
        return None
    return Owner(
        subject=cells["owner_subject"] or "",
        name=cells["owner_name"] or "",
        email=cells["owner_email"],
        department=cells["owner_department"],
    )


def overlay_owner(stored: Owner | None, given: Owner | None, columns: frozenset[str]) -> Owner | None:
    """The owner columns the file has replace the stored owner's fields; all of them empty means no owner."""
    present = [column for column in OWNER_COLUMNS if column in columns]
    if not present:
        return stored
    if given is None:
        return None
    cells = {column: owner_cell(stored, column) or None for column in OWNER_COLUMNS}
    cells.update({column: owner_cell(given, column) or None for column in present})
    return owner_of_cells(cells)
