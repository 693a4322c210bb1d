"""The MultiSafepay dialect as the app, the engine and the delivery worker see it."""

from __future__ import annotations

from kasse.delivery.render import DeliveryPolicy, Outbound
from kasse.dialects._base import Dialect, FrontDoor
from kasse.dialects.multisafepay import catalog, notifications, pages, provider_events, redirects, routes, rules

__all__ = ["DIALECT"]

FRONT_DOOR = FrontDoor(
    title="MultiSafepay Orders API (Sofort)",
    path="/multisafepay/v1/",
    credentials=(("api_key", "multisafepay_api_key"),),
    snippet="""# MSP_SDK_BUILD_PROFILE=dev MSP_SDK_ALLOW_CUSTOM_BASE_URL=1, multisafepay==3.1.0
from multisafepay import Sdk

sdk = Sdk(api_key="$multisafepay_api_key", is_production=False,
          base_url="$base/multisafepay/v1/")
orders = sdk.get_order_manager()  # orders.create(OrderRequest()...add_gateway("DIRECTBANK")...)""",
    doc="docs/multisafepay.md",
    snippet_language="python",
)

DIALECT = Dialect(
    name=routes.ORIGIN,
    rules=rules.RULES,
    outbound=Outbound(
        notifications.render,
        DeliveryPolicy(acknowledged=notifications.acknowledged, retry_schedule_s=notifications.RETRY_SCHEDULE_S),
    ),
    return_url=redirects.msp_return_url,
    routers=(catalog.router, routes.router),  # the catalog first: routes ends with its catch-all
    pages=(pages.router,),
    derive_events=provider_events.derive,
    front_door=FRONT_DOOR,
)
