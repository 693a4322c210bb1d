"""Kasse: a self-hosted, stateful payment gateway and sandbox for Sofort and Klarna."""

__version__ = "0.1.0"
