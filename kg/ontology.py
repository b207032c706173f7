"""The shipped ontology (kg/data/ontology.ttl) and the JSON-LD context derived from it."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, XSD

from .vocab import KG, PREFIXES, PROV, SKOS


def ontology_text() -> str:
    """The ontology as Turtle text."""
    return files("kg.data").joinpath("ontology.ttl").read_text("utf-8")


@cache
def ontology() -> rdflib.Graph:
    """The ontology parsed into an rdflib graph (cached; do not modify)."""
    return rdflib.Graph().parse(data=ontology_text(), format="turtle")


def declared_properties() -> set[str]:
    """IRIs of every property the ontology declares."""
    g = ontology()
    return {str(s) for cls in (OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property)
            for s in g.subjects(RDF.type, cls)}


#: Terms from other vocabularies that kg's graphs use.
_EXTERNAL = {
    "label": {"@id": "rdfs:label"},
    "altLabel": {"@id": "skos:altLabel"},
    "prefLabel": {"@id": "skos:prefLabel"},
    "inScheme": {"@id": "skos:inScheme", "@type": "@id"},
    "wasDerivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
}


def context_from_ontology() -> dict[str, Any]:
    """kg's JSON-LD context: a term per ontology property, typed so values read naturally."""
    g = ontology()
    ctx: dict[str, Any] = {"@vocab": KG}
    ctx.update({k: v for k, v in sorted(PREFIXES.items())})
    terms: dict[str, Any] = {}
    for prop in sorted(declared_properties()):
        if not prop.startswith(KG):
            continue
        local = prop[len(KG):]
        is_object = (rdflib.URIRef(prop), RDF.type, OWL.ObjectProperty) in g
        rng = g.value(rdflib.URIRef(prop), RDFS.range)
        if is_object:
            terms[local] = {"@id": f"kg:{local}", "@type": "@id"}
        elif rng is not None and str(rng).startswith(str(XSD)) and rng != XSD.string:
            terms[local] = {"@id": f"kg:{local}", "@type": f"xsd:{str(rng)[len(str(XSD)):]}"}
        else:
            terms[local] = {"@id": f"kg:{local}"}
    terms.update(_EXTERNAL)
    ctx.update(dict(sorted(terms.items())))
    assert SKOS and PROV  # prefixes used above come from vocab.PREFIXES
    return {"@context": ctx}
