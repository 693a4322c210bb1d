"""The native API's name: its payments' ``origin`` and its webhook endpoints' ``dialect``."""

ORIGIN = "native"
