"""Fuzz the dossier reader, extractor, mapper and writers: any bytes give records or a clean error.

    python -m kg.bench.fuzz --seconds 600          # coverage-guided (atheris), long budget
    python -m kg.bench.fuzz --seconds 20 --corpus DIR

:func:`check` is the property both this script and ``tests/test_fuzz.py`` (hypothesis) test:
the bytes are decoded, parsed, extracted, mapped and written in every format kg writes; a
:class:`~kg.errors.DossierError` is the only exception allowed, and every output parses back
with pyoxigraph to exactly the quads that were mapped (and with rdflib for N-Quads, to the
same number).  A failure raises ``AssertionError`` (or the unexpected exception itself).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import pyoxigraph as ox

from ..dossier import decode, parse
from ..errors import DossierError
from ..export import FORMATS, write
from ..mapping import Index, map_record
from ..record import extract
from ..vocab import DEFAULT_BASE

#: Writer name -> pyoxigraph format to read its output back.
READ_BACK = {name: ox.RdfFormat.from_extension(f.extension.rsplit(".", 1)[-1])
             for name, f in FORMATS.items()}


def map_bytes(data: bytes, name: str = "fuzz.txt") -> list[ox.Quad] | None:
    """The quads kg maps from a dossier's bytes, or None when it is refused with a DossierError."""
    try:
        record = extract(parse(decode(data, name), name))
    except DossierError:
        return None
    return map_record(record, Index.of([record]), DEFAULT_BASE)


def round_trip(quads: Sequence[ox.Quad], fmt: str) -> None:
    """Write ``quads`` in ``fmt`` and check pyoxigraph reads back exactly the same graph."""
    buffer = io.BytesIO()
    write(quads, buffer, fmt, DEFAULT_BASE)
    data = buffer.getvalue()
    back = list(ox.parse(data, format=READ_BACK[fmt], base_iri=DEFAULT_BASE))
    if FORMATS[fmt].dataset:
        assert set(back) == set(quads), f"{fmt}: quads differ after a round trip"
    else:
        assert {q.triple for q in back} == {q.triple for q in quads}, \
            f"{fmt}: triples differ after a round trip"


def rdflib_reads(quads: Sequence[ox.Quad]) -> None:
    """Check rdflib, an independent parser, reads kg's N-Quads to the same number of quads."""
    import rdflib

    buffer = io.BytesIO()
    write(quads, buffer, "nq", DEFAULT_BASE)
    dataset = rdflib.Dataset()
    dataset.parse(data=buffer.getvalue().decode("utf-8"), format="nquads")
    assert len(dataset) == len(set(quads)), "rdflib reads a different number of quads"


def check(data: bytes, formats: Sequence[str] = tuple(FORMATS), rdflib: bool = True) -> None:
    """The fuzz property for one input (see the module docstring)."""
    quads = map_bytes(data)
    if quads is None:
        return
    for fmt in formats:
        round_trip(quads, fmt)
    if rdflib:
        rdflib_reads(quads)


MAX_LEN = 8192
#: Starting points besides the bundled seeds: the shapes the reader branches on.
EXTRA_SEEDS = (
    b"= T =\n- Launch Date: 24 October 1962, 17:55:04 UTC\n- Mass: 893.5 kg\n\n== Launch ==\n"
    b"It was launched at 17:55:04 UTC on 24 October 1962 from Site 1/5 at the Baikonur "
    b"Cosmodrome.\n",
    b'= "q" > """ \xe2\x80\xae =\n- Operator: (((a)))\n- COSPAR ID: 1962-057A\n',
)


def seed_corpus(corpus: Path) -> None:
    """Fill an empty corpus directory with the bundled seed dossiers and a few shapes."""
    corpus.mkdir(parents=True, exist_ok=True)
    if any(corpus.iterdir()):
        return
    seeds = [p.read_bytes() for p in files("kg.seeds").iterdir() if p.name.endswith(".txt")]
    for number, data in enumerate([*seeds, *EXTRA_SEEDS]):
        (corpus / f"seed-{number:03d}").write_bytes(data[:MAX_LEN])


def _one_input(data: bytes) -> None:
    check(data, formats=("nq", "ttl", "jsonld", "rdfxml"), rdflib=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run atheris for a time budget over :func:`check`; exit 0 if nothing broke."""
    parser = argparse.ArgumentParser(prog="python -m kg.bench.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=60, help="time budget (default 60)")
    parser.add_argument("--corpus", type=Path, help="directory of seed inputs (kept and grown)")
    args = parser.parse_args(argv)
    try:
        import atheris
    except ImportError:
        print("atheris is not installed (pip install atheris); tests/test_fuzz.py runs the "
              "same property with hypothesis", file=sys.stderr)
        return 2
    atheris.instrument_all()  # coverage feedback from kg's (already imported) Python code
    corpus = args.corpus or Path(tempfile.mkdtemp(prefix="kg-fuzz-"))
    seed_corpus(corpus)
    libfuzzer = [sys.argv[0], f"-max_total_time={args.seconds}", f"-max_len={MAX_LEN}",
                 "-timeout=20", "-rss_limit_mb=2048", str(corpus)]
    atheris.Setup(libfuzzer, _one_input)
    atheris.Fuzz()  # exits the process: 0 when the budget ran out, non-zero on a finding
    return 0


if __name__ == "__main__":
    sys.exit(main())
