"""Simulated retail scales: a pty that speaks each supported protocol (see `VirtualScale`)."""

from __future__ import annotations

from simulators.scales.responders import RESPONDERS, Responder, make_responder
from simulators.scales.state import Fault, ScaleState
from simulators.scales.virtual import VirtualScale

__all__ = ["RESPONDERS", "Fault", "Responder", "ScaleState", "VirtualScale", "make_responder"]
