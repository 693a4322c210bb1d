"""The hosted pages a customer is redirected to: the Sofort bank page and the Klarna page (``/pay/…``).

``routes`` handles HTTP, ``views`` turns a payment into what the templates show, ``security`` holds the
response headers and the CSRF check.
"""

from __future__ import annotations

from kasse.web.pages.routes import router

__all__ = ["router"]
