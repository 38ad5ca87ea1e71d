"""Pure rules of a living backlog: what a change to an idea changed, and when estimates go stale.

No I/O: the history and staleness modules store and load what these functions decide.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from services.scoring.domain import IdeaDraft


class Change(msgspec.Struct, frozen=True, rename="camel"):
    """One field of an idea, from what to what (`None`: absent)."""

    field: str
    before: Any = None
    after: Any = None


def _flat(value: Any, prefix: str, into: dict[str, Any]) -> None:
    # Dicts are walked down to their leaves (estimates.effort.web), so a history says which
    # team's effort changed; lists (phases, tags) are values of their own.
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(inner, f"{prefix}.{key}" if prefix else str(key), into)
    elif value is not None and value != "":
        into[prefix] = value


def _camel(path: str) -> str:
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), path)


def fields_of(draft: IdeaDraft | None) -> dict[str, Any]:
    """An idea's fields as the API names them (`estimates.customerImpact`), leaves only, empty ones left out."""
    if draft is None:
        return {}
    flat: dict[str, Any] = {}
    _flat(msgspec.to_builtins(draft), "", flat)
    flat.pop("ref", None)  # never changes, and names the idea the history is of
    # Team keys are the user's, so only the field names before them are turned into camelCase.
    return {_camel(key) if not key.startswith("estimates.effort.") else key: value for key, value in flat.items()}


def changes(before: IdeaDraft | None, after: IdeaDraft) -> list[Change]:
    """What differs between two versions of an idea, field by field, in field order."""
    old, new = fields_of(before), fields_of(after)
    return [
        Change(field=field, before=old.get(field), after=new.get(field))
        for field in sorted(old.keys() | new.keys())
        if old.get(field) != new.get(field)
    ]


def estimates_changed(found: list[Change]) -> bool:
    """Whether a change touched an estimate, which makes it a new estimate (new date and author)."""
    return any(change.field.startswith("estimates.") for change in found)


def stale_cutoff(now: datetime, review_every_days: int) -> datetime:
    """Estimates made before this moment are stale: older than the review cadence."""
    return now - timedelta(days=review_every_days)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """`at` in whole microseconds since the Unix epoch, exactly: how score rows keep an idea's
    `estimated_at` (migration 0025), since asyncpg decodes a bigint much faster than a timestamp."""
    return (at - _EPOCH) // _MICROSECOND


def from_micros(microseconds: int) -> datetime:
    return _EPOCH + timedelta(microseconds=microseconds)


def is_stale(estimated_at: datetime, cutoff: datetime) -> bool:
    return estimated_at < cutoff
