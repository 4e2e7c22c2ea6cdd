"""A client for a clearinghouse's report API in the shape of NCMEC's CyberTipline.

The documented flow: ``POST /submit`` (the ``<report>`` XML) returns a report id; for each file,
``POST /upload`` (multipart: ``id`` and ``file``) returns a file id and ``POST /fileinfo`` sends its
``<fileDetails>``; ``POST /finish`` (``id``) completes the report; ``POST /retract`` (``id``)
cancels one that was not finished. Answers are ``<reportResponse>`` documents with a
``responseCode`` (0 = success). Requests use HTTP Basic authentication.

The endpoint comes only from configuration (``FULCRUM_CLEARINGHOUSE_URL``); with none set the
platform keeps drafts and files nothing. Tests point it at a local fake on loopback, never at a
real endpoint. Plain ``http://`` is accepted only for loopback hosts.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RETENTION_DAYS = 90
MAX_RESPONSE_BYTES = 64 * 1024
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ClearinghouseSettings(BaseSettings):
    """``FULCRUM_CLEARINGHOUSE_*``: where and how to file, and how long to preserve.

    ``retention_days`` is how long a filed report's contents (the report XML, the case, the
    reported messages) are preserved before they may be purged; the default is 90 days (the
    preservation period of 18 U.S.C. 2258A(h) before the 2024 REPORT Act; check the law that
    applies to the deployment and raise it, e.g. to 365).
    """

    model_config = SettingsConfigDict(
        env_prefix="FULCRUM_CLEARINGHOUSE_", extra="ignore", frozen=True
    )

    url: str | None = None
    username: str = ""
    password: SecretStr = SecretStr("")
    name: str = Field(default="ncmec-cybertipline", min_length=1, max_length=64)
    retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=1)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    contact_first_name: str = "Trust"
    contact_last_name: str = "Safety"
    contact_email: str = "safety@fulcrum.invalid"

    @field_validator("url")
    @classmethod
    def _https_or_loopback(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            return value.rstrip("/")
        raise ValueError("the clearinghouse URL must be https (http only on loopback)")

    @property
    def configured(self) -> bool:
        return self.url is not None

    def client(self, transport: httpx.BaseTransport | None = None) -> CyberTiplineClient:
        if self.url is None:
            raise ClearinghouseError("no clearinghouse endpoint is configured")
        return CyberTiplineClient(
            self.url,
            self.username,
            self.password.get_secret_value(),
            timeout=self.timeout_seconds,
            transport=transport,
        )


class ClearinghouseError(RuntimeError):
    """The clearinghouse refused a request or could not be reached (message says which step)."""


@dataclass(frozen=True)
class ClearinghouseAnswer:
    code: int
    description: str
    report_id: str | None
    file_id: str | None


def parse_answer(data: bytes) -> ClearinghouseAnswer:
    """A ``<reportResponse>`` document (bounded; no DTDs are expected or used)."""
    if len(data) > MAX_RESPONSE_BYTES or b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ClearinghouseError("unexpected clearinghouse response")
    try:
        root = ET.fromstring(data)  # noqa: S314 - bounded, DTD/entity-free (checked above)
    except ET.ParseError as exc:
        raise ClearinghouseError("clearinghouse response is not XML") from exc
    if root.tag != "reportResponse":
        raise ClearinghouseError(f"unexpected clearinghouse response <{root.tag}>")
    code_text = root.findtext("responseCode", "")
    if not code_text.strip().isdigit():
        raise ClearinghouseError("clearinghouse response without a responseCode")
    return ClearinghouseAnswer(
        code=int(code_text),
        description=root.findtext("responseDescription", "").strip(),
        report_id=(root.findtext("reportId") or "").strip() or None,
        file_id=(root.findtext("fileId") or "").strip() or None,
    )


class CyberTiplineClient:
    """Synchronous client for the submit / upload / fileinfo / finish / retract flow."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            auth=httpx.BasicAuth(username, password),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:  # credentials stay out of reprs
        return f"CyberTiplineClient({self._http.base_url})"

    def __enter__(self) -> CyberTiplineClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _post(self, step: str, **kwargs: object) -> ClearinghouseAnswer:
        try:
            response = self._http.post(f"/{step}", **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise ClearinghouseError(f"{step}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise ClearinghouseError(f"{step}: HTTP {response.status_code}")
        answer = parse_answer(response.content)
        if answer.code != 0:
            raise ClearinghouseError(f"{step}: code {answer.code} {answer.description}")
        return answer

    def submit(self, report_xml: bytes) -> str:
        """Open a report; returns the clearinghouse's report id."""
        answer = self._post(
            "submit", content=report_xml, headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        if answer.report_id is None:
            raise ClearinghouseError("submit: no reportId in the answer")
        return answer.report_id

    def upload(self, report_id: str, file_name: str, data: bytes) -> str:
        """Upload one file to an open report; returns its file id."""
        answer = self._post(
            "upload",
            data={"id": report_id},
            files={"file": (file_name, data, "application/octet-stream")},
        )
        if answer.file_id is None:
            raise ClearinghouseError("upload: no fileId in the answer")
        return answer.file_id

    def file_info(self, details_xml: bytes) -> None:
        self._post(
            "fileinfo", content=details_xml, headers={"Content-Type": "text/xml; charset=utf-8"}
        )

    def finish(self, report_id: str) -> str:
        answer = self._post("finish", data={"id": report_id})
        return answer.report_id or report_id

    def retract(self, report_id: str) -> None:
        self._post("retract", data={"id": report_id})
