"""Normalisers: raw infobox and prose strings to typed values.

Each parser returns ``None`` when the text is not of its kind; none of them raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

# ------------------------------------------------------------------ cleaning

_FOOTNOTE = re.compile(
    r"\[\s*(?:\d+|[a-z]|[ivx]+|note\s*\d+|nb\s*\d+|n\s*\d+|citation needed|clarification needed|"
    r"when\?|who\?|dubious[^\]]*|better source needed|failed verification)\s*\]",
    re.IGNORECASE,
)
_DASHES = {"-", "–", "—", "‒", "―", "−", "--", "---", "?", "n/a", "na", "none", "unknown", "tbd",
           "tba", "nil", "null", "not known"}
#: Values that are only a unit or template leftover: they state nothing.
_LEFTOVER_UNITS = {"utc", "gmt", "z", "kg", "km", "lb", "lbs", "au", "°", "deg", "degrees",
                   "minutes", "days", "hours", "w", "watts", "m", "mm"}


def strip_footnotes(text: str) -> str:
    """Remove footnote markers such as ``[1]``, ``[a]``, ``[note 2]``, ``[citation needed]``."""
    return _FOOTNOTE.sub("", text)


def clean(text: str) -> str | None:
    """Trimmed value with footnotes removed, or ``None`` when it states nothing."""
    text = " ".join(strip_footnotes(text).split())
    text = text.strip(" ,;")
    if not text:
        return None
    low = text.lower()
    if low in _DASHES or low in _LEFTOVER_UNITS:
        return None
    if all(c in "-–—‒―−?. " for c in text):
        return None
    return text


# ------------------------------------------------------------------ numbers

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a dozen": 12, "dozen": 12,
}
NUMBER_WORDS_RE = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-]+"
    r"(?:one|two|three|four|five|six|seven|eight|nine))?|zero|one|two|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
    r"nineteen|a\s+dozen|dozen|hundred)"
)
_NUM_RE = re.compile(r"^[+-]?(?:\d{1,3}(?:[,\u202f\u00a0 ]\d{3})+|\d+)(?:\.\d+)?$")


def parse_number(text: str) -> Decimal | None:
    """A decimal number written with optional thousands separators ('4,650', '1 380.5')."""
    text = text.strip()
    if not _NUM_RE.match(text):
        return None
    try:
        return Decimal(re.sub(r"[,\u202f\u00a0 ]", "", text))
    except InvalidOperation:
        return None


def parse_count(text: str) -> int | None:
    """A whole count in digits or English words ('22', 'Twenty two', 'twenty-two')."""
    text = " ".join(text.lower().replace("-", " ").split())
    num = parse_number(text)
    if num is not None:
        return int(num) if num == num.to_integral_value() and num >= 0 else None
    total = 0
    for word in text.split():
        if word not in _NUMBER_WORDS:
            return None
        total += _NUMBER_WORDS[word]
    return total if text else None


def parse_int(text: str) -> int | None:
    """An integer, with optional thousands separators."""
    num = parse_number(text)
    if num is None or num != num.to_integral_value():
        return None
    return int(num)


def parse_positive_int(text: str) -> int | None:
    """A positive integer (SATCAT numbers); ``None`` for anything else, such as '-44x'."""
    text = text.strip()
    if not re.fullmatch(r"\+?\d[\d,]*", text):
        return None
    value = parse_int(text.lstrip("+"))
    return value if value is not None and value > 0 else None


def decimal_text(value: Decimal) -> str:
    """Canonical xsd:decimal lexical form: no exponent, no trailing zeros, at least one digit."""
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in {"-0", ""} else "0"


# ------------------------------------------------------------------ quantities

_QTY = re.compile(
    r"^(?:(?:about|approx\.?|approximately|around|circa|c\.|ca\.|~|≈)\s*)?"
    r"([+-]?\d[\d,\u202f\u00a0]*(?:\.\d+)?|\.\d+)\s*([^\d\s(),;][^(),;]*?)?\s*(?:[(\[;,].*)?$",
    re.IGNORECASE,
)

_MASS_UNITS = {
    "kg": Decimal(1), "kilogram": Decimal(1), "kilograms": Decimal(1), "kgs": Decimal(1),
    "g": Decimal("0.001"), "gram": Decimal("0.001"), "grams": Decimal("0.001"),
    "t": Decimal(1000), "tonne": Decimal(1000), "tonnes": Decimal(1000), "ton": Decimal(1000),
    "tons": Decimal(1000), "metric tons": Decimal(1000), "metric tonnes": Decimal(1000),
    "lb": Decimal("0.45359237"), "lbs": Decimal("0.45359237"), "pound": Decimal("0.45359237"),
    "pounds": Decimal("0.45359237"), "lbm": Decimal("0.45359237"),
}
_LENGTH_UNITS = {
    "km": ("km", Decimal(1)), "kilometres": ("km", Decimal(1)), "kilometers": ("km", Decimal(1)),
    "kilometre": ("km", Decimal(1)), "kilometer": ("km", Decimal(1)),
    "m": ("km", Decimal("0.001")), "metres": ("km", Decimal("0.001")),
    "meters": ("km", Decimal("0.001")),
    "mi": ("km", Decimal("1.609344")), "miles": ("km", Decimal("1.609344")),
    "mile": ("km", Decimal("1.609344")), "nmi": ("km", Decimal("1.852")),
    "au": ("AU", Decimal(1)),
}
_POWER_UNITS = {"w": Decimal(1), "watts": Decimal(1), "watt": Decimal(1), "kw": Decimal(1000),
                "kilowatts": Decimal(1000)}


def _quantity(text: str) -> tuple[Decimal, str] | None:
    m = _QTY.match(text.strip())
    if not m:
        return None
    num = parse_number(m.group(1))
    if num is None:
        return None
    return num, (m.group(2) or "").strip().lower().rstrip(".")


def parse_mass_kg(text: str) -> Decimal | None:
    """Mass in kilograms ('893.5 kg', '1,970 lb', '2.5 t'); a bare number is kilograms."""
    q = _quantity(text)
    if q is None:
        return None
    num, unit = q
    factor = _MASS_UNITS.get(unit or "kg")
    if factor is None or num <= 0:
        return None
    return num * factor


def parse_length(text: str) -> tuple[Decimal, str] | None:
    """A length as (value, 'km' | 'AU'); metres and miles are converted to kilometres."""
    q = _quantity(text)
    if q is None:
        return None
    num, unit = q
    if unit not in _LENGTH_UNITS:
        return None
    canon, factor = _LENGTH_UNITS[unit]
    return num * factor, canon


def parse_angle_deg(text: str) -> Decimal | None:
    """An angle in degrees ('51.4°', '51.4 degrees', '51.4 deg')."""
    q = _quantity(text.replace("°", " deg"))
    if q is None:
        return None
    num, unit = q
    return num if unit in {"deg", "degree", "degrees", ""} else None


def parse_power_w(text: str) -> Decimal | None:
    """Power in watts ('1,200 W', '2.5 kW')."""
    q = _quantity(text)
    if q is None or q[1] not in _POWER_UNITS:
        return None
    return q[0] * _POWER_UNITS[q[1]]


def parse_plain_decimal(text: str) -> Decimal | None:
    """A unitless decimal (eccentricity)."""
    q = _quantity(text)
    if q is None or q[1]:
        return None
    return q[0]


# ------------------------------------------------------------------ durations

_DUR_UNITS = [
    (r"years?|yrs?|y", "Y"), (r"months?|mos?", "M"), (r"weeks?|wks?|w", "W"),
    (r"days?|d", "D"), (r"hours?|hrs?|h", "H"), (r"minutes?|mins?|m", "MIN"),
    (r"seconds?|secs?|s", "S"),
]
_DUR_PART = re.compile(
    r"(\d+(?:\.\d+)?)\s*(" + "|".join(u for u, _ in _DUR_UNITS) + r")\b", re.IGNORECASE
)
_ISO_DURATION = re.compile(
    r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)


def parse_duration(text: str) -> str | None:
    """An xsd:duration from '5 days', '4 months 21 days', '12 days and 19 hours', '96.2 minutes'."""
    text = text.strip()
    if _ISO_DURATION.match(text.upper()):
        return text.upper()
    rest = re.sub(r"^(?:about|approx\.?|approximately|around|nearly|over|~|c\.)\s*", "",
                  text, flags=re.IGNORECASE)
    parts: dict[str, Decimal] = {}
    pos = 0
    for m in _DUR_PART.finditer(rest):
        gap = rest[pos:m.start()]
        if gap.strip(" ,;") and gap.strip(" ,;").lower() not in {"and", "&"}:
            return None
        unit = next(code for pat, code in _DUR_UNITS
                    if re.fullmatch(pat, m.group(2), re.IGNORECASE))
        if unit in parts:
            return None
        parts[unit] = Decimal(m.group(1))
        pos = m.end()
    tail = rest[pos:].strip(" .")
    if not parts or (tail and not tail.startswith("(")):
        return None
    if "W" in parts:
        weeks = parts.pop("W")
        parts["D"] = parts.get("D", Decimal(0)) + weeks * 7
    if any(parts[u] != parts[u].to_integral_value() for u in ("Y", "M") if u in parts):
        return None
    # xsd:duration allows a fraction only on seconds: carry fractions down to smaller units.
    for unit, smaller, factor in (("D", "H", 24), ("H", "MIN", 60), ("MIN", "S", 60)):
        if unit in parts and parts[unit] != parts[unit].to_integral_value():
            whole = parts[unit].to_integral_value(rounding="ROUND_FLOOR")
            parts[smaller] = parts.get(smaller, Decimal(0)) + (parts[unit] - whole) * factor
            parts[unit] = whole
    date = "".join(f"{decimal_text(parts[u])}{u}" for u in ("Y", "M", "D")
                   if u in parts and parts[u])
    time = "".join(
        f"{decimal_text(parts[u])}{'M' if u == 'MIN' else u}" for u in ("H", "MIN", "S")
        if u in parts and parts[u]
    )
    if not date and not time:
        date = "0D"
    return "P" + date + ("T" + time if time else "")


# ------------------------------------------------------------------ dates

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_TIME = (
    r"(?P<hour>\d{1,2})[:h](?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<frac>\d+))?)?"
    r"\s*(?P<zone>(?:UTC|GMT)?\s*[+\-−]\s*\d{1,2}(?::?\d{2})?(?!\d)|UTC|GMT|UT|Z|MSK|MSD|EST|"
    r"EDT|CST|CDT|MST|MDT|PST|PDT|CET|CEST|JST|IST|BST)?"
)
_ZONES = {"UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "MSK": 180, "MSD": 240, "EST": -300, "EDT": -240,
          "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
          "CET": 60, "CEST": 120, "JST": 540, "IST": 330, "BST": 60}

DATE_PATTERNS = [
    _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR,            # 24 October 1962
    _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR,            # October 24, 1962
    r"(?P<iso>" + _YEAR + r"-(?P<imonth>\d{2})-(?P<iday>\d{2}))(?=T\d|(?![\w]))",  # 1962-10-24
    r"(?P<eday>\d{1,2})\.(?P<emonth>\d{1,2})\.(?P<eyear>\d{4})",  # 24.10.1962
    _MONTH + r",?\s+" + _YEAR,                              # October 1962
    r"(?P<yonly>\d{4})",                                      # 1962
]
_DATE_RES = [re.compile(r"(?<![\w.])" + p + ("" if "iso" in p else r"(?![\w])"), re.IGNORECASE)
             for p in DATE_PATTERNS]
_TIME_RE = re.compile(r"(?<![\d:])" + _TIME + r"(?![\d])", re.IGNORECASE)
_ISO_DT = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<z>Z|UTC|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)

PRECISIONS = ("year", "month", "day", "minute", "second")
DATATYPES = {"year": "gYear", "month": "gYearMonth", "day": "date", "minute": "dateTime",
             "second": "dateTime"}


@dataclass(frozen=True, order=True)
class When:
    """A point in time at the precision a text gives it (UTC when a time is given)."""

    year: int
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    second: int | None = None

    @property
    def precision(self) -> str:
        if self.second is not None:
            return "second"
        if self.minute is not None:
            return "minute"
        if self.day is not None:
            return "day"
        return "month" if self.month is not None else "year"

    @property
    def datatype(self) -> str:
        """Local name of the XSD datatype for this precision."""
        return DATATYPES[self.precision]

    def iso(self) -> str:
        """ISO 8601 at the stated precision ('1962-11-01T16:14Z', '1962-10', '1962')."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        if self.minute is not None:
            text += f"T{self.hour:02d}:{self.minute:02d}"
            if self.second is not None:
                text += f":{self.second:02d}"
            text += "Z"
        return text

    def lexical(self) -> str:
        """Valid lexical form of :attr:`datatype` (xsd:dateTime needs seconds)."""
        if self.minute is not None:
            return (f"{self.year:04d}-{self.month:02d}-{self.day:02d}T{self.hour:02d}:"
                    f"{self.minute:02d}:{self.second or 0:02d}Z")
        return self.iso()

    def fields(self) -> tuple[int | None, ...]:
        return (self.year, self.month, self.day, self.hour, self.minute, self.second)

    def agrees(self, other: When) -> bool:
        """True when the two do not contradict: equal on every field both state."""
        return all(a is None or b is None or a == b
                   for a, b in zip(self.fields(), other.fields(), strict=True))


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if not 1000 <= year <= 2999:
        return False
    if month is None:
        return True
    if not 1 <= month <= 12:
        return False
    if day is None:
        return True
    try:
        datetime(year, month, day)
    except ValueError:
        return False
    return True


def _zone_minutes(zone: str | None) -> int | None:
    if not zone:
        return 0  # spaceflight infoboxes give times in UTC unless they say otherwise
    zone = zone.upper().replace("−", "-").replace(" ", "")
    if zone in _ZONES:
        return _ZONES[zone]
    m = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", zone)
    if not m:
        return None
    mins = int(m.group(2)) * 60 + int(m.group(3) or 0)
    return mins if m.group(1) == "+" else -mins


def find_dates(text: str) -> list[tuple[int, int, When]]:
    """Every date in ``text`` as (start, end, When), most specific pattern first, no overlaps."""
    found: list[tuple[int, int, When]] = []
    taken: list[tuple[int, int]] = []
    for rx in _DATE_RES:
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            g = m.groupdict()
            if g.get("iso"):
                y, mo, d = int(g["year"]), int(g["imonth"]), int(g["iday"])
            elif g.get("eyear"):
                y, mo, d = int(g["eyear"]), int(g["emonth"]), int(g["eday"])
            elif g.get("yonly"):
                y, mo, d = int(g["yonly"]), None, None
            else:
                y = int(g["year"])
                mo = MONTHS[g["month"].lower()]
                d = int(g["day"]) if g.get("day") else None
            if not _valid(y, mo, d) or (g.get("yonly") and _designation(text, m.start())):
                continue
            found.append((m.start(), m.end(), When(y, mo, d)))
            taken.append((m.start(), m.end()))
    found.sort()
    return found


_YEAR_CUES = {"in", "of", "by", "from", "since", "until", "till", "to", "through", "during",
              "around", "circa", "c.", "ca.", "early", "late", "mid", "spring", "summer", "autumn",
              "fall", "winter", "year", "years", "and", "or", "before", "after", "between", "the"}
_WORD_BEFORE = re.compile(r"([^\W\d][\w.'’-]*)[ \u00a0]$")


def _designation(text: str, start: int) -> bool:
    """Is the bare number at ``start`` part of a name ('Kosmos 1843', 'Sputnik 2078') rather
    than a year ('in 1962', 'Spring 1962')?"""
    m = _WORD_BEFORE.search(text, max(0, start - 64), start)  # the word just before
    if m is None:
        return False
    word = m.group(1)
    return word[:1].isupper() and word.lower() not in _YEAR_CUES and word.lower() not in MONTHS


def find_time(text: str) -> tuple[int, int, int, int, int | None, int | None] | None:
    """First clock time in ``text`` as (start, end, hour, minute, second, zone offset minutes)."""
    for m in _TIME_RE.finditer(text):
        h, mi = int(m.group("hour")), int(m.group("minute"))
        s = int(m.group("second")) if m.group("second") else None
        if h > 23 or mi > 59 or (s is not None and s > 60):
            continue
        return m.start(), m.end(), h, mi, s, _zone_minutes(m.group("zone"))
    return None


def combine(date: When, time: tuple[int, int, int | None, int | None] | None) -> When | None:
    """Attach a clock time (hour, minute, second, zone offset) to a day; convert to UTC."""
    if time is None or date.day is None:
        return date
    hour, minute, second, offset = time
    if offset is None:
        return None
    moment = datetime(date.year, date.month or 1, date.day, hour, minute, min(second or 0, 59))
    moment -= timedelta(minutes=offset)
    return When(moment.year, moment.month, moment.day, moment.hour, moment.minute,
                None if second is None else moment.second)


def parse_when(text: str) -> When | None:
    """A date or date-time that is the whole of ``text`` ('10 October 1960, 14:27:49 UTC')."""
    text = " ".join(text.split()).strip(" .")
    text = re.sub(r"^(?:on|c\.|ca\.|circa|about|around|early|mid|late)\s+", "", text,
                  flags=re.IGNORECASE)
    m = _ISO_DT.match(text)
    if m:
        y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
        if not _valid(y, mo, d) or int(m["h"]) > 23 or int(m["mi"]) > 59:
            return None
        zone = m["z"]
        offset = 0 if not zone or zone.upper() in {"Z", "UTC"} else _zone_minutes(zone)
        sec = int(m["s"]) if m["s"] else None
        return combine(When(y, mo, d), (int(m["h"]), int(m["mi"]), sec, offset))
    dates = find_dates(text)
    if len(dates) != 1:
        return None
    start, end, date = dates[0]
    rest = (text[:start] + " " + text[end:]).strip(" ,;")
    rest = re.sub(r"\s*\((?:UTC|GMT)\)\s*", " ", rest).strip(" ,;")
    if not rest:
        return date
    time = find_time(rest)
    if time is None:
        return None
    tstart, tend, h, mi, s, offset = time
    leftover = (rest[:tstart] + rest[tend:]).strip(" ,;").lower()
    if leftover not in {"", "at", "utc", "gmt", "on", "at on"}:
        return None
    return combine(date, (h, mi, s, offset))


# ------------------------------------------------------------------ identifiers

COSPAR_RE = re.compile(r"^(19[5-9]\d|2\d{3})-(\d{3})([A-HJ-NP-Z]{1,3})$")


def parse_cospar(text: str) -> str:
    """COSPAR ID upper-cased with spaces removed; check validity with :func:`cospar_ok`."""
    return re.sub(r"\s+", "", text).upper()


def cospar_ok(cospar: str) -> bool:
    """True for a well-formed international designator (1957 on, 001–999, letters without I/O)."""
    m = COSPAR_RE.match(cospar)
    return bool(m) and int(m.group(1)) >= 1957 and m.group(2) != "000"


# ------------------------------------------------------------------ lists and qualifiers

_QUALIFIED = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<qual>[^()]*)\)\s*$")
_CORP_SUFFIX = re.compile(r"^(inc|ltd|llc|plc|gmbh|s\.?a|ag|corp|co|jsc|oao|pjsc)\.?$",
                          re.IGNORECASE)


def _and_separates(text: str, i: int) -> bool:
    """' and ' separates items in 'A, B and C', between acronyms ('NASA and ESA') and between
    names of two words or more ('Ball Aerospace and Hughes Aircraft'), not inside a name whose
    last part is one word ('Airbus Defence and Space', 'Harland and Wolff')."""
    if "," in text or ";" in text:
        return True
    before, after = text[:i].split(), text[i + 5:].split()
    if not before or not after:
        return False
    if len(before) >= 2 and len(after) >= 2:
        return True  # 'Ball Aerospace and Hughes Aircraft'
    return all(w.isupper() or any(c.isdigit() for c in w) for w in (before[-1], after[0]))


def split_list(text: str, names: bool = False) -> list[str]:
    """Split 'A, B and C' / 'A; B' at top level (not inside parentheses) into stripped parts.

    With ``names`` (organisations), a lone ' and ' stays inside the name unless it joins
    acronyms: 'Airbus Defence and Space' is one company, 'NASA and ESA' two agencies.
    """
    parts: list[str] = []
    depth = 0
    buf = ""
    i = 0
    while i < len(text):
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        if depth == 0 and c in ",;":
            parts.append(buf)
            buf = ""
        elif depth == 0 and text[i:i + 5].lower() == " and " and buf.strip() and (
                not names or _and_separates(text, i)):
            parts.append(buf)
            buf = ""
            i += 4
        elif depth == 0 and text[i:i + 3] == " / " and buf.strip():
            parts.append(buf)
            buf = ""
            i += 2
        else:
            buf += c
        i += 1
    parts.append(buf)
    out: list[str] = []
    for p in (" ".join(p.split()) for p in parts):
        p = re.sub(r"^(and|&)\s+", "", p, flags=re.IGNORECASE).strip()
        if not p:
            continue
        if out and _CORP_SUFFIX.match(p):
            out[-1] = f"{out[-1]}, {p}"
        else:
            out.append(p)
    return out


def split_qualifier(text: str) -> tuple[str, str | None]:
    """'Low Earth (achieved)' -> ('Low Earth', 'achieved'); no qualifier -> (text, None)."""
    m = _QUALIFIED.match(text.strip())
    if not m:
        return text.strip(), None
    return m.group("name").strip(), " ".join(m.group("qual").split()).lower() or None
