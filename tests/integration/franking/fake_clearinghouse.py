"""A local stand-in for a CyberTipline-shaped clearinghouse API, on loopback only.

It speaks the documented flow (submit / upload / fileinfo / finish / retract, HTTP Basic,
``<reportResponse>`` answers), records what it was sent, and is bounded: request bodies over
``MAX_BODY`` and more than ``MAX_REPORTS`` reports are refused. ``fail_step`` makes one step
answer with an error code, to exercise the failure path.
"""

from __future__ import annotations

import secrets
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Annotated
from urllib.parse import parse_qs

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from fulcrum.demo.embedded import free_port

USER, PASSWORD = "esp-test", "fake-clearinghouse-password"
MAX_BODY = 256 * 1024
MAX_REPORTS = 50
BASIC = HTTPBasic()  # module level: annotations are resolved against module globals


@dataclass
class FakeReport:
    report_xml: bytes
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    file_details: list[bytes] = field(default_factory=list)
    finished: bool = False
    retracted: bool = False


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (python-multipart is not a dependency)."""
    body = await request.body()
    return {k: v[0] for k, v in parse_qs(body.decode("ascii")).items()}


async def _multipart(request: Request) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    """Fields and the one file of a ``multipart/form-data`` body, parsed with the stdlib."""
    body = await request.body()
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    upload = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            upload = (filename, data)
        elif isinstance(name, str):
            fields[name] = data.decode()
    return fields, upload


def _answer(code: int, description: str, **ids: str) -> Response:
    root = ET.Element("reportResponse")
    ET.SubElement(root, "responseCode").text = str(code)
    ET.SubElement(root, "responseDescription").text = description
    for tag, value in ids.items():
        ET.SubElement(root, tag).text = value
    return Response(ET.tostring(root, encoding="utf-8"), media_type="application/xml")


class FakeClearinghouse:
    def __init__(self) -> None:
        self.reports: dict[str, FakeReport] = {}
        self.fail_step: str | None = None
        self.port = free_port()
        self.app = self._build()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeClearinghouse:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert time.monotonic() < deadline, "fake clearinghouse did not start"
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def _build(self) -> FastAPI:
        app = FastAPI()

        def auth(creds: Annotated[HTTPBasicCredentials, Depends(BASIC)]) -> None:
            ok = secrets.compare_digest(creds.username, USER) and secrets.compare_digest(
                creds.password, PASSWORD
            )
            if not ok:
                raise HTTPException(401)

        def open_report(report_id: str, step: str) -> FakeReport | Response:
            if self.fail_step == step:
                return _answer(4100, f"{step} refused (test)")
            report = self.reports.get(report_id)
            if report is None or report.finished or report.retracted:
                return _answer(4000, "no open report with that id")
            return report

        @app.post("/submit", dependencies=[Depends(auth)])
        async def submit(request: Request) -> Response:
            body = await request.body()
            if len(body) > MAX_BODY or len(self.reports) >= MAX_REPORTS:
                return _answer(4001, "too large")
            if self.fail_step == "submit":
                return _answer(4100, "submit refused (test)")
            if ET.fromstring(body).tag != "report":
                return _answer(4002, "not a report")
            report_id = str(10_000 + len(self.reports))
            self.reports[report_id] = FakeReport(body)
            return _answer(0, "Success", reportId=report_id)

        @app.post("/upload", dependencies=[Depends(auth)])
        async def upload(request: Request) -> Response:
            if int(request.headers.get("content-length", "0")) > MAX_BODY:
                return _answer(4001, "too large")
            fields, upload = await _multipart(request)
            report_id = fields.get("id", "")
            report = open_report(report_id, "upload")
            if isinstance(report, Response):
                return report
            if upload is None:
                return _answer(4003, "no file")
            file_id = secrets.token_hex(8)
            report.files[file_id] = upload
            return _answer(0, "Success", reportId=report_id, fileId=file_id)

        @app.post("/fileinfo", dependencies=[Depends(auth)])
        async def fileinfo(request: Request) -> Response:
            body = await request.body()
            details = ET.fromstring(body)
            report = open_report(details.findtext("reportId", ""), "fileinfo")
            if isinstance(report, Response):
                return report
            report.file_details.append(body)
            return _answer(0, "Success", reportId=details.findtext("reportId", ""))

        @app.post("/finish", dependencies=[Depends(auth)])
        async def finish(request: Request) -> Response:
            id = (await _form(request)).get("id", "")
            report = open_report(id, "finish")
            if isinstance(report, Response):
                return report
            report.finished = True
            return _answer(0, "Success", reportId=id)

        @app.post("/retract", dependencies=[Depends(auth)])
        async def retract(request: Request) -> Response:
            id = (await _form(request)).get("id", "")
            report = self.reports.get(id)
            if report is None or report.finished:
                return _answer(4000, "cannot retract")
            report.retracted = True
            return _answer(0, "Success", reportId=id)

        return app
