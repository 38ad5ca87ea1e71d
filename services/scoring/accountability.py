"""Who answers for an idea and how its success is measured: owners and KPIs, pure rules.

The journey-mapping practice asks for an accountable owner per improvement, with the power to
act, and for measured outcomes. An owner is a person (a subject of the identity provider, with
a name people read); a KPI says what moves, in which direction, from where to where.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final, Literal

import msgspec

from services.scoring.errors import DomainError

KPI_KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_KPIS: Final = 20


class Owner(msgspec.Struct, frozen=True, kw_only=True):
    """The person accountable for an idea."""

    subject: str
    name: str
    email: str | None = None
    department: str | None = None

    def __post_init__(self) -> None:
        if not self.subject.strip():
            raise DomainError("must not be blank", field="owner.subject")
        if not self.name.strip():
            raise DomainError("must not be blank", field="owner.name")
        if self.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", self.email):
            raise DomainError(f"{self.email!r} is not an e-mail address", field="owner.email")


class Kpi(msgspec.Struct, frozen=True, kw_only=True):
    """A measured outcome: `direction` says which way is better; baseline and target may be unknown."""

    key: str
    name: str
    unit: str = ""
    direction: Literal["increase", "decrease"] = "increase"
    baseline: float | None = None
    target: float | None = None

    def __post_init__(self) -> None:
        if not KPI_KEY.fullmatch(self.key):
            raise DomainError(f"{self.key!r} is not a KPI key (letters, digits, . _ -)", field="key")
        if not self.name.strip():
            raise DomainError("must not be blank", field="name")
        if self.direction not in ("increase", "decrease"):
            raise DomainError("must be 'increase' or 'decrease'", field="direction")
        for name in ("baseline", "target"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise DomainError("must be a finite number", field=name)


def check_kpis(kpis: Sequence[Kpi]) -> None:
    """An idea's KPIs: at most MAX_KPIS, each key once (DomainError naming the place)."""
    if len(kpis) > MAX_KPIS:
        raise DomainError(f"at most {MAX_KPIS} KPIs per idea", field="kpis")
    seen: set[str] = set()
    for index, kpi in enumerate(kpis):
        if kpi.key in seen:
            raise DomainError(f"KPI {kpi.key!r} appears twice", field=f"kpis[{index}].key")
        seen.add(kpi.key)


def make_kpis(items: Sequence[dict[str, object]], *, field: str = "kpis") -> tuple[Kpi, ...]:
    """KPIs from plain fields, each problem named by its place (`kpis[1].target`)."""
    kpis = []
    for index, item in enumerate(items):
        try:
            kpis.append(Kpi(**item))  # type: ignore[arg-type]
        except DomainError as exc:
            raise DomainError(exc.message, field=f"{field}[{index}].{exc.field}") from None
    check_kpis(kpis)
    return tuple(kpis)
