"""Where a PAYONE customer goes back to (seed 003): ``successurl`` after an approval, ``errorurl`` after a
decline or an expiry (a failed age check: ``add_paydata[redirect_url_after_age_verification_failure]``
when given), ``backurl`` after a cancel. PAYONE adds nothing to these URLs: the shop learns the outcome
from the TxStatus."""

from __future__ import annotations

from kasse.dialects.payone.data import PayoneData
from kasse.domain.models import Payment

__all__ = ["AGE_FAILED", "payone_return_url"]

AGE_FAILED = "age_verification_failed"


def payone_return_url(payment: Payment, outcome: str) -> str | None:
    data = PayoneData.of(payment)
    if outcome == "canceled":
        return data.backurl
    if outcome in ("failed", "expired"):
        if payment.failure_code == AGE_FAILED and data.age_failure_url:
            return data.age_failure_url
        return data.errorurl
    return data.successurl
