"""Wire encodings shared by the dialects, pure and two-way: JSON with exact money (``jsonwire``),
Stripe's bracket form (``bracket``) and PAYONE's ``key=value`` form, lines and CamelCase JSON
(``keyvalue``). They import the standard library and ``kasse.domain`` only, so every layer that speaks
HTTP can use them without importing ``web``."""

from kasse.codecs import bracket, jsonwire, keyvalue

__all__ = ["bracket", "jsonwire", "keyvalue"]
