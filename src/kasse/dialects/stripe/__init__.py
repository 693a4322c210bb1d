"""Stripe dialect: the server side of Stripe's Sofort-with-Sources API at ``/stripe``."""
