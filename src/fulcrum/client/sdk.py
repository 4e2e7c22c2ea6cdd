"""The async client: wires ``ClientCore`` to the HTTP transport and the device home.

Every state change is persisted before it is acknowledged to the server, and outgoing envelopes
are persisted in an outbox before they are sent, so a crash never loses an acknowledged message
and a retried send keeps its message id (the server de-duplicates).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import mimetypes
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fulcrum.client.core import (
    ClientCore,
    ClientError,
    Opened,
    Outcome,
    ReceivedMessage,
)
from fulcrum.client.home import DeviceHome, DeviceState, HomeError, outbox_entry
from fulcrum.client.layers import ReceiveLayer, SendLayer
from fulcrum.client.standard import LayerSet, standard_layers
from fulcrum.client.transport import RETRY_STATUSES, ApiError, HttpTransport, ServerUnreachable
from fulcrum.e2ee import DeviceAccount, OlmSessions, seal_attachment
from fulcrum.e2ee.content import AttachmentKey
from fulcrum.encoding import b64d, parse_json_object
from fulcrum.wire import api
from fulcrum.wire.batch import MAX_BATCH, BatchReceipt, SendBatch
from fulcrum.wire.statements import device_key_statement

ONE_TIME_KEY_BATCH = 50
ONE_TIME_KEY_LOW = 10

Clock = Callable[[], float]


@dataclass(frozen=True)
class SafetyNotice:
    """A notice the platform sent to this account (not end-to-end encrypted, no content)."""

    msg_id: str
    server_ts: int
    notice: str
    text: str


SyncOutcome = Outcome | SafetyNotice


def _new_device_keys(account: str, device: DeviceAccount) -> api.DeviceKeys:
    one_time = device.new_one_time_keys(ONE_TIME_KEY_BATCH)
    fallback = device.new_fallback_key()
    device.mark_keys_as_published()
    return api.DeviceKeys(
        identity_key=device.identity_key,
        signing_key=device.signing_key,
        one_time_keys=one_time,
        fallback_key=fallback,
        signature=device.sign(
            device_key_statement(account, device.identity_key, device.signing_key)
        ),
    )


class FulcrumClient:
    def __init__(
        self,
        home: DeviceHome,
        core: ClientCore,
        state: DeviceState,
        transport: HttpTransport,
        clock: Clock = time.time,
    ) -> None:
        self.home = home
        self.core = core
        self.state = state
        self.transport = transport
        self.clock = clock
        self.layers = LayerSet()
        self.use_layers(standard_layers())

    def __repr__(self) -> str:
        return f"FulcrumClient(account={self.core.account!r}, device={self.core.device_id!r})"

    # --- lifecycle ----------------------------------------------------------------------------

    @classmethod
    async def register(
        cls,
        home_path: Path,
        server: str,
        name: str,
        passphrase: str,
        *,
        birth_year: int,
        country: str | None = None,
        log2_n: int | None = None,
        clock: Clock = time.time,
    ) -> FulcrumClient:
        """Create an account with this device as its first device. ``birth_year`` is required:
        the safety rules treat an account without one as a minor."""
        home = cls._new_home(home_path, passphrase, log2_n)
        device = DeviceAccount()
        transport = HttpTransport(server)
        try:
            registered = await transport.create_account(
                api.AccountCreate(
                    name=name,
                    birth_year=birth_year,
                    country=country,
                    device=_new_device_keys(name, device),
                )
            )
        except BaseException:
            await transport.aclose()
            home.unlock()
            raise
        return cls._finish_registration(home, device, registered, server, transport, clock)

    async def link_device(
        self, home_path: Path, passphrase: str, *, log2_n: int | None = None
    ) -> FulcrumClient:
        """Register a further device of this account, authorised by this device."""
        home = self._new_home(home_path, passphrase, log2_n)
        device = DeviceAccount()
        try:
            registered = await self.transport.add_device(
                api.DeviceAdd(device=_new_device_keys(self.core.account, device))
            )
        except BaseException:
            home.unlock()
            raise
        transport = HttpTransport(self.state.server)
        return self._finish_registration(
            home, device, registered, self.state.server, transport, self.clock
        )

    @staticmethod
    def _new_home(home_path: Path, passphrase: str, log2_n: int | None) -> DeviceHome:
        home = DeviceHome(home_path) if log2_n is None else DeviceHome(home_path, log2_n=log2_n)
        if home.exists():
            raise HomeError(f"{home_path} already holds a device")
        home.lock()
        home.unlock_with(passphrase)
        return home

    @classmethod
    def _finish_registration(
        cls,
        home: DeviceHome,
        device: DeviceAccount,
        registered: api.DeviceRegistered,
        server: str,
        transport: HttpTransport,
        clock: Clock,
    ) -> FulcrumClient:
        transport.token = registered.token
        core = ClientCore(registered.account, registered.device_id, device, OlmSessions(device))
        state = DeviceState(server=server, token=registered.token)
        home.save(core, state)
        return cls(home, core, state, transport, clock)

    @classmethod
    async def open(
        cls,
        home_path: Path,
        passphrase: str,
        *,
        server: str | None = None,
        clock: Clock = time.time,
    ) -> FulcrumClient:
        home = DeviceHome(home_path)
        home.lock()
        try:
            home.unlock_with(passphrase)
            core, state = home.load()
        except BaseException:
            home.unlock()
            raise
        if server:
            state.server = server
        client = cls(home, core, state, HttpTransport(state.server, state.token), clock)
        await client.flush_outbox()
        return client

    async def close(self) -> None:
        self.save()
        await self.transport.aclose()
        self.home.unlock()

    async def __aenter__(self) -> FulcrumClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def save(self) -> None:
        self.home.save(self.core, self.state)

    def use_layers(self, layers: LayerSet) -> None:
        """Install the preparers and send/receive layers (``standard_layers()`` by default)."""
        self.layers = layers
        self.core.send_layers = list(layers.send)
        self.core.receive_layers = list(layers.receive)

    def install_layers(self, send: Sequence[SendLayer], receive: Sequence[ReceiveLayer]) -> None:
        self.use_layers(LayerSet(self.layers.preparers, list(send), list(receive)))

    async def _prepare(self, files: Sequence[tuple[AttachmentKey, bytes]]) -> None:
        for preparer in self.layers.preparers:
            await preparer.prepare(self, files)

    # --- sending ------------------------------------------------------------------------------

    async def refresh_devices(self, accounts: list[str]) -> None:
        for account in sorted(set(accounts)):
            self.core.update_directory(await self.transport.devices(account))

    async def _ensure_sessions(self, accounts: list[str]) -> None:
        await self.refresh_devices(accounts)
        missing = self.core.missing_sessions(self.core.devices_of(accounts))
        if missing:
            claimed = await self.transport.claim_keys(api.KeyClaimRequest(devices=missing))
            self.core.start_sessions(claimed.keys)

    async def _upload(self, paths: Sequence[Path]) -> list[tuple[AttachmentKey, bytes]]:
        out = []
        for path in paths:
            data = path.read_bytes()
            sealed = seal_attachment(data)
            uploaded = await self.transport.upload_attachment(sealed.ciphertext)
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            key = AttachmentKey(
                uploaded.attachment_id,
                sealed.k_att,
                sealed.nonce,
                sealed.key_commit,
                sealed.sha256_plain,
                sealed.size,
                mime,
                path.name,
            )
            out.append((key, data))
        return out

    async def send_text(
        self, peer: str, text: str, attachments: Sequence[Path] = ()
    ) -> api.SendReceipt:
        await self._ensure_sessions([peer, self.core.account])
        files = await self._upload(attachments)
        await self._prepare(files)
        envelope = self.core.compose_direct(
            peer,
            text.encode("utf-8"),
            self.clock(),
            attachments=files,
            content_type="text/plain" if not files else "multipart/mixed",
        )
        return await self._send(envelope)

    async def create_group(self, group_id: str, members: list[str]) -> api.GroupInfo:
        return await self.transport.create_group(
            api.GroupCreate(group_id=group_id, members=sorted(set(members) | {self.core.account}))
        )

    async def change_members(
        self, group_id: str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> api.GroupInfo:
        return await self.transport.change_members(
            group_id, api.MembershipChange(add=list(add), remove=list(remove))
        )

    async def send_group(
        self, group_id: str, text: str, attachments: Sequence[Path] = ()
    ) -> api.SendReceipt:
        info = await self.transport.group(group_id)
        await self._ensure_sessions(info.members)
        now = self.clock()
        lacking = self.core.group_key_recipients(group_id, info.membership_epoch, info.members, now)
        if lacking:
            await self._send(self.core.compose_group_key_share(group_id, lacking, now))
        files = await self._upload(attachments)
        await self._prepare(files)
        envelope = self.core.compose_group(
            group_id,
            info.membership_epoch,
            info.members,
            text.encode("utf-8"),
            now,
            attachments=files,
            content_type="text/plain" if not files else "multipart/mixed",
        )
        return await self._send(envelope)

    async def _send(self, envelope: api.EnvelopeIn) -> api.SendReceipt:
        self.state.outbox.append(outbox_entry(envelope))
        self.save()
        receipt = await self.transport.send(envelope)
        self._sent(envelope.msg_id, receipt)
        return receipt

    def _sent(self, msg_id: str, receipt: api.SendReceipt) -> None:
        self.state.outbox = [e for e in self.state.outbox if e["msg_id"] != msg_id]
        self.core.record_server_time(msg_id, receipt.server_ts)
        self.save()

    async def flush_outbox(self) -> int:
        """Re-send envelopes that were persisted but never confirmed (same message ids, so the
        relay answers one it already has as a duplicate). One queued envelope goes through
        ``POST /v1/messages``; more go through ``POST /v1/messages:batch``, up to ``MAX_BATCH``
        per request, with the same retries and backoff: the transport retries a failed request,
        and envelopes a batch answers with a retryable status (429, 5xx) are sent again after
        the same backoff. Every accepted envelope leaves the outbox; then the first refusal is
        raised as ``ApiError`` (the refused envelope stays queued, as with single sends), or
        ``ServerUnreachable`` if retryable answers outlast the attempts."""
        entries = [api.EnvelopeIn.model_validate(e) for e in self.state.outbox]
        if len(entries) <= 1:
            for envelope in entries:
                self._sent(envelope.msg_id, await self.transport.send(envelope))
            return len(entries)
        sent = 0
        failure: Exception | None = None
        for start in range(0, len(entries), MAX_BATCH):
            accepted, error = await self._send_batch(entries[start : start + MAX_BATCH])
            self._sent_many(accepted)
            sent += len(accepted)
            failure = failure or error
        if failure is not None:
            raise failure
        return sent

    async def _send_batch(
        self, envelopes: list[api.EnvelopeIn]
    ) -> tuple[list[api.SendReceipt], Exception | None]:
        """One batch, retrying the envelopes answered with a retryable status; returns the
        receipts of the accepted ones and the first failure (if any)."""
        transport = self.transport
        pending, accepted = envelopes, []
        failure: Exception | None = None
        delay = transport.backoff
        for attempt in range(transport.attempts):
            batch = SendBatch(envelopes=pending)
            answer = await transport.call("POST", "/messages:batch", BatchReceipt, body=batch)
            retry: list[api.EnvelopeIn] = []
            for envelope, result in zip(pending, answer.results, strict=True):
                if result.status == 200 and result.receipt is not None:
                    accepted.append(result.receipt)
                elif result.status in RETRY_STATUSES:
                    retry.append(envelope)
                elif failure is None:
                    detail = result.error or api.ErrorDetail(code="http_error", message="refused")
                    failure = ApiError(result.status, detail.code, detail.message)
            pending = retry
            if not pending:
                return accepted, failure
            if attempt + 1 < transport.attempts:
                await asyncio.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 5.0)
        unreachable = ServerUnreachable(
            f"POST /messages:batch: {len(pending)} envelope(s) still refused for now after "
            f"{transport.attempts} attempts"
        )
        return accepted, failure or unreachable

    def _sent_many(self, receipts: list[api.SendReceipt]) -> None:
        if not receipts:
            return
        done = {r.msg_id for r in receipts}
        self.state.outbox = [e for e in self.state.outbox if e["msg_id"] not in done]
        for receipt in receipts:
            self.core.record_server_time(receipt.msg_id, receipt.server_ts)
        self.save()

    # --- receiving ----------------------------------------------------------------------------

    async def sync(self, *, limit: int = 100) -> list[SyncOutcome]:
        """Fetch, decrypt, verify, persist, then acknowledge everything queued for this device."""
        outcomes: list[SyncOutcome] = []
        while True:
            page = await self.transport.queue(after=0, limit=limit)
            done: list[int] = []
            try:
                for item in page.items:
                    outcome = await self._receive(item)
                    if outcome is not None:
                        outcomes.append(outcome)
                    done.append(item.seq)
            finally:
                self.save()
                if done:
                    await self.transport.ack(done)
            if not page.more or not page.items:
                break
        await self._replenish_keys()
        return outcomes

    async def _receive(self, item: api.QueueItem) -> SyncOutcome | None:
        if self.core.is_duplicate(item):
            return None
        if item.kind == "notice":
            data = parse_json_object(b64d(item.body))
            return SafetyNotice(
                item.msg_id, item.server_ts, str(data.get("notice", "")), str(data.get("text", ""))
            )
        if self.core.lookup(item.sender, item.sender_device) is None:
            await self.refresh_devices([item.sender])
        try:
            opened = self.core.open(item)
        except ClientError as exc:
            return self.core._reject(item, str(exc))
        if not isinstance(opened, Opened):
            return opened
        for preparer in self.layers.preparers:
            hook = getattr(preparer, "prepare_receive", None)
            if hook is not None:
                await hook(self, item, opened.payload)
        blobs = {}
        for key in opened.payload.attachments:
            if key.attachment_id in item.attachments:
                blobs[key.attachment_id] = await self.transport.download_attachment(
                    key.attachment_id
                )
        outcome = self.core.accept(opened, blobs, self.clock())
        if isinstance(outcome, ReceivedMessage):
            self._save_files(outcome)
        return outcome

    def _save_files(self, message: ReceivedMessage) -> None:
        self.home.files_dir.mkdir(parents=True, exist_ok=True)
        for key, data in message.attachments:
            self.home.save_file(self.saved_path(key, data), data)

    def saved_path(self, key: AttachmentKey, data: bytes) -> Path:
        """Where a received attachment is saved: files/<sha256 prefix>-<sanitised name>."""
        digest = hashlib.sha256(data).hexdigest()
        safe = "".join(c for c in key.name if c.isalnum() or c in "._-")[:80] or "file"
        return self.home.files_dir / f"{digest[:16]}-{safe}"

    async def listen(
        self,
        on_outcomes: Callable[[list[SyncOutcome]], None],
        *,
        duration: float | None = None,
        reconnect_after: float = 1.0,
    ) -> None:
        """Stay connected to the push channel and sync whenever the server says something was
        queued (and once on connect, for anything queued while offline). Reconnects with backoff;
        returns after ``duration`` seconds when one is given."""
        import websockets

        url = "ws" + self.state.server.removeprefix("http") + api.API_PREFIX + "/ws"
        headers = {"Authorization": f"Bearer {self.state.token}"}
        loop = asyncio.get_running_loop()
        deadline = None if duration is None else loop.time() + duration

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - loop.time())

        delay = reconnect_after
        while deadline is None or loop.time() < deadline:
            try:
                async with websockets.connect(url, additional_headers=headers) as ws:
                    delay = reconnect_after
                    while True:
                        raw = await asyncio.wait_for(ws.recv(), timeout=left())
                        event = json.loads(raw)
                        if event.get("type") == "queued" or event.get("unacked", 0) > 0:
                            on_outcomes(await self.sync())
            except TimeoutError:
                return
            except (OSError, websockets.WebSocketException) as exc:
                if deadline is not None and loop.time() + delay >= deadline:
                    raise ServerUnreachable(f"push channel closed: {exc}") from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _replenish_keys(self) -> None:
        count = await self.transport.key_count()
        if count.one_time_keys < ONE_TIME_KEY_LOW:
            keys = self.core.device.new_one_time_keys(ONE_TIME_KEY_BATCH)
            await self.transport.upload_keys(api.OneTimeKeysUpload(one_time_keys=keys))
            self.core.device.mark_keys_as_published()
            self.save()


def outcome_json(client: FulcrumClient, outcome: SyncOutcome) -> dict[str, object]:
    """The JSON line `fulcrum sync --json` prints for one outcome."""
    if isinstance(outcome, ReceivedMessage):
        from fulcrum.client.forwarding import forward_count

        return {
            "forwarded": forward_count(client, outcome.msg_id),
            "type": "message",
            "id": outcome.msg_id,
            "conversation": outcome.conv,
            "group": outcome.group_id,
            "sender": outcome.sender,
            "sender_device": outcome.sender_device,
            "text": outcome.text,
            "attachments": [str(client.saved_path(k, d)) for k, d in outcome.attachments],
            "sent_at": outcome.client_ts,
            "server_ts": outcome.server_ts,
        }
    if isinstance(outcome, SafetyNotice):
        return {
            "type": "notice",
            "id": outcome.msg_id,
            "notice": outcome.notice,
            "text": outcome.text,
            "server_ts": outcome.server_ts,
        }
    return {"type": type(outcome).__name__.lower(), **json.loads(json.dumps(outcome.__dict__))}
