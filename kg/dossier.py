"""Reading the dossier text format into lines, an infobox and prose blocks."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import DossierError

#: Dossiers larger than this are refused with a clear message (real ones are a few kB).
MAX_BYTES = 4 * 1024 * 1024

_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TITLE = re.compile(r"^=(?!=)\s*(?P<title>.*?)\s*=\s*$")
_HEADING = re.compile(r"^(?P<eq>={2,6})\s*(?P<title>.*?)\s*(?P=eq)?\s*$")
_INFOBOX = re.compile(r"^(?:[-*•|]\s*)(?P<key>[^:=\n]{1,60}?)\s*[:=](?:\s+(?P<value>.*))?$")
_ITEM = re.compile(r"^[-*•]\s+(?P<text>.*)$")


@dataclass(frozen=True)
class InfoboxLine:
    """One ``- Key: Value`` line: the key and value as written, and its 1-based line number."""

    line: int
    key: str
    value: str


@dataclass(frozen=True)
class Block:
    """A prose paragraph or list item, with its section heading ('lead' before the first)."""

    line: int
    section: str
    kind: str  # "paragraph" | "item"
    text: str


@dataclass(frozen=True)
class Dossier:
    """A dossier as read: title, optional short name, infobox lines and prose blocks."""

    name: str
    sha256: str
    title: str
    title_line: int
    short_name: str | None
    short_name_line: int | None
    infobox: tuple[InfoboxLine, ...]
    blocks: tuple[Block, ...]
    headings: tuple[tuple[int, str], ...]


def decode(data: bytes, name: str) -> str:
    """Bytes to text: UTF-8 (BOM allowed), refusing binary data, with the failing line named."""
    if len(data) > MAX_BYTES:
        raise DossierError(
            f"file is {len(data) / 1_048_576:.1f} MB; a dossier is expected to be under "
            f"{MAX_BYTES // 1_048_576} MB", name)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DossierError("binary data (NUL byte); expected a UTF-8 text dossier", name, line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DossierError(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "expected a UTF-8 text dossier", name, line) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # C0 control characters (other than tab and newline) have no place in a dossier and no
    # representation in XML 1.0: each becomes U+FFFD, visibly, rather than breaking RDF/XML.
    return _CONTROL.sub("\ufffd", text)


def _is_short_name(text: str) -> bool:
    """A short-name line: a brief designation, not a sentence."""
    return len(text) <= 60 and not text.endswith((".", ":", "!", "?")) and len(text.split()) <= 6


def parse(text: str, name: str = "<string>", sha256: str | None = None) -> Dossier:
    """Read dossier text; raise :class:`DossierError` naming the line when it has no title."""
    lines = [ln.rstrip() for ln in text.split("\n")]
    digest = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        raise DossierError("empty file; expected a title line '= Title ='", name, 1)
    m = _TITLE.match(lines[i].strip())
    if not m or not m.group("title"):
        shown = lines[i].strip()
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise DossierError(f"expected a title line '= Title =', found {shown!r}", name, i + 1)
    title = " ".join(m.group("title").split())
    title_line = i + 1
    i += 1

    short_name: str | None = None
    short_line: int | None = None
    infobox: list[InfoboxLine] = []
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    section = "lead"
    in_header = True  # before the first prose paragraph or heading: infobox territory

    for n in range(i, len(lines)):
        raw = lines[n].strip()
        number = n + 1
        if not raw:
            continue
        heading = _HEADING.match(raw)
        if heading and raw.startswith("=="):
            section = " ".join(heading.group("title").strip("= ").split()) or "untitled"
            headings.append((number, section))
            in_header = False
            continue
        if in_header:
            ib = _INFOBOX.match(raw)
            if ib:
                infobox.append(InfoboxLine(number, " ".join(ib.group("key").split()),
                                           (ib.group("value") or "").strip()))
                continue
            if not infobox and short_name is None and _is_short_name(raw) \
                    and not raw.startswith(("-", "*", "•")):
                short_name, short_line = raw, number
                continue
            if raw.startswith(("-", "*", "•")):
                # A bullet without 'Key: Value' among the infobox lines: kept, not understood.
                infobox.append(InfoboxLine(number, "", raw.lstrip("-*• ").strip()))
                continue
            in_header = False
        item = _ITEM.match(raw)
        if item:
            blocks.append(Block(number, section, "item", item.group("text").strip()))
        else:
            blocks.append(Block(number, section, "paragraph", " ".join(raw.split())))
    return Dossier(name, digest, title, title_line, short_name, short_line, tuple(infobox),
                   tuple(blocks), tuple(headings))


def read(path: str | Path) -> Dossier:
    """Read a dossier file; errors name the file and line."""
    path = Path(path)
    name = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DossierError("no such file", str(path)) from None
    except IsADirectoryError:
        raise DossierError("is a directory, expected a dossier file", str(path)) from None
    except OSError as exc:
        raise DossierError(f"cannot read: {exc.strerror}", str(path)) from None
    return parse(decode(data, name), name, hashlib.sha256(data).hexdigest())
