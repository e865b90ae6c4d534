"""Canonicalisation refuses what it could not sign faithfully, and stays cheap on hostile input."""

from __future__ import annotations

import hashlib

import pytest

from api.certificates import jsonld
from api.certificates.jsonld import (
    CREDENTIALS_EXAMPLES_V2,
    CREDENTIALS_V2,
    DocumentTooComplexError,
    JsonLdError,
    UndefinedFieldError,
    canonicalize,
)

from .conftest import make_credential


def test_every_bundled_context_loads_and_ships_with_the_package():
    for url, filename in jsonld.BUNDLED_CONTEXTS.items():
        assert (jsonld.CONTEXTS_DIR / filename).is_file()
        assert "@context" in jsonld.load_context(url)


def test_loader_never_fetches_an_unknown_context():
    with pytest.raises(JsonLdError, match="never fetched"):
        jsonld.document_loader("https://evil.example/context.json")


def test_unknown_context_url_is_refused():
    doc = {"@context": [CREDENTIALS_V2, "https://evil.example/ctx"], "type": "VerifiableCredential"}
    with pytest.raises(JsonLdError, match="evil.example"):
        canonicalize(doc)


def test_inline_and_nested_contexts_are_refused():
    with pytest.raises(JsonLdError, match="inline"):
        canonicalize({"@context": [CREDENTIALS_V2, {"@vocab": "https://evil.example/#"}], "x": 1})
    with pytest.raises(JsonLdError, match="nested"):
        canonicalize({"@context": CREDENTIALS_V2, "credentialSubject": {"@context": {"x": "urn:x"}, "x": 1}})


def test_undefined_field_is_named_with_its_place(issuer):
    credential = make_credential(issuer)
    credential["credentialSubject"]["grade"] = "A+"
    with pytest.raises(UndefinedFieldError) as info:
        canonicalize(credential)
    assert info.value.fields == ["grade"]
    assert "'grade' (at credentialSubject.grade)" in str(info.value)


def test_keyword_lookalike_and_undefined_type_are_refused(issuer):
    credential = make_credential(issuer)
    credential["@comment"] = "not a JSON-LD keyword"
    with pytest.raises(UndefinedFieldError, match="@comment"):
        canonicalize(credential)
    credential = make_credential(issuer)
    credential["type"].append("PlatinumCredential")
    with pytest.raises(UndefinedFieldError, match="PlatinumCredential"):
        canonicalize(credential)


def test_relative_identifier_would_vanish_so_it_is_refused(issuer):
    credential = make_credential(issuer)
    credential["credentialSubject"]["achievement"]["id"] = "awards/data-analysis"
    with pytest.raises(UndefinedFieldError, match="awards/data-analysis"):
        canonicalize(credential)


def test_literal_escaping_follows_rdfc_1_0_not_urdna2015():
    doc = {
        "@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2],
        "id": "urn:uuid:1",
        "note": 'a\bb\tc\nd\fe\rf"g\\h\x01i\x7fj é',
    }
    (line,) = canonicalize(doc).splitlines()
    assert line == (
        "<urn:uuid:1> <https://www.w3.org/ns/credentials/examples#note> "
        '"a\\bb\\tc\\nd\\fe\\rf\\"g\\\\h\\u0001i\\u007Fj é" .'
    )


def test_blank_node_labels_are_issued_from_rdfc_escaped_hashes():
    # Two unnamed nodes that differ only by a control character. RDFC-1.0 labels them in the order
    # of the hashes of their quads written with RDFC-1.0 escaping; the URDNA2015 way of writing
    # those characters orders these two the other way round.
    predicate = "<https://www.w3.org/ns/credentials/examples#v>"
    backspace_hash = hashlib.sha256(f'_:a {predicate} "x\\by" .\n'.encode()).hexdigest()
    formfeed_hash = hashlib.sha256(f'_:a {predicate} "x\\fy" .\n'.encode()).hexdigest()
    assert backspace_hash < formfeed_hash
    doc = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2], "item": [{"v": "x\fy"}, {"v": "x\by"}]}

    lines = canonicalize(doc).splitlines()

    label = {line.split()[2]: line.split()[0] for line in lines if "#v>" in line}
    assert label['"x\\by"'] < label['"x\\fy"']


def test_oversized_document_is_refused_before_processing():
    doc = {"@context": CREDENTIALS_V2, "name": "x" * (1024 * 1024 + 1)}
    with pytest.raises(DocumentTooComplexError, match="bytes"):
        canonicalize(doc)


def test_deeply_nested_document_is_refused():
    doc: dict = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2]}
    node = doc
    for _ in range(100):
        node["child"] = {}
        node = node["child"]
    with pytest.raises(DocumentTooComplexError, match="deeper"):
        canonicalize(doc)


def test_too_many_unnamed_nodes_is_refused():
    doc = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2], "item": [{"n": str(i)} for i in range(100)]}
    with pytest.raises(DocumentTooComplexError, match="unnamed nodes"):
        canonicalize(doc)


def test_look_alike_blank_nodes_cannot_make_canonicalisation_explode():
    # A clique of indistinguishable unnamed nodes: RDFC-1.0 would try n! orderings.
    names = [f"_:n{i}" for i in range(12)]
    nodes = [{"@id": name, "knows": [{"@id": other} for other in names if other != name]} for name in names]
    doc = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2], "@graph": nodes}
    with pytest.raises(DocumentTooComplexError, match="too alike"):
        canonicalize(doc)


def test_small_look_alike_groups_still_canonicalise_deterministically():
    names = [f"_:n{i}" for i in range(4)]
    nodes = [{"@id": name, "knows": [{"@id": other} for other in names if other != name]} for name in names]
    doc = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2], "@graph": nodes}
    reordered = dict(doc, **{"@graph": list(reversed(nodes))})
    assert canonicalize(doc) == canonicalize(reordered)
    assert "_:c14n3" in canonicalize(doc)


def test_long_lists_are_refused_before_quadratic_deduplication():
    # PyLD compares each value of a property with every other one: 20,000 items took minutes.
    doc = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2], "id": "urn:x", "v": [str(i) for i in range(20_000)]}
    with pytest.raises(DocumentTooComplexError, match="more than 100 items"):
        canonicalize(doc)


def test_too_many_values_are_refused():
    doc = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2], "id": "urn:x"}
    doc.update({f"p{k}": [str(i) for i in range(100)] for k in range(45)})
    with pytest.raises(DocumentTooComplexError, match="more than 4000 values"):
        canonicalize(doc)


def test_values_json_ld_would_silently_drop_are_refused(issuer):
    credential = make_credential(issuer)
    credential["validUntil"] = None
    with pytest.raises(UndefinedFieldError, match="validUntil is null"):
        canonicalize(credential)
    base = {"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2], "id": "urn:x"}
    with pytest.raises(UndefinedFieldError, match="@direction"):
        canonicalize(base | {"note": {"@value": "hi", "@direction": "rtl"}})
    with pytest.raises(JsonLdError, match="language tag"):
        canonicalize(base | {"note": {"@value": "hi", "@language": "en GB!"}})
    assert canonicalize(base | {"note": {"@value": "hi", "@language": "en"}}).endswith('"hi"@en .\n')
    with pytest.raises(JsonLdError, match="not plain JSON"):
        canonicalize(base | {"note": float("nan")})
    with pytest.raises(UndefinedFieldError, match="@index"):
        canonicalize(base | {"note": {"@value": "hi", "@index": "not signed"}})
