"""JSON-LD canonicalisation (RDFC-1.0) over contexts bundled with Cadre.

What gets signed is the RDF a credential means, not its JSON bytes. That is only safe when
(1) every context comes from this package, never from the network at verification time,
(2) every field the issuer wrote is defined by those contexts, because JSON-LD silently drops
undefined fields, and a dropped field would be shown to people yet never signed, and
(3) a crafted input cannot make canonicalisation run for ever.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
OB_V3P0_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"

# URL -> file in contexts/ (provenance of each file: contexts/SOURCES.md)
BUNDLED_CONTEXTS: dict[str, str] = {
    CREDENTIALS_V2: "credentials-v2.json",
    CREDENTIALS_EXAMPLES_V2: "credentials-examples-v2.json",
    OB_V3P0_CONTEXT: "ob-v3p0-context-3.0.3.json",
    DATA_INTEGRITY_V2: "data-integrity-v2.json",
    MULTIKEY_V1: "multikey-v1.json",
    DID_V1: "did-v1.json",
}

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")  # N-Quads LANGTAG
# Characters an IRIREF may not contain (RDF 1.1 N-Quads); PyLD would write them out unescaped.
_BAD_IRI_CHARS = re.compile(r'[\x00-\x20<>"{}|^`\\]')


class JsonLdError(ValueError):
    """The document cannot be canonicalised; the message says why, in plain words."""


class UndefinedFieldError(JsonLdError):
    """A field or value no bundled context defines: it would not be signed, so it is refused."""

    def __init__(self, message: str, fields: list[str]):
        self.fields = fields
        super().__init__(message)


class DocumentTooComplexError(JsonLdError):
    """The document exceeds a size, depth or canonicalisation-work limit."""


@dataclass(frozen=True)
class Limits:
    """Bounds that keep canonicalisation cheap whatever the input. Real credentials sit far below them."""

    max_bytes: int = 1024 * 1024  # room for an embedded badge image as a data: URI
    max_depth: int = 32
    max_values: int = 4_000  # JSON objects, arrays and scalars together
    # PyLD de-duplicates each property's values pairwise while building RDF: cost grows with the
    # square of an array's length (20,000 items took minutes), so arrays stay short.
    max_array_items: int = 100
    max_blank_nodes: int = 64
    max_quads: int = 4_000
    # RDFC-1.0 step budget: one unit per Hash N-Degree Quads call plus the permutations it will try.
    max_work: int = 20_000


DEFAULT_LIMITS = Limits()


def load_context(url: str) -> dict[str, Any]:
    """The bundled context for url, or JsonLdError: no context is ever fetched at run time."""
    filename = BUNDLED_CONTEXTS.get(url)
    if filename is None:
        raise JsonLdError(f"JSON-LD context {url!r} is not one Cadre knows; contexts are never fetched")
    return json.loads((CONTEXTS_DIR / filename).read_text(encoding="utf-8"))


def document_loader(url: str, options: dict | None = None) -> dict[str, Any]:
    """PyLD document loader that serves only bundled contexts and raises for anything else."""
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": load_context(url)}


# Resolved contexts are cached here rather than in PyLD's process-wide cache, which another
# caller with a network loader could fill with a different copy of the same URL.
_resolved_contexts: dict = {}


def _options() -> dict[str, Any]:
    return {
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_resolved_contexts, document_loader),
        # None, not '': PyLD resolves relative IRIs against an invented base otherwise,
        # putting made-up IRIs into the signed data.
        "base": None,
        "processingMode": "json-ld-1.1",
    }


def check_limits(doc: Any, limits: Limits = DEFAULT_LIMITS) -> None:
    """Refuse documents too big or too deep to handle, before any JSON-LD processing."""
    try:
        size = len(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode())
    except (TypeError, ValueError) as exc:
        raise JsonLdError(f"the document is not plain JSON: {exc}") from None
    if size > limits.max_bytes:
        raise DocumentTooComplexError(f"the document is {size} bytes; the limit is {limits.max_bytes}")
    values = 0
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:  # iterative, so a deep document cannot exhaust Python's recursion limit
        value, depth = stack.pop()
        values += 1
        if depth > limits.max_depth:
            raise DocumentTooComplexError(f"the document nests deeper than {limits.max_depth} levels")
        if values > limits.max_values:
            raise DocumentTooComplexError(f"the document holds more than {limits.max_values} values")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            if len(value) > limits.max_array_items:
                raise DocumentTooComplexError(f"a list in the document has more than {limits.max_array_items} items")
            stack.extend((v, depth + 1) for v in value)


def check_contexts(doc: dict[str, Any]) -> list[str]:
    """The document's @context as a list of bundled URLs; inline or nested contexts are refused.

    An inline context could define any term (even a catch-all @vocab), so it would defeat the
    check that every field is defined by a known vocabulary.
    """
    ctx = doc.get("@context")
    if ctx is None:
        raise JsonLdError("the document has no @context")
    urls = ctx if isinstance(ctx, list) else [ctx]
    for url in urls:
        if not isinstance(url, str):
            raise JsonLdError("inline @context objects are not accepted; use only published context URLs")
        if url not in BUNDLED_CONTEXTS:
            raise JsonLdError(f"JSON-LD context {url!r} is not one Cadre knows; contexts are never fetched")
    stack = [v for k, v in doc.items() if k != "@context"]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if "@context" in value:
                raise JsonLdError("a nested @context is not accepted; put all contexts at the top of the document")
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return urls


def _key_paths(doc: Any, key: str, path: str = "") -> list[str]:
    """Where key occurs in doc, as dotted paths, to name a refused field precisely."""
    found: list[str] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            here = f"{path}.{k}" if path else k
            if k == key:
                found.append(here)
            found.extend(_key_paths(v, key, here))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found.extend(_key_paths(v, key, f"{path}[{i}]"))
    return found


def _check_iri(iri: Any, what: str) -> None:
    if not isinstance(iri, str) or not (iri.startswith("_:") or _ABSOLUTE_IRI.match(iri)):
        # A relative IRI is dropped when JSON-LD becomes RDF: the value would go unsigned.
        raise UndefinedFieldError(
            f"{what} {iri!r} is neither a term the credential's JSON-LD contexts define nor an absolute IRI, "
            "so it could not be signed",
            [str(iri)],
        )
    if _BAD_IRI_CHARS.search(iri):
        raise JsonLdError(f"{what} {iri!r} is not a valid IRI (it contains a space or a reserved character)")


def _check_expanded(node: Any) -> None:
    """Every @id and @type in expanded JSON-LD must be an absolute IRI; otherwise it would vanish."""
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        if "@index" in value:
            raise UndefinedFieldError("an @index annotation is not supported: it could not be signed", [])
        if "@value" in value:
            datatype = value.get("@type")
            if datatype is not None and datatype != "@json":
                _check_iri(datatype, "datatype")
            if "@language" in value and not _LANGUAGE_TAG.match(str(value["@language"])):
                raise JsonLdError(f"language tag {value['@language']!r} is not well-formed")
            if "@direction" in value:
                # Without an rdfDirection mode JSON-LD drops the direction: it would not be signed.
                raise UndefinedFieldError("text direction (@direction) is not supported: it could not be signed", [])
            continue
        if "@id" in value:
            _check_iri(value["@id"], "identifier")
        for type_iri in value.get("@type", []):
            _check_iri(type_iri, "type")
        for key, child in value.items():
            if not key.startswith("@"):
                _check_iri(key, "property")
            if key not in ("@id", "@type"):
                stack.append(child)


def expand_strict(doc: dict[str, Any]) -> list[Any]:
    """Expand doc with the bundled contexts, refusing any field they do not define."""
    check_contexts(doc)
    nulls = _null_paths(doc)
    if nulls:
        # JSON-LD reads null as "no value", so a null could be added to a signed credential unnoticed.
        raise UndefinedFieldError(
            f"{', '.join(nulls)} is null; null values cannot be signed, leave the field out", nulls
        )
    dropped: list[str] = []
    try:
        expanded = jsonld.expand(doc, _options(), on_property_dropped=lambda prop: dropped.append(str(prop)))
    except jsonld.JsonLdError as exc:
        raise JsonLdError(f"the document is not valid JSON-LD: {_root_cause(exc)}") from exc
    if dropped:
        # PyLD reports a key that merely looks like a keyword ("@foo") as None: find it ourselves.
        names = sorted({name for name in dropped if name != "None"} | _unknown_keywords(doc))
        located = "; ".join(f"'{name}' (at {', '.join(_key_paths(doc, name)) or 'an unknown place'})" for name in names)
        raise UndefinedFieldError(
            f"field {located} is not defined by the credential's JSON-LD contexts, so it could not be signed; "
            "remove it or use a term the contexts define",
            names,
        )
    _check_expanded(expanded)
    return expanded


def _null_paths(doc: Any, path: str = "") -> list[str]:
    if doc is None:
        return [path or "the document"]
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in _null_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in _null_paths(v, f"{path}[{i}]")]
    return []


def _unknown_keywords(doc: Any) -> set[str]:
    found: set[str] = set()
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            found.update(k for k in value if k.startswith("@") and k not in _JSONLD_KEYWORDS)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


_JSONLD_KEYWORDS = frozenset(jsonld.KEYWORDS)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc).splitlines()[0]


def _escape_literal(value: str) -> str:
    """RDFC-1.0 Appendix A escaping (PyLD 3.3.0 still escapes the URDNA2015 way)."""
    out = []
    for ch in value:
        if ch in _ECHAR:
            out.append(_ECHAR[ch])
        elif ch < " " or ch == "\x7f":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _term(component: dict[str, Any]) -> str:
    if component["type"] == "IRI":
        return f"<{component['value']}>"
    if component["type"] == "blank node":
        return component["value"]
    literal = f'"{_escape_literal(component["value"])}"'
    if component["datatype"] == RDF_LANGSTRING:
        return f"{literal}@{component['language']}"
    if component["datatype"] != XSD_STRING:
        return f"{literal}^^<{component['datatype']}>"
    return literal


def serialize_quad(quad: dict[str, Any]) -> str:
    """One quad in canonical N-Quads form (RDFC-1.0 Appendix A), newline included."""
    parts = [_term(quad["subject"]), _term(quad["predicate"]), _term(quad["object"])]
    if quad.get("name") is not None:
        parts.append(_term(quad["name"]))
    return " ".join(parts) + " .\n"


class _RDFC10(URDNA2015):
    """PyLD's URDNA2015 with RDFC-1.0 literal escaping and a work budget (RDFC-1.0 §4.4.3 asks
    implementations to defend against poisoned datasets by stopping early)."""

    def __init__(self, max_work: int):
        super().__init__()
        self.work_left = max_work

    def create_hash_to_related(self, id_, issuer):
        related = super().create_hash_to_related(id_, issuer)
        # Hash N-Degree Quads tries every permutation of each group of look-alike blank nodes:
        # count that cost before paying it.
        cost = 1
        for group in related.values():
            cost += math.factorial(len(group)) if len(group) < 20 else self.work_left + 1
        self.work_left -= cost
        if self.work_left < 0:
            raise DocumentTooComplexError(
                "the document's blank nodes are too alike to canonicalise within the work limit"
            )
        return related

    def hash_first_degree_quads(self, id_):
        info = self.blank_node_info[id_]
        if "hash" not in info:
            nquads = []
            for quad in info["quads"]:
                copy = {
                    key: (component if key == "predicate" else self.modify_first_degree_component(id_, component, key))
                    for key, component in quad.items()
                }
                nquads.append(serialize_quad(copy))
            info["hash"] = self.hash_nquads(sorted(nquads))
        return info["hash"]

    def canonical_nquads(self, dataset: dict[str, list]) -> str:
        # PyLD relabels the blank nodes of self.quads in place; serialise them again our way.
        self.main(dataset, {"format": "application/n-quads"})
        return "".join(sorted(serialize_quad(quad) for quad in self.quads))


def canonicalize(doc: dict[str, Any], limits: Limits = DEFAULT_LIMITS) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, using bundled contexts only.

    Raises UndefinedFieldError for any field the contexts do not define, DocumentTooComplexError
    when a limit is exceeded and JsonLdError for anything else that is not valid JSON-LD.
    """
    if not isinstance(doc, dict):
        raise JsonLdError("a JSON-LD document must be a JSON object")
    check_limits(doc, limits)
    # The same document always canonicalises the same way, and a verify page re-checks the same
    # credential and status list on every view: remember recent results (errors are not cached).
    try:
        key = json.dumps(doc, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return _canonicalize(doc, limits)
    return _canonicalize_cached(key, limits)


@lru_cache(maxsize=256)
def _canonicalize_cached(key: str, limits: Limits) -> str:
    return _canonicalize(json.loads(key), limits)


def _canonicalize(doc: dict[str, Any], limits: Limits) -> str:
    expanded = expand_strict(doc)
    try:
        dataset = jsonld.to_rdf(expanded, {"base": None, "documentLoader": document_loader})
    except jsonld.JsonLdError as exc:
        raise JsonLdError(f"the document cannot be read as RDF: {_root_cause(exc)}") from exc
    quads = [quad for triples in dataset.values() for quad in triples]
    if len(quads) > limits.max_quads:
        raise DocumentTooComplexError(f"the document makes {len(quads)} statements; the limit is {limits.max_quads}")
    blank_nodes = {
        component["value"]
        for quad in quads
        for component in (quad["subject"], quad["object"])
        if component["type"] == "blank node"
    } | {name for name in dataset if name.startswith("_:")}
    if len(blank_nodes) > limits.max_blank_nodes:
        raise DocumentTooComplexError(
            f"the document has {len(blank_nodes)} unnamed nodes; the limit is {limits.max_blank_nodes}"
        )
    return _RDFC10(limits.max_work).canonical_nquads(dataset)
