"""An idea's scores per phase in one go (Instance.scores_in) are its scores one by one."""

import pytest
from optimiser_helpers import idea, load, scenario

pytestmark = pytest.mark.unit

PHASES = [{"key": k, "budget": 10} for k in ("a", "b", "c")]
DISCOUNT = {"phaseDiscount": {"b": 0.95, "c": 0.85}}


@pytest.mark.parametrize("baseline", [None, {"assignments": [{"idea": "X", "phase": "b"}], "movePenalty": 2.5}])
def test_scores_in_matches_score_in_with_and_without_a_baseline(baseline):
    document = scenario([idea("X", value=3.3), idea("Y", value=0)], phases=PHASES, objective=DISCOUNT)
    if baseline is not None:
        document["baseline"] = baseline
    instance = load(document)
    for i in range(len(instance.ideas)):
        for phases in [(0, 1, 2), (1,), (2, 0), ()]:
            assert instance.scores_in(i, phases) == [instance.score_in(i, p) for p in phases]
    if baseline is not None:
        assert instance.scores_in(0, (0, 1)) == [3.3, 3.3 * 0.95 + 2.5]
