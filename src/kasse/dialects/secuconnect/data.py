"""What a Smart Transaction keeps beyond the engine's payment (``Payment.provider_data``), typed: the
request's own parts (contract, customer, basket, references, contexts), its return and callback URLs,
the payment method once prepared, the payer's account as entered on the Sofort page, and the endpoint
behind its ``url_push``. Unknown keys are ignored; keys left out when unset."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from kasse.domain.models import Payment

__all__ = ["SecuData"]


def _mapping(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class SecuData:
    intent: str = "sale"
    is_demo: bool = False
    contract: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    basket: dict[str, Any] = field(default_factory=dict)
    basket_info: dict[str, Any] = field(default_factory=dict)
    merchant_ref: str | None = None
    transaction_ref: str | None = None
    application_context: dict[str, Any] = field(default_factory=dict)
    payment_context: dict[str, Any] = field(default_factory=dict)
    return_urls: dict[str, str] = field(default_factory=dict)  # url_success, url_error, url_abort, url_push
    callback_urls: dict[str, str] = field(default_factory=dict)  # prepare: success_url, failure_url
    payment_method: str | None = None  # "sofort" once prepared or paid
    account: dict[str, str] = field(default_factory=dict)  # iban, bic as entered on the Sofort page
    push_endpoint_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecuData:
        return cls(
            intent=_text(data.get("intent")) or "sale",
            is_demo=data.get("is_demo") is True,
            contract=_mapping(data.get("contract")),
            customer=_mapping(data.get("customer")),
            basket=_mapping(data.get("basket")),
            basket_info=_mapping(data.get("basket_info")),
            merchant_ref=_text(data.get("merchant_ref")),
            transaction_ref=_text(data.get("transaction_ref")),
            application_context=_mapping(data.get("application_context")),
            payment_context=_mapping(data.get("payment_context")),
            return_urls={k: v for k, v in _mapping(data.get("return_urls")).items() if isinstance(v, str)},
            callback_urls={k: v for k, v in _mapping(data.get("callback_urls")).items() if isinstance(v, str)},
            payment_method=_text(data.get("payment_method")),
            account={k: v for k, v in _mapping(data.get("account")).items() if isinstance(v, str)},
            push_endpoint_id=_text(data.get("push_endpoint_id")),
        )

    @classmethod
    def of(cls, payment: Payment) -> SecuData:
        return cls.from_dict(payment.provider_data)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value != {}:
                out[f.name] = value
        return out

    def prepared(self, method: str, callback_urls: dict[str, str]) -> SecuData:
        return replace(self, payment_method=method, callback_urls=callback_urls)

    def paid_from(self, account: dict[str, str]) -> SecuData:
        return replace(self, payment_method=self.payment_method or "sofort", account=account)

    def with_endpoint(self, endpoint_id: str) -> SecuData:
        return replace(self, push_endpoint_id=endpoint_id)
