"""The MLLP bridge in front of the real local stack: a sender on a TCP socket, the bridge, the
webhook served over HTTP (werkzeug + LocalHttp), DynamoDB. The ACK the sender gets is the
webhook's own; a misconfigured secret is refused (AR) and kept, then delivered once fixed."""

# ruff: noqa: F811 (pytest fixtures imported from test_ehr_webhook are parameters here)

from __future__ import annotations

from careloop_local.cli import main
from careloop_local.ehr_mllp import Forwarder
from tests.conftest import DATA
from tests.integration.test_ehr_webhook import SECRET
from tests.unit.test_mllp import RunningBridge

SIU = DATA / "microsoft-FHIR-Converter" / "hl7v2" / "SIU-S12-01.hl7"


def test_sample_over_mllp_is_stored_and_acked(stack, served, ports, tmp_path):
    # Given the bridge forwarding to the local stack's webhook
    running = RunningBridge(Forwarder(served + "/ehr/hl7v2", SECRET, tmp_path / "spool"))
    try:
        # When an SIU^S12 sample (2.8, CR segments) and an unreadable message arrive over MLLP
        (ack,) = running.send(SIU.read_bytes())
        (refused,) = running.send(b"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|20261120||ZZZ^Z01|Q-1|P|2.5\r")
    finally:
        running.close()
    # Then the webhook's AA comes back for the sample's control id and the appointment is stored
    assert b"MSA|AA|MSG00012" in ack and ports.records.get_appointment("12345") is not None
    # And the unreadable one is refused with AR: the webhook quarantined it, the bridge kept no copy
    assert b"MSA|AR|Q-1" in refused and list((tmp_path / "spool").glob("*.hl7")) == []


def test_wrong_secret_is_refused_kept_and_delivered_later(stack, served, ports, tmp_path):
    # Given a bridge configured with the wrong secret
    message = (b"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|20261120100000||ADT^A04|MLLP-9|P|2.5\r"
               b"EVN|A04|20261120100000\rPID|1||MLLP-MRN-9^^^MAPLE^MR||Mllp^Ana|||||||^PRN^CP^^1^617^5550199\r")
    running = RunningBridge(Forwarder(served + "/ehr/hl7v2", "wrong", tmp_path / "spool"))
    try:
        (ack,) = running.send(message)
    finally:
        running.close()
    # Then the sender hears AR, nothing is stored, and the message waits in the spool
    assert b"MSA|AR|MLLP-9" in ack and ports.records.get_patient("MLLP-MRN-9") is None
    assert len(list((tmp_path / "spool").glob("*.hl7"))) == 1
    # When the secret is fixed and the spool retried
    fixed = Forwarder(served + "/ehr/hl7v2", SECRET, tmp_path / "spool")
    assert fixed.retry_spool() == (1, 0)
    # Then it is delivered
    assert ports.records.get_patient("MLLP-MRN-9") is not None


def test_cli_refuses_to_start_without_a_secret(monkeypatch, capsys):
    monkeypatch.delenv("NO_SUCH_SECRET_VAR", raising=False)
    assert main(["mllp-bridge", "--secret-env", "NO_SUCH_SECRET_VAR"]) == 2
    assert "NO_SUCH_SECRET_VAR" in capsys.readouterr().err


def test_the_command_serves_until_ctrl_c(served, ports, tmp_path):
    import os
    import signal
    import socket
    import subprocess
    import sys
    from pathlib import Path

    from careloop_local.ehr_mllp import MllpDecoder, frame

    # Given `careloop mllp-bridge` started as a person would, on a free port
    env = dict(os.environ, BRIDGE_SECRET=SECRET, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "careloop"), "mllp-bridge", "--listen", "127.0.0.1:0",
                             "--url", served + "/ehr/hl7v2", "--secret-env", "BRIDGE_SECRET",
                             "--spool", str(tmp_path / "spool")], env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "MLLP bridge listening on 127.0.0.1:" in line, line
        port = int(line.split("127.0.0.1:")[1].split()[0])
        # When a sender sends one message
        message = (b"MSH|^~\\&|PMS|MAPLE|CARELOOP|DEMO|20261120100000||ADT^A04|CLI-1|P|2.5\r"
                   b"PID|1||CLI-MRN-1^^^MAPLE^MR||Cli^Ana\r")
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.sendall(frame(message))
            acks: list[bytes] = []
            decoder = MllpDecoder()
            while not acks:
                acks = decoder.feed(s.recv(65536))
        # Then it is ACKed and stored; and Ctrl-C stops the bridge cleanly
        assert b"MSA|AA|CLI-1" in acks[0] and ports.records.get_patient("CLI-MRN-1") is not None
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
