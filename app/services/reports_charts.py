"""Bar charts drawn on the server as inline SVG: no script, nothing from elsewhere (the CSP allows
neither). Each chart is a picture of a table printed beside it; the SVG carries role="img" and
an aria-label, and each bar a <title> with its number. Sizes are in the viewBox only: the CSS
makes the chart as wide as its box (100%), so it fits a 390 px phone and a printed page alike."""
from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 44
# Colours with a 3:1 contrast against white and each other's neighbour, told apart by the legend too.
COLOURS = ("#1d6b57", "#b4571f", "#4a5fa8")


def _nice_max(value: float) -> float:
    """A round top for the axis: 1, 2, 5 or 10 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    step = 1
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def bar_chart(label: str, categories: list[str], series: list[tuple[str, list[float]]],
              value_text=lambda v: f"{v:g}") -> Markup:
    """Grouped bars: one group per category (a week), one bar per series (posted, met).

    `label` is the chart's accessible name; `value_text` writes a number for the axis and titles."""
    top = _nice_max(max((v for _name, values in series for v in values), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    groups = max(len(categories), 1)
    group_w = plot_w / groups
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
             f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">']
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dfe3e0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#5b6b73">'
                     f'{escape(value_text(top * fraction))}</text>')
    every = max(1, -(-groups // 8))  # at most 8 labels under the axis
    for i, name in enumerate(categories):
        x0 = LEFT + group_w * i + group_w * 0.1
        for j, (series_name, values) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = plot_h * (value / top) if top else 0
            parts.append(f'<rect x="{x0 + bar_w * j:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(bar_w - 1, 1):.1f}" '
                         f'height="{h:.1f}" fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(name)}, '
                         f'{escape(series_name)}: {escape(value_text(value))}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{LEFT + group_w * (i + 0.5):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                         f'font-size="12" fill="#1f2a30">{escape(name)}</text>')
    x = LEFT
    for j, (series_name, _values) in enumerate(series):
        parts.append(f'<rect x="{x}" y="{HEIGHT - 16}" width="12" height="12" fill="{COLOURS[j % len(COLOURS)]}"/>'
                     f'<text x="{x + 16}" y="{HEIGHT - 6}" font-size="12" fill="#1f2a30">{escape(series_name)}</text>')
        x += 24 + 8 * len(series_name)
    parts.append("</svg>")
    return Markup("".join(parts))
