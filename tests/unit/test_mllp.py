"""careloop_local.ehr_mllp: MLLP framing, and the bridge over a real TCP socket on loopback against a
real (small) HTTP server: ACKs passed through, AE/AR when the webhook fails, nothing dropped
(spooled, then retried until the webhook takes it)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from careloop.intake import verify_signature
from careloop_local.ehr_mllp import CR, FS, VT, Forwarder, MllpBridge, MllpDecoder, frame

SECRET = "bridge-secret"
MESSAGE = (b"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|20261120100000||ADT^A08|CTRL-7|P|2.5\r"
           b"EVN|A08|20261120100000\rPID|1||MRN-1^^^MAPLE^MR||Rivera^Ana\r")
ACK_AA = b"MSH|^~\\&|CARELOOP|DEMO|PMS|MAPLE|20261120100001||ACK^A08^ACK|X1|P|2.5\rMSA|AA|CTRL-7\r"


# ---- framing ---------------------------------------------------------------------------------


def test_decoder_splits_joins_and_ignores_noise():
    d = MllpDecoder()
    # Given two frames in one packet, noise between them, and a third split over three packets
    assert d.feed(b"\r\n" + frame(b"one") + b"\n" + frame(b"two")) == [b"one", b"two"]
    assert d.feed(VT + b"thr") == []
    assert d.feed(b"ee" + FS) == [b"three"]
    assert d.feed(CR + frame(b"four")) == [b"four"]  # the late CR is ignored


def test_decoder_refuses_endless_messages():
    d = MllpDecoder(max_bytes=10)
    with pytest.raises(ValueError):
        d.feed(VT + b"x" * 20)


# ---- a webhook stand-in ----------------------------------------------------------------------


class Webhook:
    """A real HTTP server answering from a script: [(status, body, delay_s), ...]; the last
    answer repeats. Records what it received."""

    def __init__(self, script):
        self.script = list(script)
        self.received: list[tuple[bytes, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((body, dict(self.headers)))
                status, answer, delay = outer.script[0] if len(outer.script) == 1 else outer.script.pop(0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "x-application/hl7-v2+er7")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/ehr/hl7v2"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    made = []

    def make(*script):
        made.append(Webhook(script))
        return made[-1]

    yield make
    for w in made:
        w.close()


def forwarder(url, tmp_path, timeout=2.0):
    return Forwarder(url, SECRET, tmp_path / "spool", timeout=timeout)


def test_forward_signs_and_passes_the_webhook_ack_through(webhook, tmp_path):
    # Given a webhook that accepts
    hook = webhook((200, ACK_AA, 0))
    # When a message is forwarded
    result = forwarder(hook.url, tmp_path).forward(MESSAGE)
    # Then it arrived signed, with the HL7 Accept header, and the webhook's ACK is the answer
    body, headers = hook.received[0]
    assert body == MESSAGE and headers["X-Careloop-Signature"].startswith("t=")
    verify_signature(SECRET, MESSAGE, headers["X-Careloop-Signature"])  # the timestamped form, fresh
    assert headers["Accept"] == "x-application/hl7-v2+er7"
    assert (result.code, result.ack, result.spooled) == ("AA", ACK_AA, None)


@pytest.mark.parametrize("status, code", [(500, "AE"), (503, "AE"), (401, "AR"), (404, "AR"), (429, "AE")])
def test_failures_answer_ae_or_ar_and_spool(webhook, tmp_path, status, code):
    # Given a webhook that fails with `status`
    hook = webhook((status, b'{"resourceType": "OperationOutcome"}', 0))
    f = forwarder(hook.url, tmp_path)
    # When a message is forwarded
    result = f.forward(MESSAGE)
    # Then the sender hears AE (try again) or AR (refused), for its own control id, and the
    # message is on disk, private to the bridge
    assert result.code == code and f"MSA|{code}|CTRL-7".encode() in result.ack
    assert result.spooled.read_bytes() == MESSAGE and (result.spooled.stat().st_mode & 0o777) == 0o600
    assert json.loads(result.spooled.with_suffix(".json").read_text())["attempts"] == 1


def test_timeout_and_unreachable_webhook_answer_ae_and_spool(webhook, tmp_path):
    slow = webhook((200, ACK_AA, 1.0))
    result = forwarder(slow.url, tmp_path, timeout=0.3).forward(MESSAGE)
    assert result.code == "AE" and result.status is None and result.spooled is not None
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/ehr/hl7v2"
    result = forwarder(dead, tmp_path).forward(MESSAGE)
    assert result.code == "AE" and result.spooled is not None


def test_a_quarantined_message_is_not_spooled(webhook, tmp_path):
    # Given the webhook refused the message as unreadable (it keeps it in quarantine itself)
    ack_ar = b"MSH|^~\\&|CARELOOP|DEMO|PMS|MAPLE|20261120100001||ACK|X1|P|2.5\rMSA|AR|CTRL-7|bad\r"
    hook = webhook((400, ack_ar, 0))
    result = forwarder(hook.url, tmp_path).forward(MESSAGE)
    # Then the webhook's AR goes back and the bridge keeps no copy
    assert (result.code, result.ack, result.spooled) == ("AR", ack_ar, None)


def test_spool_is_retried_until_the_webhook_takes_it(webhook, tmp_path):
    # Given two messages spooled while the webhook was down
    hook = webhook((503, b"", 0), (503, b"", 0), (503, b"", 0), (200, ACK_AA, 0))
    f = forwarder(hook.url, tmp_path)
    f.forward(MESSAGE)
    f.forward(MESSAGE.replace(b"CTRL-7", b"CTRL-8"))
    # When a retry runs while it is still down, then after it recovered
    assert f.retry_spool() == (0, 2)
    assert f.retry_spool() == (2, 0)
    # Then both were delivered, oldest first, and the spool is empty
    assert [b for b, _ in hook.received[-2:]] == [MESSAGE, MESSAGE.replace(b"CTRL-7", b"CTRL-8")]
    assert list((tmp_path / "spool").iterdir()) == []


# ---- the bridge over TCP ---------------------------------------------------------------------


class RunningBridge:
    def __init__(self, forwarder: Forwarder, retry_every: float = 0):
        self.loop = asyncio.new_event_loop()
        self.bridge = MllpBridge(forwarder, retry_every=retry_every)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.host, self.port = asyncio.run_coroutine_threadsafe(
            self.bridge.start("127.0.0.1", 0), self.loop).result(5)

    def send(self, *messages: bytes, split: bool = False) -> list[bytes]:
        with socket.create_connection((self.host, self.port), timeout=10) as s:
            data = b"".join(frame(m) for m in messages)
            if split:  # byte by byte: TCP owes no packet boundaries
                for i in range(0, len(data), 7):
                    s.sendall(data[i:i + 7])
            else:
                s.sendall(data)
            decoder, acks = MllpDecoder(), []
            while len(acks) < len(messages):
                chunk = s.recv(65536)
                assert chunk, "bridge closed the connection"
                acks += decoder.feed(chunk)
            return acks

    def close(self):
        asyncio.run_coroutine_threadsafe(self.bridge.stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_bridge_answers_each_framed_message_in_order(webhook, tmp_path):
    # Given the bridge in front of a webhook that accepts
    hook = webhook((200, ACK_AA, 0))
    running = RunningBridge(forwarder(hook.url, tmp_path))
    try:
        # When a sender sends three messages on one connection, split into small packets
        msgs = [MESSAGE.replace(b"CTRL-7", f"CTRL-{i}".encode()) for i in range(3)]
        acks = running.send(*msgs, split=True)
        # Then each got an ACK, and the webhook saw them in order, each exactly once
        assert len(acks) == 3 and all(b"MSA|AA" in a for a in acks)
        assert [b for b, _ in hook.received] == msgs
    finally:
        running.close()


def test_bridge_answers_ae_when_the_webhook_is_down_and_retries_later(webhook, tmp_path):
    # Given a webhook that fails twice, then recovers; the bridge retries every 0.2 s
    hook = webhook((500, b"", 0), (500, b"", 0), (200, ACK_AA, 0))
    running = RunningBridge(forwarder(hook.url, tmp_path), retry_every=0.2)
    try:
        # When a message arrives while it is down
        (ack,) = running.send(MESSAGE)
        # Then the sender hears AE, and the bridge delivers it on its own once the webhook is back
        assert b"MSA|AE|CTRL-7" in ack
        deadline = time.monotonic() + 10
        while list((tmp_path / "spool").glob("*.hl7")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((tmp_path / "spool").glob("*.hl7")) == []
        assert [b for b, _ in hook.received].count(MESSAGE) == 3
    finally:
        running.close()
