"""Front doors: each dialect decodes a provider's wire format, calls the engine, encodes the result.

Each provider is one folder exporting one ``Dialect`` (``_base.py``) from its ``dialect.py``; the
hand-written ``registry.DIALECTS`` lists them. Nothing registers itself on import.
"""
