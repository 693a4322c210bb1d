"""Klarna's Partner Product API - Payment (Klarna Network Distribution), the server side of seed 004: payment
requests and the customer's purchase journey, the Payment Authorize API with its 60-minute tokens, payment
transactions (captures, refunds, void) and signed webhooks, mounted at ``/klarna`` (``/klarna/v2/…``) so a
client whose host ``https://api-global.test.klarna.com`` is replaced runs unchanged. docs/klarna.md."""
