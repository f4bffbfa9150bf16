"""The device side of the ADB transport protocol, driven with the packets a real adb server sends."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miui_automator.sim import wire
from miui_automator.sim.wire import (
    A_AUTH, A_CLSE, A_CNXN, A_OKAY, A_OPEN, A_WRTE, AUTH_RSAPUBLICKEY, AUTH_SIGNATURE, AUTH_TOKEN,
    AuthRequired, DeviceConnection, Message, MessageParser, Online, OpenRequest, ProtocolError, Reset,
    StreamClosed, StreamData, StreamReady,
)

BANNER = "device::ro.product.name=corot_global;ro.product.model=23078PND5G;ro.product.device=corot;"
HOST_BANNER = b"host::features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir,delayed_ack,sendrecv_v2_zstd"


def host(command: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    return Message(command, arg0, arg1, data).pack()


def sent(conn: DeviceConnection) -> list[Message]:
    return MessageParser().feed(conn.data_to_send())


def online(require_auth: bool = False, maxdata: int = wire.MAX_PAYLOAD) -> DeviceConnection:
    conn = DeviceConnection(wire.device_banner(BANNER), require_auth=require_auth)
    conn.receive(host(A_CNXN, wire.A_VERSION, maxdata, HOST_BANNER))
    conn.data_to_send()
    return conn


def opened(conn: DeviceConnection, host_id: int = 8, service: bytes = b"shell:echo hi\0") -> int:
    (request,) = conn.receive(host(A_OPEN, host_id, 0, service))
    assert isinstance(request, OpenRequest)
    local_id = conn.accept(request.host_id)
    conn.data_to_send()
    return local_id


# ---------------------------------------------------------------------------- framing
def test_header_layout_matches_the_documented_bytes():
    # as the real adb server sends it: OKAY(1, 8) from the device.
    assert Message(A_OKAY, 1, 8).pack() == bytes.fromhex("4f4b4159 01000000 08000000 00000000 00000000 b0b4bea6")


def test_checksum_is_a_byte_sum_and_magic_is_the_inverted_command():
    packed = wire.pack_message(A_WRTE, 1, 2, b"\xff\x01\x02")
    command, _, _, length, check, magic = struct.unpack("<6I", packed[:24])
    assert (command, length, check, magic) == (A_WRTE, 3, 0x102, A_WRTE ^ 0xFFFFFFFF)
    assert struct.unpack("<6I", wire.pack_message(A_WRTE, 1, 2, b"ab", with_checksum=False)[:24])[4] == 0


def test_parser_reassembles_split_and_coalesced_messages():
    msgs = [Message(A_OPEN, 8, 0, b"sync:\0"), Message(A_OKAY, 8, 1), Message(A_WRTE, 8, 1, b"x" * 5000)]
    stream = b"".join(m.pack() for m in msgs)
    parser = MessageParser()
    got = [m for i in range(0, len(stream), 7) for m in parser.feed(stream[i:i + 7])]
    assert got == msgs
    assert MessageParser().feed(stream) == msgs


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=6), st.data())
@settings(max_examples=60, deadline=None)
def test_parser_result_does_not_depend_on_how_bytes_are_sliced(payloads, data):
    msgs = [Message(A_WRTE, 3, 4, p) for p in payloads]
    stream = b"".join(m.pack() for m in msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    parser = MessageParser()
    got = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        got += parser.feed(stream[start:end])
    assert got == msgs


def test_parser_rejects_bad_magic():
    packed = bytearray(Message(A_OKAY, 1, 2).pack())
    packed[20] ^= 1
    with pytest.raises(ProtocolError, match="magic"):
        MessageParser().feed(bytes(packed))


def test_parser_rejects_payload_over_the_maximum_before_it_arrives():
    header = struct.pack("<6I", A_WRTE, 1, 2, wire.MAX_PAYLOAD + 1, 0, A_WRTE ^ 0xFFFFFFFF)
    with pytest.raises(ProtocolError, match="over the maximum"):
        MessageParser().feed(header)


# ---------------------------------------------------------------------------- handshake
def test_nothing_is_sent_before_the_hosts_cnxn():
    conn = DeviceConnection(wire.device_banner(BANNER))
    assert conn.receive(host(A_OPEN, 8, 0, b"shell:id\0")) == []
    assert conn.data_to_send() == b""


def test_cnxn_is_answered_with_version_maxdata_and_banner_with_features():
    conn = DeviceConnection(wire.device_banner(BANNER))
    events = conn.receive(host(A_CNXN, 0x01000001, 0x100000, HOST_BANNER))
    assert events == [Online()]
    (reply,) = sent(conn)
    assert (reply.command, reply.arg0, reply.arg1) == (A_CNXN, 0x01000001, 0x100000)
    banner = reply.data.decode()
    assert banner.startswith(BANNER)
    features = banner.split("features=")[1].split(",")
    assert {"shell_v2", "stat_v2", "ls_v2", "sendrecv_v2", "fixed_push_mkdir"} <= set(features)
    assert not {"delayed_ack", "sendrecv_v2_brotli", "sendrecv_v2_lz4", "sendrecv_v2_zstd", "abb"} & set(features)


def test_max_payload_is_the_smaller_of_both_sides():
    assert online(maxdata=0x40000).max_payload == 0x40000
    assert online(maxdata=0x1000000).max_payload == wire.MAX_PAYLOAD


def test_second_cnxn_resets_streams_and_replies_again():
    conn = online()
    a = opened(conn, 8)
    b = opened(conn, 11)
    events = conn.receive(host(A_CNXN, wire.A_VERSION, wire.MAX_PAYLOAD, HOST_BANNER))
    assert events == [Reset((a, b)), Online()]
    assert [m.command for m in sent(conn)] == [A_CNXN]
    assert conn.stream_ids == ()


def test_host_auth_is_ignored_without_auth_mode():
    conn = online()
    assert conn.receive(host(A_AUTH, AUTH_SIGNATURE, 0, b"sig")) == []
    assert conn.data_to_send() == b""


def test_banner_longer_than_4096_bytes_is_refused():
    with pytest.raises(ValueError):
        DeviceConnection("device::" + "x" * 5000)


# ---------------------------------------------------------------------------- auth mode
def test_auth_mode_sends_a_token_and_never_accepts_an_untrusted_signature():
    conn = DeviceConnection(wire.device_banner(BANNER), require_auth=True)
    assert conn.receive(host(A_CNXN, wire.A_VERSION, wire.MAX_PAYLOAD, HOST_BANNER)) == []
    (token,) = sent(conn)
    assert (token.command, token.arg0, len(token.data)) == (A_AUTH, AUTH_TOKEN, 20)
    assert conn.receive(host(A_AUTH, AUTH_SIGNATURE, 0, b"s" * 256)) == []
    (again,) = sent(conn)
    assert (again.command, again.arg0) == (A_AUTH, AUTH_TOKEN) and again.data != token.data
    assert conn.receive(host(A_AUTH, AUTH_RSAPUBLICKEY, 0, b"QAAAA... user@host\0")) == [AuthRequired()]
    assert conn.data_to_send() == b""
    assert conn.receive(host(A_OPEN, 8, 0, b"shell:id\0")) == []  # not online yet
    assert conn.authorize() == [Online()]
    (cnxn,) = sent(conn)
    assert cnxn.command == A_CNXN and cnxn.data.startswith(BANNER.encode())


def test_trusted_device_accepts_the_signature():
    conn = DeviceConnection(wire.device_banner(BANNER), require_auth=True, trusted=True)
    conn.receive(host(A_CNXN, wire.A_VERSION, wire.MAX_PAYLOAD, HOST_BANNER))
    conn.data_to_send()
    assert conn.receive(host(A_AUTH, AUTH_SIGNATURE, 0, b"s" * 256)) == [Online()]
    assert [m.command for m in sent(conn)] == [A_CNXN]


# ---------------------------------------------------------------------------- streams
def test_open_strips_nuls_and_accept_sends_okay_with_unique_nonzero_ids():
    conn = online()
    (request,) = conn.receive(host(A_OPEN, 8, 0, b"shell,v2,raw:echo hi\0\0"))
    assert request == OpenRequest(8, "shell,v2,raw:echo hi")
    first = conn.accept(8)
    second = conn.accept(11)
    assert 0 not in (first, second) and first != second
    assert [(m.command, m.arg0, m.arg1) for m in sent(conn)] == [(A_OKAY, first, 8), (A_OKAY, second, 11)]


def test_refuse_sends_clse_zero_host_id():
    conn = online()
    conn.refuse(8)
    assert [(m.command, m.arg0, m.arg1) for m in sent(conn)] == [(A_CLSE, 0, 8)]


def test_open_with_delayed_ack_window_is_refused():
    conn = online()
    assert conn.receive(host(A_OPEN, 8, 32 * 1024 * 1024, b"shell:id\0")) == []
    assert [(m.command, m.arg0, m.arg1) for m in sent(conn)] == [(A_CLSE, 0, 8)]


def test_one_wrte_in_flight_until_okay():
    conn = online()
    local = opened(conn)
    assert conn.can_send(local)
    conn.write(local, b"hello")
    assert not conn.can_send(local)
    with pytest.raises(RuntimeError):
        conn.write(local, b"more")
    raw = conn.data_to_send()
    (wrte,) = MessageParser().feed(raw)
    assert (wrte.command, wrte.arg0, wrte.arg1, wrte.data) == (A_WRTE, local, 8, b"hello")
    assert raw[16:20] == b"\0\0\0\0"  # no checksum once 0x01000001 is negotiated
    assert conn.receive(host(A_OKAY, 8, local)) == [StreamReady(local)]
    assert conn.can_send(local)


def test_okay_from_a_different_host_id_is_ignored():
    conn = online()
    local = opened(conn, 8)
    conn.write(local, b"x")
    assert conn.receive(host(A_OKAY, 9, local)) == []
    assert not conn.can_send(local)


def test_write_larger_than_negotiated_payload_is_rejected():
    conn = online(maxdata=4096)
    local = opened(conn)
    with pytest.raises(ValueError):
        conn.write(local, b"x" * 4097)
    conn.write(local, b"x" * 4096)


def test_host_data_is_delivered_and_okayed_when_consumed():
    conn = online()
    local = opened(conn)
    assert conn.receive(host(A_WRTE, 8, local, b"stdin")) == [StreamData(local, b"stdin")]
    assert conn.data_to_send() == b""
    conn.ack(local)
    assert [(m.command, m.arg0, m.arg1) for m in sent(conn)] == [(A_OKAY, local, 8)]


def test_clse_handling_is_idempotent():
    conn = online()
    local = opened(conn)
    assert conn.receive(host(A_CLSE, 8, local)) == [StreamClosed(local)]
    assert conn.receive(host(A_CLSE, 8, local)) == []
    assert conn.receive(host(A_CLSE, 8, 999)) == []
    conn.close(local)  # already closed by the host: nothing to send
    assert conn.data_to_send() == b""
    other = opened(conn, 11)
    conn.close(other)
    conn.close(other)
    assert [(m.command, m.arg0, m.arg1) for m in sent(conn)] == [(A_CLSE, other, 11)]
    assert conn.receive(host(A_CLSE, 11, other)) == []  # the host's echo


def test_data_for_unknown_streams_is_ignored():
    conn = online()
    assert conn.receive(host(A_WRTE, 8, 42, b"x") + host(A_OKAY, 8, 42)) == []
    assert conn.data_to_send() == b""


host_messages = st.one_of(
    st.just(host(A_CNXN, wire.A_VERSION, wire.MAX_PAYLOAD, HOST_BANNER)),
    st.builds(lambda h: host(A_OPEN, h, 0, b"shell:id\0"), st.integers(1, 5)),
    st.builds(lambda h, l: host(A_WRTE, h, l, b"data"), st.integers(1, 5), st.integers(1, 5)),
    st.builds(lambda h, l: host(A_OKAY, h, l), st.integers(1, 5), st.integers(1, 5)),
    st.builds(lambda h, l: host(A_CLSE, h, l), st.integers(0, 5), st.integers(1, 5)),
    st.builds(lambda t: host(A_AUTH, t, 0, b"k"), st.sampled_from([AUTH_SIGNATURE, AUTH_RSAPUBLICKEY])),
)


@given(st.lists(host_messages, max_size=30), st.booleans())
@settings(max_examples=100, deadline=None)
def test_device_never_opens_a_stream_to_the_host(packets, require_auth):
    conn = DeviceConnection(wire.device_banner(BANNER), require_auth=require_auth)
    live: set[int] = set()
    for packet in packets:
        for event in conn.receive(packet):
            if isinstance(event, OpenRequest):
                live.add(conn.accept(event.host_id))
        for local in list(live):
            if conn.can_send(local):
                conn.write(local, b"out")
        for msg in sent(conn):
            assert msg.command != A_OPEN
            if msg.command in (A_OKAY, A_WRTE):
                assert msg.arg0 != 0


# ---------------------------------------------------------------------------- device-opened streams (reverse)
def test_device_open_waits_for_the_hosts_okay_then_carries_data():
    conn = online()
    local = conn.open("tcp:7100")
    (open_msg,) = sent(conn)
    assert (open_msg.command, open_msg.arg0, open_msg.arg1, open_msg.data) == (A_OPEN, local, 0, b"tcp:7100\0")
    assert not conn.can_send(local)
    assert conn.receive(host(A_OKAY, 21, local)) == [StreamReady(local)]
    conn.write(local, b"hi")
    (wrte,) = sent(conn)
    assert (wrte.command, wrte.arg0, wrte.arg1) == (A_WRTE, local, 21)
    assert conn.receive(host(A_WRTE, 21, local, b"back")) == [StreamData(local, b"back")]


def test_device_open_refused_by_the_host_closes_the_stream():
    conn = online()
    local = conn.open("tcp:7100")
    conn.data_to_send()
    assert conn.receive(host(A_CLSE, 0, local)) == [StreamClosed(local)]
    assert not conn.is_open(local)
