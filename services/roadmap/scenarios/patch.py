"""Changing a scenario's settings by key: pure merge rules, no I/O.

A patch names what it changes and leaves the rest alone, so changing one budget is one small
request:

- `phases`: each entry is matched to the scenario's phase of the same `key`. A `budget`, `start`
  or `end` replaces the phase's (a `null` date takes it away); an unknown key adds the phase
  (its budget is then required);
  `"remove": true` takes the phase out.
- `teams`: each entry is matched by `key`. Its `capacity` entries replace the team's capacity
  in those phases, a `null` capacity removes the limit in that phase; an unknown key adds the
  team; `"remove": true` takes the team out (its effort is then unconstrained).
- `constraints`: each entry is matched to the scenario's constraint of the same kind on the
  same ideas (a pin, mandatory or exclude by its idea, a requires by its idea and `on`, an
  excludes by its set of ideas, a coverage by its attribute and phase) and replaces it, or is
  added; `"remove": true` takes it out.
- `objective.phaseDiscount` entries replace the discounts of those phases; `solver` fields
  replace those settings.

Every problem raises `PatchError` naming the field of the patch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

import msgspec

from services.roadmap.optimiser.scenario import ConstraintDoc, ObjectiveDoc, PhaseDoc, SolverDoc, TeamDoc

NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Key = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class PatchError(ValueError):
    """A patch that cannot be applied; `path` names its field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class _Patch(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    pass


class PhasePatch(_Patch):
    key: Key
    budget: NonNegative | msgspec.UnsetType = msgspec.UNSET
    # A date replaces the phase's; `null` takes it away.
    start: date | None | msgspec.UnsetType = msgspec.UNSET
    end: date | None | msgspec.UnsetType = msgspec.UNSET
    remove: bool = False


class TeamPatch(_Patch):
    key: Key
    capacity: dict[str, NonNegative | None] | msgspec.UnsetType = msgspec.UNSET
    remove: bool = False


class ObjectivePatch(_Patch):
    phase_discount: dict[str, NonNegative | None] = {}


class SolverPatch(_Patch):
    time_limit_seconds: Annotated[float, msgspec.Meta(gt=0)] | msgspec.UnsetType = msgspec.UNSET
    relative_gap: NonNegative | msgspec.UnsetType = msgspec.UNSET


T = TypeVar("T")


def _merge_by_key(
    current: Sequence[T],
    patch: Sequence[Any],
    *,
    field: str,
    key_of: Callable[[Any], Hashable],
    apply: Callable[[T | None, Any, str], T],
) -> list[T]:
    """Entries of `current` with `patch` applied by key; new keys are appended in patch order."""
    merged: dict[Hashable, T] = {key_of(item): item for item in current}
    seen: dict[Hashable, int] = {}
    for index, entry in enumerate(patch):
        path = f"{field}[{index}]"
        key = key_of(entry)
        if key in seen:
            raise PatchError(path, f"changes the same entry as {field}[{seen[key]}]")
        seen[key] = index
        if getattr(entry, "remove", False):
            if key not in merged:
                raise PatchError(path, "there is no such entry to remove")
            del merged[key]
        else:
            merged[key] = apply(merged.get(key), entry, path)
    return list(merged.values())


def merge_phases(current: Sequence[PhaseDoc], patch: Sequence[PhasePatch], *, order: Sequence[str]) -> list[PhaseDoc]:
    """The phases with `patch` applied, in time order (`order`); unknown keys go last."""

    def apply(phase: PhaseDoc | None, entry: PhasePatch, path: str) -> PhaseDoc:
        if phase is None and entry.budget is msgspec.UNSET:
            raise PatchError(f"{path}.budget", f"a new phase {entry.key!r} needs a budget")
        changes = {
            name: getattr(entry, name)
            for name in ("budget", "start", "end")
            if getattr(entry, name) is not msgspec.UNSET
        }
        return msgspec.structs.replace(phase, **changes) if phase is not None else PhaseDoc(key=entry.key, **changes)

    _refuse_remove_with_values(patch, "phases", "budget", "start", "end")
    merged = _merge_by_key(current, patch, field="phases", key_of=lambda p: p.key, apply=apply)
    if not merged:
        raise PatchError("phases", "a scenario keeps at least one phase")
    return sorted(merged, key=lambda p: order.index(p.key) if p.key in order else len(order))


def merge_teams(current: Sequence[TeamDoc], patch: Sequence[TeamPatch]) -> list[TeamDoc]:
    """The teams with `patch` applied; capacities merge by phase, `null` removing one."""

    def apply(team: TeamDoc | None, entry: TeamPatch, path: str) -> TeamDoc:
        capacity = dict(team.capacity) if team is not None else {}
        if entry.capacity is not msgspec.UNSET:
            for phase, days in entry.capacity.items():
                if days is None:
                    capacity.pop(phase, None)
                else:
                    capacity[phase] = days
        return TeamDoc(key=entry.key, capacity=capacity)

    _refuse_remove_with_values(patch, "teams", "capacity")
    return _merge_by_key(current, patch, field="teams", key_of=lambda t: t.key, apply=apply)


def constraint_key(kind: str, fields: dict[str, Any]) -> tuple[Hashable, ...]:
    """What identifies a constraint among a scenario's constraints: its kind and its ideas."""
    if kind in ("mandatory", "pin", "exclude"):
        return (kind, fields.get("idea"))
    if kind == "requires":
        return (kind, fields.get("idea"), fields.get("on"))
    if kind == "excludes":
        ideas = fields.get("ideas")
        return (kind, frozenset(ideas) if isinstance(ideas, list) and all(isinstance(i, str) for i in ideas) else None)
    return (kind, fields.get("attribute"), fields.get("phase"))


def merge_constraints(current: Sequence[ConstraintDoc], patch: Sequence[dict[str, Any]]) -> list[ConstraintDoc]:
    """The constraints with `patch` applied: each entry replaces, adds or (`remove`) drops one."""
    existing = [(constraint_key(c.__struct_config__.tag, _fields(c)), c) for c in current]
    merged = dict(existing)
    seen: dict[Hashable, int] = {}
    for index, raw in enumerate(patch):
        path = f"constraints[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
            raise PatchError(f"{path}.kind", "each constraint names its kind")
        entry = dict(raw)
        remove = entry.pop("remove", False)
        if not isinstance(remove, bool):
            raise PatchError(f"{path}.remove", "must be true or false")
        key = constraint_key(entry["kind"], entry)
        if key in seen:
            raise PatchError(path, f"changes the same constraint as constraints[{seen[key]}]")
        seen[key] = index
        if remove:
            if key not in merged:
                raise PatchError(path, "the scenario has no such constraint to remove")
            del merged[key]
            continue
        try:
            merged[key] = msgspec.convert(entry, ConstraintDoc)
        except msgspec.ValidationError as exc:
            raise PatchError(_inner_path(path, str(exc)), str(exc).split(" - at `", 1)[0]) from None
    return list(merged.values())


def merge_objective(current: ObjectiveDoc, patch: ObjectivePatch) -> ObjectiveDoc:
    discounts = dict(current.phase_discount)
    for phase, value in patch.phase_discount.items():
        if value is None:
            discounts.pop(phase, None)
        else:
            discounts[phase] = value
    return ObjectiveDoc(phase_discount=discounts)


def merge_solver(current: SolverDoc, patch: SolverPatch) -> SolverDoc:
    changes = {name: value for name, value in msgspec.structs.asdict(patch).items() if value is not msgspec.UNSET}
    return msgspec.structs.replace(current, **changes)


def _fields(constraint: ConstraintDoc) -> dict[str, Any]:
    return msgspec.to_builtins(constraint)


def _refuse_remove_with_values(patch: Sequence[Any], field: str, *values: str) -> None:
    for index, entry in enumerate(patch):
        for value in values:
            if entry.remove and getattr(entry, value) is not msgspec.UNSET:
                raise PatchError(f"{field}[{index}]", f"give either remove or {value}, not both")


def _inner_path(path: str, message: str) -> str:
    # msgspec names the place as "at `$.phase`", or the field as "missing required field `phase`".
    named = re.search(r"(?:unknown|missing required) field `([^`]+)`", message)
    if named:
        return f"{path}.{named.group(1)}"
    if "at `$." in message:
        return f"{path}.{message.split('at `$.', 1)[1].rstrip('`')}"
    return path
