"""Shell protocol v2 framing: what `adb shell` and adbutils' shell2(v2=True) decode."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from miui_automator.sim import shellproto
from miui_automator.sim.shellproto import EXIT, STDERR, STDIN, STDOUT, WINDOW_SIZE, Decoder, encode, encode_exit


def test_packet_layout_matches_the_documented_bytes():
    # shell v2 framing as adbd sends it: stdout "hi\n", exit 0.
    assert encode(STDOUT, b"hi\n") + encode_exit(0) == bytes.fromhex("0103000000 68690a 0301000000 00")


def test_exit_status_is_masked_to_one_byte():
    assert encode_exit(127)[-1] == 127
    assert encode_exit(256 + 3)[-1] == 3
    assert encode_exit(-1)[-1] == 255


def test_large_payload_is_split_into_packets_that_fit_a_wrte():
    data = bytes(range(256)) * 10
    packed = encode(STDOUT, data, max_data=1000)
    packets = Decoder().feed(packed)
    assert [pid for pid, _ in packets] == [STDOUT, STDOUT, STDOUT]
    assert [len(p) for _, p in packets] == [1000, 1000, 560]
    assert b"".join(p for _, p in packets) == data
    assert all(len(p) + shellproto.HEADER_SIZE <= 0x100000 for _, p in Decoder().feed(encode(STDOUT, b"x" * 0x180000)))


def test_decoder_keeps_a_partial_packet_until_it_completes():
    decoder = Decoder()
    packed = encode(STDIN, b"getprop\n") + encode(WINDOW_SIZE, b"24x80,0x0")
    assert decoder.feed(packed[:3]) == []
    assert decoder.pending == 3
    assert decoder.feed(packed[3:15]) == [(STDIN, b"getprop\n")]
    assert decoder.feed(packed[15:]) == [(WINDOW_SIZE, b"24x80,0x0")]
    assert decoder.pending == 0


packets = st.lists(st.tuples(st.sampled_from([STDOUT, STDERR, STDIN]), st.binary(max_size=200)), max_size=8)


@given(packets, st.data())
@settings(max_examples=80, deadline=None)
def test_decoding_is_independent_of_how_the_stream_is_cut(items, data):
    stream = b"".join(encode(pid, payload) for pid, payload in items) + encode_exit(5)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    decoder = Decoder()
    got = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)]):
        got += decoder.feed(stream[start:end])
    assert got == [*items, (EXIT, b"\x05")]
