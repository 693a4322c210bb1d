"""Kasse's own REST API at ``/api/v1``."""
