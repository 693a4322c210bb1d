"""The Server API's parameters and their formats, from seed 003 (and clients.md §4 for Sofort): every field
Kasse reads is checked here before anything is written, and a bad one is PAYONE's "Parameter {name}
faulty or missing" (errors.py). An empty value counts as not sent (shop plugins send empty optional
fields); parameters Kasse does not read (integrator_*, solution_*, invoicing fields) are ignored, as
PAYONE ignores what a request type does not use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from kasse.codecs import keyvalue
from kasse.dialects.payone.errors import parameter
from kasse.domain.errors import InvalidRequest

__all__ = ["CART_MAX", "Form", "cart", "check", "integer", "optional", "paydata", "required"]

CART_MAX = 400
AMOUNT_MAX = 1_999_999_999  # "max. +/- 19 999 999 99"
Form = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Fmt:
    low: int
    high: int
    pattern: str | None = None  # the whole value must match
    choices: frozenset[str] | None = None

    def problem(self, value: str) -> str | None:
        if not self.low <= len(value) <= self.high:
            return f"length must be {self.low}..{self.high}"
        if self.choices is not None and value not in self.choices:
            return "permitted values: " + ", ".join(sorted(self.choices))
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return "invalid format"
        return None


def _one_of(*values: str) -> Fmt:
    return Fmt(1, max(len(v) for v in values), choices=frozenset(values))


_URL = Fmt(2, 255, r"[a-zA-Z][a-zA-Z0-9]{1,9}://[^\s/?#]+[^\s]*")
_DATE = Fmt(8, 8, r"\d{8}")
_NUMBER = r"-?\d{1,10}"
# RFC 5322 as PAYONE checks it (seed 003): a user of at most 63 characters, a dotted domain.
_EMAIL = Fmt(5, 254, r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,63}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")

FIELDS: dict[str, Fmt] = {
    "request": _one_of("genericpayment", "preauthorization", "authorization", "capture", "debit", "refund"),
    "mid": Fmt(5, 5, r"\d{5}"),
    "aid": Fmt(5, 5, r"\d{5}"),
    "portalid": Fmt(7, 7, r"\d{7}"),
    "key": Fmt(1, 96, r"[\x21-\x7e]+"),
    "mode": _one_of("test", "live"),
    "api_version": Fmt(1, 10, r"\d+\.\d+"),
    "encoding": _one_of("UTF-8", "ISO-8859-1"),
    "amount": Fmt(1, 11, _NUMBER),
    "currency": Fmt(3, 3, r"[A-Z]{3}"),
    "clearingtype": _one_of("fnc", "sb"),
    "financingtype": _one_of("KIS", "KIV", "KDD", "KBT"),
    "onlinebanktransfertype": _one_of("PNT"),
    "bankcountry": _one_of("DE", "AT", "CH", "NL", "PL", "BE"),
    "workorderid": Fmt(1, 16, r"[A-Za-z0-9]+"),
    "txid": Fmt(9, 12, r"\d+"),
    "userid": Fmt(6, 12, r"\d+"),
    "customerid": Fmt(1, 20, r"[0-9a-zA-Z.\-_/]+"),
    "reference": Fmt(1, 20, r"[0-9a-zA-Z.\-_/]+"),
    "param": Fmt(1, 255),
    "narrative_text": Fmt(1, 81),
    "transaction_param": Fmt(1, 50, r"[0-9A-Za-z.\-_/]+"),
    "sequencenumber": Fmt(1, 3, r"\d{1,3}"),
    "capturemode": _one_of("completed", "notcompleted"),
    "settleaccount": _one_of("yes", "no", "auto"),
    "successurl": _URL,
    "errorurl": _URL,
    "backurl": _URL,
    "salutation": Fmt(1, 10),
    "title": Fmt(1, 20),
    "firstname": Fmt(1, 50),
    "lastname": Fmt(2, 50),
    "company": Fmt(2, 50),
    "street": Fmt(1, 50),
    "addressaddition": Fmt(1, 50),
    "zip": Fmt(2, 50, r"[0-9A-Za-z_.\-/ ]+"),
    "city": Fmt(2, 50),
    "country": Fmt(2, 2, r"[A-Z]{2}"),
    "email": _EMAIL,
    "telephonenumber": Fmt(1, 30),
    "birthday": _DATE,
    "language": Fmt(2, 2, r"[a-z]{2}"),
    "vatid": Fmt(1, 50),
    "gender": _one_of("f", "m", "d"),
    "personalid": Fmt(1, 32, r"[0-9A-Za-z+\-./()]+"),
    "ip": Fmt(1, 39, r"[0-9A-Fa-f.:]+"),
    "shipping_firstname": Fmt(1, 50),
    "shipping_lastname": Fmt(1, 50),
    "shipping_company": Fmt(2, 50),
    "shipping_street": Fmt(2, 50),
    "shipping_zip": Fmt(2, 50),
    "shipping_city": Fmt(2, 50),
    "shipping_addressaddition": Fmt(1, 50),
    "shipping_country": Fmt(2, 2, r"[A-Z]{2}"),
    "shipping_state": Fmt(1, 6, r"[A-Z0-9-]+"),
}

PAYDATA: dict[str, Fmt] = {
    "action": _one_of("start_session", "update_session", "cancel_authorization"),
    "authorization_token": Fmt(1, 64, r"[A-Za-z0-9\-_]+"),
    "session_id": Fmt(1, 36, r"[A-Za-z0-9\-]+"),
    "reservation_txid": Fmt(9, 50, r"[0-9A-Z]+"),
    "over_capture": _one_of("yes", "no"),
    "minimum_age": Fmt(1, 3, r"\d{1,3}"),
    "redirect_url_after_age_verification_failure": _URL,
    "shopping_cart_type": _one_of("DIGITAL", "PHYSICAL", "MIXED"),
    "merchant_data": Fmt(1, 10_000, r"[A-Za-z0-9+/=\s]+"),
    "shipping_title": Fmt(1, 50),
    "shipping_telephonenumber": Fmt(1, 30),
    "shipping_email": _EMAIL,
    "last_four_ssn": Fmt(4, 4, r"\d{4}"),
    "organization_registry_id": Fmt(1, 50),
}

_CART: dict[str, Fmt] = {
    "it": _one_of("goods", "shipment", "handling", "voucher"),
    "id": Fmt(1, 32),
    "pr": Fmt(1, 11, _NUMBER),
    "no": Fmt(1, 6, r"\d{1,6}"),
    "de": Fmt(1, 255),
    "va": Fmt(1, 4, r"\d{1,4}"),
    "sd": _DATE,
    "ed": _DATE,
}


def check(form: Form) -> None:
    """Every known parameter that is sent, in its format; raises the first problem found."""
    for name, fmt in FIELDS.items():
        _check(name, form.get(name, ""), fmt)
    for name, value in keyvalue.group(form, "add_paydata").items():
        known = PAYDATA.get(name)
        if known is not None:
            _check(f"add_paydata[{name}]", value, known)
    if form.get("amount") and abs(int(form["amount"])) > AMOUNT_MAX:
        raise parameter("amount", "at most 1999999999 either way")
    if form.get("sequencenumber") and int(form["sequencenumber"]) > 127:
        raise parameter("sequencenumber", "permitted values 0..127")
    if form.get("birthday"):
        _date("birthday", form["birthday"])


def _check(name: str, value: str, fmt: Fmt) -> None:
    if value:
        why = fmt.problem(value)
        if why is not None:
            raise parameter(name, why)


def _date(name: str, value: str) -> date:
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        raise parameter(name, "not a date (YYYYMMDD)") from None


def birthday(form: Form) -> date | None:
    return _date("birthday", form["birthday"]) if form.get("birthday") else None


def optional(form: Form, name: str) -> str | None:
    return form.get(name) or None


def required(form: Form, name: str) -> str:
    value = form.get(name)
    if not value:
        raise parameter(name, "missing")
    return value


def integer(form: Form, name: str) -> int:
    return int(required(form, name))


def paydata(form: Form) -> dict[str, str]:
    return {k: v for k, v in keyvalue.group(form, "add_paydata").items() if v}


def cart(form: Form) -> list[dict[str, object]]:
    """The cart ``it/id/pr/no/de/va[n]``, numbered 1..n without gaps, at most 400 items; each item has a
    type, a price and a quantity (seed 003)."""
    try:
        rows = keyvalue.indexed(form, tuple(_CART))
    except InvalidRequest as exc:  # the codec names the index
        raise parameter(exc.param or "it[n]", "invalid index") from None
    if rows and (min(rows) != 1 or max(rows) != len(rows) or len(rows) > CART_MAX):
        raise parameter(f"it[{max(rows)}]", f"items are numbered 1..n, at most {CART_MAX}")
    items: list[dict[str, object]] = []
    for n, row in rows.items():
        for family, value in row.items():
            _check(f"{family}[{n}]", value, _CART[family])
        for family in ("it", "pr", "no"):
            if not row.get(family):
                raise parameter(f"{family}[{n}]", "missing")
        price = int(row["pr"])
        if abs(price) > AMOUNT_MAX:
            raise parameter(f"pr[{n}]", "at most 1999999999")
        items.append({"type": row["it"], "id": row.get("id"), "price": price, "quantity": int(row["no"]),
                      "description": row.get("de"), "vat": int(row["va"]) if row.get("va") else None})  # fmt: skip
    return items


def cart_total(items: list[dict[str, object]]) -> int:
    return sum(int(str(i["price"])) * int(str(i["quantity"])) for i in items)
