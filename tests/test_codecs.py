"""The wire codecs: round trips over generated documents (hypothesis), where each format's known
exceptions to the round trip are stated as examples, and examples pinned to what real clients send and
read (stripe-python's own encoder, PAYONE's documented answers, pretix's and woocommerce's readers)."""

from __future__ import annotations

import ast
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stripe._encode import _api_encode

import kasse.codecs
from kasse.codecs import bracket, jsonwire, keyvalue
from kasse.domain.errors import InvalidRequest
from kasse.domain.money import CURRENCY_EXPONENTS, major_to_minor, minor_to_major

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)  # any text UTF-8 can carry

# -- the layer ------------------------------------------------------------------------------------------


def test_codecs_import_only_the_standard_library_and_the_domain() -> None:
    offenders = []
    for path in sorted(Path(kasse.codecs.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                inside = name.startswith(("kasse.domain", "kasse.codecs"))
                if not inside and name.split(".")[0] not in sys.stdlib_module_names | {"__future__"}:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


# -- Stripe's bracket form ------------------------------------------------------------------------------

KEY = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="[]"), min_size=1, max_size=6)
# A hash whose keys are all ASCII digits decodes as a list (see the examples below), so generated hash
# keys are never all digits.
HASH_KEY = KEY.filter(lambda k: not (k.isascii() and k.isdigit()))


def _form_docs(leaf: st.SearchStrategy[Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
    """Non-empty hashes and lists, at most ``depth`` names deep (the decoder's limit is 5)."""
    node: st.SearchStrategy[Any] = leaf
    for _ in range(depth - 1):
        inner = node
        node = st.one_of(
            leaf,
            st.lists(inner, min_size=1, max_size=4),
            st.dictionaries(HASH_KEY, inner, min_size=1, max_size=4),
        )
    return st.dictionaries(HASH_KEY, node, max_size=5)


def _stripe_python(params: dict[str, Any]) -> str:
    # What stripe-python 16 puts in the body (_api_requestor.py: urlencode(list(_api_encode(params))) and
    # brackets turned back into literals).
    return urlencode(list(_api_encode(params))).replace("%5B", "[").replace("%5D", "]")


@given(_form_docs(TEXT, depth=5))
def test_bracket_form_round_trips(doc: dict[str, Any]) -> None:
    assert bracket.decode_bracket_form(bracket.encode_bracket_form(doc)) == doc


SCALAR = st.one_of(TEXT, st.integers(), st.booleans(), st.decimals(allow_nan=False, allow_infinity=False))


def _as_form_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_form_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_form_strings(v) for v in value]
    return str(value).lower() if isinstance(value, bool) else str(value)


@given(_form_docs(SCALAR, depth=5))
def test_bracket_form_scalars_come_back_as_their_strings(doc: dict[str, Any]) -> None:
    assert bracket.decode_bracket_form(bracket.encode_bracket_form(doc)) == _as_form_strings(doc)


# stripe-python writes booleans and None inside lists as "True"/"None" (see encode_bracket_pairs), so the
# comparison with the SDK's encoder keeps those to hash values.
SDK_DOC = st.dictionaries(
    HASH_KEY,
    st.one_of(
        TEXT,
        st.integers(),
        st.booleans(),
        st.none(),
        st.lists(st.one_of(TEXT, st.integers()), max_size=3),
        st.dictionaries(HASH_KEY, st.one_of(TEXT, st.booleans(), st.none(), st.lists(TEXT, max_size=2)), max_size=3),
        st.lists(st.dictionaries(HASH_KEY, TEXT, max_size=2), max_size=2),
    ),
    max_size=5,
)


@given(SDK_DOC)
def test_bracket_encoder_writes_what_stripe_python_writes(doc: dict[str, Any]) -> None:
    assert bracket.encode_bracket_form(doc) == _stripe_python(doc)


def test_a_stripe_python_source_body_encodes_and_decodes_as_documented() -> None:
    params = {
        "type": "sofort", "amount": 1099, "currency": "eur", "redirect": {"return_url": "https://shop/ret"},
        "sofort": {"country": "DE", "preferred_language": "de"}, "statement_descriptor": "ORDER 1",
        "owner": {"email": "a@b.de", "name": "Jenny"}, "metadata": None, "expand": ["source", "balance"],
        "livemode": False,
    }  # fmt: skip
    body = (  # shared/reference/clients.md §2.2, recorded from stripe-python 16.1.0, plus expand and livemode
        "type=sofort&amount=1099&currency=eur&redirect[return_url]=https%3A%2F%2Fshop%2Fret&sofort[country]=DE"
        "&sofort[preferred_language]=de&statement_descriptor=ORDER+1&owner[email]=a%40b.de&owner[name]=Jenny"
        "&expand[0]=source&expand[1]=balance&livemode=false"
    )
    assert _stripe_python(params) == body
    assert bracket.encode_bracket_form(params) == body
    assert bracket.decode_bracket_form(body) == {
        "type": "sofort", "amount": "1099", "currency": "eur", "redirect": {"return_url": "https://shop/ret"},
        "sofort": {"country": "DE", "preferred_language": "de"}, "statement_descriptor": "ORDER 1",
        "owner": {"email": "a@b.de", "name": "Jenny"}, "expand": ["source", "balance"], "livemode": "false",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("doc", "decoded"),
    [
        ({"a": {"0": "x", "1": "y"}}, {"a": ["x", "y"]}),  # an all-digit hash is a list
        ({"a": {"1": "y", "0": "x"}}, {"a": ["x", "y"]}),  # ... in index order
        ({"a": [], "b": {}, "c": None, "d": "kept"}, {"d": "kept"}),  # nothing is sent for these
        ({"a": [{}, "x"]}, {"a": ["x"]}),  # so an empty element shifts the indices after it
        ({"a": Decimal("10.10"), "b": -5, "c": True}, {"a": "10.10", "b": "-5", "c": "true"}),
        ({"0": "x", "1": "y"}, {"0": "x", "1": "y"}),  # the top level stays a hash
        ({"q": "a[b]=c&d"}, {"q": "a[b]=c&d"}),  # a bracket in a value is sent literal and read back
    ],
)
def test_bracket_form_exceptions_to_the_round_trip(doc: dict[str, Any], decoded: dict[str, Any]) -> None:
    assert bracket.decode_bracket_form(bracket.encode_bracket_form(doc)) == decoded


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ({"a[b]": "x"}, ValueError),
        ({"a": {"": "x"}}, ValueError),
        ({"a": ["x", None]}, ValueError),
        ({"a": 1.5}, TypeError),
        ({"a": Decimal("NaN")}, ValueError),
        ({"a": object()}, TypeError),
    ],
)
def test_bracket_encoder_refuses_what_the_form_cannot_carry(doc: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        bracket.encode_bracket_form(doc)


@pytest.mark.parametrize("body", [b"a=\xff", "a[b]%0A=1"])
def test_bracket_decoder_refuses_cleanly(body: str | bytes) -> None:
    # Invalid UTF-8; a newline after the last bracket (a "$" match would have dropped it silently).
    with pytest.raises(InvalidRequest):
        bracket.decode_bracket_form(body)


def test_a_unicode_digit_key_is_a_hash_key() -> None:
    # "²" is a digit to str.isdigit() but not to int(): only ASCII digits make an index.
    assert bracket.decode_bracket_form("a[%C2%B2]=x&a[1]=y") == {"a": {"²": "x", "1": "y"}}


# -- PAYONE key=value -----------------------------------------------------------------------------------

LINE_KEY = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="=\r\n"), min_size=1).filter(
    lambda k: k == k.strip()
)
LINE_VALUE = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"))
LINES = st.dictionaries(LINE_KEY, LINE_VALUE, max_size=8)


@given(LINES)
def test_key_value_lines_round_trip(fields: dict[str, str]) -> None:
    assert keyvalue.decode_lines(keyvalue.encode_lines(fields)) == fields


def _woocommerce_reads(text: str) -> dict[str, str]:
    # woocommerce-3 Request::createResponse: explode("\n"), explode("=") without a limit, PHP's trim().
    fields = {}
    for line in text.split("\n"):
        pieces = [piece.strip(PHP_TRIM) for piece in line.split("=")]
        if pieces[0]:
            fields[pieces[0]] = pieces[1] if len(pieces) > 1 else ""
    return fields


def _commercetools_reads(text: str) -> dict[str, str]:
    # commercetools PayonePostServiceImpl.buildMapFromResultParams: URL-decodes all but redirecturl.
    pairs = (line.split("=", 1) for line in text.replace("\r\n", "\n").split("\n") if line)
    return {k: v if k == "redirecturl" else unquote_plus(v) for k, v in pairs}


PHP_TRIM = " \t\n\r\0\x0b"
PLAIN_VALUE = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="=%+" + PHP_TRIM))


PAYONE_KEY = st.from_regex(r"[a-z_]{1,12}(\[[a-z_0-9]{1,12}\])?", fullmatch=True).filter(lambda k: k != "redirecturl")


@given(st.dictionaries(PAYONE_KEY, PLAIN_VALUE, max_size=6))
def test_values_without_equals_percent_plus_or_blanks_read_alike_in_every_client(fields: dict[str, str]) -> None:
    text = keyvalue.encode_lines(fields)
    assert _woocommerce_reads(text) == fields
    assert _commercetools_reads(text) == fields


def test_key_value_encoder_keeps_special_characters_verbatim_and_refuses_line_breaks() -> None:
    text = keyvalue.encode_lines({"redirecturl": "https://k/pay?t=a%2Bb+c", "customermessage": " 50% = half "})
    assert text == "redirecturl=https://k/pay?t=a%2Bb+c\ncustomermessage= 50% = half \n"
    assert keyvalue.decode_lines(text) == {"redirecturl": "https://k/pay?t=a%2Bb+c", "customermessage": " 50% = half "}
    # What the clients make of it: the reason dialects keep "=", "%", "+" out of plain values.
    assert _woocommerce_reads(text)["redirecturl"] == "https://k/pay?t"
    assert _commercetools_reads(text)["customermessage"] == " 50% = half "
    for bad in ({"errormessage": "two\nlines"}, {"errormessage": "cr\r"}, {"a=b": "x"}, {"": "x"}, {" a": "x"}):
        with pytest.raises(ValueError):
            keyvalue.encode_lines(bad)


def test_documented_payone_answers_decode_as_the_docs_say() -> None:
    # seed 003 (Klarna via PAYONE), the preauthorization answer and the start_session answer.
    redirect = "status=REDIRECT\nredirecturl=http://www.aliasregistrationpage.com\ntxid=345678901\nuserid=123456789\n"
    assert keyvalue.decode_lines(redirect) == {
        "status": "REDIRECT", "redirecturl": "http://www.aliasregistrationpage.com", "txid": "345678901",
        "userid": "123456789",
    }  # fmt: skip
    session = (
        "status=APPROVED\r\nadd_paydata[client_token]=eyJhbGciOiJSUzI1NiJ9.ewogICJzZXNzaW9uX2lkIiA6IC==.gD6X\r\n"
        "add_paydata[payment_method_category_identifier]=pay_over_time\r\nadd_paydata[session_id]=47a35b08\r\n"
        "add_paydata[payment_method_category_name]=Slice it.\r\nworkorderid=WX1A37YBGD9D11DK\r\n"
    )
    fields = keyvalue.decode_lines(session)
    assert fields["add_paydata[client_token]"].endswith("IC==.gD6X")  # split at the first "=" only
    assert keyvalue.group(fields, "add_paydata") == {
        "client_token": "eyJhbGciOiJSUzI1NiJ9.ewogICJzZXNzaW9uX2lkIiA6IC==.gD6X",
        "payment_method_category_identifier": "pay_over_time", "session_id": "47a35b08",
        "payment_method_category_name": "Slice it.",
    }  # fmt: skip
    error = "status=ERROR\nerrorcode=1202\nerrormessage=Parameter {request} faulty or missing\n"
    assert keyvalue.decode_lines(error)["errormessage"] == "Parameter {request} faulty or missing"
    for bad in ("status=OK\ngarbage\n", "txid=1\ntxid=2\n"):
        with pytest.raises(ValueError):
            keyvalue.decode_lines(bad)


# -- PAYONE requests ------------------------------------------------------------------------------------

FORM = st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), min_size=1), TEXT, max_size=8)


@given(FORM)
def test_payone_form_round_trips(form: dict[str, str]) -> None:
    assert keyvalue.decode_form(keyvalue.encode_form(form)) == form


def test_a_klarna_start_session_request_decodes_into_groups_and_line_items() -> None:
    # seed 003 start_session, as python-requests (pretix) or PHP's http_build_query encodes it.
    sent = {
        "request": "genericpayment", "clearingtype": "fnc", "financingtype": "KIS",
        "add_paydata[action]": "start_session", "amount": 3000, "currency": "EUR", "street": "Hellersbergstraße 14",
        "de[1]": "for the feet", "id[1]": "socks1",
        "it[1]": "goods", "no[1]": 1, "pr[1]": 2340, "va[1]": 1900, "it[2]": "shipment", "pr[2]": 490,
    }  # fmt: skip
    body = keyvalue.encode_form(sent)
    assert "add_paydata%5Baction%5D=start_session" in body
    form = keyvalue.decode_form(body.encode())
    assert form["amount"] == "3000" and form["street"] == "Hellersbergstraße 14"
    assert keyvalue.group(form, "add_paydata") == {"action": "start_session"}
    assert keyvalue.indexed(form, ("it", "id", "pr", "no", "de", "va")) == {
        1: {"it": "goods", "id": "socks1", "pr": "2340", "no": "1", "de": "for the feet", "va": "1900"},
        2: {"it": "shipment", "pr": "490"},
    }
    literal = keyvalue.decode_form("add_paydata[action]=start_session&it[1]=goods")
    assert literal == {"add_paydata[action]": "start_session", "it[1]": "goods"}


@pytest.mark.parametrize("body", ["a=1&a=2", b"a=\xff"])
def test_payone_form_decoder_refuses_ambiguous_bodies(body: str | bytes) -> None:
    with pytest.raises(InvalidRequest):
        keyvalue.decode_form(body)


def test_line_item_indices_are_whole_numbers() -> None:
    for form in ({"it[x]": "goods"}, {"it[1]": "goods", "it[01]": "shipment"}, {"it[-1]": "goods"}):
        with pytest.raises(InvalidRequest):
            keyvalue.indexed(form, ("it",))
    with pytest.raises(TypeError):
        keyvalue.encode_form({"amount": 10.5})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("accept", "shape"),
    [
        ("application/json", "json"),
        ("text/html, application/json;q=0.5", "json"),
        ("Application/JSON; charset=utf-8", "json"),
        ("application/json;q=0", "lines"),
        ("*/*", "lines"),
        ("", "lines"),
        (None, "lines"),
        ("text/plain", "lines"),
    ],
)
def test_the_answer_shape_follows_accept(accept: str | None, shape: str) -> None:
    assert keyvalue.negotiate(accept) == shape


ANSWER_FIELD = st.sampled_from(sorted(keyvalue._FIELDS)) | KEY.map(lambda k: f"add_paydata[{k}]")


@given(st.dictionaries(ANSWER_FIELD, TEXT, max_size=8))
def test_camel_case_json_round_trips(fields: dict[str, str]) -> None:
    assert keyvalue.from_camel(keyvalue.to_camel(fields)) == fields
    assert keyvalue.decode_json(keyvalue.encode_json(fields)) == fields


def test_camel_case_json_has_the_shape_pretix_and_shopware_read() -> None:
    assert keyvalue.to_camel({"status": "REDIRECT", "txid": "1", "userid": "2", "redirecturl": "https://k/p"}) == {
        "Status": "REDIRECT", "TxId": "1", "UserId": "2", "RedirectUrl": "https://k/p",
    }  # fmt: skip
    error = {"status": "ERROR", "errorcode": "1202", "errormessage": "faulty", "customermessage": "Sorry"}
    assert keyvalue.encode_json(error) == (
        '{"Status":"ERROR","Error":{"ErrorCode":"1202","ErrorMessage":"faulty","CustomerMessage":"Sorry"}}'
    )
    session = {"status": "OK", "workorderid": "WX1", "add_paydata[client_token]": "ey", "add_paydata[session_id]": "s"}
    assert keyvalue.to_camel(session) == {
        "Status": "OK", "WorkOrderId": "WX1", "AddPayData": {"client_token": "ey", "session_id": "s"},
    }  # fmt: skip
    with pytest.raises(ValueError):
        keyvalue.to_camel({"clearing_bankiban": "DE00"})  # no confirmed JSON name: refused, not guessed
    for bad in ('{"Status": 1}', '{"Nope": "x"}', '["Status"]'):
        with pytest.raises(ValueError):
            keyvalue.decode_json(bad)


# -- JSON with exact money ------------------------------------------------------------------------------

# Decimal("-0") is written "-0", which JSON reads as the integer 0 (an example below); the generated
# documents leave it out so that the text-stability property holds.
DECIMAL = st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: str(d) != "-0")
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), TEXT, DECIMAL)
JSON_DOC = st.recursive(
    JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@given(JSON_DOC, st.booleans())
def test_json_round_trips_exactly(doc: Any, compact: bool) -> None:
    text = jsonwire.dumps(doc, compact=compact)
    assert jsonwire.loads(text) == doc
    # Text-stable: what was read writes the same number text again, trailing zeros and exponents kept.
    assert jsonwire.dumps(jsonwire.loads(text), compact=compact) == text


@given(st.integers(-(10**15), 10**15), st.sampled_from(sorted(CURRENCY_EXPONENTS)))
def test_money_crosses_json_exactly(amount_minor: int, currency: str) -> None:
    text = jsonwire.dumps({"amount": minor_to_major(amount_minor, currency)})
    assert major_to_minor(jsonwire.loads(text)["amount"], currency) == amount_minor


def test_json_money_examples() -> None:
    assert jsonwire.dumps({"amount": minor_to_major(1010, "EUR"), "amount_minor": 1010}) == (
        '{"amount":10.10,"amount_minor":1010}'
    )
    assert jsonwire.dumps({"a": Decimal("0.1"), "b": [1, None]}, compact=False) == '{"a": 0.1, "b": [1, null]}'
    assert jsonwire.dumps(minor_to_major(1234, "KWD")) == "1.234"
    assert jsonwire.dumps(minor_to_major(500, "JPY")) == "500"
    assert jsonwire.loads('{"amount": 10.10}') == {"amount": Decimal("10.10")}
    # A Decimal without point or exponent is a JSON integer: it reads back as an int of equal value.
    assert jsonwire.loads(jsonwire.dumps([Decimal("5"), Decimal("-0"), Decimal("5E+1")])) == [5, 0, Decimal("50")]
    assert jsonwire.dumps(jsonwire.loads(jsonwire.dumps(Decimal("5E+1")))) == "5E+1"
    assert str(jsonwire.loads("10.10")) == "10.10"
    assert jsonwire.loads("0.1") + jsonwire.loads("0.2") == Decimal("0.3")
    assert jsonwire.dumps("Straße €") == '"Straße €"'
    assert jsonwire.dumps("Straße", ensure_ascii=True) == '"Stra\\u00dfe"'


@pytest.mark.parametrize("value", [0.1, float("nan"), {"a": [1.5]}, {1: "x"}, {"a": object()}, b"x"])
def test_json_refuses_floats_and_what_json_cannot_hold(value: Any) -> None:
    with pytest.raises(TypeError):
        jsonwire.dumps(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("sNaN")])
def test_json_refuses_decimal_non_numbers(value: Decimal) -> None:
    with pytest.raises(ValueError):
        jsonwire.dumps(value)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "{", "1 2"])
def test_json_decoder_refuses_non_numbers_and_bad_syntax(text: str) -> None:
    with pytest.raises(ValueError):
        jsonwire.loads(text)
