"""A synthetic corpus to measure with: ``python -m kg.bench.corpus N DIR [--seed S] [--truth]``.

Writes N dossiers in the format of ``seeds/`` (``NNNNNN_<16 hex of sha256(title)>.txt``), drawn
from the variety the seeds show: every infobox key seen there plus its synonyms and casing
variants, qualified orbit regimes, blank values (``Launch Date: UTC``, ``Decay Date: –``), the
``Apsis`` template word, launch times only in prose (UTC or Moscow time, several date styles),
pads and sites in prose, aliases in prose (Western catalogue names, NASA labels, nicknames,
Harvard designations, Cyrillic, CJK and accented names), predecessor/successor chains within a
programme (named by title or by alias, the ends pointing outside the corpus), instruments
(lists, named in prose, removed before launch), upper stages, rocket serials and debris.

Missions come in programmes of 1-8; each programme draws from its own seeded random stream, so
the same N and seed give byte-identical files, and a smaller corpus is a prefix of a larger one
(up to the last programme). Dossiers stream to disk one at a time.

With ``--truth`` the facts each dossier states, as ``kg.extract`` should read them, go to
``DIR/_truth.jsonl`` (not a ``*.txt`` file, so builds ignore it). Every dossier extracts without
problems, except that a fraction ``UNKNOWN_RATE`` (2 %) of them carries one infobox key kg does
not know, reported as 'not-understood'.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from kg.vocab import fold

_fold = lru_cache(maxsize=1 << 16)(fold)

#: Share of dossiers with one unknown infobox key (their only 'not-understood' problem).
UNKNOWN_RATE = 0.02
TRUTH_FILE = "_truth.jsonl"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC

# ------------------------------------------------------------------ names

_CONS, _VOWS = "bdgklmnprstvz", "aeiou"
_SYLL = [c + v for c in _CONS for v in _VOWS]
_CYR = dict(zip("bdgklmnprstvzaeiou", "бдгклмнпрствзаеиоу", strict=True))
_HANZI = ("天问嫦娥神舟风云海洋资源遥感北斗实践探测火星月球太阳晨曦光明长空辰银河鸿雁青鸟白鹤启"
          "玉兔鹊桥羲和夸父悟墨子碳卫慧眼张衡东方红量祝融")
_CN_NUM = "一二三四五六七八九十"
_ACCENT = {"a": "áàâ", "e": "éèê", "i": "íî", "o": "óôö", "u": "úûü"}
assert len(set(_HANZI)) == len(_SYLL) == len(_HANZI)


def _syllables(idx: int, seed: int) -> list[int]:
    """A distinct syllable sequence for every index (a bijection, permuted by the seed)."""
    k = 3
    while idx >= len(_SYLL) ** k:
        idx -= len(_SYLL) ** k
        k += 1
    idx = (idx * 7919 + 12345 + seed * 104729) % len(_SYLL) ** k
    out = []
    for _ in range(k):
        idx, r = divmod(idx, len(_SYLL))
        out.append(r)
    return out


def _latin(sy: list[int]) -> str:
    return "".join(_SYLL[s] for s in sy).capitalize()


def _cyrillic(sy: list[int]) -> str:
    return "".join(_CYR[c] for s in sy for c in _SYLL[s]).capitalize()


def _cjk(sy: list[int]) -> str:
    return "".join(_HANZI[s] for s in sy)


def _cn(k: int) -> str:
    return _CN_NUM[k - 1] if k <= 10 else "十" + _CN_NUM[k - 11]


_GREEK = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa",
          "Lambda", "Mu", "Nu", "Xi", "Omicron", "Pi", "Rho", "Sigma", "Tau", "Upsilon", "Phi", "Chi",
          "Psi", "Omega"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_COUNT_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _words(n: int) -> str:
    if n < 20:
        return _COUNT_WORDS[n - 1]
    tens, unit = divmod(n, 10)
    return _TENS[tens - 2] + (f" {_COUNT_WORDS[unit - 1]}" if unit else "")


# ------------------------------------------------------------------ tables

# nation: adjective, operators, manufacturers, years, (vehicle, upper stage, serial pattern), sites
_NATIONS: dict[str, dict[str, Any]] = {
    "soviet": {
        "adj": "Soviet", "years": (1959, 1990),
        "operators": ["Soviet Union", "Soviet Union", "Soviet space program", "Lavochkin", "OKB-1"],
        "makers": ["OKB-1", "NPO Lavochkin", "Lavochkin", "OKB-52"],
        "vehicles": [("Molniya 8K78", "Blok L", "L1-{}M"), ("Molniya 8K78", "Blok L", "T103-{}"),
                     ("Proton-K/D", "Blok D", "{}-01"), ("Vostok 8K72", None, None),
                     ("Kosmos-3M", None, None), ("Soyuz-U", None, None)],
        "contractor": "Khrunichev",
        "sites": [("Baikonur", "Baikonur Cosmodrome", ["1/5", "81/23", "81/24", "31/6", "200/39"]),
                  ("Plesetsk", "Plesetsk Cosmodrome", ["132/1", "43/4", "41/1"]),
                  ("Kapustin Yar", None, ["107"])],
    },
    "us": {
        "adj": "American", "years": (1958, 2023),
        "operators": ["NASA", "NASA", "NASA / JPL", "NASA and NOAA"],
        "makers": ["Jet Propulsion Laboratory", "Lockheed Martin", "Hughes Aircraft", "TRW, Inc.",
                   "Ball Aerospace", "Northrop Grumman"],
        "vehicles": [("Atlas-Agena B", "Agena B", "{}D"), ("Atlas-Centaur", "Centaur", "AC-{}"),
                     ("Delta II 7925", None, "D{}"), ("Titan IIIE", "Centaur", "E-{}"),
                     ("Atlas V 401", "Centaur", "AV-{}")],
        "contractor": "United Launch Alliance",
        "sites": [("Cape Canaveral", "Cape Canaveral Air Force Station",
                   [("LC-14", "Launch Complex 14"), ("LC-36A", "Launch Complex 36A"),
                    ("SLC-41", "Space Launch Complex 41"), ("LC-39A", "Launch Complex 39A")]),
                  ("Vandenberg", "Vandenberg Air Force Base",
                   [("SLC-2W", "Space Launch Complex 2W"), ("SLC-4E", "SLC-4E")])],
    },
    "esa": {
        "adj": "European", "years": (1975, 2023),
        "operators": ["ESA", "ESA", "CNES", "Centre national d'études spatiales", "ESA, CNES"],
        "makers": ["Astrium", "Thales Alenia Space", "Aérospatiale", "OHB System", "Matra Marconi"],
        "vehicles": [("Ariane 5 ECA", None, None), ("Soyuz-ST-B", "Fregat", None),
                     ("Vega", None, None), ("Ariane 44L", None, None)],
        "contractor": "Arianespace",
        "sites": [("Guiana Space Centre", "Guiana Space Centre", [("ELA-3", None), ("ELA-2", None)])],
    },
    "china": {
        "adj": "Chinese", "years": (1999, 2023),
        "operators": ["CNSA", "CNSA", "China Academy of Space Technology"],
        "makers": ["CAST", "Shanghai Academy of Spaceflight Technology", "DFH Satellite"],
        "vehicles": [("Long March 3B", None, None), ("Long March 5", None, None),
                     ("Long March 2C", None, None)],
        "contractor": "CALT",
        "sites": [("Jiuquan", "Jiuquan Satellite Launch Center", [("LC-43", "Launch Complex 43")]),
                  ("Xichang", "Xichang Satellite Launch Center", [("LC-2", None), ("LC-3", None)])],
    },
    "japan": {
        "adj": "Japanese", "years": (1985, 2023),
        "operators": ["JAXA", "ISAS"], "makers": ["NEC", "Mitsubishi Electric"],
        "vehicles": [("H-IIA 202", None, "F{}"), ("M-V", None, None)],
        "contractor": "Mitsubishi Heavy Industries",
        "sites": [("Tanegashima", "Tanegashima Space Center", [("LA-Y1", None)])],
    },
    "india": {
        "adj": "Indian", "years": (2000, 2023),
        "operators": ["ISRO"], "makers": ["ISRO Satellite Centre", "U R Rao Satellite Centre"],
        "vehicles": [("PSLV-XL", None, "C{}"), ("GSLV Mk II", None, None)],
        "contractor": "NewSpace India",
        "sites": [("Satish Dhawan Space Centre", "Satish Dhawan Space Centre", [])],
    },
}

# target: reference frame, apsis word, periapsis/apoapsis key synonyms, can land
_TARGETS = {
    "Mars": ("Areocentric", "areion", "Periareon", "Apoareon", True),
    "Venus": ("Cytherocentric", "cythe", "Periapsis", "Apoapsis", True),
    "the Moon": ("Selenocentric", "lune", "Perilune", "Apolune", True),
    "Jupiter": ("Jovicentric", "jove", "Periapsis", "Apoapsis", False),
    "Earth": ("Geocentric", "gee", "Perigee", "Apogee", False),
}
_INSTRUMENTS = ["Magnetometer", "Imaging system", "Radiation detector", "Micrometeoroid detector",
                "Ultraviolet spectrometer", "Infrared radiometer", "Gamma-ray spectrometer",
                "Cosmic-ray detector", "Plasma trap", "Photometer", "Polarimeter", "Radio telescope",
                "Scintillation counter", "Cherenkov detector", "Low-energy ion spectrometer",
                "Water vapour detector", "Radar altimeter", "Dust counter", "Solar wind analyser",
                "Phototelevision camera", "Lyman-alpha photometer", "Seismometer",
                "Neutron spectrometer", "Laser altimeter", "X-ray spectrometer"]
_STARS = ["Vega", "Zulfar", "Altair", "Rigel", "Deneb", "Mira", "Capella", "Sirius", "Antares",
          "Polaris", "Arcturus", "Procyon"]
_UNKNOWN = [("Telemetry Band", "S-band"), ("Stabilisation", "3-axis"), ("Power Source", "Solar panels"),
            ("Cost", "US$ 150 million"), ("Attitude Control", "Cold gas thrusters"),
            ("Transponder", "X-band")]

# field -> (seed spelling, synonyms kg knows)
_KEYS = {
    "mission_type": ("Mission Type", ["Type", "Mission Types"]),
    "operator": ("Operator", ["Operators", "Operator(s)", "Owner", "Agency"]),
    "harvard": ("Harvard Designation", ["Harvard ID"]),
    "cospar_id": ("Cospar Id", ["COSPAR ID", "Cospar", "COSPAR designation", "NSSDC ID", "NSSDCA ID",
                                "International Designator", "Intl Designator"]),
    "satcat": ("Satcat", ["SATCAT no.", "SATCAT number", "NORAD ID", "NORAD", "NORAD catalog number"]),
    "duration": ("Mission Duration", ["Duration"]),
    "spacecraft_model": ("Spacecraft Type", ["Spacecraft Model", "Model", "Type of spacecraft",
                                             "Spacecraft design"]),
    "bus": ("Spacecraft Bus", ["Bus", "Satellite bus", "Platform"]),
    "manufacturer": ("Manufacturer", ["Manufacturers", "Builder", "Built by", "Contractor",
                                      "Prime contractor"]),
    "launch_mass": ("Launch Mass", ["Mass", "Launch weight", "Weight", "Total mass"]),
    "dry_mass": ("Dry Mass", ["Dry weight"]),
    "landing_mass": ("Landing Mass", ["Lander mass"]),
    "payload_mass": ("Payload Mass", []),
    "bol_mass": ("BOL Mass", ["Beginning of life mass"]),
    "power": ("Power", ["Electrical power"]),
    "dimensions": ("Dimensions", ["Size"]),
    "launch_time": ("Launch Date", ["Launch Time", "Launch", "Launch date (UTC)", "Launched",
                                    "Launch date and time"]),
    "launch_vehicle": ("Launch Rocket", ["Launch Vehicle", "Rocket", "Carrier rocket", "Launcher"]),
    "launch_site": ("Launch Site", ["Launch Pad", "Launch Complex", "Site", "Launch location"]),
    "launch_contractor": ("Launch Contractor", ["Launch provider", "Launch service provider"]),
    "decay_date": ("Decay Date", ["Decayed", "Reentry date", "Re-entry date", "Decay"]),
    "landing_date": ("Landing Date", ["Landed"]),
    "landing_site": ("Landing Site", []),
    "disposal_type": ("Disposal Type", ["Disposal", "Fate"]),
    "last_contact": ("Last Contact", ["Last contact date", "Last signal"]),
    "end_of_mission": ("Deactivated", ["End of mission", "Decommissioned"]),
    "orbit_reference": ("Orbit Reference", ["Reference system", "Reference"]),
    "orbit_regime": ("Orbit Regime", ["Regime", "Orbit regimes"]),
    "periapsis": ("Orbit Periapsis", ["Periapsis", "Periapsis altitude"]),
    "apoapsis": ("Orbit Apoapsis", ["Apoapsis", "Apoapsis altitude"]),
    "semi_major_axis": ("Orbit Semimajor", ["Semi-major axis"]),
    "eccentricity": ("Orbit Eccentricity", ["Eccentricity"]),
    "inclination": ("Orbit Inclination", ["Inclination"]),
    "orbital_period": ("Orbit Period", ["Period", "Orbital period"]),
    "orbit_epoch": ("Orbit Epoch", ["Epoch"]),
    "apsis": ("Apsis", []),
    "programme": ("Programme", ["Program", "Series"]),
    "previous_mission": ("Previous Mission", ["Previous", "Preceded by", "Predecessor"]),
    "next_mission": ("Next Mission", ["Next", "Followed by", "Successor"]),
    "aliases": ("Other Names", ["Names", "Also known as", "Aliases"]),
    "instruments": ("Instruments", ["Scientific instruments"]),
    "website": ("Website", ["URL"]),
}

_PRECISION = {"year": 0, "month": 1, "day": 2, "minute": 3, "second": 4}


def _iso(dt: datetime, precision: str) -> str:
    p = _PRECISION[precision]
    text = str(dt.year) + (f"-{dt.month:02d}" if p >= 1 else "") + (f"-{dt.day:02d}" if p >= 2 else "")
    if p >= 3:
        text += f"T{dt.hour:02d}:{dt.minute:02d}" + (f":{dt.second:02d}" if p == 4 else "") + "Z"
    return text


def _num(d: Decimal) -> int | float:
    """A decimal as kg's JSON form shows it."""
    return int(d) if d == d.to_integral_value() else float(d)


def _date(dt: datetime, style: str) -> str:
    month = _MONTHS[dt.month - 1]
    if style == "mdy":
        return f"{month} {dt.day}, {dt.year}"
    if style == "iso":
        return f"{dt:%Y-%m-%d}"
    if style == "abbr":
        return f"{dt.day} {month[:3]} {dt.year}"
    return f"{dt.day} {month} {dt.year}"


def _stamp(dt: datetime, style: str, precision: str) -> str:
    """An infobox date, with a time to the minute or second."""
    if precision == "day":
        return _date(dt, style if style != "abbr" else "dmy")
    clock = f"{dt:%H:%M:%S}" if precision == "second" else f"{dt:%H:%M}"
    if style == "iso":
        return f"{dt:%Y-%m-%d}T{clock}Z" if precision == "second" else f"{dt:%Y-%m-%d} {clock} UTC"
    return f"{_date(dt, style)}, {clock} UTC"


# ------------------------------------------------------------------ planning


@dataclass
class _Counters:
    """Numbers that must stay unique across the whole corpus."""

    sputnik: int = 20
    kosmos: int = 100
    serial: int = 1
    cospar: dict[int, int] = field(default_factory=dict)
    harvard: dict[int, int] = field(default_factory=dict)

    def cospar_id(self, year: int) -> str:
        k = self.cospar.get(year, 0)
        self.cospar[year] = k + 1
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        piece = letters[k // 999] if k // 999 < len(letters) else "A" + letters[k // 999 % 24]
        return f"{year}-{k % 999 + 1:03d}{piece}"

    def harvard_designation(self, year: int) -> str | None:
        k = self.harvard.get(year, 0)
        self.harvard[year] = k + 1
        if year > 1962 or k >= 24 * 25:
            return None
        greek = _GREEK[k] if k < 24 else f"{_GREEK[k // 24 - 1]} {_GREEK[k % 24]}"
        return f"{year} {greek} 1"


@dataclass
class _Mission:
    k: int
    title: str
    short: str | None
    launch: datetime
    outcome: str
    alias: dict[str, str]
    refs: list[str]
    next_outside: str | None = None
    prev_outside: str | None = None


@dataclass
class _Group:
    nation: str
    script: str
    target: str
    prog: str  # programme name as displayed
    programme: str  # 'X program'
    model: str
    use_bus: bool
    vehicle: tuple[str, str | None, str | None]
    site: tuple[str, str | None, list[Any]]
    missions: list[_Mission]


def _plan(rng: random.Random, g: int, seed: int, size: int, c: _Counters) -> _Group:
    sy = _syllables(2 * g, seed)
    latin = _latin(sy)
    script = rng.choices(["latin", "accented", "cyrillic", "cjk"], [70, 10, 10, 10])[0]
    if script == "latin":
        nation = rng.choices(list(_NATIONS), [45, 25, 10, 8, 6, 6])[0]
    else:
        nation = {"accented": "esa", "cyrillic": "soviet", "cjk": "china"}[script]
    prog = latin
    if script == "accented":
        prog = "".join(rng.choice(_ACCENT[ch]) if ch in _ACCENT and rng.random() < 0.4 else ch
                       for ch in latin)
    elif script == "cyrillic":
        prog = _cyrillic(sy)
    nat = _NATIONS[nation]
    targets = ["Mars", "Venus", "the Moon", "Earth"] + (["Jupiter"] if nation == "us" else [])
    target = rng.choice(targets)
    first, last = nat["years"]
    start = datetime(rng.randint(first, last - 3), rng.randint(1, 12), rng.randint(1, 28),
                     rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59))
    model = (f"{rng.randint(1, 5)}{rng.choice(['M', 'MV', 'MS', 'V', 'K', 'E'])}"
             + (f"-{rng.randint(1, 4)}" if rng.random() < 0.5 else ""))
    style = "cjk" if script == "cjk" else rng.choice(["number", "number", "model"])
    group = _Group(nation, script, target, prog,
                   f"{prog} {rng.choice(['program', 'programme'])}", model, rng.random() < 0.15,
                   rng.choice(nat["vehicles"]), rng.choice(nat["sites"]), [])
    launch = start
    for k in range(1, size + 1):
        if k > 1:
            launch += timedelta(days=rng.randint(4, 700), seconds=rng.randint(0, 86399))
        group.missions.append(_plan_mission(rng, group, k, launch, style, sy, c))
    first_m, last_m = group.missions[0], group.missions[-1]
    if rng.random() < 0.5:
        first_m.prev_outside = f"{_latin(_syllables(2 * g + 1, seed))} {rng.randint(1, 9)}"
    if rng.random() < 0.6:
        n = size + 1
        last_m.next_outside = {"number": f"{prog} {n}", "cjk": f"{_cjk(sy)}{_cn(n)}号",
                               "model": f"{prog} {model} No.{c.serial}"}[style]
        c.serial += 1
    return group


def _plan_mission(rng: random.Random, grp: _Group, k: int, launch: datetime, style: str,
                  sy: list[int], c: _Counters) -> _Mission:
    soviet = grp.nation == "soviet"
    if grp.target == "Earth":
        outcome = rng.choices(["earth_orbit", "launch_failure", "reentered"], [70, 15, 15])[0]
    else:
        can_land = _TARGETS[grp.target][4]
        outcome = rng.choices(
            ["launch_failure", "stranded", "cruise_lost", "flyby", "orbiter", "lander"],
            [15, 15, 20, 15, 25, 10 if can_land else 0])[0]
    serial = c.serial
    c.serial += 1
    short = f"{grp.model} No.{serial}"
    if soviet and outcome == "stranded" and launch.year >= 1962 and rng.random() < 0.4:
        title = f"Kosmos {c.kosmos}"
        c.kosmos += 1
    elif style == "model":
        title = f"{grp.prog} {short}"
    elif style == "cjk":
        title = f"{_cjk(sy)}{_cn(k)}号"
    else:
        title = f"{grp.prog} {k}"
    alias: dict[str, str] = {}
    latin = _latin(sy)
    if title.startswith("Kosmos "):
        alias["cosmos"] = "Cosmos " + title.split()[1]
    elif grp.script == "cyrillic":
        alias["latin"] = f"{latin} {k}"
    elif grp.script == "cjk":
        alias["latin"] = f"{latin}-{k}"
    if soviet and outcome in {"stranded", "cruise_lost", "flyby"} and launch.year <= 1965 \
            and "cosmos" not in alias and rng.random() < 0.6:
        if rng.random() < 0.4:  # an earlier catalogue name, replaced by the current one
            alias["sputnik_old"] = f"Sputnik {c.sputnik}"
            c.sputnik += 1
        alias["sputnik"] = f"Sputnik {c.sputnik}"
        c.sputnik += 1
    if rng.random() < 0.35:
        alias["label"] = f"{latin} {launch.year}{'ABCDEFGH'[k - 1]}"
    if soviet and launch.year <= 1965 and rng.random() < 0.25:
        alias["nick"] = f"{latin}nik {k}"
    if rng.random() < 0.15 and style != "model" and "cosmos" not in alias:
        alias["written"] = f"{latin} M-{launch.year % 100:02d} No.{serial}"
    if rng.random() < 0.1:
        alias["letter"] = f"{latin}-{'ABCDEFGH'[k - 1]}"
    if grp.script == "latin" and style != "model" and rng.random() < 0.25:
        if soviet:
            alias["native"] = f"{_cyrillic(sy)}-{k}"
        elif grp.nation == "china":
            alias["native"] = f"{_cjk(sy)}{_cn(k)}号"
    if outcome != "launch_failure" and rng.random() < 0.5:
        h = c.harvard_designation(launch.year)
        if h:
            alias["harvard"] = h
    refs = [v for key, v in alias.items() if key not in {"harvard", "sputnik_old"}]
    return _Mission(k, title, short if rng.random() < 0.85 else None, launch, outcome, alias, refs)


# ------------------------------------------------------------------ rendering


class _Facts:
    """What a dossier states, keyed by kg's field names, in kg's JSON form (kept only if wanted)."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.facts: dict[str, list[Any]] = {}
        self.seen: set[tuple[str, Any]] = set()

    def add(self, name: str, value: Any) -> None:
        if not self.keep:
            return
        key = (name, _fold(value) if isinstance(value, str)
               else tuple(value) if isinstance(value, list) else value)
        if key not in self.seen:  # kg keeps one of the values that fold alike
            self.seen.add(key)
            self.facts.setdefault(name, []).append(value)


def _key(rng: random.Random, name: str) -> str:
    seed_form, synonyms = _KEYS[name]
    r = rng.random()
    key = rng.choice(synonyms) if synonyms and r < 0.15 else seed_form
    r = rng.random()
    if r < 0.05:
        return key.lower()
    if r < 0.08:
        return key.upper()
    if r < 0.10:
        return key.replace(" ", "_")
    return key


def _render(rng: random.Random, grp: _Group, m: _Mission, prev: _Mission | None,
            nxt: _Mission | None, c: _Counters, unknown_rate: float,
            truth: bool) -> tuple[str, dict[str, Any]]:
    nat = _NATIONS[grp.nation]
    t = _Facts(truth)
    ib: list[tuple[str, str]] = []
    blank: list[tuple[str, str]] = []
    t.add("title", m.title)
    if m.short:
        t.add("short_name", m.short)

    def put(name: str, value: str, *fact: tuple[str, Any], key: str | None = None) -> None:
        ib.append((key or _key(rng, name), value))
        for f, v in fact:
            t.add(f, v)

    out = m.outcome
    ref, apsis, peri_key, apo_key, _ = _TARGETS[grp.target]
    earthly = out in {"stranded", "earth_orbit", "reentered"}
    helio = out in {"cruise_lost", "flyby"}
    failed = out == "launch_failure"
    year = m.launch.year

    # mission type, operator, designations
    kind = {"launch_failure": "flyby" if grp.target != "Earth" else "satellite",
            "stranded": "flyby", "cruise_lost": "flyby", "flyby": "flyby", "orbiter": "orbiter",
            "lander": "orbiter/lander", "earth_orbit": "satellite", "reentered": "satellite"}[out]
    target_word = grp.target.replace("the ", "").replace("Moon", "Lunar")
    types = [f"{target_word} {kind}" if grp.target != "Earth" else "Earth observation"]
    if rng.random() < 0.1:
        types.append("Technology demonstration")
    put("mission_type", ", ".join(types), *(("mission_type", x) for x in types))
    if rng.random() < 0.85:
        op = rng.choice(nat["operators"])
        parts = [p.strip() for p in op.replace(" / ", ",").replace(" and ", ",").split(",")]
        put("operator", op, *(("operator", p) for p in parts))
    harvard = m.alias.get("harvard")
    harvard_in_ib = harvard is not None and rng.random() < 0.5
    if harvard_in_ib:
        put("harvard", harvard, ("harvard_designation", harvard), ("aliases", harvard))
    if not failed and rng.random() < 0.9:
        cospar = c.cospar_id(year)
        put("cospar_id", cospar, ("cospar_id", cospar))
        satcat = rng.randint(1, 59999)
        put("satcat", f"{satcat:05d}" if rng.random() < 0.05 else str(satcat), ("satcat", satcat))
    elif failed and rng.random() < 0.3:
        blank.append(("satcat", "–"))

    # duration
    end = _end_date(rng, m)
    if failed:
        note = rng.choice(["Failed to orbit", "Launch failure"])
        put("duration", note, ("duration_note", note))
    elif rng.random() < 0.7:
        text, iso = _duration(m.launch, end)
        put("duration", text, ("duration", iso))

    # spacecraft
    if rng.random() < 0.9:
        if grp.use_bus:
            put("bus", grp.model, ("bus", grp.model))
        else:
            put("spacecraft_model", grp.model, ("spacecraft_model", grp.model))
    if rng.random() < 0.8:
        maker = rng.choice(nat["makers"])
        if grp.script == "cyrillic" and rng.random() < 0.3:
            maker = "НПО Лавочкина"
        makers = [maker]
        if rng.random() < 0.08:
            other = rng.choice(nat["makers"])
            if fold(other) != fold(maker) and "," not in other and "," not in maker:
                makers.append(other)
        # Two makers as the infobox lists them: 'A, B' ('A and B' is ambiguous with names such
        # as 'Airbus Defence and Space', which kg keeps whole).
        put("manufacturer", ", ".join(makers), *(("manufacturer", x) for x in makers))
    mass = Decimal(rng.randint(300, 5000)) + (Decimal("0.5") if rng.random() < 0.2 else 0)
    if rng.random() < 0.85:
        if rng.random() < 0.15:
            lb = (mass * Decimal("2.2")).quantize(Decimal(1))
            put("launch_mass", f"{lb:,} lb", ("launch_mass", _num(lb * Decimal("0.45359237"))))
        else:
            put("launch_mass", f"{mass:,} kg" if rng.random() < 0.3 else f"{mass} kg",
                ("launch_mass", _num(mass)))
    elif rng.random() < 0.3:
        blank.append(("launch_mass", "kg"))
    if rng.random() < 0.15:
        dry = (mass * Decimal("0.5")).quantize(Decimal(1))
        put("dry_mass", f"{dry} kg", ("dry_mass", _num(dry)))
    if out == "lander" and rng.random() < 0.7:
        lm = Decimal(rng.randint(100, 1200))
        put("landing_mass", f"{lm} kg", ("landing_mass", _num(lm)))
    if grp.nation != "soviet" and rng.random() < 0.1:
        pm = Decimal(rng.randint(20, 300))
        put("payload_mass", f"{pm} kg", ("payload_mass", _num(pm)))
    if grp.nation != "soviet" and rng.random() < 0.05:
        bol = (mass * Decimal("0.8")).quantize(Decimal(1))
        put("bol_mass", f"{bol} kg", ("bol_mass", _num(bol)))
    if grp.nation != "soviet" and rng.random() < 0.2:
        if rng.random() < 0.3:
            kw = Decimal(rng.randint(10, 90)) / 10
            put("power", f"{kw} kW", ("power", _num(kw * 1000)))
        else:
            w = rng.randint(200, 3000)
            put("power", f"{w:,} W", ("power", w))
    if rng.random() < 0.05:
        dims = f"{rng.randint(1, 4)}.{rng.randint(0, 9)} × {rng.randint(1, 3)}.{rng.randint(0, 9)} m"
        put("dimensions", dims, ("dimensions", dims))

    # launch: date in the infobox, prose, or both
    r = rng.random()
    ib_prec, prose_prec = (("second", rng.choice([None, "day"])) if r < 0.35 else
                           ("minute", rng.choice([None, "day"])) if r < 0.50 else
                           ("blank", rng.choice(["second", "second", "minute"])) if r < 0.70 else
                           ("absent", rng.choice(["second", "minute"])) if r < 0.80 else
                           ("day", rng.choice(["second", "minute"])) if r < 0.90 else
                           ("day", rng.choice([None, "day"])) if r < 0.97 else ("absent", None))
    precisions = []
    if ib_prec in {"second", "minute", "day"}:
        style = rng.choice(["dmy", "dmy", "dmy", "mdy", "iso", "abbr"])
        put("launch_time", _stamp(m.launch, style, ib_prec))
        precisions.append(ib_prec)
    elif ib_prec == "blank":
        blank.append(("launch_time", rng.choice(["UTC", "UTC", "–", ""])))
    if prose_prec:
        precisions.append(prose_prec)
    lead_prec = "month" if rng.random() < 0.3 else "year"
    precisions.append(lead_prec)
    best = max(precisions, key=_PRECISION.__getitem__)
    t.add("launch_time", _iso(m.launch, best))

    vehicle, stage, serial_pat = grp.vehicle
    vehicle_in_ib = rng.random() < 0.92
    if vehicle_in_ib:
        put("launch_vehicle", vehicle)
    t.add("launch_vehicle", vehicle)
    ib_site, prose_site, pads = grp.site
    pad = rng.choice(pads) if pads else None
    ib_pad_text, prose_pad = (pad, None) if isinstance(pad, str) else (pad or (None, None))
    site_facts: dict[str, str] = {}
    if rng.random() < 0.85:
        if ib_pad_text and rng.random() < 0.9:
            put("launch_site", f"{ib_site} {ib_pad_text}")
            site_facts["launch_pad"] = (f"Site {ib_pad_text}" if ib_pad_text[0].isdigit()
                                        else ib_pad_text)
        else:
            put("launch_site", ib_site)
        site_facts["launch_site"] = ib_site
    if isinstance(pad, str):
        prose_pad = f"Site {pad}" if prose_site else None
    if grp.nation in {"soviet", "us"} and rng.random() < 0.2:
        contractor = nat["contractor"]
        put("launch_contractor", contractor, ("launch_contractor", contractor))

    # end of flight
    decay = None
    if out in {"stranded", "reentered"} or (out == "earth_orbit" and rng.random() < 0.3):
        decay = end
        if rng.random() < 0.7:
            put("decay_date", _date(decay, rng.choice(["dmy", "mdy", "iso"])),
                ("decay_date", _iso(decay, "day")))
    elif rng.random() < 0.2:
        blank.append(("decay_date", rng.choice(["–", "—", ""])))
    if out == "cruise_lost" and rng.random() < 0.5:
        put("disposal_type", "Spacecraft loss", ("disposal_type", "Spacecraft loss"))
    if out in {"orbiter", "lander"} and rng.random() < 0.4:
        put("disposal_type", "Decommissioned", ("disposal_type", "Decommissioned"))
    if out == "cruise_lost" and rng.random() < 0.6:
        if rng.random() < 0.2:
            put("last_contact", f"{_MONTHS[end.month - 1]} {end.year}",
                ("last_contact", _iso(end, "month")))
        else:
            put("last_contact", _date(end, "dmy"), ("last_contact", _iso(end, "day")))
    if out in {"orbiter", "earth_orbit"} and rng.random() < 0.2:
        put("end_of_mission", _date(end, "dmy"), ("end_of_mission", _iso(end, "day")))
    landing = m.launch + timedelta(days=rng.randint(120, 300)) if out == "lander" else None
    if landing and rng.random() < 0.7:
        put("landing_date", _date(landing, "dmy"), ("landing_date", _iso(landing, "day")))
        if rng.random() < 0.3:
            where = rng.choice(["Ptolemaeus crater", "Mare Imbrium", "Utopia Planitia",
                                "Beta Regio", "Sinus Medii"])
            put("landing_site", where, ("landing_site", where))

    # orbit
    period_text = None
    if not failed:
        frame = ("Geocentric" if earthly else "Heliocentric" if helio else ref)
        word = "gee" if earthly else "helion" if helio else apsis
        if rng.random() < 0.9:
            put("orbit_reference", frame, ("orbit_reference", frame))
        if out == "stranded":
            intended = {"Moon": "Selenocentric"}.get(grp.target.replace("the ", ""), "Heliocentric")
            q1, q2 = rng.choice([("achieved", "intended"), ("actual", "planned")])
            put("orbit_regime", f"Low Earth ({q1}), {intended} ({q2})",
                ("orbit_regime", ["Low Earth", "achieved"]),
                ("orbit_regime", [intended, "intended"]))
        elif earthly and rng.random() < 0.8:
            regime = rng.choice(["Low Earth", "Sun-synchronous", "Geostationary", "Medium Earth",
                                 "Highly elliptical"])
            put("orbit_regime", regime, ("orbit_regime", [regime, None]))
        elif helio and rng.random() < 0.2:
            put("orbit_regime", "Heliocentric", ("orbit_regime", ["Heliocentric", None]))
        keys = (("Perigee", "Apogee") if earthly else ("Perihelion", "Aphelion") if helio
                else (peri_key, apo_key))
        period_text = _orbit(rng, put, t, out, earthly, helio, keys, m.launch)
        if rng.random() < 0.9:
            put("apsis", word)
    if rng.random() < 0.9:
        put("programme", grp.programme, ("programme", grp.programme))

    # links
    prev_name = _ref_name(rng, prev) if prev else m.prev_outside
    next_name = _ref_name(rng, nxt) if nxt else m.next_outside
    if prev_name:
        put("previous_mission", prev_name, ("previous_mission", prev_name))
    elif rng.random() < 0.2:
        blank.append(("previous_mission", "–"))
    if next_name:
        put("next_mission", next_name, ("next_mission", next_name))

    # aliases given in the infobox instead of prose
    ib_aliases = [m.alias[k] for k in ("label", "letter") if k in m.alias and rng.random() < 0.2]
    if ib_aliases:
        put("aliases", ", ".join(ib_aliases), *(("aliases", a) for a in ib_aliases))

    # instruments
    style = None if failed and rng.random() < 0.6 else rng.choices(
        [None, "items", "named", "removed", "infobox"], [30, 50, 8, 7, 5])[0]
    picked = rng.sample(_INSTRUMENTS, rng.randint(2, 7))
    if style == "infobox":
        put("instruments", ", ".join(picked[:-1]) + " and " + picked[-1],
            *(("instruments", p) for p in picked))

    for name, value in blank:
        ib.insert(rng.randint(0, len(ib)), (_key(rng, name), value))
    unknown = rng.random() < unknown_rate
    if unknown:
        ib.insert(rng.randint(0, len(ib)), rng.choice(_UNKNOWN))

    # ---------------------------------------------------------------- text
    lines = [f"= {m.title} =", ""]
    if m.short:
        lines.append(m.short)
    lines += [f"- {k}: {v}".rstrip() for k, v in ib]
    lines.append("")
    lines.append(_lead(rng, grp, m, t, harvard if not harvard_in_ib else None, set(ib_aliases),
                       lead_prec, kind))
    lines.append("")
    lines.append(f"== {rng.choice(['Launch', 'Launch', 'Flight', 'Mission'])} ==")
    launch_para = _launch(rng, grp, m, t, ib_prec, prose_prec, vehicle_in_ib, stage, serial_pat,
                          prose_site, prose_pad, site_facts, c)
    story = _story(rng, grp, m, t, end, decay, landing, period_text, stage)
    lines.append(" ".join([launch_para, *story[:1]]))
    if story[1:]:
        lines += ["", " ".join(story[1:])]
    for name, value in site_facts.items():
        t.add(name, value)
    if "sputnik_old" in m.alias:
        lines += ["", rng.choice(["== Designations ==", "== Designation =="]),
                  _designations(rng, m)]
    if style in {"items", "named", "removed"}:
        lines.append("")
        lines += _instruments(rng, style, picked, t)
    lines += ["", "==See also==", "", "- List of Earth observation satellites" if grp.target == "Earth"
              else f"- List of missions to {grp.target}"]
    if rng.random() < 0.5:
        lines.append(f"- {grp.programme}")
    truth = {"title": m.title, "facts": t.facts, "unknown_keys": int(unknown),
             "previous_title": prev.title if prev else None,
             "next_title": nxt.title if nxt else None}
    return "\n".join(lines) + "\n", truth


def _ref_name(rng: random.Random, other: _Mission) -> str:
    """How a neighbour is named: by title, or by one of the aliases its dossier states."""
    if other.refs and rng.random() < 0.45:
        return rng.choice(other.refs)
    return other.title


def _end_date(rng: random.Random, m: _Mission) -> datetime:
    days = {"stranded": (1, 10), "reentered": (30, 2000), "cruise_lost": (20, 300),
            "flyby": (100, 400), "orbiter": (200, 1500), "lander": (200, 800),
            "earth_orbit": (300, 4000), "launch_failure": (0, 0)}[m.outcome]
    return m.launch + timedelta(days=rng.randint(*days))


def _duration(start: datetime, end: datetime) -> tuple[str, str]:
    days = max((end - start).days, 1)
    if days < 60:
        return f"{days} days", f"P{days}D"
    years, rest = divmod(days, 365)
    months, d = divmod(rest, 30)
    parts = [(years, "year", "Y"), (months, "month", "M"), (d, "day", "D")]
    text = " ".join(f"{n} {w}{'s' if n != 1 else ''}" for n, w, _ in parts if n)
    return text, "P" + "".join(f"{n}{u}" for n, _, u in parts if n)


def _orbit(rng: random.Random, put: Any, t: _Facts, out: str, earthly: bool, helio: bool,
           keys: tuple[str, str], launch: datetime) -> str | None:
    """Orbit element lines; returns the period as prose may state it when the infobox does not."""
    if helio:
        peri = Decimal(rng.randint(60, 100)) / 100
        apo = peri + Decimal(rng.randint(10, 80)) / 100
        unit = "AU"
        period_days = rng.randint(300, 700)
        period = (f"{period_days} days", f"P{period_days}D")
    elif earthly:
        peri = Decimal(rng.randint(150, 900))
        apo = peri + rng.randint(5, 2000)
        unit = "km"
        minutes = rng.randint(88, 130)
        period = (f"{minutes} minutes", f"PT{minutes}M")
    else:
        peri = Decimal(rng.randint(100, 3000))
        apo = peri + rng.randint(500, 200000)
        unit = "km"
        d, h = rng.randint(0, 12), rng.randint(1, 23)
        period = ((f"{d} days and {h} hours", f"P{d}DT{h}H") if d else (f"{h} hours", f"PT{h}H"))
    if rng.random() < 0.6:
        special = rng.random() < 0.25  # 'Perigee', 'Perilune' ... instead of 'Orbit Periapsis'
        put("periapsis", f"{peri} {unit}", ("periapsis", [_num(peri), unit]),
            key=keys[0] if special else None)
        if rng.random() < 0.85:
            put("apoapsis", f"{apo:,} {unit}" if unit == "km" and rng.random() < 0.2 else f"{apo} {unit}",
                ("apoapsis", [_num(apo), unit]), key=keys[1] if special else None)
    if earthly and rng.random() < 0.3:
        ecc = Decimal(rng.randint(1, 9999)) / 10000
        put("eccentricity", f"{ecc}", ("eccentricity", _num(ecc)))
    if earthly and rng.random() < 0.1:
        sma = Decimal(6371) + peri
        put("semi_major_axis", f"{sma} km", ("semi_major_axis", [_num(sma), "km"]))
    if rng.random() < 0.6:
        inc = Decimal(rng.randint(0, 1100)) / 10
        text = rng.choice([f"{inc}°", f"{inc}°", f"{inc} degrees", f"{inc} deg"])
        put("inclination", text, ("inclination", _num(inc)))
    if rng.random() < 0.5:
        put("orbital_period", period[0], ("orbital_period", period[1]))
    elif not earthly and not helio and rng.random() < 0.6:
        t.add("orbital_period", period[1])
        return period[0]
    if rng.random() < 0.1:
        epoch = launch + timedelta(days=rng.randint(5, 300))
        put("orbit_epoch", _date(epoch, "dmy"), ("orbit_epoch", _iso(epoch, "day")))
    return None


def _lead(rng: random.Random, grp: _Group, m: _Mission, t: _Facts, harvard: str | None,
          in_infobox: set[str], lead_prec: str, kind: str) -> str:
    """The lead paragraph, stating the aliases planned for it."""
    a = {k: v for k, v in m.alias.items() if v not in in_infobox}
    adj = _NATIONS[grp.nation]["adj"]
    noun = {"flyby": "probe", "orbiter": "orbiter", "orbiter/lander": "orbiter with a landing capsule",
            "satellite": "satellite"}[kind]
    subject = m.title
    if "native" in a:
        lang = "Russian" if grp.nation == "soviet" else "Chinese"
        subject += f" ({lang}: {a['native']})"
    clause, rest = "", []
    for key in ("latin", "cosmos", "sputnik", "written"):
        if key not in a:
            continue
        if clause:
            rest.append(_ALIAS_SENTENCE[key].format(a[key]))
        elif key == "latin":
            clause = (f" (also known as {a[key]})" if grp.script == "cjk"
                      else f", also known as {a[key]},")
        elif key == "cosmos":
            clause = f", often spelled {a[key]},"
        elif key == "sputnik" and harvard and rng.random() < 0.6:
            clause = (f", which Western catalogues carried as {a[key]} and under the Harvard "
                      f"designation {harvard},")
            harvard = None
        elif key == "sputnik":
            clause = rng.choice([f" also known as {a[key]} in the West,",
                                 f", tracked in the West as {a[key]},"])
        else:
            clause = f", also written {a[key]},"
    when = (f"in {m.launch.year}" if lead_prec == "year"
            else f"in {_MONTHS[m.launch.month - 1]} {m.launch.year}")
    goal = {"Earth": "study the upper atmosphere and return survey images"}.get(
        grp.target, f"explore {grp.target}")
    verb = rng.choice(["launched", "sent up"])
    an = "an" if adj[0] in "AEIOU" else "a"
    sentences = [f"{subject}{clause} was {an} {adj} {noun}, {verb} {when} as part of the "
                 f"{grp.programme}, and was intended to {goal}."]
    if "label" in a and "nick" in a:
        sentences.append(f"NASA analysts later called it {a['label']}, and Western newspapers "
                         f"nicknamed it {a['nick']}.")
    elif "label" in a:
        sentences.append(rng.choice([f"NASA's catalogue lists it as {a['label']}.",
                                     f"NASA analysts gave it the label {a['label']}."]))
    elif "nick" in a:
        sentences.append(f"The Western press nicknamed it {a['nick']}.")
    sentences += rest
    if "letter" in a:
        sentences.append(f"During development it was also called {a['letter']}.")
    if harvard:
        sentences.append(f"It was given the Harvard designation {harvard} by Western observers.")
    sentences.append(_LEAD_END[m.outcome])
    for key, value in m.alias.items():
        if key != "harvard" and value not in in_infobox:
            t.add("aliases", value)
    if "harvard" in m.alias and m.alias["harvard"] not in in_infobox:
        t.add("aliases", m.alias["harvard"])
        t.add("harvard_designation", m.alias["harvard"])
    return " ".join(sentences)


_ALIAS_SENTENCE = {"latin": "It is also known as {}.", "cosmos": "It is often spelled {}.",
                   "sputnik": "Western catalogues carried it as {}.",
                   "written": "It is also written {} in some sources."}
_LEAD_END = {
    "launch_failure": "It never reached orbit.",
    "stranded": "Due to a problem with its upper stage it was left stranded in low Earth orbit.",
    "cruise_lost": "The craft fell silent months before its encounter.",
    "flyby": "It returned data during its encounter and stayed in orbit around the Sun.",
    "orbiter": "It worked in orbit for many months.",
    "lander": "Its capsule reached the surface, although it worked only briefly.",
    "earth_orbit": "It operated for several years.",
    "reentered": "Its low orbit decayed after a few months.",
}


def _launch(rng: random.Random, grp: _Group, m: _Mission, t: _Facts, ib_prec: str,
            prose_prec: str | None, vehicle_in_ib: bool, stage: str | None, serial_pat: str | None,
            prose_site: str | None, prose_pad: str | None, site_facts: dict[str, str],
            c: _Counters) -> str:
    """The launch sentence: time, vehicle, site and pad as planned, plus stage and serial."""
    when = ""
    if prose_prec:
        dt = m.launch
        zone = "UTC"
        if grp.nation == "soviet" and prose_prec != "day" and rng.random() < 0.2:
            dt, zone = dt + timedelta(hours=3), "MSK"
        style = rng.choice(["dmy", "dmy", "dmy", "mdy", "iso"])
        day = _date(dt, style)
        clock = f"{dt:%H:%M:%S}" if prose_prec == "second" else f"{dt:%H:%M}"
        when = (f"on {day}" if prose_prec == "day" else
                rng.choice([f"at {clock} {zone} on {day}", f"on {day} at {clock} {zone}"]))
        if style == "mdy" and prose_prec != "day":
            when = f"on {day}, at {clock} {zone}"
    where = ""
    mention = rng.random() < 0.85
    if mention and prose_site and prose_pad and rng.random() < 0.75:
        at = "at" if prose_site.startswith("Cape") or prose_site.startswith("Vandenberg") else "at the"
        where = f"{prose_pad} {at} {prose_site}"
        _better(site_facts, "launch_pad", prose_pad)
        _better(site_facts, "launch_site", prose_site)
    elif mention and prose_site:
        where = f"the {prose_site}"
        _better(site_facts, "launch_site", prose_site)
    vehicle = grp.vehicle[0]
    an = "an" if vehicle[0] in "AEIOU" else "a"
    serial = (serial_pat.format(rng.randint(10, 400)) if serial_pat and rng.random() < 0.3
              else None)
    if serial:
        t.add("vehicle_serial", serial)
    w = f" {when}" if when else ""
    craft = "satellite" if grp.target == "Earth" else "probe"
    fr = f" from {where}" if where else ""
    options = [f"The spacecraft was launched{w}{',' if w else ''} atop {an} {vehicle} carrier rocket"
               + (f" flying{fr}." if fr else "."),
               f"Liftoff came{w}" + (f", from {where}," if where else "")
               + f" on {an} {vehicle} rocket" + (f" (serial {serial})." if serial else "."),
               f"{m.title} lifted off{w}{fr} aboard {an} {vehicle} launch vehicle."]
    if vehicle_in_ib:
        if where.startswith(("Site", "Launch", "the ")):
            with_serial = f" with serial number {serial}" if serial else ""
            options.append(f"{an.capitalize()} {vehicle}{with_serial} carried the {craft} away "
                           f"from {where}{w}.")
        options.append(f"{an.capitalize()} {vehicle} lifted the {craft}{fr}{w}.")
        options.append(f"The {craft} went up{fr}{w}" + (f" on {an} {vehicle}." if not w else "."))
    text = rng.choice(options)
    if serial and "serial" not in text:
        text += f" The rocket carried serial number {serial}."
    if stage and m.outcome != "launch_failure" and rng.random() < 0.6:
        t.add("upper_stage", stage)
        text += rng.choice([f" The lower stages performed nominally, placing the payload and the "
                            f"{stage} upper stage into a parking orbit.",
                            f" The {stage} upper stage then took over from the lower stages."])
    return text


def _better(facts: dict[str, str], name: str, value: str) -> None:
    """kg keeps the infobox value unless the prose gives the same place more fully."""
    if name not in facts or len(value) > len(facts[name]):
        facts[name] = value


def _story(rng: random.Random, grp: _Group, m: _Mission, t: _Facts, end: datetime,
           decay: datetime | None, landing: datetime | None, period_text: str | None,
           stage: str | None) -> list[str]:
    """What happened after launch: sentences with dates but no launch wording."""
    target = grp.target
    out = m.outcome
    if out == "launch_failure":
        return [rng.choice([
            "Strong vibration during the climb damaged the guidance equipment, and the "
            "third-stage engine was cut off early.",
            "A turbopump fault in the third stage destroyed the vehicle, and the remains came "
            "down downrange of the site.",
            "The upper-stage engine failed to start, so the rocket and its payload fell back to "
            "Earth instead of reaching orbit."])]
    if out == "stranded":
        story = ["The escape burn never happened: a fault in the ignition system left the probe "
                 "in its parking orbit."]
        if rng.random() < 0.6:
            count = rng.randint(2, 60)
            start = m.launch + timedelta(days=rng.randint(1, 6))
            stop = start + timedelta(days=rng.randint(10, 200))
            said = _words(count).capitalize() if rng.random() < 0.6 else str(count)
            story.append(f"{said} pieces of debris from the spacecraft and upper stage were "
                         f"catalogued, which decayed between {_date(start, 'dmy')} and "
                         f"{_date(stop, 'dmy')}.")
            t.add("debris_count", count)
            t.add("debris_decay_start", _iso(start, "day"))
            t.add("debris_decay_end", _iso(stop, "day"))
        return story
    if out == "cruise_lost":
        return [f"Contact was lost on {_date(end, 'dmy')}, with the probe roughly "
                f"{rng.randint(5, 150)} million km from Earth.",
                f"The silent craft drifted past {target} on "
                f"{_date(end + timedelta(days=90), 'dmy')}."]
    if out == "flyby":
        return [f"The probe passed {target} on {_date(end, 'dmy')} at a distance of about "
                f"{rng.randint(1, 90) * 1000:,} km, returning data as it went by."]
    if out in {"orbiter", "lander"}:
        arrive = m.launch + timedelta(days=rng.randint(100, 250))
        period = f" and taking about {period_text} per revolution" if period_text else ""
        story = [f"On {_date(arrive, 'dmy')} the orbiter braked into a long orbit around "
                 f"{target}, inclined at {rng.randint(2, 90)} degrees{period}."]
        if landing:
            story.append(f"The capsule touched down on {_date(landing, 'dmy')}.")
        story.append(f"The mission was declared complete on {_date(end, 'dmy')}.")
        return story
    story = [f"The satellite returned data until it was switched off on {_date(end, 'dmy')}."]
    if decay:
        story.append(f"It re-entered the atmosphere on {_date(decay, 'dmy')}.")
    return story


def _designations(rng: random.Random, m: _Mission) -> str:
    old, new = m.alias["sputnik_old"], m.alias["sputnik"]
    return rng.choice([
        f"The designations {old}, and later {new}, were used by the United States Naval Space "
        "Command to identify the spacecraft in its Satellite Situation Summary documents, since "
        "the Soviet Union did not release the internal designations of its spacecraft at that time.",
        f"Before the name {new} came into use, the United States Naval Space Command listed the "
        f"object as {old} in its Satellite Situation Summary.",
        "Because the Soviet Union published no name for a probe that had failed to leave Earth, "
        f"the United States Naval Space Command listed it first as {old} and later as {new} in "
        "its Satellite Situation Summary."])


def _instruments(rng: random.Random, style: str, picked: list[str], t: _Facts) -> list[str]:
    if style == "named":
        a, b = rng.sample(_STARS, 2)
        kind = rng.choice(["camera", "spectrometer", "photometer"])
        t.add("instruments", f"{a} {kind}")
        t.add("instruments", f"{b} {kind}")
        return [f"== {rng.choice(['Cameras', 'Payload'])} ==",
                f"Two instruments shared the work: the {a} {kind}, with a {rng.randint(20, 90)} mm "
                f"wide-angle lens, and the {b} {kind}, with a {rng.randint(200, 500)} mm "
                "telescopic lens."]
    lines = []
    if style == "removed":
        lines += ["== Payload ==",
                  "A television camera and a spectroreflectometer were taken off the probe about "
                  "a week before launch because it was too heavy.", ""]
    heading = rng.choice(["Scientific Instruments", "Scientific Instruments", "Instruments",
                          "Science payload", "Experiments"])
    lines.append(f"== {heading} ==")
    if rng.random() < 0.3:
        lines.append(f"The spacecraft carried {_words(len(picked))} instruments on board:")
        lines.append("")
    for p in picked:
        lines.append(f"- {p}")
        t.add("instruments", p)
    return lines


# ------------------------------------------------------------------ writing


def file_name(index: int, title: str, width: int = 6) -> str:
    """``NNNNNN_<16 hex of sha256(title)>.txt``."""
    return f"{index:0{width}d}_{hashlib.sha256(title.encode('utf-8')).hexdigest()[:16]}.txt"


def generate(n: int, out_dir: str | Path, seed: int = 0, truth: bool = False,
             unknown_rate: float = UNKNOWN_RATE) -> int:
    """Write ``n`` dossiers into ``out_dir`` (and ``_truth.jsonl`` if ``truth``); return bytes written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.txt")):
        raise FileExistsError(f"{out} already holds *.txt dossiers; give an empty directory")
    width = max(6, len(str(max(n - 1, 0))))
    counters = _Counters()
    written = 0
    truth_fh = (out / TRUTH_FILE).open("w", encoding="utf-8") if truth else None
    try:
        index, g = 0, 0
        while index < n:
            rng = random.Random(f"kg-corpus:{seed}:{g}")
            size = min(n - index, rng.choice([1, 1, 2, 3, 3, 4, 5, 6, 8]))
            grp = _plan(rng, g, seed, size, counters)
            ms = grp.missions
            for j, m in enumerate(ms):
                text, facts = _render(rng, grp, m, ms[j - 1] if j else None,
                                      ms[j + 1] if j + 1 < len(ms) else None, counters,
                                      unknown_rate, truth)
                name = file_name(index, m.title, width)
                data = text.encode("utf-8")
                fd = os.open(out / name, _CREATE, 0o644)  # plain os calls: a third of open()'s cost
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
                written += len(data)
                if truth_fh:
                    truth_fh.write(json.dumps({"file": name, **facts}, ensure_ascii=False) + "\n")
                index += 1
            g += 1
    finally:
        if truth_fh:
            truth_fh.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m kg.bench.corpus N DIR [--seed S] [--truth]``."""
    ap = argparse.ArgumentParser(prog="python -m kg.bench.corpus", description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, help="number of dossiers")
    ap.add_argument("dir", type=Path, help="output directory (created; must hold no *.txt)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--truth", action="store_true", help=f"also write {TRUTH_FILE}")
    ap.add_argument("--unknown-rate", type=float, default=UNKNOWN_RATE,
                    help="share of dossiers with one unknown infobox key (default %(default)s)")
    args = ap.parse_args(argv)
    if args.n < 0:
        ap.error("N must be >= 0")
    started = time.perf_counter()
    try:
        size = generate(args.n, args.dir, args.seed, args.truth, args.unknown_rate)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    took = time.perf_counter() - started
    print(f"wrote {args.n} dossiers ({size / 1e6:.1f} MB) to {args.dir} in {took:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
