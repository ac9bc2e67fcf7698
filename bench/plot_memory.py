#!/usr/bin/env python3
"""bench/memory_flat.csv as an SVG line chart: peak RSS (MiB) and open sessions against events read.

   python3 bench/plot_memory.py bench/memory_flat.csv EVENTS > bench/memory_flat.svg
"""
import csv
import sys

path, events = sys.argv[1], int(sys.argv[2])
rows = [r for r in csv.DictReader(open(path)) if int(r["rss_mib"]) > 0]
bpe = int(rows[-1]["bytes_in"]) / events
pts = [(int(r["bytes_in"]) / bpe / 1e6, int(r["rss_mib"]), int(r["open_sessions"])) for r in rows]
W, H, L, B = 720, 320, 60, 40
xmax = events / 1e6
ymax = 600


def x(v):
    return L + v / xmax * (W - L - 20)


def y(v):
    return H - B - v / ymax * (H - B - 20)


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
       f'<rect width="{W}" height="{H}" fill="white"/>']
for m in range(0, ymax + 1, 100):
    out.append(f'<line x1="{L}" y1="{y(m):.1f}" x2="{W-20}" y2="{y(m):.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{L-6}" y="{y(m)+4:.1f}" text-anchor="end">{m}</text>')
for e in range(0, int(xmax) + 1, 2):
    out.append(f'<text x="{x(e):.1f}" y="{H-B+16}" text-anchor="middle">{e}M</text>')
out.append(f'<line x1="{L}" y1="{y(512):.1f}" x2="{W-20}" y2="{y(512):.1f}" stroke="#c33" stroke-dasharray="4 3"/>')
out.append(f'<text x="{W-22}" y="{y(512)-4:.1f}" text-anchor="end" fill="#c33">512 MiB goal</text>')
line = " ".join(f"{x(e):.1f},{y(r):.1f}" for e, r, _ in pts)
out.append(f'<polyline points="{line}" fill="none" stroke="#1f6fb2" stroke-width="2"/>')
opens = " ".join(f"{x(e):.1f},{y(o * 50):.1f}" for e, _, o in pts)
out.append(f'<polyline points="{opens}" fill="none" stroke="#e08a00" stroke-width="1.5"/>')
out.append(f'<text x="{L}" y="14">peak RSS, MiB (blue) and open sessions ×50 (orange) against events read; '
           f'{events/1e6:.0f}M events, livesell run --input - --snapshot-interval 10</text>')
out.append('</svg>')
print("\n".join(out))
