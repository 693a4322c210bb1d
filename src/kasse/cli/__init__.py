"""The ``kasse`` command."""
