"""Merchants and their credentials for every dialect."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kasse.domain.ids import new_id
from kasse.domain.models import Merchant
from kasse.engine.unit import Kasse, Tx
from kasse.storage.store import Store

__all__ = [
    "SANDBOX",
    "create_merchant",
    "dialect_settings",
    "ensure_sandbox_merchant",
    "hash_secret",
    "merchant_for_secret_key",
    "page_secret",
    "put_dialect_settings",
    "put_setting",
    "reset_data",
    "update_setting",
]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    id: str
    name: str
    secret_key: str
    publishable_key: str
    msp_api_key: str
    secuconnect_client_id: str
    secuconnect_client_secret: str
    payone_mid: str
    payone_aid: str
    payone_portalid: str
    payone_key: str
    klarna_partner_account_id: str
    klarna_api_key: str

    def as_dict(self) -> dict[str, Any]:
        """The shape `kasse merchant create --json` and `POST /_admin/merchants` answer."""
        return {
            "id": self.id,
            "name": self.name,
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
            "multisafepay": {"api_key": self.msp_api_key},
            "secuconnect": {"client_id": self.secuconnect_client_id, "client_secret": self.secuconnect_client_secret},
            "payone": {
                "mid": self.payone_mid,
                "aid": self.payone_aid,
                "portalid": self.payone_portalid,
                "key": self.payone_key,
            },
            "klarna": {"partner_account_id": self.klarna_partner_account_id, "api_key": self.klarna_api_key},
        }


# The embedded sandbox merchant: well-known credentials, listed in the README.
SANDBOX = Credentials(
    id="mer_sandbox",
    name="Kasse Sandbox Shop",
    secret_key="sk_test_kasse_sandbox",
    publishable_key="pk_test_kasse_sandbox",
    msp_api_key="kasse_sandbox_multisafepay_api_key",
    secuconnect_client_id="kasse-sandbox-client",
    secuconnect_client_secret="kasse-sandbox-secret",
    payone_mid="10000",
    payone_aid="10001",
    payone_portalid="2000000",
    payone_key="kasse-sandbox-portal-key",
    klarna_partner_account_id="krn:partner:global:account:test:kasse-sandbox",
    klarna_api_key="kasse_sandbox_klarna_api_key",
)


def _generate(name: str, merchant_id: str) -> Credentials:
    digits = secrets.randbelow
    return Credentials(
        id=merchant_id,
        name=name,
        secret_key="sk_test_" + secrets.token_urlsafe(24),
        publishable_key="pk_test_" + secrets.token_urlsafe(24),
        msp_api_key=secrets.token_hex(20),  # MultiSafepay keys are 40 hex characters
        secuconnect_client_id=secrets.token_hex(16),
        secuconnect_client_secret=secrets.token_hex(32),
        payone_mid=str(10000 + digits(89999)),
        payone_aid=str(10000 + digits(89999)),
        payone_portalid=str(2000000 + digits(7999999)),
        payone_key=secrets.token_urlsafe(18),
        klarna_partner_account_id="krn:partner:global:account:test:" + secrets.token_hex(8),
        klarna_api_key="klarna_test_api_" + secrets.token_urlsafe(24),
    )


def _store_credentials(store: Store, creds: Credentials, now: Any, wall: Any) -> None:
    def cred(kind: str, lookup: str, *, secret_hash: str | None = None, secret: str | None = None,
             data: dict[str, Any] | None = None) -> None:  # fmt: skip
        store.insert_credential(
            merchant_id=creds.id, id=new_id("cred", wall()), kind=kind, lookup=lookup,
            secret_hash=secret_hash, secret=secret, data=data or {}, created_at=now,
        )  # fmt: skip

    cred("secret_key", hash_secret(creds.secret_key))
    cred("publishable_key", creds.publishable_key)
    # MultiSafepay and PAYONE sign with the raw key, so it is kept (sandbox deployments; docs/security.md).
    cred("multisafepay", hash_secret(creds.msp_api_key), secret=creds.msp_api_key)
    cred("secuconnect", creds.secuconnect_client_id, secret_hash=hash_secret(creds.secuconnect_client_secret))
    cred("payone", creds.payone_portalid, secret=creds.payone_key,
         data={"mid": creds.payone_mid, "aid": creds.payone_aid})  # fmt: skip
    cred("klarna", creds.klarna_partner_account_id, secret_hash=hash_secret(creds.klarna_api_key))


def create_merchant(kasse: Kasse, *, name: str, credentials: Credentials | None = None) -> Credentials:
    wall = kasse.wall()
    merchant_id = credentials.id if credentials else new_id("mer", wall)
    creds = credentials or _generate(name, merchant_id)
    with kasse.db.transaction() as conn:
        store = Store(conn)
        store.insert_merchant(Merchant(id=creds.id, name=name, created_at=wall))
        _store_credentials(store, creds, wall, kasse.wall)
    return creds


def ensure_sandbox_merchant(kasse: Kasse) -> bool:
    """Create the well-known sandbox merchant unless it exists; True if it was created."""
    with kasse.read() as store:
        if store.get_merchant(merchant_id=SANDBOX.id) is not None:
            return False
    create_merchant(kasse, name=SANDBOX.name, credentials=SANDBOX)
    return True


def merchant_for_secret_key(store: Store, secret_key: str) -> str | None:
    found = store.find_credential("secret_key", hash_secret(secret_key))
    return None if found is None else str(found["merchant_id"])


PAGE_SECRET = "page_secret"


def page_secret(kasse: Kasse, *, merchant_id: str) -> bytes:
    """The merchant's key for the hosted pages' form tokens: made once, kept in the merchant's settings
    (every Kasse process sharing the database signs and checks with the same one)."""
    with kasse.read() as store:
        value = store.merchant_settings(merchant_id=merchant_id).get(PAGE_SECRET)
    if not isinstance(value, str):  # made once, under the merchant's row lock (one writer makes it)
        value = kasse.run_locked(merchant_id, update_setting, PAGE_SECRET, _kept_or_new_secret)
    return value.encode()


def _kept_or_new_secret(stored: Any) -> str:
    return stored if isinstance(stored, str) else secrets.token_urlsafe(32)


def put_setting(tx: Tx, key: str, value: Any | None) -> None:
    """Set (or, with None, remove) one of the merchant's settings."""
    tx.store.put_merchant_setting(merchant_id=tx.merchant_id, key=key, value=value)


def update_setting(tx: Tx, key: str, change: Callable[[Any], Any]) -> Any:
    """Read one setting, change it and write it back in the same unit; returns the new value."""
    value = change(tx.store.merchant_settings(merchant_id=tx.merchant_id).get(key))
    put_setting(tx, key, value)
    return value


def reset_data(tx: Tx) -> None:
    """Everything the merchant did (payments, events, ledger, timers, keys); credentials and clock stay."""
    tx.store.delete_merchant_data(merchant_id=tx.merchant_id)


DIALECT_SETTINGS = "dialects"


def dialect_settings(settings: dict[str, Any], dialect: str) -> dict[str, Any]:
    """One dialect's settings out of the merchant's (``Store.merchant_settings``): ``{}`` when none."""
    stored = settings.get(DIALECT_SETTINGS)
    mine = stored.get(dialect) if isinstance(stored, dict) else None
    return dict(mine) if isinstance(mine, dict) else {}


def put_dialect_settings(tx: Tx, dialect: str, values: dict[str, Any]) -> dict[str, Any]:
    """Change settings a dialect declares (``Dialect.settings``: PAYONE's ``transaction_status_url``), kept
    per dialect under one merchant setting; a None value removes one. Returns that dialect's settings."""

    def change(stored: Any) -> dict[str, Any]:
        every = dict(stored) if isinstance(stored, dict) else {}
        mine = dict(every.get(dialect) or {})
        for name, value in values.items():
            if value is None:
                mine.pop(name, None)
            else:
                mine[name] = value
        every[dialect] = mine
        return every

    return dialect_settings({DIALECT_SETTINGS: update_setting(tx, DIALECT_SETTINGS, change)}, dialect)
