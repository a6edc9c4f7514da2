"""Server-rendered SVG line charts for the monitoring history: no JavaScript library to ship
or keep, and the page shows its charts even with scripts off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 22, 22  # room for the axis labels
COLOURS = ("#2a6fdb", "#d9822b", "#1f9d55", "#b83280")


@dataclass(frozen=True)
class Line:
    label: str
    points: Sequence[tuple[float, float]]  # (epoch seconds, value)
    key: str = ""  # the statistic it draws, for live.js to add points to


@dataclass(frozen=True)
class LiveChart:
    """Where live.js finds a chart's new points: the object measured, how far back the
    chart reaches and how far apart its points are (seconds)."""

    object_id: str
    window: int
    step: int


def line_chart(title: str, lines: Sequence[Line], *, unit: str = "",
               maximum: float | None = None, live: LiveChart | None = None) -> str:
    """An SVG element; ``maximum`` fixes the top of the scale (100 for percentages); a
    ``live`` chart carries its scale in data attributes, for live.js to redraw it."""
    times = [t for line in lines for t, _ in line.points]
    values = [v for line in lines for _, v in line.points]
    top = maximum if maximum is not None else _nice(max(values, default=0.0))
    start, end = (min(times), max(times)) if times else (0.0, 1.0)
    span = max(end - start, 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - start) / span * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - min(max(v, 0.0), top) / (top or 1.0) * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}"'
             f'{_live_attributes(live, start, span, top, unit, fixed=maximum is not None)}>',
             f"<title>{escape(title)}</title>",
             f'<text x="{LEFT}" y="14" class="chart-title">{escape(title)}</text>']
    for fraction in (0.0, 0.5, 1.0):
        level = y(top * fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{level:.1f}" '
                     f'y2="{level:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{level + 4:.1f}" text-anchor="end" '
                     f'font-size="11" class="chart-scale" data-fraction="{fraction}">'
                     f'{escape(_label(top * fraction, unit))}</text>')
    if not times:
        parts.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" '
                     'text-anchor="middle" class="chart-empty">no samples yet</text>')
    for edge, anchor in ((start, "start"), (end, "end")):
        parts.append(f'<text x="{x(edge):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}" '
                     f'font-size="11" class="chart-time" data-edge="{anchor}">'
                     f'{_clock(edge) if times else ""}</text>')
    for index, line in enumerate(lines):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in line.points)
        if path or live is not None:
            key = f' data-key="{escape(line.key)}"' if line.key else ""
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{key} '
                         f'points="{path}"><title>{escape(line.label)}</title></polyline>')
        parts.append(f'<text x="{WIDTH - RIGHT - 4 - 90 * index}" y="14" text-anchor="end" '
                     f'fill="{colour}" font-size="11">{escape(line.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _live_attributes(live: LiveChart | None, start: float, span: float, top: float,
                     unit: str, *, fixed: bool) -> str:
    if live is None:
        return ""
    return (f' data-chart-object="{escape(live.object_id)}" data-window="{live.window}" '
            f'data-step="{live.step}" data-start="{start:.0f}" data-span="{span:.0f}" '
            f'data-top="{top:g}" data-fixed-top="{"yes" if fixed else "no"}" '
            f'data-unit="{escape(unit)}" data-plot="{LEFT},{TOP},{WIDTH - LEFT - RIGHT},'
            f'{HEIGHT - TOP - BOTTOM}"')


def _nice(value: float) -> float:
    """A round top for the scale: 1, 2 or 5 times a power of ten, at least the value."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _label(value: float, unit: str) -> str:
    """Bytes in the portals' units, MiB and GiB (``B/s`` as MiB/s); others as they are."""
    if unit == "%":
        return f"{value:.0f}%"
    if unit in ("B", "B/s"):
        rate = "/s" if unit == "B/s" else ""
        if abs(value) >= 1024 ** 3:
            return f"{value / 1024 ** 3:.1f} GiB{rate}"
        return f"{value / 1024 ** 2:.1f} MiB{rate}" if value else f"0 MiB{rate}"
    for suffix, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.1f} {suffix}{unit}"
    return f"{value:.0f} {unit}".strip()


def _clock(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d %b %H:%M UTC")
