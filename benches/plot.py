#!/usr/bin/env python3
"""Turns criterion's output into benches/results.svg and a Markdown table.

    python3 benches/plot.py [target/criterion] [group ...]

Reads every <group>/<function>/new/{benchmark,estimates}.json (the median
time per iteration and the throughput the bench declared), and for each
group draws one horizontal bar per function, in ns per element (or ms per
iteration when no element count was declared), with the ratio to the
group's `anon_arena::Arena` row (the reused one for `json`) written next to the bar. No dependencies
beyond the standard library, so it runs wherever the benches do.
"""
import html
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
wanted = sys.argv[2:]
out_svg = pathlib.Path(__file__).with_name("results.svg")


def load(group_dir):
    rows = []
    for bench in sorted(group_dir.iterdir()):
        new = bench / "new"
        if not (new / "estimates.json").exists():
            continue
        meta = json.loads((new / "benchmark.json").read_text())
        est = json.loads((new / "estimates.json").read_text())
        ns = est["median"]["point_estimate"]
        tp = meta.get("throughput") or {}
        if "Elements" in tp:
            value, unit = ns / tp["Elements"], "ns/op"
        elif "Bytes" in tp:
            value, unit = ns / 1e6, "ms per document"
        else:
            value, unit = ns / 1e6, "ms"
        rows.append((meta["function_id"], value, unit))
    return rows


def reference(rows):
    """The row ratios are taken against: plain `anon_arena::Arena`, else the
    reused one, else the first `anon_arena` row."""
    arena = [(f, v) for f, v, _ in rows if f.startswith("anon_arena")]
    for f, v in arena:
        if f == "anon_arena::Arena" or "reused" in f:
            return v
    return arena[0][1] if arena else None


groups = []
for group_dir in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    if wanted and group_dir.name not in wanted:
        continue
    rows = load(group_dir)
    if rows:
        groups.append((group_dir.name, rows))

# Markdown: one table per group, ratio = time / time of the arena row.
for name, rows in groups:
    ref = reference(rows)
    print(f"\n**{name}**\n\n| allocator | {rows[0][2]} | vs Arena |\n|---|---:|---:|")
    for f, v, _ in sorted(rows, key=lambda r: r[1]):
        ratio = f"{v / ref:.2f}x" if ref else "-"
        print(f"| {f} | {v:.3f} | {ratio} |")

# SVG: a panel per group, bars scaled within the panel.
width, label_w, bar_h, gap = 900, 300, 18, 6
y, parts = 30, []
parts.append(
    '<text x="10" y="20" font-size="16" font-weight="bold">'
    "anon-arena benchmarks: median time per operation (shorter is better; "
    "ratio to the Arena row)</text>"
)
for name, rows in groups:
    ref = reference(rows)
    top = max(v for _, v, _ in rows)
    parts.append(
        f'<text x="10" y="{y + 16}" font-size="14" font-weight="bold">'
        f"{html.escape(name)} ({rows[0][2]})</text>"
    )
    y += 24
    for f, v, unit in sorted(rows, key=lambda r: r[1]):
        w = max(1.0, (width - label_w - 150) * v / top)
        colour = "#d9534f" if f.startswith("anon_arena") else "#5b8def"
        ratio = f" ({v / ref:.2f}x)" if ref else ""
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" font-size="12" text-anchor="end">'
            f"{html.escape(f)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="12">'
            f"{v:.3g}{ratio}</text>"
        )
        y += bar_h + gap
    y += 12
svg = (
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
    f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
    + "".join(parts)
    + "</svg>\n"
)
out_svg.write_text(svg)
print(f"\nwrote {out_svg}", file=sys.stderr)
