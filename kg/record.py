"""The typed record of a dossier: infobox lines mapped through a key table, prose facts merged in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import prose
from .dossier import Dossier
from .errors import Problem
from .values import (
    When,
    clean,
    cospar_ok,
    parse_angle_deg,
    parse_cospar,
    parse_duration,
    parse_int,
    parse_length,
    parse_mass_kg,
    parse_plain_decimal,
    parse_positive_int,
    parse_power_w,
    parse_when,
    split_list,
    split_qualifier,
)
from .vocab import fold, pad_key, site_key


@dataclass(frozen=True)
class Fact:
    """One value with the dossier line it came from ('infobox', 'prose' or 'title')."""

    value: Any
    line: int
    source: str
    raw: str | None = None


@dataclass(frozen=True)
class SourceLine:
    """How kg read one line: an infobox line (key, raw value) or a prose line that gave facts."""

    line: int
    section: str
    status: str  # mapped | empty | template | not-understood | prose
    key: str | None = None
    value: str | None = None
    fields: tuple[str, ...] = ()


@dataclass
class Record:
    """Everything kg took from one dossier."""

    file: str
    sha256: str
    title: str
    title_line: int
    facts: dict[str, list[Fact]] = field(default_factory=dict)
    lines: list[SourceLine] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def get(self, name: str) -> Any:
        """The first value of a field, or None."""
        facts = self.facts.get(name)
        return facts[0].value if facts else None

    def values(self, name: str) -> list[Any]:
        return [f.value for f in self.facts.get(name, [])]

    def add(self, name: str, fact: Fact) -> None:
        """Add a fact unless the field already holds the same value."""
        facts = self.facts.setdefault(name, [])
        if all(_same(f.value, fact.value) is False for f in facts):
            facts.append(fact)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON form (for ``kg extract``)."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "title": self.title,
            "facts": {
                name: [{"value": to_json(f.value), "line": f.line, "source": f.source}
                       | ({"raw": f.raw} if f.raw else {}) for f in facts]
                for name, facts in sorted(self.facts.items())
            },
            "lines": [
                {"line": s.line, "section": s.section, "status": s.status}
                | ({"key": s.key, "value": s.value} if s.key is not None else {})
                | ({"fields": list(s.fields)} if s.fields else {})
                for s in self.lines
            ],
            "problems": [p.as_dict() for p in self.problems],
        }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return fold(a) == fold(b)
    return a == b


def to_json(value: Any) -> Any:
    """JSON form of a fact value."""
    if isinstance(value, When):
        return value.iso()
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, tuple):
        return [to_json(v) for v in value]
    return value


# ------------------------------------------------------------------ infobox key table


class NotUnderstood(ValueError):
    """A known key whose value is not of the expected kind; the message says what was expected."""


Parsed = list[tuple[str, Any]]  # (field, value) pairs
Parser = Callable[[str], Parsed]


def _text(field_name: str) -> Parser:
    return lambda v: [(field_name, v)]


def _names(field_name: str, organisations: bool = False) -> Parser:
    return lambda v: [(field_name, n) for n in split_list(v, names=organisations)]


def _name(field_name: str) -> Parser:
    def parse(v: str) -> Parsed:
        name, _qual = split_qualifier(v)
        return [(field_name, name)]
    return parse


def _when(field_name: str) -> Parser:
    def parse(v: str) -> Parsed:
        when = parse_when(v)
        if when is None:
            raise NotUnderstood("expected a date such as '24 October 1962' or "
                                "'10 October 1960, 14:27:49 UTC'")
        return [(field_name, when)]
    return parse


def _mass(field_name: str) -> Parser:
    def parse(v: str) -> Parsed:
        kg = parse_mass_kg(v)
        if kg is None:
            raise NotUnderstood("expected a mass such as '893.5 kg' or '1,970 lb'")
        return [(field_name, kg)]
    return parse


def _length(field_name: str) -> Parser:
    def parse(v: str) -> Parsed:
        length = parse_length(v)
        if length is None:
            raise NotUnderstood("expected a distance such as '1380 km' or '1.02 AU'")
        return [(field_name, length)]
    return parse


def _number(field_name: str, fn: Callable[[str], Any], expected: str) -> Parser:
    def parse(v: str) -> Parsed:
        value = fn(v)
        if value is None:
            raise NotUnderstood(f"expected {expected}")
        return [(field_name, value)]
    return parse


def _duration(v: str) -> Parsed:
    iso = parse_duration(v)
    return [("duration", iso)] if iso else [("duration_note", v)]


def _period(v: str) -> Parsed:
    iso = parse_duration(v)
    if iso is None:
        raise NotUnderstood("expected a period such as '18 hours' or '508 days'")
    return [("orbital_period", iso)]


def _satcat(v: str) -> Parsed:
    # A malformed number is kept as written (the SHACL shapes flag it) and reported.
    number = parse_positive_int(v)
    return [("satcat", number if number is not None else v)]


def _cospar(v: str) -> Parsed:
    return [("cospar_id", parse_cospar(part)) for part in split_list(v)]


_SITE_SPLIT = re.compile(
    r"^(?P<site>.*)[\s,]+(?P<pad>(?:Site|Pad|Area|Launch Complex|Space Launch Complex|"
    r"Launch Pad|Complex|LC|SLC|LA|ELA|ELS|SLP|FLP|LP|Platform)\b[\s-]*[\w/.-]+"
    r"|\d+[A-Z]?(?:/\d+[A-Z]?)?)$",
    re.IGNORECASE,
)


def parse_site(v: str) -> Parsed:
    """'Baikonur 1/5' -> site 'Baikonur', pad 'Site 1/5'; 'Cape Canaveral LC-14' -> pad 'LC-14'."""
    v = split_qualifier(v)[0]
    m = _SITE_SPLIT.match(v)
    if not m or not m.group("site").strip(" ,"):
        return [("launch_site", v)]
    site, pad = m.group("site").strip(" ,"), m.group("pad").strip()
    if pad[0].isdigit():
        # 'Baikonur Site 1/5': the word belongs to the pad. 'Baikonur 1/5': the Soviet/Russian
        # convention calls it Site 1/5.
        word = re.search(r"\s(Site|Pad|Area|Complex|Launch Complex|LC|SLC)$", site)
        if word:
            site, pad = site[:word.start()].strip(" ,"), f"{word.group(1)} {pad}"
        else:
            pad = f"Site {pad}"
    return [("launch_site", site), ("launch_pad", pad)]


_QUALIFIERS = {"achieved": "achieved", "actual": "achieved", "reached": "achieved",
               "intended": "intended", "planned": "intended", "proposed": "intended",
               "targeted": "intended", "target": "intended"}


def _regimes(v: str) -> Parsed:
    out: Parsed = []
    for part in split_list(v):
        name, qual = split_qualifier(part)
        out.append(("orbit_regime", (name, _QUALIFIERS.get(qual, qual) if qual else None)))
    return out


#: Template wording for the apsis names (perigee/apogee, perihelion/aphelion ...): no fact.
APSIS_WORDS = {"gee", "helion", "areion", "apsis", "lune", "selene", "cynthion", "astron",
               "jove", "krone", "hermion", "cythe", "geo", "center", "centre", "galacticon",
               "saturnium", "uranion", "neptunion", "hadion", "pluton"}


def _apsis(v: str) -> Parsed:
    if fold(v) in APSIS_WORDS:
        return []
    raise NotUnderstood("expected the template's apsis wording ('gee', 'helion', 'areion' ...)")


def _harvard(v: str) -> Parsed:
    return [("harvard_designation", v), ("aliases", v)]


KEYS: dict[str, Parser] = {}


def _keys(parser: Parser, *names: str) -> None:
    for n in names:
        KEYS[fold(n)] = parser


_keys(_names("mission_type"), "mission type", "type", "mission types")
_keys(_names("operator", organisations=True), "operator", "operators", "operator s", "owner", "agency")
_keys(_cospar, "cospar id", "cospar", "cospar designation", "nssdc id", "nssdca id",
      "international designator", "intl designator", "international id")
_keys(_satcat, "satcat", "satcat no", "satcat number", "norad id", "norad", "norad number",
      "satcat id", "norad catalog number")
_keys(_harvard, "harvard designation", "harvard id")
_keys(_duration, "mission duration", "duration")
_keys(_name("spacecraft_model"), "spacecraft type", "spacecraft model", "model", "type of spacecraft",
      "spacecraft design")
_keys(_name("bus"), "spacecraft bus", "bus", "platform", "satellite bus")
_keys(_names("manufacturer", organisations=True), "manufacturer", "manufacturers", "builder", "built by",
      "contractor", "prime contractor")
_keys(_mass("launch_mass"), "launch mass", "mass", "launch weight", "weight", "total mass")
_keys(_mass("dry_mass"), "dry mass", "dry weight")
_keys(_mass("landing_mass"), "landing mass", "lander mass")
_keys(_mass("payload_mass"), "payload mass")
_keys(_mass("bol_mass"), "bol mass", "beginning of life mass")
_keys(_number("power", parse_power_w, "a power such as '1,200 W'"), "power", "electrical power")
_keys(_text("dimensions"), "dimensions", "size")
_keys(_when("launch_time"), "launch date", "launch time", "launch", "launch date utc",
      "launched", "launch date and time")
_keys(_name("launch_vehicle"), "launch rocket", "launch vehicle", "rocket", "carrier rocket",
      "launcher", "vehicle")
_keys(parse_site, "launch site", "launch pad", "launch complex", "site", "launch location")
_keys(_names("launch_contractor", organisations=True), "launch contractor", "launch provider",
      "launch service provider", "launch services")
_keys(_when("decay_date"), "decay date", "decayed", "reentry date", "re entry date", "decay",
      "reentry", "re entry")
_keys(_when("landing_date"), "landing date", "landed")
_keys(_text("landing_site"), "landing site")
_keys(_text("disposal_type"), "disposal type", "disposal", "fate")
_keys(_when("last_contact"), "last contact", "last contact date", "last signal")
_keys(_when("end_of_mission"), "deactivated", "end of mission", "mission end", "destroyed",
      "retired", "decommissioned")
_keys(_name("orbit_reference"), "orbit reference", "reference system", "reference")
_keys(_regimes, "orbit regime", "regime", "orbit regimes")
_keys(_length("periapsis"), "orbit periapsis", "periapsis", "perigee", "perihelion",
      "periareon", "perilune", "periapsis altitude", "perigee altitude")
_keys(_length("apoapsis"), "orbit apoapsis", "apoapsis", "apogee", "aphelion", "apoareon",
      "apolune", "apoapsis altitude", "apogee altitude")
_keys(_length("semi_major_axis"), "orbit semimajor", "orbit semi major axis", "semi major axis",
      "semimajor axis")
_keys(_number("eccentricity", parse_plain_decimal, "a number such as '0.0012'"),
      "orbit eccentricity", "eccentricity")
_keys(_number("inclination", parse_angle_deg, "an angle such as '51.4°'"), "orbit inclination",
      "inclination")
_keys(_period, "orbit period", "period", "orbital period")
_keys(_when("orbit_epoch"), "orbit epoch", "epoch")
_keys(_apsis, "apsis")
_keys(_name("programme"), "programme", "program", "programs", "programmes", "series")
_keys(_name("previous_mission"), "previous mission", "previous", "preceded by", "predecessor")
_keys(_name("next_mission"), "next mission", "next", "followed by", "successor")
_keys(_names("aliases"), "names", "other names", "also known as", "aliases", "alternative names",
      "aka")
_keys(_number("crew_size", parse_int, "a whole number"), "crew size", "crew")
_keys(_text("website"), "website", "url", "web site")
_keys(_names("instruments"), "instruments", "payload", "scientific instruments")


# ------------------------------------------------------------------ extraction


def extract(dossier: Dossier) -> Record:
    """Map the dossier's infobox through :data:`KEYS`, add prose facts, and report the rest."""
    rec = Record(dossier.name, dossier.sha256, dossier.title, dossier.title_line)
    rec.add("title", Fact(dossier.title, dossier.title_line, "title"))
    if dossier.short_name:
        rec.add("short_name", Fact(dossier.short_name, dossier.short_name_line or 0, "infobox"))
    for ib in dossier.infobox:
        _infobox_line(rec, ib.line, ib.key, ib.value)
    _merge_prose(rec, dossier)
    _check(rec)
    return rec


def _infobox_line(rec: Record, line: int, key: str, raw: str) -> None:
    parser = KEYS.get(fold(key)) if key else None
    if parser is None:
        why = "not understood: unknown infobox key" if key else \
            "not understood: expected an infobox line '- Key: Value'"
        shown = f"- {key}: {raw}" if key else f"- {raw}"
        rec.problems.append(Problem("not-understood", rec.file, line, f"{why}: {shown!r}"))
        rec.lines.append(SourceLine(line, "infobox", "not-understood", key, raw))
        return
    value = clean(raw)
    if value is None:
        rec.lines.append(SourceLine(line, "infobox", "empty", key, raw))
        return
    try:
        parsed = parser(value)
    except NotUnderstood as exc:
        rec.problems.append(Problem("not-understood", rec.file, line,
                                    f"not understood: '{key}: {raw}': {exc}"))
        rec.lines.append(SourceLine(line, "infobox", "not-understood", key, raw))
        return
    if not parsed:
        rec.lines.append(SourceLine(line, "infobox", "template", key, raw))
        return
    for name, val in parsed:
        rec.add(name, Fact(val, line, "infobox", raw if raw != str(val) else None))
    rec.lines.append(SourceLine(line, "infobox", "mapped", key, raw,
                                tuple(dict.fromkeys(n for n, _ in parsed))))


def _note(rec: Record, line: int, section: str, name: str) -> None:
    rec.lines.append(SourceLine(line, section, "prose", fields=(name,)))


def _disagree(rec: Record, name: str, kept: Fact, other: Fact, shown: tuple[str, str]) -> None:
    rec.problems.append(Problem(
        "warning", rec.file, other.line,
        f"{name}: prose says {shown[1]!r} but the infobox (line {kept.line}) says {shown[0]!r}; "
        "kept the infobox value"))


def _merge_prose(rec: Record, dossier: Dossier) -> None:
    _merge_launch_time(rec, prose.launch_times(dossier))
    _merge_site(rec, prose.site_and_pad(dossier))
    for found in prose.aliases(dossier):
        if fold(found.value) in {fold(rec.title), fold(dossier.short_name or "")}:
            continue
        if found.field == "harvard_designation" and rec.facts.get(found.field):
            continue
        before = len(rec.facts.get(found.field, []))
        rec.add(found.field, Fact(found.value, found.line, "prose"))
        if len(rec.facts[found.field]) > before:
            _note(rec, found.line, found.section, found.field)
    if rec.get("launch_vehicle") is None:
        for found in prose.vehicles(dossier)[:1]:
            rec.add("launch_vehicle", Fact(found.value, found.line, "prose"))
            _note(rec, found.line, found.section, "launch_vehicle")
    groups = [prose.orbital_periods(dossier), prose.upper_stages(dossier),
              prose.instruments(dossier), prose.debris(dossier),
              prose.vehicle_serials(dossier, rec.get("launch_vehicle"))]
    for found_list in groups:
        for found in found_list:
            if found.field in {"debris_count", "debris_decay_start", "debris_decay_end",
                               "vehicle_serial", "orbital_period"} and rec.facts.get(found.field):
                continue  # one value each: the first statement wins
            name = "upper_stage" if found.field == "upper_stage" else found.field
            rec.add(name, Fact(found.value, found.line, "prose"))
            _note(rec, found.line, found.section, name)


def _merge_launch_time(rec: Record, found: list[tuple[When, prose.Found]]) -> None:
    infobox = rec.facts.get("launch_time")
    if not found:
        return
    launch_first = sorted(
        found, key=lambda wf: ("launch" not in wf[1].section.lower(),
                               -len(wf[0].iso()), wf[1].line))
    if infobox:
        kept = infobox[0]
        for when, f in launch_first:
            if not when.agrees(kept.value):
                if when.precision in {"day", "minute", "second"}:
                    _disagree(rec, "launch time", kept, Fact(when, f.line, "prose"),
                              (kept.value.iso(), when.iso()))
                continue
            if len(when.iso()) > len(kept.value.iso()):
                rec.facts["launch_time"] = [Fact(when, f.line, "prose")]
                _note(rec, f.line, f.section, "launch_time")
                kept = rec.facts["launch_time"][0]
        return
    best_when, best = max(launch_first, key=lambda wf: len(wf[0].iso()))
    for when, f in launch_first:
        if not when.agrees(best_when):
            rec.problems.append(Problem(
                "warning", rec.file, f.line,
                f"launch time: prose gives {when.iso()!r} here and {best_when.iso()!r} on line "
                f"{best.line}; kept the more precise one"))
    rec.facts["launch_time"] = [Fact(best_when, best.line, "prose")]
    _note(rec, best.line, best.section, "launch_time")


def _merge_site(rec: Record, found: list[prose.Found]) -> None:
    for name, keyfn in (("launch_site", site_key), ("launch_pad", pad_key)):
        candidates = [f for f in found if f.field == name]
        if not candidates:
            continue
        current = rec.facts.get(name)
        if not current:
            f = candidates[0]
            rec.facts[name] = [Fact(f.value, f.line, "prose")]
            _note(rec, f.line, f.section, name)
            continue
        kept = current[0]
        for f in candidates:
            if keyfn(f.value) != keyfn(kept.value):
                _disagree(rec, name.replace("_", " "), kept, Fact(f.value, f.line, "prose"),
                          (kept.value, f.value))
                break
            if len(f.value) > len(kept.value):
                # Same place, fuller name ('Baikonur' -> 'Baikonur Cosmodrome').
                rec.facts[name] = [Fact(f.value, kept.line, kept.source, kept.value)]
                _note(rec, f.line, f.section, name)
                break


def _check(rec: Record) -> None:
    for fact in rec.facts.get("cospar_id", []):
        if not cospar_ok(fact.value):
            rec.problems.append(Problem(
                "warning", rec.file, fact.line,
                f"COSPAR ID {fact.value!r} is malformed: expected YYYY-NNNA (year from 1957, "
                "launch number 001-999, 1-3 letters without I and O); kept as written"))
    for fact in rec.facts.get("satcat", []):
        if not isinstance(fact.value, int):
            rec.problems.append(Problem(
                "warning", rec.file, fact.line,
                f"SATCAT {fact.value!r} is not a positive integer; kept as written"))
    for fact in rec.facts.get("orbit_regime", []):
        qual = fact.value[1]
        if qual not in (None, "achieved", "intended"):
            rec.problems.append(Problem(
                "warning", rec.file, fact.line,
                f"orbit regime qualifier {qual!r} is neither 'achieved' nor 'intended'; "
                "mapped as a plain orbit regime"))
