"""Records to RDF: stable IRIs, cross-dossier linking, one named graph per dossier."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, Triple

from .errors import Problem
from .record import Record
from .values import When, decimal_text
from .vocab import (
    KG,
    PROV,
    RDF_TYPE,
    RDFS_LABEL,
    SKOS,
    XSD,
    iri,
    name_key,
    pad_key,
    site_key,
)

# field -> (node, property local name, kind, class or scheme)
FIELDS: dict[str, tuple[str, str, str, str | None]] = {
    "mission_type": ("mission", "missionType", "concept", "mission-type"),
    "operator": ("mission", "operator", "entity", "Organization"),
    "duration": ("mission", "missionDuration", "duration", None),
    "duration_note": ("mission", "missionDurationNote", "text", None),
    "programme": ("mission", "programme", "entity", "Programme"),
    "previous_mission": ("mission", "previousMission", "mission", None),
    "next_mission": ("mission", "nextMission", "mission", None),
    "disposal_type": ("mission", "disposalType", "text", None),
    "last_contact": ("mission", "lastContact", "when", None),
    "end_of_mission": ("mission", "endOfMission", "when", None),
    "crew_size": ("mission", "crewSize", "int", None),
    "website": ("mission", "website", "uri", None),
    "aliases": ("mission", SKOS + "altLabel", "text", None),
    "cospar_id": ("spacecraft", "cosparId", "text", None),
    "satcat": ("spacecraft", "satcatNumber", "satcat", None),
    "harvard_designation": ("spacecraft", "harvardDesignation", "text", None),
    "short_name": ("spacecraft", "shortName", "text", None),
    "spacecraft_model": ("spacecraft", "spacecraftModel", "entity", "SpacecraftModel"),
    "bus": ("spacecraft", "bus", "entity", "SpacecraftBus"),
    "manufacturer": ("spacecraft", "manufacturer", "entity", "Organization"),
    "launch_mass": ("spacecraft", "launchMassKg", "decimal", None),
    "dry_mass": ("spacecraft", "dryMassKg", "decimal", None),
    "landing_mass": ("spacecraft", "landingMassKg", "decimal", None),
    "payload_mass": ("spacecraft", "payloadMassKg", "decimal", None),
    "bol_mass": ("spacecraft", "bolMassKg", "decimal", None),
    "power": ("spacecraft", "powerW", "decimal", None),
    "dimensions": ("spacecraft", "dimensions", "text", None),
    "decay_date": ("spacecraft", "decayDate", "when", None),
    "landing_date": ("spacecraft", "landingDate", "when", None),
    "landing_site": ("spacecraft", "landingSiteName", "text", None),
    "orbit_reference": ("spacecraft", "orbitReference", "concept", "orbit-reference"),
    "orbit_regime": ("spacecraft", "orbitRegime", "regime", "orbit-regime"),
    "periapsis": ("spacecraft", "periapsis", "length", None),
    "apoapsis": ("spacecraft", "apoapsis", "length", None),
    "semi_major_axis": ("spacecraft", "semiMajorAxis", "length", None),
    "eccentricity": ("spacecraft", "eccentricity", "decimal", None),
    "inclination": ("spacecraft", "inclinationDeg", "decimal", None),
    "orbital_period": ("spacecraft", "orbitalPeriod", "duration", None),
    "orbit_epoch": ("spacecraft", "orbitEpoch", "when", None),
    "instruments": ("spacecraft", "carriesInstrument", "instrument", "Instrument"),
    "launch_time": ("launch", "launchTime", "when", None),
    "launch_vehicle": ("launch", "launchVehicle", "entity", "LaunchVehicle"),
    "vehicle_serial": ("launch", "vehicleSerialNumber", "text", None),
    "upper_stage": ("launch", "upperStage", "entity", "RocketStage"),
    "launch_site": ("launch", "launchSite", "entity", "LaunchSite"),
    "launch_pad": ("launch", "launchPad", "pad", "LaunchPad"),
    "launch_contractor": ("launch", "launchContractor", "entity", "Organization"),
    "debris_count": ("launch", "debrisPieceCount", "int", None),
    "debris_decay_start": ("launch", "debrisDecayStart", "when", None),
    "debris_decay_end": ("launch", "debrisDecayEnd", "when", None),
}

SCHEMES = {
    "mission-type": "Mission types",
    "orbit-reference": "Orbit references",
    "orbit-regime": "Orbit regimes",
}
REGIME_PROPS = {"achieved": "achievedOrbitRegime", "intended": "intendedOrbitRegime"}

_XSD_STRING = NamedNode(XSD + "string")
_TYPE = NamedNode(RDF_TYPE)
_LABEL = NamedNode(RDFS_LABEL)


@lru_cache(maxsize=1024)
def kg(local: str) -> NamedNode:
    """A term of the kg ontology (or a full IRI passed through)."""
    return NamedNode(local if "://" in local else KG + local)


def typed(value: str, datatype: str) -> Literal:
    return Literal(value, datatype=NamedNode(XSD + datatype))


def entity_key(cls: str, name: str) -> str:
    """Merge key of a shared entity of class ``cls``."""
    return site_key(name) if cls == "LaunchSite" else name_key(name)


def _pick_label(forms: Counter[str]) -> str:
    # Deterministic: the fullest spelling, then the most used, then the first in code-point order.
    return min(forms, key=lambda s: (-len(s), -forms[s], s))


_NAMED_FIELDS = [(f, kind, cls_) for f, (_node, _prop, kind, cls_) in FIELDS.items()
                 if kind in {"entity", "concept", "regime"} and cls_]  # fields naming entities


# What a record gives the corpus index: its title's key and title, its other names' keys (with
# the title), the entities it names (class, key, spelling) and the missions it refers to (with
# their keys and its file).
Contribution = tuple[str, str, list[tuple[str, str]], list[tuple[str, str, str]],
                     list[tuple[str, str, str]]]


def contribution(rec: Record) -> Contribution:
    """The names a record contributes to the corpus index, keyed (here, where the record is
    extracted: the workers' time, not the index's)."""
    aliases = [(name_key(name), rec.title)
               for name in [*rec.values("aliases"), *rec.values("short_name")]]
    forms: list[tuple[str, str, str]] = []
    for fname, kind, cls_ in _NAMED_FIELDS:
        for fact in rec.facts.get(fname, ()):
            name = fact.value[0] if kind == "regime" else fact.value
            forms.append((cls_, entity_key(cls_, name), name))
    site = rec.get("launch_site")
    for pad in rec.values("launch_pad"):
        skey = entity_key("LaunchSite", site) if site else ""
        forms.append(("LaunchPad", f"{skey}|{pad_key(pad)}", pad))
    refs = [(ref, name_key(ref), rec.file) for f in ("previous_mission", "next_mission")
            for ref in rec.values(f)]
    return name_key(rec.title), rec.title, aliases, forms, refs


@dataclass
class Index:
    """What the whole corpus knows: which names denote which mission, and canonical labels.

    Built in two steps so it can be fed one record at a time: :meth:`add` keeps only names,
    :meth:`finalize` resolves references once every title and alias is known.
    """

    titles: dict[str, str] = field(default_factory=dict)  # mission key -> title
    aliases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    forms: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter))
    problems: list[Problem] = field(default_factory=list)
    _names: list[tuple[str, str]] = field(default_factory=list)  # (alias key, owner title)
    _refs: list[tuple[str, str, str]] = field(default_factory=list)  # (reference, its key, file)
    _labels: dict[tuple[str, str], str] = field(default_factory=dict)  # picked, once finalized

    @classmethod
    def of(cls, records: Iterable[Record]) -> Index:
        index = cls()
        for rec in records:
            index.add(rec)
        return index.finalize()

    def add(self, rec: Record) -> None:
        """Take the names a record contributes to the corpus."""
        self.take(contribution(rec))

    def take(self, names: Contribution) -> None:
        """Take a record's :func:`contribution` (computed where the record was extracted)."""
        title_key, title, aliases, forms, refs = names
        self.titles[title_key] = title
        self._names.extend(aliases)
        for cls_, key, name in forms:
            self.forms[(cls_, key)][name] += 1
        self._refs.extend(refs)

    def finalize(self) -> Index:
        """Resolve aliases and references now that every title is known."""
        for key, title in self._names:
            if key and key not in self.titles:
                self.aliases[key].add(title)
        for ref, name, file in self._refs:
            key = self.resolve(name)
            owners = self.aliases.get(name)
            if owners and len(owners) > 1 and name not in self.titles:
                self.problems.append(Problem(
                    "warning", file, None,
                    f"mission name {ref!r} is an alias of several dossiers "
                    f"({', '.join(sorted(owners))}); not linked to any of them"))
            if key not in self.titles:
                self.forms[("Mission", key)][ref] += 1
        self._names, self._refs, self._labels = [], [], {}
        return self

    def frozen(self) -> Index:
        """The same answers, with each label picked once and the spellings' counts dropped:
        what mapping needs, in a fraction of the memory (workers each hold one)."""
        labels = {at: _pick_label(forms) for at, forms in self.forms.items() if forms}
        return Index(titles=self.titles, aliases=dict(self.aliases), forms={}, _labels=labels)

    def changes(self, other: Index) -> set[str]:
        """Which answers of this :meth:`frozen` index differ from ``other``'s, named as
        :func:`~kg.pipeline.index_view` names what a dossier depends on: ``t:key`` (a title),
        ``a:key`` (an alias's owners), ``f:Class|key`` (a picked label)."""
        assert not self.forms and not other.forms, "compare frozen indexes"
        changed = {"t:" + k for k, _title in self.titles.items() ^ other.titles.items()}
        for key in self.aliases.keys() | other.aliases.keys():
            if self.aliases.get(key) != other.aliases.get(key):
                changed.add("a:" + key)
        changed.update(f"f:{cls}|{key}" for (cls, key), _label
                       in self._labels.items() ^ other._labels.items())
        return changed

    def mission_key(self, name: str, file: str | None = None) -> str:
        """Key of the mission a name denotes: a dossier's title, else its alias, else itself."""
        return self.resolve(name_key(name))

    def resolve(self, key: str) -> str:
        """:meth:`mission_key` of a name whose ``name_key`` is ``key``."""
        if key in self.titles:
            return key
        owners = self.aliases.get(key)
        if owners and len(owners) == 1:
            return name_key(next(iter(owners)))
        return key

    def mission_label(self, key: str) -> str:
        if key in self.titles:
            return self.titles[key]
        return self._pick(("Mission", key)) or ""

    def label(self, cls: str, key: str, fallback: str) -> str:
        return self._pick((cls, key)) or fallback

    def _pick(self, at: tuple[str, str]) -> str | None:
        if (found := self._labels.get(at)) is None:
            forms = self.forms.get(at)
            if not forms:
                return None
            found = self._labels[at] = _pick_label(forms)
        return found


class GraphWriter:
    """Collects the triples of one dossier's named graph.

    Triples, not quads: every one is in the same graph, and a pyoxigraph ``Quad`` costs a
    third more to make than a ``Triple`` (its fourth term cloned each time).
    """

    def __init__(self) -> None:
        self.triples: list[Triple] = []

    def add(self, s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        self.triples.append(Triple(s, p, o))

    def node(self, s: NamedNode, cls: NamedNode | Iterable[NamedNode], label: str) -> NamedNode:
        for c in [cls] if isinstance(cls, NamedNode) else cls:
            self.add(s, _TYPE, c)
        self.add(s, _LABEL, Literal(label))
        return s


def dossier_iri(base: str, title: str, key: str | None = None) -> str:
    """The IRI of a dossier (and of its named graph); ``key`` is ``name_key(title)`` if known."""
    return iri(base, "Dossier", name_key(title) if key is None else key)


def map_record(rec: Record, index: Index, base: str) -> list[Quad]:
    """The quads of one dossier's named graph (graph IRI = the dossier IRI)."""
    graph = NamedNode(dossier_iri(base, rec.title))
    return [Quad(t.subject, t.predicate, t.object, graph) for t in map_triples(rec, index, base)]


def map_triples(rec: Record, index: Index, base: str) -> list[Triple]:
    """The triples of one dossier's named graph, as :func:`map_record` gives them in it."""
    key = name_key(rec.title)
    dossier = NamedNode(dossier_iri(base, rec.title))
    g = GraphWriter()
    mission = NamedNode(iri(base, "Mission", key))
    nodes = {
        "mission": g.node(mission, kg("Mission"), rec.title),
        "spacecraft": g.node(NamedNode(iri(base, "Spacecraft", key)), kg("Spacecraft"),
                             f"{rec.title} (spacecraft)"),
        "launch": g.node(NamedNode(iri(base, "Launch", key)), kg("Launch"),
                         f"{rec.title} (launch)"),
    }
    g.add(mission, kg("spacecraft"), nodes["spacecraft"])
    g.add(mission, kg("launch"), nodes["launch"])
    g.add(mission, NamedNode(PROV + "wasDerivedFrom"), dossier)
    g.node(dossier, [kg("Dossier"), NamedNode(PROV + "Entity")], f"dossier {rec.file}")
    g.add(dossier, kg("fileName"), Literal(rec.file))
    g.add(dossier, kg("sha256"), Literal(rec.sha256))

    stated: dict[str, set[str]] = defaultdict(set)  # field -> property IRIs it produced
    for fname, facts in rec.facts.items():
        spec = FIELDS.get(fname)
        if spec is None:
            continue
        node_name, prop, kind, cls = spec
        subject = nodes[node_name]
        for fact in facts:
            for p, o in _objects(kind, prop, cls, fact.value, rec, index, base, key, g):
                g.add(subject, p, o)
                stated[fname].add(p.value)
    _source_lines(g, rec, dossier, stated)
    return g.triples


def _objects(kind: str, prop: str, cls: str | None, value: Any, rec: Record, index: Index,
             base: str, mkey: str, g: GraphWriter) -> list[tuple[NamedNode, Any]]:
    p = kg(prop)
    if kind == "text":
        return [(p, Literal(str(value)))]
    if kind == "uri":
        return [(p, typed(str(value), "anyURI"))]
    if kind == "int":
        return [(p, typed(str(value), "integer"))]
    if kind == "decimal":
        return [(p, typed(decimal_text(Decimal(value)), "decimal"))]
    if kind == "duration":
        return [(p, typed(value, "duration"))]
    if kind == "when":
        assert isinstance(value, When)
        return [(p, typed(value.lexical(), value.datatype))]
    if kind == "satcat":
        if isinstance(value, int):
            return [(p, typed(str(value), "integer"))]
        return [(p, Literal(str(value)))]  # kept as written; the shapes flag it
    if kind == "length":
        number, unit = value
        return [(kg(prop + {"km": "Km", "AU": "AU"}[unit]), typed(decimal_text(number), "decimal"))]
    if kind == "mission":
        ref_key = index.mission_key(value, rec.file)
        node = NamedNode(iri(base, "Mission", ref_key))
        g.node(node, kg("Mission"), index.mission_label(ref_key))
        return [(p, node)]
    if kind == "instrument":
        node = NamedNode(iri(base, "Instrument", mkey, name_key(value)))
        g.node(node, kg("Instrument"), value)
        return [(p, node)]
    if kind in {"concept", "regime"}:
        assert cls is not None
        name, qual = value if kind == "regime" else (value, None)
        ckey = name_key(name)
        node = NamedNode(iri(base, cls, ckey))
        label = index.label(cls, ckey, name)
        g.node(node, NamedNode(SKOS + "Concept"), label)
        g.add(node, NamedNode(SKOS + "prefLabel"), Literal(label))
        scheme = NamedNode(iri(base, "scheme", cls))
        g.add(node, NamedNode(SKOS + "inScheme"), scheme)
        g.node(scheme, NamedNode(SKOS + "ConceptScheme"), SCHEMES[cls])
        if kind == "regime":
            p = kg(REGIME_PROPS.get(qual or "", "orbitRegime"))
        return [(p, node)]
    if kind == "pad":
        site = rec.get("launch_site")
        skey = entity_key("LaunchSite", site) if site else ""
        pkey = pad_key(value)
        keys = (skey, pkey) if skey else (pkey,)
        node = NamedNode(iri(base, "LaunchPad", *keys))
        g.node(node, kg("LaunchPad"), index.label("LaunchPad", f"{skey}|{pkey}", value))
        if site:
            site_node = _entity(g, index, base, "LaunchSite", site)
            g.add(node, kg("partOfSite"), site_node)
        return [(p, node)]
    if kind == "entity":
        assert cls is not None
        return [(p, _entity(g, index, base, cls, value))]
    raise ValueError(f"unknown field kind {kind!r}")


def _entity(g: GraphWriter, index: Index, base: str, cls: str, name: str) -> NamedNode:
    key = entity_key(cls, name)
    node = NamedNode(iri(base, cls, key))
    classes = [kg(cls)]
    if cls == "SpacecraftBus":
        classes.append(kg("SpacecraftModel"))
    g.node(node, classes, index.label(cls, key, name))
    return node


def _source_lines(g: GraphWriter, rec: Record, dossier: NamedNode,
                  stated: dict[str, set[str]]) -> None:
    by_line: dict[int, dict[str, Any]] = {}
    for s in rec.lines:
        entry = by_line.setdefault(s.line, {"section": s.section, "fields": set(),
                                            "key": None, "value": None, "understood": True})
        entry["fields"].update(s.fields)
        if s.key is not None:
            entry["key"], entry["value"] = s.key, s.value
        if s.status == "not-understood":
            entry["understood"] = False
    for number in sorted(by_line):
        entry = by_line[number]
        node = NamedNode(f"{dossier.value}#L{number}")
        g.node(node, kg("SourceLine"), f"{rec.file} line {number}")
        g.add(dossier, kg("sourceLine"), node)
        g.add(node, kg("lineNumber"), typed(str(number), "integer"))
        g.add(node, kg("section"), Literal(entry["section"]))
        if entry["key"] is not None:
            g.add(node, kg("key"), Literal(entry["key"]))
            g.add(node, kg("rawValue"), Literal(entry["value"] or ""))
            g.add(node, kg("understood"), typed("true" if entry["understood"] else "false",
                                                "boolean"))
        for fname in sorted(entry["fields"]):
            for prop in sorted(stated.get(fname, ())):
                g.add(node, kg("statesProperty"), NamedNode(prop))


def sort_key(q: Quad) -> tuple[str, str, str, str]:
    """Order for deterministic output: graph, subject, predicate, object (as N-Triples terms)."""
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


def dedupe_sorted(quads: Iterable[Quad], key: Callable[[Quad], Any] = sort_key) -> list[Quad]:
    return sorted(set(quads), key=key)
