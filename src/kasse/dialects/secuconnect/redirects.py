"""Where the Sofort page sends a secuconnect customer back to (seed: "The payer is returned to a success or
failure URL"): the ``callback_urls`` of ``prepare/sofort`` when the custom checkout gave them, else the
Smart Transaction's ``return_urls`` — ``url_success`` after approval, ``url_error`` after a decline,
``url_abort`` after an abort or expiry (``failure_url`` covers both, as the seed says). secuconnect adds
nothing to the URLs: the shop reads the status from the API."""

from __future__ import annotations

from kasse.dialects.secuconnect.data import SecuData
from kasse.domain.models import Payment

__all__ = ["secuconnect_return_url"]

_FAILED = ("failed",)
_ABORTED = ("canceled", "expired")


def secuconnect_return_url(payment: Payment, outcome: str) -> str | None:
    data = SecuData.of(payment)
    callbacks, urls = data.callback_urls, data.return_urls
    if outcome in _FAILED:
        return callbacks.get("failure_url") or urls.get("url_error")
    if outcome in _ABORTED:
        return callbacks.get("failure_url") or urls.get("url_abort")
    return callbacks.get("success_url") or urls.get("url_success")
