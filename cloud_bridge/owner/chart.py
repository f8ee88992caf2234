"""The week's sales as stacked bars, drawn on the server as SVG geometry (the template only places it):
no chart library and no JavaScript on the phone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cloud_bridge.owner.figures import CHANNELS, Day

WIDTH: Final = 320
HEIGHT: Final = 160
AXIS: Final = 20  # room under the bars for the day labels
COLOURS: Final = {"till": "#2f6f4f", "online": "#3b6fb6", "phone": "#c07a1a"}


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    legend: tuple[tuple[str, str], ...]  # (channel, colour)


def week_chart(days: Sequence[Day]) -> Chart:
    top = max([sum(day.cents.values()) for day in days] + [1])
    slot = WIDTH / max(1, len(days))
    room = HEIGHT - AXIS
    bars: list[Bar] = []
    labels: list[Label] = []
    for i, day in enumerate(days):
        base = float(room)
        for channel in CHANNELS:
            cents = day.cents.get(channel, 0)
            if cents <= 0:
                continue
            height = room * cents / top
            base -= height
            title = f"{day.label} {channel}: {cents / 100:.2f}"
            bars.append(
                Bar(
                    round(i * slot + slot * 0.15, 1),
                    round(base, 1),
                    round(slot * 0.7, 1),
                    round(height, 1),
                    COLOURS[channel],
                    title,
                )
            )
        labels.append(Label(round(i * slot + slot / 2, 1), HEIGHT - 5, day.label))
    return Chart(WIDTH, HEIGHT, tuple(bars), tuple(labels), tuple((c, COLOURS[c]) for c in CHANNELS))
