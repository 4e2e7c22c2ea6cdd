"""The Fulcrum server: a thin FastAPI shell over the store and the protocol packages."""

from fulcrum.server.app import create_app
from fulcrum.server.hooks import DeliveryHook, HookChain, SendContext, SendHook, SendRefused
from fulcrum.server.push import InProcessPushHub, PushHub, PushSubscription
from fulcrum.server.settings import ServerSettings, UnsafeSettings

__all__ = [
    "DeliveryHook",
    "HookChain",
    "InProcessPushHub",
    "PushHub",
    "PushSubscription",
    "SendContext",
    "SendHook",
    "SendRefused",
    "ServerSettings",
    "UnsafeSettings",
    "create_app",
]
