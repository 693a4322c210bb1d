"""The official MultiSafepay SDK (``multisafepay`` 3.1.0), loaded unchanged on pydantic 2's bundled v1 API.

The SDK's models are pydantic v1 models (``from pydantic import BaseModel, validator``) and its metadata
requires ``pydantic<2``; Kasse runs on pydantic 2. pydantic 2 ships the complete v1 API as
``pydantic.v1``, so while the SDK's modules are imported, ``pydantic`` names ``pydantic.v1``; afterwards
everything is as before. The SDK's code and its wire behaviour are untouched: the tests talk to Kasse
exactly as a shop on pydantic 1 would. Only the base URL is changed, the way the SDK allows it
(``MSP_SDK_BUILD_PROFILE=dev`` and ``MSP_SDK_ALLOW_CUSTOM_BASE_URL=1`` with ``base_url=``).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import threading

import pydantic.main
import pydantic.v1
import pydantic.v1.main

__all__ = ["load"]

_lock = threading.Lock()


def load() -> None:
    """Import every module of the SDK on pydantic.v1 (once; later imports find them in sys.modules)."""
    with _lock:
        if "multisafepay.sdk" in sys.modules:
            return
        os.environ["MSP_SDK_BUILD_PROFILE"] = "dev"
        os.environ["MSP_SDK_ALLOW_CUSTOM_BASE_URL"] = "1"
        saved = {name: sys.modules[name] for name in ("pydantic", "pydantic.main")}
        sys.modules["pydantic"] = pydantic.v1
        sys.modules["pydantic.main"] = pydantic.v1.main
        try:
            import multisafepay

            for module in pkgutil.walk_packages(multisafepay.__path__, "multisafepay."):
                importlib.import_module(module.name)
        finally:
            sys.modules.update(saved)
