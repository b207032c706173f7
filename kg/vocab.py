"""Namespaces, the IRI scheme and the keys that decide when two names are one node."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote

KG = "https://w3id.org/spacekg/ontology#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
OWL = "http://www.w3.org/2002/07/owl#"
DEFAULT_BASE = "https://w3id.org/spacekg/id/"

RDF_TYPE = RDF + "type"
RDFS_LABEL = RDFS + "label"

#: Prefixes used when writing Turtle, TriG and RDF/XML (resource prefixes are added per base).
PREFIXES = {
    "kg": KG,
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "prov": PROV,
    "owl": OWL,
}

#: Path segment under the base for each kind of node; also the Turtle prefix name.
PATHS = {
    "Mission": "mission",
    "Spacecraft": "spacecraft",
    "Launch": "launch",
    "Dossier": "dossier",
    "LaunchVehicle": "launch-vehicle",
    "RocketStage": "rocket-stage",
    "LaunchSite": "launch-site",
    "LaunchPad": "launch-pad",
    "Organization": "organization",
    "Programme": "programme",
    "SpacecraftModel": "spacecraft-model",
    "SpacecraftBus": "spacecraft-bus",
    "Instrument": "instrument",
    "mission-type": "mission-type",
    "orbit-reference": "orbit-reference",
    "orbit-regime": "orbit-regime",
    "scheme": "scheme",
}

_BASE_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>\"{}|\\^`]*[/#]$")


def check_base(base: str) -> str:
    """Return ``base`` if it is an absolute IRI ending in '/' or '#', else raise ValueError."""
    if not _BASE_RE.match(base):
        raise ValueError(
            f"--base must be an absolute IRI ending in '/' or '#', without spaces or <>\"{{}}|\\^`: {base!r}"
        )
    return base


def resource_prefixes(base: str) -> dict[str, str]:
    """Turtle prefixes for the resource namespaces under ``base``."""
    return {seg: base + seg + "/" for seg in sorted(set(PATHS.values()))}


_SPELLING = [(word, re.compile(rf"\b{word}\b"), repl) for word, repl in
             (("programme", "program"), ("centre", "center"), ("organisation", "organization"))]
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free form of a name, words separated by one space."""
    if not text.isascii():  # (ASCII text has nothing to decompose)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = _NON_WORD.sub(" ", text.lower()).replace("_", " ")
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    """The key under which two spellings of one name meet ('Mars programme' = 'Mars program')."""
    key = fold(text)
    for word, pattern, repl in _SPELLING:
        if word in key:
            key = pattern.sub(repl, key)
    return key[4:] if key.startswith("the ") else key


_SITE_WORDS = re.compile(
    r"\b(cosmodrome|spaceport|space ?port|launch (site|center|base|complex)|"
    r"(air|space) force (station|base)|space (center|flight center)|"
    r"satellite launch center|test range|missile range|range|rocket range)\b"
)


@lru_cache(maxsize=65536)
def site_key(text: str) -> str:
    """Key of a launch site: generic words dropped, so 'Baikonur' = 'Baikonur Cosmodrome'."""
    key = _SITE_WORDS.sub(" ", name_key(text))
    key = " ".join(key.split())
    return key or name_key(text)


_PAD_WORDS = re.compile(
    r"^(space launch complex|launch complex|launch pad|launch area|site|pad|area|complex|"
    r"platform|slc|lc|la|lp)\s+"
)


@lru_cache(maxsize=65536)
def pad_key(text: str) -> str:
    """Key of a launch pad within its site: 'Site 1/5' = '1/5'."""
    key = name_key(text.replace("/", " slash "))
    key = _PAD_WORDS.sub("", key)
    return key.replace(" slash ", "/")


_SPACE_OR_SLASH = re.compile(r"[\s/]+")
_NON_SLUG = re.compile(r"[^\w-]+", re.UNICODE)
_DASHES = re.compile(r"-{2,}")
_PLAIN = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*", re.ASCII)  # a folded key of ASCII words


@lru_cache(maxsize=65536)
def slug(key: str) -> str:
    """IRI path segment for a key: ASCII letters, digits and '-', other characters percent-encoded."""
    if _PLAIN.fullmatch(key):  # most keys: the rules below would only turn spaces into '-'
        return key.replace(" ", "-")
    text = _SPACE_OR_SLASH.sub("-", key.strip()).strip("-")
    text = _NON_SLUG.sub("-", text).strip("-")
    text = _DASHES.sub("-", text)
    return quote(text or "unnamed", safe="-")


def iri(base: str, kind: str, *keys: str) -> str:
    """The stable IRI of a node of ``kind`` named by ``keys`` (already folded)."""
    # Parts are joined with '.', which slugs never contain, so prefixed names stay plain
    # ('launch-pad:baikonur.1-5') in every Turtle parser.
    return base + PATHS[kind] + "/" + ".".join(slug(k) for k in keys)
