"""PAYONE's credentials travel inside the body: ``mid``, ``aid``, ``portalid`` and ``key``. The portal
is looked up by ``portalid``; ``key`` is the portal key itself, its md5 hex (pretix-payone,
django-payone) or its sha384 hex (shopware-6, woocommerce-3) — clients.md §4.1. Kasse is a sandbox:
``mode=live`` is refused with a message that says so."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from kasse.dialects.payone import errors as e
from kasse.dialects.payone.schemas import Form, optional, required
from kasse.engine.unit import Kasse

__all__ = ["Account", "authenticate", "key_variants"]


@dataclass(frozen=True, slots=True)
class Account:
    merchant_id: str
    mid: str
    aid: str
    portalid: str
    key: str  # the plain portal key (TxStatus carries its md5)


def key_variants(key: str) -> tuple[str, str, str]:
    raw = key.encode()
    return key, hashlib.md5(raw).hexdigest(), hashlib.sha384(raw).hexdigest()  # PAYONE's scheme, not a secret's hash


def authenticate(kasse: Kasse, form: Form) -> Account:
    mid, portalid, given_key = required(form, "mid"), required(form, "portalid"), required(form, "key")
    with kasse.read() as store:
        found = store.find_credential("payone", portalid)
    if found is None or not found.get("secret"):
        raise e.parameter("portalid", "unknown portal")
    data = found.get("data") or {}
    if mid != str(data.get("mid")):
        raise e.parameter("mid", "not the merchant of this portal")
    aid = optional(form, "aid")
    if aid is not None and aid != str(data.get("aid")):
        raise e.parameter("aid", "not a sub-account of this merchant")
    key = str(found["secret"])
    if not any(hmac.compare_digest(given_key.lower() if i else given_key, v) for i, v in enumerate(key_variants(key))):
        raise e.parameter("key", "wrong portal key (plain, md5 or sha384 hex)")
    if required(form, "mode") != "test":
        raise e.parameter("mode", "Kasse is a sandbox and answers test mode only")
    return Account(str(found["merchant_id"]), mid, str(data.get("aid")), portalid, key)
