"""CSV import and export of ideas: exact round trip, and every bad cell named at once."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from services.scoring.accountability import Kpi, Owner
from services.scoring.csv_codec import COLUMNS, CellProblem, CsvImportError, csv_to_ideas, ideas_to_csv
from services.scoring.domain import PHASES, Estimates, IdeaDraft, JourneyContext

pytestmark = pytest.mark.unit

HEADER = ",".join(COLUMNS)


def problems_of(text: str, **kwargs) -> list[CellProblem]:
    with pytest.raises(CsvImportError) as caught:
        csv_to_ideas(text, **kwargs)
    return caught.value.problems


# --- round trip ---------------------------------------------------------------------------

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
# Import trims list items and treats an empty optional cell as "not given", so those are the
# shapes a round trip can promise: non-blank trimmed tags and team names, None for no value.
_item = _text.map(str.strip).filter(bool)
_required = _text.filter(lambda text: bool(text.strip()))
_optional = st.one_of(st.none(), _text.filter(bool))
_float = st.floats(0, 1e300, allow_nan=False, allow_infinity=False)
_score = st.one_of(st.none(), st.floats(0, 10))

ideas_strategy = st.builds(
    IdeaDraft,
    ref=_required,
    title=_required,
    description=_text,
    journey=st.builds(
        JourneyContext,
        persona=_optional,
        journey_stage=_optional,
        touchpoint=_optional,
        channel=_optional,
        pain_point=_optional,
        department=_optional,
    ),
    estimates=st.builds(
        Estimates,
        customer_impact=_score,
        reach=st.one_of(st.none(), _float),
        confidence=st.one_of(st.none(), st.floats(0, 1)),
        effort=st.dictionaries(_item, _float, max_size=3),
        cost=st.one_of(st.none(), _float),
        annual_benefit=st.one_of(st.none(), _float, st.integers(0, 10**6)),
        time_criticality=_score,
        risk_reduction=_score,
    ),
    phases=st.sets(st.sampled_from(PHASES), min_size=1).map(lambda chosen: tuple(p for p in PHASES if p in chosen)),
    tags=st.lists(_item, max_size=4).map(tuple),
    owner=st.one_of(
        st.none(),
        st.builds(
            Owner,
            subject=_item,
            name=_item,
            email=st.one_of(st.none(), st.from_regex(r"[a-z0-9.]{1,10}@[a-z0-9.]{1,10}", fullmatch=True)),
            department=st.one_of(st.none(), _item),
        ),
    ),
    kpis=st.lists(
        st.builds(
            Kpi,
            key=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,10}", fullmatch=True),
            name=_item,
            unit=_text.map(str.strip),
            direction=st.sampled_from(["increase", "decrease"]),
            baseline=st.one_of(st.none(), st.floats(-1e9, 1e9)),
            target=st.one_of(st.none(), st.floats(-1e9, 1e9)),
        ),
        max_size=3,
        unique_by=lambda kpi: kpi.key,
    ).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(ideas_strategy, max_size=5, unique_by=lambda idea: idea.ref))
def test_export_then_import_gives_back_the_same_ideas(ideas):
    assert csv_to_ideas(ideas_to_csv(ideas)) == ideas


def test_export_writes_a_readable_sheet():
    idea = IdeaDraft(
        ref="CX-1",
        title="Self-service returns",
        journey=JourneyContext(persona="Busy parent", journey_stage="After purchase"),
        estimates=Estimates(reach=2000.0, confidence=0.1, effort={"web": 15.0, "app": 3.5}, cost=1e300),
        tags=("returns", "a;b"),
        phases=("discovery", "improve"),
    )
    lines = ideas_to_csv([idea]).split("\r\n")
    assert lines[0] == HEADER
    assert lines[1] == (
        "CX-1,Self-service returns,,Busy parent,After purchase,,,,,returns;a\\;b,,2000,0.1,web:15;app:3.5,1e+300,,,,"
        "discovery;improve,,,,,"
    )
    assert lines[2:] == [""]


def test_owner_and_kpis_have_their_own_columns():
    idea = IdeaDraft(
        ref="CX-2",
        title="Explain fees",
        owner=Owner(subject="ann", name="Ann Lee", email="ann@bank.example", department="Cards"),
        kpis=(
            Kpi(key="nps", name="Net promoter score", unit="points", baseline=31, target=40),
            Kpi(key="calls", name="Calls: fees", direction="decrease", unit="calls/month"),
        ),
    )
    [header, row, _] = ideas_to_csv([idea]).split("\r\n")
    assert header.endswith(",owner_subject,owner_name,owner_email,owner_department,kpis")
    assert row.endswith(
        ",ann,Ann Lee,ann@bank.example,Cards,nps:Net promoter score:points:increase:31:40;"
        "calls:Calls\\: fees:calls/month:decrease::"
    )
    assert csv_to_ideas(f"{header}\r\n{row}\r\n") == [idea]


def test_bad_owner_and_kpi_cells_are_named():
    text = (
        "ref,title,owner_name,kpis\n"
        "A,An idea,Ann,nps:NPS:points:increase:1:2\n"
        "B,Another,,nps:NPS\n"
        "C,Third,,nps:NPS:::x:2\n"
        "D,Fourth,,nps:NPS::::;nps:Again::::\n"
        "E,Fifth,,nps:NPS::up::\n"
    )
    assert problems_of(text) == [
        CellProblem(2, "owner_subject", "must not be blank"),
        CellProblem(3, "kpis", "KPI 1 has 2 parts; expected key:name:unit:direction:baseline:target"),
        CellProblem(4, "kpis", "KPI 1: 'x' is not a number"),
        CellProblem(5, "kpis", "KPI 2 key: KPI 'nps' appears twice"),
        CellProblem(6, "kpis", "KPI 1 direction: must be 'increase' or 'decrease'"),
    ]


def test_cells_a_spreadsheet_would_run_are_defused_and_restored():
    idea = IdeaDraft(
        ref="@1",
        title='=HYPERLINK("http://x")',
        description="+1 more",
        journey=JourneyContext(persona="-x", channel="'=already quoted"),
        tags=("=cmd", "ok"),
    )
    text = ideas_to_csv([idea])
    row = text.split("\r\n")[1]
    assert row.startswith("'@1,\"'=HYPERLINK(\"\"http://x\"\")\",'+1 more,'-x,,,''=already quoted,,,'=cmd;ok,")
    assert csv_to_ideas(text) == [idea]


def test_a_leading_apostrophe_typed_in_a_sheet_is_removed_only_before_a_formula_character():
    text = "ref,title,description\r\nA,'=1+1,'quoted\r\n"
    assert csv_to_ideas(text) == [IdeaDraft(ref="A", title="=1+1", description="'quoted")]


# --- tolerant reading ---------------------------------------------------------------------


def test_minimal_sheet_with_bom_loose_headers_and_blank_lines():
    text = (
        "\ufeff Ref ,TITLE,Journey Stage,pain-point,Customer Impact,effort,Tags,Phases,Reach\r\n"
        "A1,Faster checkout,Purchase,Too many steps,7,web: 15; app:3,checkout; mobile ;,Improve;discovery,\r\n"
        "\r\n"
        ",,,,,,,,\r\n"
        "A2,Chatbot,,,,,,,\n"
        "\n\n"
    )
    assert csv_to_ideas(text) == [
        IdeaDraft(
            ref="A1",
            title="Faster checkout",
            journey=JourneyContext(journey_stage="Purchase", pain_point="Too many steps"),
            estimates=Estimates(customer_impact=7.0, effort={"web": 15.0, "app": 3.0}),
            tags=("checkout", "mobile"),
            phases=("discovery", "improve"),
        ),
        IdeaDraft(ref="A2", title="Chatbot"),
    ]


def test_header_only_is_an_empty_import():
    assert csv_to_ideas(HEADER + "\r\n") == []


def test_extra_empty_cells_at_the_end_of_a_row_are_tolerated():
    assert csv_to_ideas("ref,title,\r\nA,B,,,\r\n") == [IdeaDraft(ref="A", title="B")]


def test_backslashes_that_escape_nothing_are_kept():
    assert csv_to_ideas("ref,title,tags\r\nA,B,C:\\temp;x\\y\r\n")[0].tags == ("C:\\temp", "x\\y")


# --- problems -----------------------------------------------------------------------------


def test_every_bad_cell_of_every_row_is_named():
    text = (
        "ref,title,customer_impact,reach,confidence,effort,cost,phases\r\n"
        "A,Fine,1,2,0.5,web:1,3,\r\n"  # row 2 is fine
        "B,Bad numbers,abc,nan,inf,web:x,-1,\r\n"  # row 3
        "C,Out of range,11,1e999,1.5,web:-2,,later\r\n"  # row 4
        "A,,,,,app;web:1;web:2,,discovery;discovery\r\n"  # row 5
    )
    assert problems_of(text) == [
        CellProblem(3, "customer_impact", "'abc' is not a number"),
        CellProblem(3, "reach", "'nan' is not a number"),
        CellProblem(3, "confidence", "'inf' is not a number"),
        CellProblem(3, "effort", "team 'web': 'x' is not a number"),
        CellProblem(3, "cost", "must be at least 0, got -1.0"),
        CellProblem(4, "customer_impact", "must be between 0 and 10, got 11.0"),
        CellProblem(4, "reach", "'1e999' is too large"),
        CellProblem(4, "confidence", "must be between 0 and 1, got 1.5"),
        CellProblem(4, "effort", "team 'web': days must be at least 0"),
        CellProblem(
            4, "phases", "unknown phase 'later'; expected one of discovery, improve, perfection, personalization"
        ),
        CellProblem(5, "ref", "duplicate ref 'A' (first on row 2)"),
        CellProblem(5, "title", "must not be blank"),
        CellProblem(5, "effort", "'app' is not a team:days pair (e.g. web:15;app:3)"),
        CellProblem(5, "phases", "phases must not repeat"),
    ]


def test_duplicate_teams_and_blank_team_names():
    text = "ref,title,effort\r\nA,x,web:1;web:2\r\nB,y,:3\r\n"
    assert problems_of(text) == [
        CellProblem(2, "effort", "team 'web' appears twice"),
        CellProblem(3, "effort", "':3' has no team name"),
    ]


def test_header_problems_are_on_row_1_and_rows_are_still_checked():
    text = "Ref,Colour,Reach,reach,\r\nA,red,x,1\r\n"
    assert problems_of(text) == [
        CellProblem(
            1,
            "Colour",
            "unknown column; expected one of ref, title, description, persona, journey_stage, touchpoint, "
            "channel, pain_point, department, tags, customer_impact, reach, confidence, effort, cost, "
            "annual_benefit, time_criticality, risk_reduction, phases, owner_subject, owner_name, owner_email, "
            "owner_department, kpis",
        ),
        CellProblem(1, "reach", "duplicate column (columns 3 and 4)"),
        CellProblem(1, "title", "missing required column"),
        CellProblem(2, "reach", "'x' is not a number"),
    ]


def test_an_unnamed_column_in_the_middle_is_a_problem():
    assert problems_of("ref,,title\r\nA,1,B\r\n") == [CellProblem(1, "", "column 2 has no name")]


def test_rows_with_the_wrong_number_of_cells():
    text = "ref,title,reach\r\nA,x\r\nB,y,1,surprise\r\nC,z,2\r\n"
    assert problems_of(text) == [
        CellProblem(2, "", "the row has 2 cells but the header has 3"),
        CellProblem(3, "", "the row has 4 cells but the header has 3"),
    ]


def test_row_numbers_count_blank_rows_and_multi_line_cells_as_a_spreadsheet_does():
    text = 'ref,title,reach\r\nA,"two\r\nlines",1\r\n\r\nB,x,bad\r\n'
    assert problems_of(text) == [CellProblem(4, "reach", "'bad' is not a number")]


def test_too_many_rows_is_one_problem():
    text = "ref,title\r\n" + "".join(f"R{i},t,\r\n" for i in range(3))
    assert problems_of(text, max_rows=2) == [CellProblem(4, "", "more than 2 ideas; split the file")]
    assert len(csv_to_ideas(text, max_rows=3)) == 3


@pytest.mark.parametrize("text", ["", "\ufeff", "\r\n\r\n", ",,\r\n"])
def test_an_empty_file_is_a_problem(text):
    assert problems_of(text) == [CellProblem(1, "", "the file is empty; expected a header row")]


def test_a_broken_quote_is_a_problem_at_its_row():
    problems = problems_of('ref,title\r\nA,x\r\nB,"never closed\r\n')
    assert [(problem.row, problem.column) for problem in problems] == [(3, "")]
    assert problems[0].message.startswith("not readable as CSV: ")


def test_a_file_says_which_columns_it_has_and_an_overlay_changes_only_those():
    from services.scoring.csv_codec import overlay, read_csv
    from services.scoring.domain import Estimates, IdeaDraft, JourneyContext

    file = read_csv("Ref,Title,Cost\r\nI-1,New,7\r\n")
    assert file.columns == {"ref", "title", "cost"} and [row.number for row in file.rows] == [2]
    stored = IdeaDraft(
        ref="I-1", title="Old", description="d", journey=JourneyContext(persona="P"),
        estimates=Estimates(reach=3, cost=1, effort={"web": 2}), phases=("improve",), tags=("t",),
    )  # fmt: skip
    merged = overlay(stored, file.rows[0].idea, file.columns)
    assert merged == IdeaDraft(
        ref="I-1", title="New", description="d", journey=JourneyContext(persona="P"),
        estimates=Estimates(reach=3, cost=7, effort={"web": 2}), phases=("improve",), tags=("t",),
    )  # fmt: skip
    assert overlay(stored, stored, frozenset({"ref", "title", "cost"})) == stored
