"""`careloop mllp-bridge`: listens for HL7 v2 over MLLP on the practice's network and forwards each
message, signed, to the Careloop webhook; the webhook's ACK goes back framed to the sender.

Nothing is dropped silently: a message the webhook did not keep (timeout, 5xx, 401...) is answered
AE (AR for a refusal), written to a local spool directory, and retried until the webhook takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from careloop.ehr.hl7v2 import ack_for
from careloop.ehr.signing import sign_timestamped

VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"
HL7_TYPE = "x-application/hl7-v2+er7"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

log = logging.getLogger("careloop.mllp")


def frame(payload: bytes) -> bytes:
    return VT + payload + FS + CR


class MllpDecoder:
    """Bytes from a socket in, whole messages out. Bytes outside a VT...FS block are ignored
    (stray CR/LF between messages, a CR that arrives in the next packet): FS ends a message."""

    def __init__(self, max_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.buffer = bytearray()
        self.max_bytes = max_bytes

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out: list[bytes] = []
        while True:
            start = self.buffer.find(VT)
            if start < 0:
                self.buffer.clear()
                return out
            end = self.buffer.find(FS, start + 1)
            if end < 0:
                del self.buffer[:start]
                if len(self.buffer) > self.max_bytes:
                    raise ValueError(f"MLLP message larger than {self.max_bytes} bytes")
                return out
            out.append(bytes(self.buffer[start + 1:end]))
            del self.buffer[:end + (2 if self.buffer[end + 1:end + 2] == CR else 1)]


@dataclass
class ForwardResult:
    code: str  # AA / AE / AR: what the sender is told
    ack: bytes  # the ACK sent back (the webhook's own, or one the bridge built)
    status: int | None  # HTTP status, None if the webhook could not be reached
    spooled: Path | None = None  # where the message waits for a retry, if it does


class Forwarder:
    """Signs and posts one message to the webhook; decides what the sender hears."""

    def __init__(self, url: str, secret: str, spool_dir: Path, *, timeout: float = 10.0,
                 facility: str = "CARELOOP") -> None:
        self.url = url
        self.secret = secret
        self.spool_dir = Path(spool_dir)
        self.timeout = timeout
        self.facility = SimpleNamespace(id=facility)  # what build_ack needs of a practice profile
        self.spool_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def forward(self, message: bytes, *, spool: bool = True) -> ForwardResult:
        status, body = self._post(message)
        if status is not None and 200 <= status < 300 and b"MSA|" in body:
            return ForwardResult(_ack_code(body) or "AA", body, status)
        if status == 400 and b"MSA|" in body:
            # refused as unreadable: the webhook quarantined it (kept for `careloop ehr replay`)
            return ForwardResult(_ack_code(body) or "AR", body, status)
        if status is not None and 200 <= status < 300:
            return ForwardResult("AA", self._ack(message, "AA", ""), status)
        if status is not None and 400 <= status < 500 and status not in (408, 429):
            code, text = "AR", f"refused by Careloop (HTTP {status}); kept by the bridge for retry"
        else:
            code = "AE"
            text = ("Careloop did not answer; kept by the bridge for retry" if status is None
                    else f"Careloop error (HTTP {status}); kept by the bridge for retry")
        path = self.spool(message, text) if spool else None
        return ForwardResult(code, self._ack(message, code, text), status, path)

    def _post(self, message: bytes) -> tuple[int | None, bytes]:
        req = urllib.request.Request(self.url, data=message, method="POST", headers={
            "Content-Type": HL7_TYPE, "Accept": HL7_TYPE, "X-Careloop-Signature": sign_timestamped(self.secret, message)})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (configured URL)
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            log.warning("webhook unreachable: %s", type(exc).__name__)
            return None, b""

    def _ack(self, message: bytes, code: str, text: str) -> bytes:
        return ack_for(message, code, text, self.facility).encode()  # type: ignore[arg-type]

    # the spool ---------------------------------------------------------------------------
    def spool(self, message: bytes, reason: str) -> Path:
        """Write the message (and why) atomically; files are private to the bridge's user."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.spool_dir / f"{stamp}-{hashlib.sha256(message).hexdigest()[:16]}.hl7"
        _write_private(path, message)
        _write_private(path.with_suffix(".json"), json.dumps(
            {"reason": reason, "attempts": 1, "spooled_at": datetime.now(UTC).isoformat()}).encode())
        return path

    def spooled(self) -> list[Path]:
        return sorted(self.spool_dir.glob("*.hl7"))

    def retry_spool(self) -> tuple[int, int]:
        """Send what waits, oldest first; stop at the first failure (the webhook is still down).
        -> (delivered, still waiting)."""
        delivered = 0
        for path in self.spooled():
            result = self.forward(path.read_bytes(), spool=False)
            if result.spooled is None and result.status is not None and (
                    200 <= result.status < 300 or (result.status == 400 and result.code == "AR")):
                path.unlink(missing_ok=True)
                path.with_suffix(".json").unlink(missing_ok=True)
                delivered += 1
                continue
            meta_path = path.with_suffix(".json")
            meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
            meta |= {"attempts": int(meta.get("attempts", 1)) + 1, "last_status": result.status,
                     "last_try_at": datetime.now(UTC).isoformat()}
            _write_private(meta_path, json.dumps(meta).encode())
            break
        return delivered, len(self.spooled())


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _ack_code(ack: bytes) -> str | None:
    for segment in ack.replace(b"\n", b"\r").split(b"\r"):
        if segment.startswith(b"MSA|"):
            code = segment.split(b"|")[1][:2].decode("ascii", "replace")
            return code if code in ("AA", "AE", "AR", "CA", "CE", "CR") else None
    return None


def _control_id(message: bytes) -> str:
    first = message.replace(b"\n", b"\r").split(b"\r", 1)[0]
    fields = first.split(first[3:4]) if len(first) > 3 else []
    return fields[9].decode("ascii", "replace")[:40] if len(fields) > 9 else ""


class MllpBridge:
    """The asyncio server: one task per connection, messages on a connection in order."""

    def __init__(self, forwarder: Forwarder, *, retry_every: float = 30.0,
                 on_result: Callable[[ForwardResult], None] | None = None) -> None:
        self.forwarder = forwarder
        self.retry_every = retry_every
        self.on_result = on_result
        self.server: asyncio.base_events.Server | None = None
        self._retry_task: asyncio.Task | None = None

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self.server = await asyncio.start_server(self._handle, host, port)
        if self.retry_every > 0:
            self._retry_task = asyncio.create_task(self._retry_loop())
        sock = self.server.sockets[0].getsockname()
        return sock[0], sock[1]

    async def stop(self) -> None:
        if self._retry_task:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
        if self.server:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = MllpDecoder()
        peer = writer.get_extra_info("peername")
        try:
            while data := await reader.read(65536):
                try:
                    messages = decoder.feed(data)
                except ValueError:
                    log.warning("closing %s: message too large", peer)
                    break
                for message in messages:
                    started = time.monotonic()
                    result = await asyncio.to_thread(self.forwarder.forward, message)
                    writer.write(frame(result.ack))
                    await writer.drain()
                    log.info("forwarded control_id=%s code=%s status=%s spooled=%s ms=%d",
                             _control_id(message), result.code, result.status, bool(result.spooled),
                             (time.monotonic() - started) * 1000)
                    if self.on_result:
                        self.on_result(result)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(self.retry_every)
            if self.forwarder.spooled():
                delivered, waiting = await asyncio.to_thread(self.forwarder.retry_spool)
                log.info("spool retry: %d delivered, %d waiting", delivered, waiting)


def run(host: str, port: int, forwarder: Forwarder, *, retry_every: float = 30.0,
        ready: Callable[[str, int], None] | None = None) -> None:
    """Serve until cancelled (Ctrl-C)."""

    async def main() -> None:
        bridge = MllpBridge(forwarder, retry_every=retry_every)
        bound = await bridge.start(host, port)
        if ready:
            ready(*bound)
        try:
            await asyncio.Event().wait()
        finally:
            await bridge.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
