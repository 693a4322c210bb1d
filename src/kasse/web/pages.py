"""Hosted pages (placeholder; the bank and Klarna pages are built in web/pages.py)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
