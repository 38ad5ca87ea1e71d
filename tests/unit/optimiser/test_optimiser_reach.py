"""What the constraints allow before solving (reach.py): each idea's window of phases."""

import pytest
from optimiser_helpers import idea, load, scenario

from services.roadmap.optimiser.reach import analyse

pytestmark = pytest.mark.unit

PHASES = [{"key": k, "budget": 10} for k in ("a", "b", "c", "d")]


def _windows(ideas, constraints) -> dict[str, tuple[int, ...]]:
    instance = load(scenario(ideas, phases=PHASES, constraints=constraints))
    reach = analyse(instance)
    return {x.id: reach.window(i) for i, x in enumerate(instance.ideas)}


def test_windows_follow_eligibility_pins_exclusions_and_prerequisites():
    ideas = [
        idea("free"),
        idea("some", phases=["d", "b"]),
        idea("pinned", phases=["a", "c"]),
        idea("out"),
        idea("late", phases=["c", "d"]),
        idea("after", phases=["a", "b", "c", "d"]),
        idea("same"),
        idea("needed"),  # mandatory; must come before `needer`, which must end by b
        idea("needer", phases=["a", "b"]),
    ]
    constraints = [
        {"kind": "pin", "idea": "pinned", "phase": "c"},
        {"kind": "exclude", "idea": "out"},
        {"kind": "requires", "idea": "after", "on": "late", "finishToStart": True},
        {"kind": "requires", "idea": "same", "on": "late"},
        {"kind": "mandatory", "idea": "needer"},
        {"kind": "requires", "idea": "needer", "on": "needed", "finishToStart": True},
    ]
    assert _windows(ideas, constraints) == {
        "free": (0, 1, 2, 3),
        "some": (1, 3),
        "pinned": (2,),
        "out": (),
        "late": (2, 3),
        "after": (3,),  # strictly after `late`, which is done in c at the earliest
        "same": (2, 3),
        "needed": (0,),  # forced, and strictly before `needer`, which is done by b
        "needer": (1,),  # after `needed`, which is done in a at the earliest
    }
