"""Structured logs (JSON lines) and Prometheus metrics.

Logged per request: request id, method, route template, status, duration, account and device id.
Never logged: bodies, query strings, headers (tokens), ciphertexts, keys.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOG = logging.getLogger("fulcrum.server.access")
_SAFE_FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "account",
    "device",
    "event",
    "msg_id",
    "recipients",
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line, with only allow-listed extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in _SAFE_FIELDS:
            value = record.__dict__.get(key)
            if value is not None:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["error"] = record.exc_info[0].__name__  # the type only: messages may echo data
        return json.dumps(out, separators=(",", ":"))


def configure_logging(level: str = "INFO") -> None:
    """Send ``fulcrum.*`` logs to stderr as JSON lines (call once, from the process entry)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger("fulcrum")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class Metrics:
    """The relay's Prometheus metrics, in a registry of the app's own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "fulcrum_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fulcrum_http_request_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.messages_accepted = Counter(
            "fulcrum_messages_accepted", "Messages accepted", ["kind"], registry=self.registry
        )
        self.deliveries_enqueued = Counter(
            "fulcrum_deliveries_enqueued", "Queue rows written", registry=self.registry
        )
        self.acks = Counter("fulcrum_acks", "Queue rows acked", registry=self.registry)
        self.queue_depth = Gauge(
            "fulcrum_queue_depth", "Unacked queue rows", registry=self.registry
        )
        self.websockets = Gauge(
            "fulcrum_websockets", "Connected WebSockets", registry=self.registry
        )

    def track_queue_depth(self, read_depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(lambda: float(read_depth()))


class RequestLogMiddleware:
    """Pure ASGI middleware: request id, access log line, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _incoming_request_id(scope) or secrets.token_urlsafe(12)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500 if scope["type"] == "http" else 101
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = route_template(scope)
            method = scope.get("method", "WS")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            state = scope.get("state", {})
            if ACCESS_LOG.isEnabledFor(logging.INFO):
                ACCESS_LOG.info(
                    "request",
                    extra={
                        "request_id": rid,
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "account": state.get("account"),
                        "device": state.get("device"),
                    },
                )


def route_template(scope: Scope) -> str:
    """The matched route's full path template (``/v1/accounts/{name}/devices``), never the raw
    path, so ids in URLs do not end up as metric labels."""
    context = (scope.get("fastapi") or {}).get("effective_route_context")
    template = getattr(context, "path_format", None) or getattr(
        scope.get("route"), "path_format", None
    )
    return str(template) if template else "unmatched"


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None
