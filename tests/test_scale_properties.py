"""No input crashes a scale codec, and no weight comes out that a well-formed frame did not carry."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.scales import PROTOCOLS, ScaleReading, ScaleReply, make_codec
from tests.scales_helpers import SAFE_JUNK_ALPHABET, decode, oracle_weights, scale_frames, weights

PROTOCOL_NAMES = sorted(PROTOCOLS)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Bytes biased towards each protocol's own vocabulary, so random input often looks almost like a frame.
_VOCABULARY = list(b"\x01\x02\x03\x04\x05\x06\x0a\x0d\x11\x15\x1b ,.-+?0123456789SUOTGNDIZEAkglb")
protocol_bytes = st.lists(st.one_of(st.sampled_from(_VOCABULARY), st.integers(0, 255)), max_size=200).map(
    bytes
)
chunk_sizes = st.integers(1, 17)


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
@FAST
@given(data=protocol_bytes, chunk=chunk_sizes)
def test_no_input_crashes_a_codec_and_chunking_does_not_matter(protocol, data, chunk):
    whole = decode(protocol, data)
    assert decode(protocol, data, chunk=chunk) == whole
    assert all(isinstance(e, ScaleReading | ScaleReply) for e in whole)
    for reading in whole:
        if isinstance(reading, ScaleReading) and reading.error is not None:
            assert reading.weight_kg is None


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
@FAST
@given(data=protocol_bytes)
def test_every_weight_comes_from_a_well_formed_frame(protocol, data):
    assert set(weights(decode(protocol, data))) <= oracle_weights(protocol, data)


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
@FAST
@given(data=protocol_bytes)
def test_a_codec_survives_any_conversation_step(protocol, data):
    codec = make_codec(protocol)
    codec.request()
    codec.feed(data)
    codec.data_to_send()
    codec.reset()
    codec.request()
    assert isinstance(codec.data_to_send(), bytes)


grams = st.integers(1, 60_000).map(lambda g: Decimal(g).scaleb(-3))
junk = st.lists(st.sampled_from(SAFE_JUNK_ALPHABET), max_size=12).map(bytes)


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
@settings(max_examples=60, deadline=None)
@given(loads=st.lists(st.tuples(junk, grams), min_size=1, max_size=6), tail=junk, chunk=chunk_sizes)
def test_good_frames_between_noise_all_come_through_in_order(protocol, loads, tail, chunk):
    stream, expected = b"", []
    for noise, weight in loads:
        frame = scale_frames(protocol, weight)
        stream += noise + frame
        expected += weights(decode(protocol, frame))
    assert weights(decode(protocol, stream + tail, chunk=chunk)) == expected


@pytest.mark.parametrize("protocol", PROTOCOL_NAMES)
@settings(max_examples=60, deadline=None)
@given(weight=grams, noise=st.binary(max_size=30), cut=st.integers(0, 40))
def test_a_frame_damaged_by_noise_never_yields_a_wrong_weight(protocol, weight, noise, cut):
    frame = scale_frames(protocol, weight)
    damaged = frame[:cut] + noise + frame[cut:]
    assert set(weights(decode(protocol, damaged))) <= oracle_weights(protocol, damaged)
