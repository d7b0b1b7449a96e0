"""Screening rules: who may be treated, in what order refusals are reported, and strict input."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos.domain.errors import PosError
from pos.domain.screening import (
    ACKNOWLEDGEABLE,
    AVOID_AREAS,
    BOOLEAN_KEYS,
    BOTOX_WAIT_DAYS,
    CAUTIONS,
    CONDITIONS,
    CONTRAINDICATIONS,
    AvoidArea,
    BotoxWait,
    CautionNotAcknowledged,
    Contraindicated,
    ScreeningAnswers,
    ScreeningIncomplete,
    Severity,
    Verdict,
    clinic_today,
    parse_answers,
    screen,
)

TODAY = date(2026, 3, 15)
NEW_YORK = ZoneInfo("America/New_York")


def raw_answers(**overrides: Any) -> dict[str, Any]:
    """A complete, all-clear screening as the API would receive it."""
    raw: dict[str, Any] = {key: False for key in BOOLEAN_KEYS}
    raw["last_botox_on"] = None
    raw.update(overrides)
    return raw


def answers(*flags: str, last_botox_on: date | None = None) -> ScreeningAnswers:
    return ScreeningAnswers(flags=frozenset(flags), last_botox_on=last_botox_on)


# --- the table ---------------------------------------------------------------------------


def test_the_table_classifies_all_seventeen_conditions_exactly_as_the_domain_says() -> None:
    assert CONTRAINDICATIONS == (
        "pregnant_or_nursing", "scleroderma", "collagen_vascular_disease",
        "cardiac_abnormalities", "active_infection", "bleeding_disorder_or_blood_thinners",
        "immunosuppressed", "scar_under_6_months", "pustular_or_nodular_rosacea_or_acne",
    )
    assert AVOID_AREAS == (
        "active_skin_cancer_or_actinic_keratosis", "raised_moles", "warts", "active_herpes",
    )
    assert CAUTIONS == ("keloid_history", "diabetes", "eczema", "psoriasis")
    assert BOOLEAN_KEYS == CONTRAINDICATIONS + AVOID_AREAS + CAUTIONS
    assert len(set(BOOLEAN_KEYS)) == 17
    assert BOTOX_WAIT_DAYS == 14


def test_every_condition_has_a_human_label() -> None:
    for condition in CONDITIONS:
        assert condition.label and condition.label[0].isupper()
        assert isinstance(condition.severity, Severity)


def test_errors_carry_their_api_codes_and_statuses() -> None:
    for cls, code in [
        (ScreeningIncomplete, "screening_incomplete"),
        (Contraindicated, "contraindicated"),
        (BotoxWait, "botox_wait"),
        (AvoidArea, "avoid_area"),
        (CautionNotAcknowledged, "caution_not_acknowledged"),
    ]:
        assert issubclass(cls, PosError)
        assert cls.code == code
        assert cls.status == 422


# --- screen: one condition at a time ------------------------------------------------------


def test_a_client_with_nothing_to_report_is_accepted_with_an_empty_verdict() -> None:
    assert screen(answers(), [], TODAY) == Verdict(cautions=(), avoided_areas=())


@pytest.mark.parametrize("key", CONTRAINDICATIONS)
def test_each_contraindication_alone_is_refused_by_name(key: str) -> None:
    with pytest.raises(Contraindicated) as exc:
        screen(answers(key), [], TODAY)
    assert exc.value.details == {"contraindications": [key]}
    assert exc.value.code == "contraindicated"


@pytest.mark.parametrize("key", CONTRAINDICATIONS)
def test_a_contraindication_cannot_be_waived_by_acknowledging_it(key: str) -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        screen(answers(key), [key], TODAY)
    assert exc.value.details == {"invalid": [key]}


def test_all_present_contraindications_are_listed_in_table_order() -> None:
    with pytest.raises(Contraindicated) as exc:
        screen(answers("scar_under_6_months", "pregnant_or_nursing", "diabetes"), [], TODAY)
    assert exc.value.details == {
        "contraindications": ["pregnant_or_nursing", "scar_under_6_months"]
    }


@pytest.mark.parametrize("key", CAUTIONS)
def test_each_caution_alone_is_refused_until_acknowledged(key: str) -> None:
    with pytest.raises(CautionNotAcknowledged) as exc:
        screen(answers(key), [], TODAY)
    assert exc.value.details == {"cautions": [key]}


@pytest.mark.parametrize("key", CAUTIONS)
def test_each_caution_alone_is_accepted_once_acknowledged_and_recorded(key: str) -> None:
    assert screen(answers(key), [key], TODAY) == Verdict(cautions=(key,), avoided_areas=())


@pytest.mark.parametrize("key", AVOID_AREAS)
def test_each_avoid_area_condition_alone_is_refused_until_treated_around(key: str) -> None:
    with pytest.raises(AvoidArea) as exc:
        screen(answers(key), [], TODAY)
    assert exc.value.details == {"conditions": [key]}


@pytest.mark.parametrize("key", AVOID_AREAS)
def test_each_avoid_area_condition_is_accepted_once_acknowledged_and_recorded(key: str) -> None:
    assert screen(answers(key), [key], TODAY) == Verdict(cautions=(), avoided_areas=(key,))


def test_only_the_unacknowledged_cautions_are_listed() -> None:
    with pytest.raises(CautionNotAcknowledged) as exc:
        screen(answers("diabetes", "eczema", "psoriasis"), ["eczema"], TODAY)
    assert exc.value.details == {"cautions": ["diabetes", "psoriasis"]}


def test_acknowledging_a_condition_the_client_does_not_have_is_harmless_and_not_recorded() -> None:
    assert screen(answers("diabetes"), ["diabetes", "warts"], TODAY) == Verdict(
        cautions=("diabetes",), avoided_areas=()
    )


# --- Botox --------------------------------------------------------------------------------


def test_botox_thirteen_days_ago_is_refused_with_the_date_it_becomes_possible() -> None:
    with pytest.raises(BotoxWait) as exc:
        screen(answers(last_botox_on=TODAY - timedelta(days=13)), [], TODAY)
    assert exc.value.details == {"eligible_on": "2026-03-16"}


def test_botox_exactly_fourteen_days_ago_is_accepted() -> None:
    assert screen(answers(last_botox_on=TODAY - timedelta(days=14)), [], TODAY) == Verdict(
        (), ()
    )


def test_botox_on_the_same_day_is_refused() -> None:
    with pytest.raises(BotoxWait) as exc:
        screen(answers(last_botox_on=TODAY), [], TODAY)
    assert exc.value.details == {"eligible_on": "2026-03-29"}


def test_a_botox_date_in_the_future_is_a_wait_too() -> None:
    with pytest.raises(BotoxWait) as exc:
        screen(answers(last_botox_on=date(2026, 4, 1)), [], TODAY)
    assert exc.value.details == {"eligible_on": "2026-04-15"}


# --- order of refusals --------------------------------------------------------------------


def test_a_contraindication_is_reported_before_a_botox_wait() -> None:
    with pytest.raises(Contraindicated):
        screen(answers("immunosuppressed", last_botox_on=TODAY), [], TODAY)


def test_a_botox_wait_is_reported_before_an_avoid_area_condition() -> None:
    with pytest.raises(BotoxWait):
        screen(answers("warts", last_botox_on=TODAY), [], TODAY)


def test_an_avoid_area_condition_is_reported_before_a_caution() -> None:
    with pytest.raises(AvoidArea):
        screen(answers("warts", "diabetes"), [], TODAY)


def test_a_bad_acknowledgement_list_is_reported_before_anything_clinical() -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        screen(answers("pregnant_or_nursing"), ["not_a_condition"], TODAY)
    assert exc.value.details == {"invalid": ["not_a_condition"]}


def test_a_bare_string_is_not_taken_as_a_list_of_acknowledgements() -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        screen(answers("diabetes"), "diabetes", TODAY)
    assert exc.value.details == {"invalid": ["acknowledged_cautions"]}


def test_several_conditions_acknowledged_together_are_all_recorded_in_table_order() -> None:
    verdict = screen(
        answers("psoriasis", "keloid_history", "active_herpes", "raised_moles"),
        ["psoriasis", "active_herpes", "keloid_history", "raised_moles"],
        TODAY,
    )
    assert verdict == Verdict(
        cautions=("keloid_history", "psoriasis"),
        avoided_areas=("raised_moles", "active_herpes"),
    )


# --- messages do not leak health information ----------------------------------------------


def test_a_refusal_message_names_only_the_failing_conditions() -> None:
    with pytest.raises(CautionNotAcknowledged) as exc:
        screen(answers("diabetes", "warts"), ["warts"], TODAY)
    assert "Diabetes" in exc.value.message
    assert "wart" not in exc.value.message.lower()


def test_an_invalid_answer_is_named_but_its_value_is_not_echoed() -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw_answers(diabetes="type 2, insulin"))
    assert "insulin" not in exc.value.message
    assert "insulin" not in repr(exc.value.details)


# --- parse_answers ------------------------------------------------------------------------


def test_a_complete_screening_is_parsed_into_flags_and_a_date() -> None:
    parsed = parse_answers(raw_answers(eczema=True, warts=True, last_botox_on="2026-01-31"))
    assert parsed == ScreeningAnswers(frozenset({"eczema", "warts"}), date(2026, 1, 31))


def test_to_json_stores_every_key_and_round_trips() -> None:
    raw = raw_answers(diabetes=True, last_botox_on="2025-12-01")
    stored = parse_answers(raw).to_json()
    assert stored == raw
    assert parse_answers(stored) == parse_answers(raw)


@pytest.mark.parametrize("key", [*BOOLEAN_KEYS, "last_botox_on"])
def test_a_missing_key_makes_the_screening_incomplete(key: str) -> None:
    raw = raw_answers()
    del raw[key]
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw)
    assert exc.value.details["missing"] == [key]
    assert exc.value.details["invalid"] == []
    assert exc.value.status == 422


def test_missing_keys_are_listed_sorted() -> None:
    raw = raw_answers()
    for key in ("warts", "diabetes", "active_herpes"):
        del raw[key]
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw)
    assert exc.value.details["missing"] == ["active_herpes", "diabetes", "warts"]


@pytest.mark.parametrize("value", [0, 1, "true", "false", None, "", [], {}, 1.0])
def test_a_non_boolean_answer_is_invalid(value: object) -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw_answers(scleroderma=value))
    assert exc.value.details["invalid"] == ["scleroderma"]
    assert exc.value.details["missing"] == []


@pytest.mark.parametrize(
    "value",
    ["2026-02-30", "2026-13-01", "15/03/2026", "20260315", "2026-W11-1", "2026-3-5",
     "2026-03-15T00:00:00", "", "yesterday", 20260315, True, ["2026-03-15"]],
)
def test_a_bad_botox_date_is_invalid(value: object) -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw_answers(last_botox_on=value))
    assert exc.value.details["invalid"] == ["last_botox_on"]


def test_a_null_botox_date_means_no_botox() -> None:
    assert parse_answers(raw_answers()).last_botox_on is None


def test_an_unknown_key_makes_the_screening_incomplete() -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw_answers(smoker=True))
    assert exc.value.details["unknown"] == ["smoker"]
    assert exc.value.details["missing"] == []


@pytest.mark.parametrize("raw", [None, [], "pregnant_or_nursing", 17, True])
def test_a_screening_that_is_not_an_object_is_refused(raw: object) -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw)
    assert exc.value.details["invalid"] == ["screening"]


def test_every_problem_is_reported_at_once() -> None:
    raw = raw_answers(warts="no", last_botox_on="soon", extra=1)
    del raw["eczema"]
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw)
    assert exc.value.details == {
        "missing": ["eczema"],
        "invalid": ["last_botox_on", "warts"],
        "unknown": ["extra"],
        "questionnaire_version": 0,
    }


def test_answers_cannot_be_built_with_a_malformed_key() -> None:
    with pytest.raises(ValueError):
        ScreeningAnswers(frozenset({"Pregnant!"}), None)


# --- clinic_today -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now_utc", "expected"),
    [
        # Evening in New York is already tomorrow in UTC (EDT, UTC-4).
        (datetime(2026, 3, 15, 3, 30, tzinfo=UTC), date(2026, 3, 14)),
        (datetime(2026, 3, 15, 3, 59, 59, tzinfo=UTC), date(2026, 3, 14)),
        (datetime(2026, 3, 15, 4, 0, tzinfo=UTC), date(2026, 3, 15)),
        # Day before spring-forward: still EST (UTC-5).
        (datetime(2026, 3, 8, 4, 59, tzinfo=UTC), date(2026, 3, 7)),
        (datetime(2026, 3, 8, 5, 0, tzinfo=UTC), date(2026, 3, 8)),
        # Spring-forward day (2026-03-08): midnight that ends it is at UTC-4.
        (datetime(2026, 3, 9, 3, 59, tzinfo=UTC), date(2026, 3, 8)),
        (datetime(2026, 3, 9, 4, 0, tzinfo=UTC), date(2026, 3, 9)),
        # Fall-back day (2026-11-01): starts at UTC-4, ends at UTC-5.
        (datetime(2026, 11, 1, 3, 59, tzinfo=UTC), date(2026, 10, 31)),
        (datetime(2026, 11, 1, 4, 0, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 11, 2, 4, 59, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 11, 2, 5, 0, tzinfo=UTC), date(2026, 11, 2)),
    ],
)
def test_clinic_today_is_the_new_york_calendar_date_around_midnight(
    now_utc: datetime, expected: date
) -> None:
    assert clinic_today(now_utc, NEW_YORK) == expected


def test_clinic_today_accepts_any_aware_datetime() -> None:
    paris_morning = datetime(2026, 3, 15, 6, 0, tzinfo=timezone(timedelta(hours=1)))
    assert clinic_today(paris_morning, NEW_YORK) == date(2026, 3, 15)


def test_clinic_today_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError):
        clinic_today(datetime(2026, 3, 15, 3, 30), NEW_YORK)


def test_botox_wait_counts_clinic_days_not_utc_days() -> None:
    # 14 days after 2026-03-01 is 2026-03-15; at 23:30 on the 14th in New York it is
    # already the 15th in UTC, but the client must still wait.
    now = datetime(2026, 3, 15, 3, 30, tzinfo=UTC)
    with pytest.raises(BotoxWait):
        screen(answers(last_botox_on=date(2026, 3, 1)), [], clinic_today(now, NEW_YORK))


# --- properties ---------------------------------------------------------------------------

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(
    acknowledged=st.lists(st.sampled_from(sorted(ACKNOWLEDGEABLE)), unique=True),
    today=dates,
)
def test_any_screening_with_no_flags_and_no_botox_passes(
    acknowledged: list[str], today: date
) -> None:
    assert screen(parse_answers(raw_answers()), acknowledged, today) == Verdict((), ())


@given(
    flags=st.frozensets(st.sampled_from(BOOLEAN_KEYS)),
    botox=st.none() | dates,
)
def test_parse_answers_round_trips_through_to_json(
    flags: frozenset[str], botox: date | None
) -> None:
    original = ScreeningAnswers(flags, botox)
    assert parse_answers(original.to_json()) == original


@given(
    flags=st.frozensets(st.sampled_from(BOOLEAN_KEYS)),
    botox=st.none() | dates,
    today=dates,
)
def test_acknowledging_everything_leaves_only_contraindications_and_botox_to_refuse(
    flags: frozenset[str], botox: date | None, today: date
) -> None:
    try:
        verdict = screen(ScreeningAnswers(flags, botox), sorted(ACKNOWLEDGEABLE), today)
    except Contraindicated:
        assert flags & set(CONTRAINDICATIONS)
    except BotoxWait:
        assert not flags & set(CONTRAINDICATIONS)
        assert botox is not None and today < botox + timedelta(days=BOTOX_WAIT_DAYS)
    else:
        assert not flags & set(CONTRAINDICATIONS)
        assert botox is None or today >= botox + timedelta(days=BOTOX_WAIT_DAYS)
        assert set(verdict.cautions) == flags & set(CAUTIONS)
        assert set(verdict.avoided_areas) == flags & set(AVOID_AREAS)


# --- the questionnaire as versioned data ------------------------------------------------

from pos.domain.errors import ValidationFailed  # noqa: E402
from pos.domain.screening import (  # noqa: E402
    DEFAULT_QUESTIONNAIRE,
    WaitRequired,
    build_questionnaire,
)

Q = DEFAULT_QUESTIONNAIRE


def default_raw(**overrides: Any) -> dict[str, Any]:
    """A complete, all-clear answer set to the default questionnaire (version 1)."""
    raw: dict[str, Any] = {q.key: (False if q.type == "boolean" else None)
                           for q in Q.questions}
    raw.update(overrides)
    return raw


def screen_default(history: tuple[dict[str, Any], ...] = (), acknowledged: tuple = (),
                   **overrides: Any) -> Verdict:
    return screen(parse_answers(default_raw(**overrides), Q), list(acknowledged), TODAY, Q,
                  history)


def test_the_default_version_holds_the_base_questions_and_the_directors_five() -> None:
    assert Q.version == 1
    assert Q.keys[:18] == (*BOOLEAN_KEYS, "last_botox_on")
    assert {q.key: (q.type, q.rule.value, q.wait_days) for q in Q.questions[18:]} == {
        "lidocaine_allergy": ("boolean", "contraindicated", None),
        "isotretinoin_last_taken_on": ("date", "wait_days", 183),
        "topical_retinoid_last_used_on": ("date", "wait_days", 5),
        "sunburn_in_area": ("boolean", "contraindicated", None),
        "peel_or_laser_last_on": ("date", "wait_days", 14),
    }
    assert Q.question("last_botox_on").wait_days == 14


def test_all_clear_on_the_default_version_is_accepted() -> None:
    assert screen_default() == Verdict((), ())


@pytest.mark.parametrize("key", ["lidocaine_allergy", "sunburn_in_area"])
def test_a_lidocaine_allergy_or_a_sunburn_is_contraindicated(key: str) -> None:
    with pytest.raises(Contraindicated) as exc:
        screen_default(**{key: True})
    assert exc.value.details == {"contraindications": [key]}


@pytest.mark.parametrize(("key", "days"), [
    ("isotretinoin_last_taken_on", 183), ("topical_retinoid_last_used_on", 5),
    ("peel_or_laser_last_on", 14)])
def test_each_wait_refuses_the_day_before_it_ends_and_accepts_the_day_it_ends(
        key: str, days: int) -> None:
    with pytest.raises(WaitRequired) as exc:
        screen_default(**{key: (TODAY - timedelta(days=days - 1)).isoformat()})
    assert exc.value.code == "wait_required"
    assert exc.value.status == 422
    assert exc.value.details == {"key": key, "eligible_on": (TODAY + timedelta(days=1))
                                 .isoformat()}
    assert screen_default(**{key: (TODAY - timedelta(days=days)).isoformat()}) == \
        Verdict((), ())


def test_the_isotretinoin_edges_are_day_182_and_183() -> None:
    with pytest.raises(WaitRequired):
        screen_default(isotretinoin_last_taken_on=(TODAY - timedelta(days=182)).isoformat())
    screen_default(isotretinoin_last_taken_on=(TODAY - timedelta(days=183)).isoformat())


def test_botox_keeps_its_own_code_on_the_default_version_at_13_and_14_days() -> None:
    with pytest.raises(BotoxWait) as exc:
        screen_default(last_botox_on=(TODAY - timedelta(days=13)).isoformat())
    assert exc.value.details == {"eligible_on": (TODAY + timedelta(days=1)).isoformat()}
    screen_default(last_botox_on=(TODAY - timedelta(days=14)).isoformat())


def test_of_several_waits_the_one_that_ends_last_is_reported() -> None:
    with pytest.raises(WaitRequired) as exc:
        screen_default(last_botox_on=TODAY.isoformat(),
                       isotretinoin_last_taken_on=(TODAY - timedelta(days=100)).isoformat())
    assert exc.value.details == {"key": "isotretinoin_last_taken_on",
                                 "eligible_on": (TODAY + timedelta(days=83)).isoformat()}


def test_an_earlier_visits_date_still_counts_when_today_says_none() -> None:
    history = ({"topical_retinoid_last_used_on": (TODAY - timedelta(days=2)).isoformat()},
               {"topical_retinoid_last_used_on": None}, {})
    with pytest.raises(WaitRequired) as exc:
        screen_default(history=history)
    assert exc.value.details["eligible_on"] == (TODAY + timedelta(days=3)).isoformat()
    old = ({"topical_retinoid_last_used_on": (TODAY - timedelta(days=30)).isoformat()},)
    assert screen_default(history=old) == Verdict((), ())


def test_a_contraindication_comes_before_a_wait_and_a_wait_before_a_caution() -> None:
    with pytest.raises(Contraindicated):
        screen_default(lidocaine_allergy=True, peel_or_laser_last_on=TODAY.isoformat())
    with pytest.raises(WaitRequired):
        screen_default(eczema=True, peel_or_laser_last_on=TODAY.isoformat())


def test_an_answer_set_of_an_older_version_is_incomplete_against_a_newer_one() -> None:
    with pytest.raises(ScreeningIncomplete) as exc:
        parse_answers(raw_answers(), Q)
    assert exc.value.details["missing"] == sorted(
        ["lidocaine_allergy", "isotretinoin_last_taken_on", "topical_retinoid_last_used_on",
         "sunburn_in_area", "peel_or_laser_last_on"])
    assert exc.value.details["questionnaire_version"] == 1


def test_answers_to_the_default_version_round_trip_through_to_json() -> None:
    raw = default_raw(eczema=True, isotretinoin_last_taken_on="2025-01-02")
    assert parse_answers(raw, Q).to_json(Q) == raw


def test_a_published_questionnaire_may_add_its_own_question() -> None:
    questions = [*Q.to_json(), {"key": "gold_threads", "text": "Gold threads in the area",
                                "type": "boolean", "rule": "caution"}]
    newer = build_questionnaire(2, questions)
    with pytest.raises(CautionNotAcknowledged):
        screen(parse_answers(default_raw(gold_threads=True), newer), [], TODAY, newer)
    assert screen(parse_answers(default_raw(gold_threads=True), newer), ["gold_threads"],
                  TODAY, newer) == Verdict(("gold_threads",), ())


@pytest.mark.parametrize(("questions", "field"), [
    ([], "questions"),
    ([{"key": "a b", "text": "x", "type": "boolean", "rule": "caution"}], "questions.0.key"),
    ([{"key": "ok_key", "text": "x", "type": "date", "rule": "caution"}], "questions.0.rule"),
    ([{"key": "ok_key", "text": "x", "type": "date", "rule": "wait_days", "wait_days": 0}],
     "questions.0.wait_days"),
    ([{"key": "ok_key", "text": "x", "type": "boolean", "rule": "wait_days"}],
     "questions.0.rule"),
    ([{"key": "ok_key", "text": "<b>x</b>", "type": "boolean", "rule": "caution"}],
     "questions.0.text"),
    ([{"key": "ok_key", "text": "x", "type": "boolean", "rule": "caution"},
      {"key": "ok_key", "text": "y", "type": "boolean", "rule": "caution"}], "questions.1.key"),
])
def test_a_malformed_questionnaire_is_refused_naming_the_field(questions: list,
                                                                field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        build_questionnaire(2, questions)
    assert field in exc.value.details["fields"]
