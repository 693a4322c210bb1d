"""The dashboard (``/dashboard``): see and drive the sandbox in a browser. Server-rendered, offline,
signed in with a merchant's secret key. See README "Dashboard"."""

from fastapi import APIRouter

from kasse.web.dashboard import payments, views

__all__ = ["router"]

router = APIRouter()
router.include_router(views.router)  # /login, /clock, ... before /payments/{id}
router.include_router(payments.router)
