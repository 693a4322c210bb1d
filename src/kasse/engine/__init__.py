"""The engine: one function per use case, each inside one unit of work (one transaction)."""
