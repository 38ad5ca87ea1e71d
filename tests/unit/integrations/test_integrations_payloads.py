"""Jira payloads: mapping rules, labels, fields and request bodies, checked against the official schemas."""

from __future__ import annotations

import re
import subprocess
import sys

import msgspec
import pytest
from hypothesis import given, strategies as st
from integrations_examples import IDEA, MAPPING, PORTFOLIO
from integrations_schemas import adf_errors, request_errors

from services.integrations.payloads import (
    UNPLANNED_LABEL,
    JiraMapping,
    blocks_link_body,
    bulk_create_bodies,
    create_issue_body,
    edit_issue_body,
    epic_fields,
    fields_fingerprint,
    idea_label,
    issue_fields,
    phase_label,
    status_category,
    unplanned_edit_body,
)
from services.integrations.planned import MappingError, PlannedIdea, PlannedPhase

pytestmark = pytest.mark.unit

PHASE = PlannedPhase(key="2027-h1", label="First half 2027", budget=100_000.0, spend=82_500.0)


def _valid_label(label: str) -> bool:
    return 0 < len(label) <= 255 and not any(c.isspace() for c in label)


# -- purity --------------------------------------------------------------------------------


def test_the_payload_core_imports_no_web_database_or_http_library():
    # A fresh interpreter, so imports made by other tests cannot hide a leak.
    code = (
        "import sys\n"
        "import services.integrations.payloads, services.integrations.adf, services.integrations.push_plan\n"
        "import services.integrations.planned, services.integrations.delivery_view, services.integrations.idea_status\n"
        "print(','.join(sorted(m for m in ('litestar', 'asyncpg', 'httpx') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_rich_text_and_payloads_do_not_import_each_other():
    # The plan's structs live in `planned`; the ADF builders need nothing of the payload builders.
    code = "import sys\nimport services.integrations.adf\nprint('services.integrations.payloads' in sys.modules)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# -- mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"epic_issue_type": " "}, "epic_issue_type"),
        ({"labels": ("has space",)}, "labels[0]"),
        ({"labels": ("ok", "")}, "labels[1]"),
        ({"labels": (UNPLANNED_LABEL,)}, "labels[0]"),
        ({"labels": ("ok", "RMAP-3f2a9c1e-i-x")}, "labels[1]"),
        ({"components": ("Backend", "Backend")}, "components"),
        ({"score_field": "Score"}, "score_field"),
        ({"phase_field": "customfield_x"}, "phase_field"),
        ({"score_field": "customfield_1", "phase_field": "customfield_1"}, "phase_field"),
        ({"priority_by_rank": ()}, "priority_by_rank"),
        ({"priority_by_rank": ((10, "High"),)}, "priority_by_rank"),
        ({"priority_by_rank": ((10, "High"), (5, "Low"), (None, "Lowest"))}, "priority_by_rank[1]"),
        ({"priority_by_rank": ((0, "High"), (None, "Low"))}, "priority_by_rank[0]"),
        ({"priority_by_rank": ((None, "High"), (None, "Low"))}, "priority_by_rank[0]"),
        ({"priority_by_rank": ((3, ""), (None, "Low"))}, "priority_by_rank[0]"),
    ],
)
def test_a_broken_mapping_is_refused_naming_the_field(settings, field):
    with pytest.raises(MappingError) as caught:
        JiraMapping(**settings)
    assert caught.value.field == field


def test_a_stored_mapping_converts_and_its_rules_still_apply():
    # The connection keeps its mapping as JSON; msgspec.convert runs __post_init__ as well.
    mapping = msgspec.convert({"labels": ["roadmap"], "priorityByRank": [[5, "High"], [None, "Low"]]}, JiraMapping)
    assert mapping.priority_by_rank == ((5, "High"), (None, "Low"))
    assert msgspec.convert(msgspec.to_builtins(mapping), JiraMapping) == mapping
    with pytest.raises(MappingError) as caught:
        msgspec.convert({"labels": ["two words"]}, JiraMapping)
    assert caught.value.field == "labels[0]"
    with pytest.raises(msgspec.ValidationError, match="epic_issue_type"):  # the API's names only, nothing misspelt
        msgspec.convert({"epic_issue_type": "Epic"}, JiraMapping)


def test_priority_follows_rank_bands_top_down():
    mapping = JiraMapping(priority_by_rank=((10, "Highest"), (30, "High"), (None, "Medium")))
    assert [mapping.priority_for(r) for r in (1, 10, 11, 30, 31, 500)] == [
        "Highest",
        "Highest",
        "High",
        "High",
        "Medium",
        "Medium",
    ]


def test_planned_things_refuse_impossible_values():
    with pytest.raises(MappingError) as caught:
        PlannedIdea(ref="A", title="t", phase="p", rank=0)
    assert caught.value.field == "rank"
    with pytest.raises(MappingError) as caught:
        PlannedIdea(ref="A", title="t", phase="p", rank=1, score=float("nan"))
    assert caught.value.field == "score"
    with pytest.raises(MappingError):
        PlannedPhase(key="p", label="P", budget=float("inf"), spend=0.0)


# -- labels --------------------------------------------------------------------------------


def test_labels_are_readable_and_stable():
    assert idea_label(PORTFOLIO, "idea-7") == "rmap-3f2a9c1e-i-idea-7"
    assert phase_label(PORTFOLIO, "2027-h1") == "rmap-3f2a9c1e-p-2027-h1"
    assert idea_label(PORTFOLIO, "IDEA 7") == idea_label(PORTFOLIO, "IDEA 7")
    assert idea_label(PORTFOLIO, "IDEA 7").startswith("rmap-3f2a9c1e-i-idea-7_")


def test_refs_that_sanitise_alike_still_get_distinct_labels():
    refs = ["A 1", "a-1", "A-1", "a_1", "a--1", "A/1"]
    labels = {idea_label(PORTFOLIO, ref).lower() for ref in refs}
    assert len(labels) == len(refs)  # JQL matches labels case-insensitively


def test_a_non_uuid_portfolio_id_still_gives_a_valid_prefix():
    label = idea_label("portfolio one", "x")
    assert re.fullmatch(r"rmap-[0-9a-f]{8}-i-x", label)


@given(
    st.lists(st.text(min_size=1, max_size=300), min_size=2, max_size=20, unique=True), st.text(min_size=1, max_size=40)
)
def test_distinct_refs_give_distinct_valid_labels(refs, portfolio_id):
    labels = [idea_label(portfolio_id, ref) for ref in refs]
    assert all(_valid_label(label) for label in labels)
    assert len({label.lower() for label in labels}) == len(refs)
    phases = {phase_label(portfolio_id, ref).lower() for ref in refs}
    assert phases.isdisjoint(label.lower() for label in labels)


# -- fields --------------------------------------------------------------------------------


def test_issue_fields_carry_parent_labels_priority_and_custom_fields():
    fields = issue_fields("PROJ", MAPPING, IDEA, "PROJ-1", PORTFOLIO)
    assert fields["project"] == {"key": "PROJ"}
    assert fields["issuetype"] == {"name": "Task"}
    assert fields["summary"] == "Self-service refunds"
    assert fields["parent"] == {"key": "PROJ-1"}
    assert fields["labels"] == [idea_label(PORTFOLIO, "IDEA-7"), "roadmap"]
    assert fields["components"] == [{"name": "Backend"}]
    assert fields["priority"] == {"name": "Highest"}
    assert fields["customfield_10051"] == 71.5  # a number field takes a JSON number
    assert fields["customfield_10050"] == "2027-h1"  # a text field stays a plain string on v3
    assert adf_errors(fields["description"]) == []
    assert request_errors("createIssue", create_issue_body(fields)) == []


def test_a_select_phase_field_takes_its_option_by_value_and_no_score_means_no_score_field():
    mapping = JiraMapping(score_field="customfield_10051", phase_field="customfield_10060", phase_field_kind="select")
    fields = issue_fields("PROJ", mapping, PlannedIdea(ref="b", title="B", phase="q1", rank=40), "PROJ-2", PORTFOLIO)
    assert fields["customfield_10060"] == {"value": "q1"}
    assert "customfield_10051" not in fields
    assert fields["priority"] == {"name": "Medium"}
    assert "components" not in fields


def test_a_long_title_is_cut_to_jiras_summary_limit():
    idea = PlannedIdea(ref="a", title="word " * 100, phase="p", rank=1)
    assert len(issue_fields("PROJ", JiraMapping(), idea, None, PORTFOLIO)["summary"]) == 255


def test_epic_fields_carry_the_phase_label_and_a_budget_description():
    fields = epic_fields("PROJ", MAPPING, PHASE, PORTFOLIO, "EUR")
    assert fields["issuetype"] == {"name": "Epic"}
    assert fields["summary"] == "First half 2027"
    assert fields["labels"] == [phase_label(PORTFOLIO, "2027-h1"), "roadmap"]
    assert "parent" not in fields
    assert adf_errors(fields["description"]) == []
    assert request_errors("createIssue", create_issue_body(fields)) == []


def test_the_fingerprint_ignores_key_order_and_sees_every_change():
    fields = issue_fields("PROJ", MAPPING, IDEA, "PROJ-1", PORTFOLIO)
    assert fields_fingerprint(dict(reversed(list(fields.items())))) == fields_fingerprint(fields)
    moved = issue_fields("PROJ", MAPPING, IDEA, "PROJ-9", PORTFOLIO)
    assert fields_fingerprint(moved) != fields_fingerprint(fields)


# -- bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "sizes"), [(0, []), (1, [1]), (50, [50]), (51, [50, 1]), (120, [50, 50, 20])])
def test_bulk_creates_go_in_chunks_of_at_most_fifty_in_order(count, sizes):
    all_fields = [
        issue_fields(
            "PROJ", MAPPING, PlannedIdea(ref=f"i{n}", title=f"Idea {n}", phase="p", rank=n + 1), "PROJ-1", PORTFOLIO
        )
        for n in range(count)
    ]
    bodies = bulk_create_bodies(all_fields)
    assert [len(body["issueUpdates"]) for body in bodies] == sizes
    assert [update["fields"] for body in bodies for update in body["issueUpdates"]] == all_fields
    for body in bodies:
        assert request_errors("createIssues", body) == []


def test_the_blocker_goes_in_inward_issue():
    body = blocks_link_body("PROJ-1", "PROJ-2")
    # Jira reads {inwardIssue: A, outwardIssue: B} as "A blocks B" (CONTRACT.md §2.3).
    assert body == {"type": {"name": "Blocks"}, "inwardIssue": {"key": "PROJ-1"}, "outwardIssue": {"key": "PROJ-2"}}
    assert request_errors("linkIssues", body) == []


def test_an_edit_keeps_labels_people_added_and_clears_the_unplanned_label():
    fields = issue_fields("PROJ", MAPPING, IDEA, "PROJ-1", PORTFOLIO)
    body = edit_issue_body(fields)
    assert not {"project", "issuetype", "labels"} & set(body["fields"])
    assert body["fields"]["parent"] == {"key": "PROJ-1"}
    assert body["update"]["labels"] == [{"add": label} for label in fields["labels"]] + [{"remove": UNPLANNED_LABEL}]
    assert not set(body["fields"]) & set(body["update"])  # a field goes in one or the other
    assert request_errors("editIssue", body) == []
    assert request_errors("editIssue", unplanned_edit_body()) == []


def test_a_request_schema_violation_would_be_caught():
    # Guards the guard: the validator does see a missing required property.
    assert request_errors("linkIssues", {"type": {"name": "Blocks"}, "inwardIssue": {"key": "A-1"}}) != []


# -- status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "category"),
    [
        ("new", "new"),
        ("indeterminate", "indeterminate"),
        ("done", "done"),
        ("DONE", "done"),
        ("undefined", "unknown"),
        ("in-flight", "unknown"),
        ("completed", "unknown"),
        ("", "unknown"),
    ],
)
def test_status_comes_from_the_category_key_only(key, category):
    assert status_category(key) == category
