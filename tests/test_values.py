"""Unit and property tests for the normalisers in kg.values."""

from __future__ import annotations

from datetime import date as date_
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kg.values import (
    When,
    clean,
    cospar_ok,
    decimal_text,
    parse_angle_deg,
    parse_cospar,
    parse_count,
    parse_duration,
    parse_length,
    parse_mass_kg,
    parse_positive_int,
    parse_when,
    split_list,
    split_qualifier,
    strip_footnotes,
)


@pytest.mark.parametrize(("text", "iso", "datatype"), [
    ("10 October 1960, 14:27:49 UTC", "1960-10-10T14:27:49Z", "dateTime"),
    ("1 November 1962, 16:14 UTC", "1962-11-01T16:14Z", "dateTime"),
    ("14:27:49 UTC, 10 October 1960", "1960-10-10T14:27:49Z", "dateTime"),
    ("November 28, 1964, 14:22:01 UTC", "1964-11-28T14:22:01Z", "dateTime"),
    ("1962-10-24T17:55:04Z", "1962-10-24T17:55:04Z", "dateTime"),
    ("1962-10-24 17:55", "1962-10-24T17:55Z", "dateTime"),
    ("24 October 1962, 20:55 MSK", "1962-10-24T17:55Z", "dateTime"),
    ("24 October 1962 23:30 UTC+3", "1962-10-24T20:30Z", "dateTime"),
    ("31 December 1968, 23:30 EST", "1969-01-01T04:30Z", "dateTime"),
    ("12 May 1971", "1971-05-12", "date"),
    ("12th May 1971", "1971-05-12", "date"),
    ("12 Sept. 1971", "1971-09-12", "date"),
    ("12.05.1971", "1971-05-12", "date"),
    ("May 1965", "1965-05", "gYearMonth"),
    ("early May 1965", "1965-05", "gYearMonth"),
    ("1962", "1962", "gYear"),
])
def test_dates_keep_their_precision(text: str, iso: str, datatype: str) -> None:
    when = parse_when(text)
    assert when is not None and when.iso() == iso and when.datatype == datatype


@pytest.mark.parametrize("text", ["UTC", "31 February 1962", "tomorrow", "1962-13-01",
                                  "24 October 1962, 25:00 UTC", "5 days", ""])
def test_not_dates(text: str) -> None:
    assert parse_when(text) is None


def test_datetime_lexical_form_is_valid_xsd() -> None:
    assert When(1962, 11, 1, 16, 14).lexical() == "1962-11-01T16:14:00Z"
    assert When(1962, 10).lexical() == "1962-10"


def test_agreement_is_field_by_field() -> None:
    assert When(1962, 11).agrees(When(1962, 11, 4, 15, 35))
    assert not When(1962, 11, 3).agrees(When(1962, 11, 4))


@pytest.mark.parametrize(("text", "iso"), [
    ("5 days", "P5D"), ("4 months 21 days", "P4M21D"), ("18 hours", "PT18H"),
    ("12 days and 19 hours", "P12DT19H"), ("3 years, 22 days", "P3Y22D"),
    ("96.2 minutes", "PT96M12S"), ("567.11 days", "P567DT2H38M24S"), ("2 weeks", "P14D"),
    ("about 6 months", "P6M"), ("P5D", "P5D"), ("90 min", "PT90M"),
])
def test_durations(text: str, iso: str) -> None:
    assert parse_duration(text) == iso


@pytest.mark.parametrize("text", ["Failed to orbit", "Launch failure", "5", "days", "1.5 years"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(("text", "kg"), [
    ("893.5 kg", "893.5"), ("650 kg", "650"), ("4,650 kg", "4650"), ("1000 lb", "453.59237"),
    ("2.5 t", "2500"), ("260.8 kg (575 lb)", "260.8"), ("4650", "4650"), ("~500 kg", "500"),
])
def test_masses_in_kilograms(text: str, kg: str) -> None:
    assert decimal_text(parse_mass_kg(text)) == kg


@pytest.mark.parametrize("text", ["heavy", "-5 kg", "0 kg", "12 parsecs"])
def test_not_masses(text: str) -> None:
    assert parse_mass_kg(text) is None


def test_lengths_angles_counts() -> None:
    assert parse_length("1380 km") == (Decimal(1380), "km")
    assert parse_length("1.02 AU") == (Decimal("1.02"), "AU")
    assert parse_length("100 mi") == (Decimal("160.9344"), "km")
    assert parse_angle_deg("48.9°") == Decimal("48.9")
    assert parse_angle_deg("51.4 degrees") == Decimal("51.4")
    assert parse_count("Twenty two") == 22
    assert parse_count("twenty-two") == 22
    assert parse_count("22") == 22
    assert parse_count("many") is None


def test_satcat_and_cospar() -> None:
    assert parse_positive_int("443") == 443
    assert parse_positive_int("1,008") == 1008
    for bad in ("-44x", "0", "-1", "4.5", "x"):
        assert parse_positive_int(bad) is None
    assert parse_cospar("1962-057a") == "1962-057A"
    assert cospar_ok("1962-057A") and cospar_ok("1998-067ZZZ")
    for bad in ("1956-001A", "1962-57A", "1962-000A", "1962-057I", "1962-057O", "1962-057ABCD"):
        assert not cospar_ok(bad)


def test_cleaning() -> None:
    for nothing in ("UTC", "–", "-", "—", "  ", "kg", "N/A", "?"):
        assert clean(nothing) is None
    assert clean("Molniya 8K78[1]") == "Molniya 8K78"
    assert strip_footnotes("OKB-1[citation needed]") == "OKB-1"
    assert clean("  Baikonur   1/5 ") == "Baikonur 1/5"


def test_lists_and_qualifiers() -> None:
    assert split_list("Low Earth (achieved), Heliocentric (intended)") == [
        "Low Earth (achieved)", "Heliocentric (intended)"]
    assert split_list("NASA and ESA") == ["NASA", "ESA"]
    assert split_list("NASA / JPL") == ["NASA", "JPL"]
    assert split_list("Proton-K/D") == ["Proton-K/D"]
    assert split_list("Lockheed Martin, Inc.") == ["Lockheed Martin, Inc."]
    assert split_qualifier("Low Earth (achieved)") == ("Low Earth", "achieved")
    assert split_qualifier("Geocentric") == ("Geocentric", None)


@given(st.text(max_size=200))
def test_parsers_never_raise(text: str) -> None:
    for parser in (parse_when, parse_duration, parse_mass_kg, parse_length, parse_angle_deg,
                   parse_count, parse_positive_int, clean, split_list, split_qualifier):
        parser(text)


@given(st.dates(min_value=date_(1000, 1, 1), max_value=date_(2999, 12, 31)),
       st.sampled_from(["{d} {M} {y}", "{M} {d}, {y}", "{y}-{m:02d}-{d:02d}"]))
def test_any_written_date_reads_back(date, pattern: str) -> None:
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    text = pattern.format(d=date.day, M=months[date.month - 1], y=date.year, m=date.month)
    assert parse_when(text).iso() == date.isoformat()


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=23))
def test_any_duration_is_valid_xsd(days: int, hours: int) -> None:
    text = f"{days} days {hours} hours"
    iso = parse_duration(text)
    assert iso is not None and iso.startswith("P")
    from rdflib import Literal
    from rdflib.namespace import XSD
    assert Literal(iso, datatype=XSD.duration).value is not None


@given(st.one_of(st.text(), st.text(alphabet="ab09 \t/_-.éЖ", max_size=12)))
@example("a  b")
@example("a\tb")
@example(" a b ")
@example("lc-39a")
def test_a_slug_takes_the_plain_path_only_where_the_rules_agree(text: str) -> None:
    # slug() skips its rules for keys of plain ASCII words; the rules must give the same there.
    from urllib.parse import quote

    from kg.vocab import _DASHES, _NON_SLUG, _SPACE_OR_SLASH, name_key, slug

    for key in (text, name_key(text)):
        ruled = _DASHES.sub("-", _NON_SLUG.sub("-", _SPACE_OR_SLASH.sub("-", key.strip())
                                               .strip("-")).strip("-"))
        assert slug(key) == quote(ruled or "unnamed", safe="-")
