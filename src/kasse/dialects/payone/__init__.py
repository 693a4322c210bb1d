"""PAYONE's Server API (``https://api.pay1.de/post-gateway/``) at ``/payone/post-gateway/``: Klarna through
``clearingtype=fnc`` (sessions, the Klarna widget, (pre)authorization, capture, debit) and Sofort through
``clearingtype=sb``; TransactionStatus notifications to the merchant's status URL. See docs/payone.md."""
