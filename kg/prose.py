"""Rules that take facts from prose: launch time, aliases, site and pad, stages, instruments, debris.

Each rule looks for a specific wording and returns what it found with the line it found it on;
none of them guesses from a lone word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .dossier import Block, Dossier
from .values import (
    NUMBER_WORDS_RE,
    PRECISIONS,
    When,
    combine,
    cospar_ok,
    find_dates,
    find_time,
    parse_count,
    strip_footnotes,
)


@dataclass(frozen=True)
class Found:
    """A fact found in prose: field name, value, line, and the section it was in."""

    field: str
    value: object
    line: int
    section: str


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(]?[A-Z0-9\u0400-\u04FF])")
_ABBREVIATIONS = ("No.", "Nos.", "St.", "Dr.", "Mt.", "vs.", "ca.", "c.", "approx.", "Nr.")
_SKIP_SECTIONS = {"see also", "references", "external links", "notes", "further reading",
                  "bibliography", "sources"}


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping abbreviations such as 'No. 2' whole."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start:m.start()].endswith(_ABBREVIATIONS):
            continue
        out.append(text[start:m.start()])
        start = m.end()
    out.append(text[start:])
    return [s for s in out if s.strip()]


@lru_cache(maxsize=4)
def _sentences_of(name: str, sha256: str, blocks: tuple[Block, ...]) -> tuple[tuple[Block, str], ...]:
    return tuple(
        (block, sentence)
        for block in blocks if block.section.lower() not in _SKIP_SECTIONS
        for sentence in sentences(strip_footnotes(block.text))
    )


def _prose(dossier: Dossier) -> tuple[tuple[Block, str], ...]:
    """Every prose sentence with its block, computed once per dossier for all the rules."""
    return _sentences_of(dossier.name, dossier.sha256, dossier.blocks)


# ------------------------------------------------------------------ launch time

_LAUNCH_CUE = re.compile(
    r"\b(launch(?:ed|es|ing)?(?! window)|lift(?:ed|s)?[ -]?off|liftoff|lifted|went up|sent up|"
    r"blasted off|took off|flew from|flying from|(?:carried|took|lifted|boosted|put)\b[^.]{0,40}?"
    r"\bfrom (?:Site|Pad|Launch|LC|SLC|the)|left (?:Site|Pad|Launch|LC|SLC|the \w+ "
    r"(?:Cosmodrome|Space|Launch)))",
    re.IGNORECASE,
)
_COUNTERFACTUAL = re.compile(
    r"\b(would have|was to|were to|planned|scheduled|postponed|delayed|originally|intended to "
    r"launch|had been due)\b", re.IGNORECASE)


def launch_times(dossier: Dossier) -> list[tuple[When, Found]]:
    """Launch date/time candidates: sentences that speak of the launch and give a date."""
    out: list[tuple[When, Found]] = []
    for block, sentence in _prose(dossier):
        if not _LAUNCH_CUE.search(sentence) or _COUNTERFACTUAL.search(sentence):
            continue
        dates = find_dates(sentence)
        if not dates:
            continue
        # The most precise date the sentence gives ('in 1962 ... on 24 October 1962'), then
        # the first.
        start, end, date = min(dates, key=lambda d: (-PRECISIONS.index(d[2].precision), d[0]))
        when = date
        if date.day is not None:
            time = find_time(sentence)
            if time is not None and not (start <= time[0] < end):
                when = combine(date, time[2:]) or date
        out.append((when, Found("launch_time", when, block.line, block.section)))
    return out


# ------------------------------------------------------------------ names

_DETERMINERS = {"the", "a", "an", "it", "its", "this", "that", "these", "his", "her", "their",
                "in", "on", "at", "by", "of", "from", "western", "soviet", "american", "nasa",
                "nasa's", "us", "u.s."}
_NAME_ABBREV = {"no.", "nos.", "nr.", "st.", "mk.", "mod."}
_CONNECTOR = re.compile(
    r"^\s*(?:,\s*)?(?:(?:and|or)\s+)?(?:(?P<adv>later|first|then|subsequently|finally|"
    r"afterwards|also)\s+)?(?:(?:as|to)\s+)?", re.IGNORECASE)


def _name_token(token: str) -> bool:
    core = token.strip("\"'“”‘’(")
    # Capitalised or numbered; letters of scripts without case (Chinese, Arabic ...) count too.
    first = core[:1]
    return bool(first) and (first.isdigit() or (first.isalpha() and not first.islower()))


def read_name(text: str) -> tuple[str, int] | None:
    """The proper name at the start of ``text`` (capitalised or numbered words) and its length."""
    pos = 0
    words: list[str] = []
    m_ws = re.match(r"\s*", text)
    pos = m_ws.end() if m_ws else 0
    while pos < len(text) and len(words) < 7:
        m = re.match(r"[^\s]+", text[pos:])
        if not m:
            break
        token = m.group(0)
        if not _name_token(token) and not (words and token.lower() in {"de", "la", "du", "von"}):
            break
        stop = False
        core = token
        while core and core[-1] in ",;:)]”’\"'!?":
            core = core[:-1]
            stop = True
        if core.endswith(".") and core.lower() not in _NAME_ABBREV:
            core = core[:-1]
            stop = True
        core = core.lstrip("\"'“‘(")
        if core:
            words.append(core)
        pos += m.end()
        if stop:
            break
        m_ws = re.match(r"\s+", text[pos:])
        if not m_ws:
            break
        pos += m_ws.end()
    while words and words[-1].lower() in {"de", "la", "du", "von"}:
        words.pop()
    if not words or words[0].lower() in _DETERMINERS:
        return None
    return " ".join(words), pos


_ALIAS_TRIGGER = re.compile(
    r"(?:\b|(?=\())(?:"
    r"(?:also|better|commonly|widely|sometimes|often) known (?:in the West )?as"
    r"|known (?:in the West |internationally |abroad )?as"
    r"|(?:also|often|sometimes|commonly|alternatively) (?:written|spelled|spelt|called|named|"
    r"designated|referred to as|rendered)"
    r"|(?:called|named|dubbed|nicknamed|designated|renamed|redesignated|labell?ed|styled|termed)"
    r"(?: (?:it|him|her|them|the (?:object|probe|spacecraft|craft|satellite|mission|vehicle)))?"
    r"(?: (?:first|initially|later|officially|informally|publicly|also))?(?: as)?"
    r"|(?:gave|give|gives|given|assigned|received|got|took|bore|bears|carries|carried) "
    r"(?:it |the (?:object|probe|spacecraft|craft) )?(?:the |a )?"
    r"(?:label|name|designation|designator|nickname)"
    r"|the (?:label|name|names|designation|designations|nickname|designator)"
    r"|Harvard designation"
    r"|(?:carried|tracked|catalogued|cataloged|listed|lists|list|registered|identified|recorded|"
    r"logged|announced|published|referred to)"
    r"(?: (?:it|them|the (?:object|probe|spacecraft|craft|satellite|mission)))?"
    r"(?: (?:first|initially|later|officially))?(?: in the West| in the west)?"
    r"(?: by (?:the )?[A-Z][\w.'’]*(?: [A-Z][\w.'’]*)*)? as"
    r"|\((?:Russian|Chinese|Japanese|Hindi|Arabic|Korean|Ukrainian|French|German|Italian|Spanish|"
    r"Persian|Hebrew|Portuguese|Turkish|Kazakh|Mongolian|Polish|Czech|Bulgarian)\s*:"
    r")\s+",
    re.IGNORECASE,
)
_ALIAS_SECTION = re.compile(r"design|name|identif|nomenclat|catalog|callsign|call sign", re.I)


def _names_after(text: str) -> list[str]:
    """The names listed right after a trigger: 'A, and later B', 'A and B', 'first A and later as B'."""
    names: list[str] = []
    got = read_name(text)
    if got is None:
        return names
    name, pos = got
    names.append(name)
    while pos < len(text):
        conn = _CONNECTOR.match(text[pos:])
        if not conn or conn.end() == 0:
            break
        nxt = read_name(text[pos + conn.end():])
        if nxt is None:
            break
        # Without an adverb ('later', 'first') only a numbered designation continues the list,
        # so ', and Western newspapers ...' ends it.
        if not conn.group("adv") and not any(c.isdigit() for c in nxt[0]):
            break
        names.append(nxt[0])
        pos += conn.end() + nxt[1]
    return names


def aliases(dossier: Dossier) -> list[Found]:
    """Other names given in the lead or in a designations/names section."""
    out: list[Found] = []
    for block, sentence in _prose(dossier):
        if block.section != "lead" and not _ALIAS_SECTION.search(block.section):
            continue
        for m in _ALIAS_TRIGGER.finditer(sentence):
            harvard = "harvard" in m.group(0).lower()
            for name in _names_after(sentence[m.end():]):
                name = name.strip(" \"'“”‘’")
                if not name or cospar_ok(name.upper()) or name.replace(" ", "").isdigit():
                    continue
                out.append(Found("aliases", name, block.line, block.section))
                if harvard:
                    out.append(Found("harvard_designation", name, block.line, block.section))
    return out


# ------------------------------------------------------------------ site and pad

_SITE_WORD = (r"(?:Cosmodrome|Spaceport|Space\s*port|Space Cent(?:er|re)|Space Flight Cent(?:er|re)|"
              r"Launch (?:Site|Cent(?:er|re)|Base|Complex)|Air Force (?:Station|Base)|"
              r"Space Force (?:Station|Base)|Test Range|Missile Range|Rocket Range|Range|"
              r"Satellite Launch Cent(?:er|re)|Launch Area)")
_CAP = r"[A-Z\u00C0-\u024F\u0400-\u04FF][\w'’.-]*"
_SITE_NAME = rf"(?P<site>{_CAP}(?:\s+{_CAP})*?\s+{_SITE_WORD})"
_PAD = (r"(?P<pad>(?:Site|Pad|Launch Complex|Space Launch Complex|Launch Pad|Complex|Area|LC|SLC|"
        r"LA|ELA|ELS|SLP|FLP|Platform)[\s-]?\d(?:[\w/.-]*\w)?|(?:Site|Pad|Area)\s+\d+)")
_PAD_AT_SITE = re.compile(rf"\b{_PAD}\s+(?:at|of|in)\s+(?:the\s+)?{_SITE_NAME}\b")
_FROM_SITE = re.compile(rf"\bfrom\s+(?:the\s+)?{_SITE_NAME}\b")


def site_and_pad(dossier: Dossier) -> list[Found]:
    """'Site 1/5 at the Baikonur Cosmodrome' gives a pad and a site; 'from the X Cosmodrome' a site."""
    out: list[Found] = []
    for block, sentence in _prose(dossier):
        for m in _PAD_AT_SITE.finditer(sentence):
            out.append(Found("launch_site", m.group("site"), block.line, block.section))
            out.append(Found("launch_pad", m.group("pad").rstrip("."), block.line, block.section))
        if not _PAD_AT_SITE.search(sentence) and _LAUNCH_CUE.search(sentence):
            for m in _FROM_SITE.finditer(sentence):
                out.append(Found("launch_site", m.group("site"), block.line, block.section))
    return out


# ------------------------------------------------------------------ stages, vehicle, serial

_STAGE = re.compile(
    r"\b(?:[Tt]he|[Aa]n?|[Ii]ts|[Tt]heir)\s+(?P<name>[A-Z][\w-]*(?:\s+[A-Z0-9][\w-]*){0,2})\s+"
    r"(?:(?:upper|escape|kick|third|fourth|fifth|final|transfer|boost|apogee)\s+)?stage\b"
)
_GENERIC_CAP = {"The", "A", "An", "It", "Its", "This", "First", "Second", "Third", "Fourth"}


def upper_stages(dossier: Dossier) -> list[Found]:
    """Named stages: 'the Blok L upper stage', 'a Blok I third stage', 'its Blok L escape stage'."""
    out: list[Found] = []
    for block, sentence in _prose(dossier):
        for m in _STAGE.finditer(sentence):
            name = m.group("name")
            if name.split()[0] in _GENERIC_CAP:
                continue
            out.append(Found("upper_stage", name, block.line, block.section))
    return out


_VEHICLE = re.compile(
    r"\b(?:atop|aboard|on|by|using)\s+(?:a|an|the)\s+(?P<name>[A-Z][\w/-]*(?:\s+[A-Z0-9][\w/-]*)"
    r"{0,2})\s+(?:carrier rocket|rocket|launch vehicle|launcher|booster)\b")
_WORD = re.compile(r"[^\W_]+")
_SERIAL = re.compile(
    r"\bserial(?:\s+(?:number|no\.?))?[\s:]+(?P<serial>(?=[\w/-]*\d)[A-Z0-9][\w/-]*)")


def vehicles(dossier: Dossier) -> list[Found]:
    """The rocket named in a launch sentence: 'atop a Molniya 8K78 carrier rocket'."""
    out: list[Found] = []
    for block, sentence in _prose(dossier):
        if not _LAUNCH_CUE.search(sentence):
            continue
        for m in _VEHICLE.finditer(sentence):
            out.append(Found("launch_vehicle", m.group("name"), block.line, block.section))
    return out


def vehicle_serials(dossier: Dossier, vehicle: str | None) -> list[Found]:
    """'with serial number L1-5M' in a sentence about the rocket."""
    # the vehicle's first word ('molniya' of 'Molniya 8K78', 'proton' of 'Proton-K/D'), if any
    word = _WORD.search(vehicle) if vehicle else None
    first = word.group().lower() if word else None
    out: list[Found] = []
    for block, sentence in _prose(dossier):
        low = sentence.lower()
        if "rocket" not in low and "vehicle" not in low and not (first and first in low):
            continue
        for m in _SERIAL.finditer(sentence):
            out.append(Found("vehicle_serial", m.group("serial").rstrip(".,"), block.line,
                             block.section))
    return out


# ------------------------------------------------------------------ instruments

_INSTRUMENT_SECTION = re.compile(r"instrument|payload|experiment|sensor|camera|science|scientific",
                                 re.IGNORECASE)
_REMOVED = re.compile(r"\b(taken off|removed|deleted|dropped|omitted|not flown|cancelled|"
                      r"canceled|descoped|never carried)\b", re.IGNORECASE)
_KINDS = (r"camera|spectrometer|spectrograph|magnetometer|radiometer|photometer|polarimeter|"
          r"telescope|detector|counter|analy[sz]er|altimeter|imager|radar|sensor|experiment|"
          r"instrument|probe|sounder|dosimeter|seismometer|antenna")
_NAMED_INSTRUMENT = re.compile(
    rf"\b[Tt]he\s+(?P<name>[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)\s+(?P<kind>{_KINDS})s?\b")


def instruments(dossier: Dossier) -> list[Found]:
    """List items under an instruments/payload section, and named instruments in its prose."""
    out: list[Found] = []
    for block in dossier.blocks:
        if not _INSTRUMENT_SECTION.search(block.section):
            continue
        text = strip_footnotes(block.text).strip().rstrip(".;,")
        if block.kind == "item":
            if text and not _REMOVED.search(text):
                out.append(Found("instruments", " ".join(text.split()), block.line,
                                 block.section))
            continue
        for sentence in sentences(text):
            if _REMOVED.search(sentence):
                continue
            for m in _NAMED_INSTRUMENT.finditer(sentence):
                out.append(Found("instruments", f"{m.group('name')} {m.group('kind')}",
                                 block.line, block.section))
    return out


# ------------------------------------------------------------------ debris

_DEBRIS_COUNT = re.compile(
    rf"\b(?P<count>\d[\d,]*|{NUMBER_WORDS_RE})\s+(?:catalogued\s+|cataloged\s+|tracked\s+)?"
    r"(?:pieces|fragments|objects|items|parts)\s+of\s+(?:debris|wreckage)",
    re.IGNORECASE,
)
_DECAY_RANGE = re.compile(r"\bdecayed\s+between\s+(?P<range>.+?)(?:[.;]|$)", re.IGNORECASE)


def debris(dossier: Dossier) -> list[Found]:
    """'Twenty two pieces of debris ... which decayed between 29 October 1962 and 26 February 1963'."""
    out: list[Found] = []
    for block, sentence in _prose(dossier):
        m = _DEBRIS_COUNT.search(sentence)
        if not m:
            continue
        count = parse_count(m.group("count"))
        if count is not None:
            out.append(Found("debris_count", count, block.line, block.section))
        r = _DECAY_RANGE.search(sentence, m.end())
        if r:
            dates = find_dates(r.group("range"))
            if len(dates) == 2:
                out.append(Found("debris_decay_start", dates[0][2], block.line, block.section))
                out.append(Found("debris_decay_end", dates[1][2], block.line, block.section))
    return out


# ------------------------------------------------------------------ orbital period

_PERIOD = re.compile(
    r"\b(?:taking|takes|took|with a period of|an orbital period of|a period of|period of|"
    r"orbiting once every|once every)\s+(?:about|roughly|approximately|some|nearly|around)?\s*"
    r"(?P<dur>\d[\w .,]*?)\s+(?:per|for each|each|every|for one|for a)\s+(?:revolution|orbit)\b",
    re.IGNORECASE,
)


def orbital_periods(dossier: Dossier) -> list[Found]:
    """'taking about 12 days and 19 hours per revolution' gives an orbital period."""
    from .values import parse_duration

    out: list[Found] = []
    for block, sentence in _prose(dossier):
        for m in _PERIOD.finditer(sentence):
            iso = parse_duration(m.group("dur"))
            if iso:
                out.append(Found("orbital_period", iso, block.line, block.section))
    return out
