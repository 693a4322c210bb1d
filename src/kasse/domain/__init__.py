"""The pure domain: no I/O, no framework imports (a test walks the imports)."""
