"""Every scale protocol by its config name, in one dict — like python-can's interface table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from devices.errors import DeviceConfigError
from devices.scales.cas import Cas22Codec
from devices.scales.codec import ScaleCodec
from devices.scales.dialog06 import CasEcr12Codec, Dialog06Codec
from devices.scales.enq import EnqCodec
from devices.scales.mtsics import MtSicsCodec
from devices.scales.toledo import Toledo8213Codec, Toledo8217Codec

PROTOCOLS: Mapping[str, type[ScaleCodec]] = {
    codec.name: codec
    for codec in (
        Toledo8217Codec,
        Toledo8213Codec,
        Dialog06Codec,
        CasEcr12Codec,
        Cas22Codec,
        MtSicsCodec,
        EnqCodec,
    )
}


def codec_class(protocol: str) -> type[ScaleCodec]:
    try:
        return PROTOCOLS[protocol]
    except KeyError:
        raise DeviceConfigError(
            f"unknown scale protocol {protocol!r}; valid protocols: {', '.join(sorted(PROTOCOLS))}"
        ) from None


def make_codec(protocol: str, **options: Any) -> ScaleCodec:
    """A fresh codec; `options` are the protocol's own (Dialog 06 `article`, MT-SICS `command`, …)."""
    cls = codec_class(protocol)
    try:
        return cls(**options)
    except TypeError as exc:
        raise DeviceConfigError(f"scale protocol {protocol!r}: bad options {sorted(options)}: {exc}") from exc
