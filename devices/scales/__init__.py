"""Retail scales on serial lines: sans-IO protocol codecs, a thin transport and a polling driver.

Public surface:
- `ScaleReading`, `ScaleReply` — what codecs produce; `ScaleReading.sellable` is the legal-for-trade gate.
- `SerialSettings` — baud/bytesize/parity/stop bits; each codec class has `defaults`.
- `PROTOCOLS`, `make_codec(name, **options)` — the codecs by config name.
- `ScaleDriver`, `read_once` — the port side (pyserial is imported only when a port is opened).
"""

from __future__ import annotations

from devices.scales.codec import ScaleCodec
from devices.scales.driver import ScaleDriver, read_once
from devices.scales.protocols import PROTOCOLS, codec_class, make_codec
from devices.scales.reading import ScaleEvent, ScaleReading, ScaleReply
from devices.scales.settings import SerialSettings

__all__ = [
    "PROTOCOLS",
    "ScaleCodec",
    "ScaleDriver",
    "ScaleEvent",
    "ScaleReading",
    "ScaleReply",
    "SerialSettings",
    "codec_class",
    "make_codec",
    "read_once",
]
