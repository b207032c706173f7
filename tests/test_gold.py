"""Every corpus dossier gives the facts its gold file lists, fact by fact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import GOLD, corpus_files, gold_for

from kg import extract, read
from kg.record import Record
from kg.vocab import fold

FILES = corpus_files()


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return fold(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return sorted((_norm(v) for v in value), key=repr)
    return value


def _json(rec: Record, field: str) -> list[Any]:
    from kg.record import to_json

    return [to_json(v) for v in rec.values(field)]


def _one(rec: Record, field: str) -> Any:
    vals = _json(rec, field)
    return vals[0] if vals else None


# gold key -> how to read it from the record
SCALARS = {
    "title": "title",
    "mission_type": "mission_type",
    "cospar_id": "cospar_id",
    "satcat": "satcat",
    "duration": "duration",
    "spacecraft_type": "spacecraft_model",
    "bus": "bus",
    "launch_mass_kg": "launch_mass",
    "dry_mass_kg": "dry_mass",
    "launch_datetime": "launch_time",
    "launch_vehicle": "launch_vehicle",
    "launch_site": "launch_site",
    "launch_pad": "launch_pad",
    "decay_date": "decay_date",
    "landing_date": "landing_date",
    "orbit_reference": "orbit_reference",
    "programme": "programme",
    "previous_mission": "previous_mission",
    "next_mission": "next_mission",
}
LISTS = {"aliases": "aliases", "operators": "operator", "manufacturers": "manufacturer",
         "instruments": "instruments"}
# extra.* facts kg maps, and the record field that holds each
EXTRA = {
    "short_name": "short_name",
    "harvard_designation": "harvard_designation",
    "upper_stage": "upper_stage",
    "upper_stages": "upper_stage",
    "debris_pieces": "debris_count",
    "rocket_serial": "vehicle_serial",
    "landing_mass_kg": "landing_mass",
    "launch_contractor": "launch_contractor",
    "disposal_type": "disposal_type",
    "last_contact": "last_contact",
    "mission_duration": "duration_note",
    "orbit_periapsis_km": "periapsis",
    "orbit_apoapsis_km": "apoapsis",
    "orbit_periapsis_au": "periapsis",
    "orbit_apoapsis_au": "apoapsis",
    "orbit_inclination_deg": "inclination",
    "orbit_period": "orbital_period",
    "orbit_epoch": "orbit_epoch",
}


def _cases() -> list[tuple[Path, str]]:
    return [(p, key) for p in FILES if gold_for(p) for key in
            [*SCALARS, *LISTS, "orbit_regimes", "manufacturer", *
             (k for k in gold_for(p).get("extra", {}) if k in EXTRA), "debris_decay_range"]]


@pytest.fixture(scope="module")
def records() -> dict[str, Record]:
    return {p.name: extract(read(p)) for p in FILES}


pytestmark = pytest.mark.skipif(not GOLD.is_dir(), reason="gold files not beside the clone")


@pytest.mark.parametrize(("path", "key"), _cases(), ids=lambda v: getattr(v, "stem", v))
def test_fact(records: dict[str, Record], path: Path, key: str) -> None:
    gold = gold_for(path)
    rec = records[path.name]
    extra = gold.get("extra", {})
    if key in SCALARS:
        expected, got = gold[key], _one(rec, SCALARS[key])
    elif key in LISTS:
        expected, got = gold[key], _json(rec, LISTS[key])
    elif key == "manufacturer":
        expected, got = gold[key], _one(rec, "manufacturer")
    elif key == "orbit_regimes":
        expected = [[r["regime"], r["qualifier"]] for r in gold[key]]
        got = _json(rec, "orbit_regime")
    elif key == "debris_decay_range":
        expected = extra.get(key)
        got = ([_one(rec, "debris_decay_start"), _one(rec, "debris_decay_end")]
               if rec.get("debris_decay_start") else None)
    else:
        expected = extra[key]
        field = EXTRA[key]
        got = _json(rec, field) if isinstance(expected, list) else _one(rec, field)
        if key.endswith(("_km", "_au")) and got is not None:
            got = got[0]  # (value, unit)
    assert _norm(got) == _norm(expected), f"{path.name}: {key}"


def test_every_corpus_dossier_has_gold() -> None:
    assert FILES and all(gold_for(p) for p in FILES)
