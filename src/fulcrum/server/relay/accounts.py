"""Accounts, devices and the key directory."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import IntegrityError

from fulcrum.server.auth import authenticated_device, new_device_id, new_token
from fulcrum.server.errors import conflict, error_responses, invalid, not_found
from fulcrum.server.relay.common import now_ms, state_of, verify_device_keys
from fulcrum.store import AccountDirectory, DeviceRecord, KeyDirectory
from fulcrum.wire.api import (
    AccountCreate,
    AccountDevices,
    ClaimedKey,
    DeviceAdd,
    DeviceInfo,
    DeviceKeys,
    DeviceRegistered,
    KeyClaimRequest,
    KeyClaimResponse,
    KeyCount,
    OneTimeKeysUpload,
)

router = APIRouter(tags=["accounts"])
Caller = Depends(authenticated_device)


def _register(
    accounts: AccountDirectory, keys: KeyDirectory, account: str, device: DeviceKeys
) -> DeviceRegistered:
    token, digest = new_token()
    record = accounts.add_device(
        device_id=new_device_id(),
        account=account,
        identity_key=device.identity_key,
        signing_key=device.signing_key,
        token_hash=digest,
        created_at=now_ms(),
    )
    keys.upload(record.id, device.one_time_keys, device.fallback_key)
    return DeviceRegistered(account=account, device_id=record.id, token=token)


@router.post(
    "/accounts", status_code=201, response_model=DeviceRegistered, responses=error_responses(409)
)
def create_account(body: AccountCreate, request: Request) -> DeviceRegistered:
    """Create an account with its first device; the device proves it holds its signing key."""
    verify_device_keys(body.name, body.device)
    state = state_of(request)
    try:
        with state.db.write() as session:
            accounts = AccountDirectory(session)
            if accounts.exists(body.name):
                raise conflict("account name is taken")
            accounts.create(
                body.name, birth_year=body.birth_year, country=body.country, created_at=now_ms()
            )
            registered = _register(accounts, KeyDirectory(session), body.name, body.device)
    except IntegrityError as exc:
        raise conflict("account name is taken") from exc
    request.state.account = registered.account
    request.state.device = registered.device_id
    return registered


@router.post(
    "/devices", status_code=201, response_model=DeviceRegistered, responses=error_responses(401)
)
def add_device(
    body: DeviceAdd, request: Request, caller: DeviceRecord = Caller
) -> DeviceRegistered:
    """Add a device to the caller's own account."""
    verify_device_keys(caller.account, body.device)
    with state_of(request).db.write() as session:
        return _register(
            AccountDirectory(session), KeyDirectory(session), caller.account, body.device
        )


@router.get(
    "/accounts/{name}/devices", response_model=AccountDevices, responses=error_responses(401, 404)
)
def list_devices(name: str, request: Request, caller: DeviceRecord = Caller) -> AccountDevices:
    """Every device of an account with its public keys."""
    with state_of(request).db.read() as session:
        accounts = AccountDirectory(session)
        if not accounts.exists(name):
            raise not_found("no such account")
        devices = accounts.devices_of([name])
    return AccountDevices(
        account=name,
        devices=[
            DeviceInfo(device_id=d.id, identity_key=d.identity_key, signing_key=d.signing_key)
            for d in devices
        ],
    )


@router.post("/keys/claim", response_model=KeyClaimResponse, responses=error_responses(401, 404))
def claim_keys(
    body: KeyClaimRequest, request: Request, caller: DeviceRecord = Caller
) -> KeyClaimResponse:
    """Claim one one-time key per device (each key is handed out once), else its fallback key.
    Devices with neither are left out of the answer."""
    out: list[ClaimedKey] = []
    with state_of(request).db.write() as session:
        accounts, keys = AccountDirectory(session), KeyDirectory(session)
        for ref in dict.fromkeys(body.devices):
            device = accounts.device(ref.account, ref.device_id)
            if device is None:
                raise not_found(f"device {ref.account}/{ref.device_id} not found")
            claimed = keys.claim(device)
            if claimed is not None:
                out.append(
                    ClaimedKey(
                        account=device.account,
                        device_id=device.id,
                        identity_key=device.identity_key,
                        signing_key=device.signing_key,
                        key_id=claimed.key_id,
                        one_time_key=claimed.key,
                        fallback=claimed.fallback,
                    )
                )
    return KeyClaimResponse(keys=out)


@router.post("/keys/upload", response_model=KeyCount, responses=error_responses(401))
def upload_keys(
    body: OneTimeKeysUpload, request: Request, caller: DeviceRecord = Caller
) -> KeyCount:
    """Publish more one-time keys (and optionally a new fallback key) for the calling device."""
    if body.fallback_key is not None and len(body.fallback_key) > 1:
        raise invalid("fallback_key holds at most one key")
    with state_of(request).db.write() as session:
        keys = KeyDirectory(session)
        keys.upload(caller.id, body.one_time_keys, body.fallback_key)
        return KeyCount(one_time_keys=keys.unclaimed_count(caller.id))


@router.get("/keys/count", response_model=KeyCount, responses=error_responses(401))
def count_keys(request: Request, caller: DeviceRecord = Caller) -> KeyCount:
    """How many unclaimed one-time keys the calling device has left."""
    with state_of(request).db.read() as session:
        return KeyCount(one_time_keys=KeyDirectory(session).unclaimed_count(caller.id))
