"""The hosted pages' kit: the templates and stylesheet, what a payment looks like on a page (``views``),
the customer's language (``i18n``), the strict headers and the CSRF check (``security``), and what every
page route shares (``kit``). Below the dialects, so a dialect's own page uses it as the bank page does."""
