#!/usr/bin/env python3
"""Checks an HTML training report (./model report, train --report) in Debian's
headless Chromium against the JSONL logs it was drawn from.

  report_check.py page HTML WORKDIR LOG [LOG ...]
      Renders HTML in Chromium and checks:
      - the screenshot (1200 x 2000) is a PNG that is not one colour;
      - no console message: the page has no script, so any line Chromium logs
        as ":CONSOLE" (console calls, uncaught errors, a blocked fetch under
        the page's Content-Security-Policy) is a failure. A canary page with a
        console.error and an uncaught error is rendered first: if its
        messages are not seen, the check itself is broken and fails;
      - in the DOM Chromium built (--dump-dom): one legend entry per LOG, one
        series per run and field (train_loss, val_loss, each metric, lr) with
        one point per logged epoch or evaluation of a finite value, at that
        epoch (the step for runs in steps) and that value; the confusion
        matrix of each log's done event as classes x classes cells with its
        counts, rows and columns named by the log's classes (or indices).
  report_check.py points HTML N
      Without a log (train --report alone): every series has N points.

Chromium must be installed (scripts/install-deps.sh installs Debian's
chromium); without it the check fails, it never passes silently.
"""
import html.parser
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np

CHROMIUM = "/usr/bin/chromium"
NOT_CURVES = {"event", "epoch", "step", "samples_per_s", "seconds"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


def fail(message):
    sys.exit(f"FAIL: {message}")


def chromium(url, *action):
    """Runs headless Chromium on `url` with a fresh profile; returns
    (stdout, stderr)."""
    if not os.access(CHROMIUM, os.X_OK):
        fail(f"{CHROMIUM} not found: the report test needs Debian's chromium "
             "package (scripts/install-deps.sh installs it)")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync",
               # Containers often have a small /dev/shm: use /tmp instead.
               "--disable-dev-shm-usage",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
               "--window-size=1200,2000", *action, url]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        except subprocess.TimeoutExpired:
            fail(f"chromium did not finish within 180 s: {' '.join(cmd)}")
    if r.returncode != 0:
        fail(f"chromium exited {r.returncode}\n{r.stderr[-3000:]}")
    return r.stdout, r.stderr


def console_lines(stderr):
    return [l for l in stderr.splitlines() if ":CONSOLE" in l]


def check_console_detection(workdir):
    canary = os.path.join(workdir, "canary.html")
    with open(canary, "w") as f:
        f.write("<!DOCTYPE html><title>canary</title><script>"
                "console.error('report-canary'); notAFunction();</script>")
    _, err = chromium("file://" + canary, "--dump-dom")
    lines = console_lines(err)
    if not any("report-canary" in l for l in lines) or \
            not any("Uncaught" in l for l in lines):
        fail("chromium's console messages are not seen with --enable-logging="
             f"stderr (canary page); the console check would pass blindly:\n{err[-3000:]}")


def png_pixels(path):
    """The pixels of an 8-bit RGB or RGBA PNG (no interlace) as an array."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG file ({len(data)} bytes)")
    pos, idat = 8, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or colour not in (2, 6) or interlace:
        fail(f"{path}: unexpected PNG format (depth {depth}, colour {colour})")
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, w * bpp + 1)
    out = np.zeros((h, w * bpp), dtype=np.uint8)
    prior = np.zeros(w * bpp, dtype=np.int64)
    for y in range(h):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int64)
        if kind == 0:
            row = line
        elif kind == 1:  # Sub: a running sum per channel
            row = np.cumsum(line.reshape(w, bpp), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            row = (line + prior) % 256
        else:  # Average, Paeth: byte by byte
            row = np.zeros(w * bpp, dtype=np.int64)
            vals, up = line.tolist(), prior.tolist()
            for x in range(w * bpp):
                left = int(row[x - bpp]) if x >= bpp else 0
                if kind == 3:
                    row[x] = (vals[x] + (left + up[x]) // 2) % 256
                else:
                    ul = up[x - bpp] if x >= bpp else 0
                    p = left + up[x] - ul
                    pa, pb, pc = abs(p - left), abs(p - up[x]), abs(p - ul)
                    pred = left if pa <= pb and pa <= pc else up[x] if pb <= pc else ul
                    row[x] = (vals[x] + pred) % 256
        out[y] = row
        prior = row
    return out.reshape(h, w, bpp)


def check_screenshot(url, workdir):
    shot = os.path.join(workdir, "shot.png")
    if os.path.exists(shot):
        os.remove(shot)
    _, err = chromium(url, f"--screenshot={shot}")
    if not os.path.exists(shot) or os.path.getsize(shot) == 0:
        fail(f"no screenshot written\n{err[-3000:]}")
    px = png_pixels(shot)
    colours = np.unique(px.reshape(-1, px.shape[2]), axis=0)
    if px.shape[:2] != (2000, 1200) or len(colours) < 2:
        fail(f"the screenshot is {px.shape} with {len(colours)} colour(s)")
    return err, len(colours)


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children, self.text = [], ""  # text: of "#text" nodes

    def classes(self):
        return self.attrs.get("class", "").split()

    def find_all(self, tag=None, cls=None):
        for c in self.children:
            if (tag is None or c.tag == tag) and (cls is None or cls in c.classes()):
                yield c
            yield from c.find_all(tag, cls)

    def all_text(self):
        return self.text + "".join(c.all_text() for c in self.children)


def text_node(parent, data):
    node = Node("#text", [], parent)
    node.text = data
    return node


class Dom(html.parser.HTMLParser):
    """The DOM Chromium serialized, as a tree (attributes unescaped)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        node = self.cur
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.cur = node.parent

    def handle_data(self, data):
        self.cur.children.append(text_node(self.cur, data))


def dom_of(url):
    out, err = chromium(url, "--dump-dom")
    if "</html>" not in out:
        fail(f"chromium dumped no document\n{err[-3000:]}")
    return Dom(out).root, err


def read_log(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def series_nodes(root):
    """{(run, field): <g class="series"> node}."""
    nodes = {}
    for g in root.find_all("g", "series"):
        key = (int(g.attrs["data-run"]), g.attrs["data-series"])
        if key in nodes:
            fail(f"two series for run {key[0]}, {key[1]}")
        nodes[key] = g
    return nodes


def check_curves(root, logs):
    nodes = series_nodes(root)
    in_steps = all(any(e["event"] == "done" and "steps" in e.get("settings", {})
                       for e in events) for _, events in logs)
    total = 0
    for run, (path, events) in enumerate(logs):
        periods = [e for e in events if e["event"] == "epoch"]
        fields = []
        for e in periods:
            fields += [k for k in e if k not in NOT_CURVES and k not in fields]
        for field in fields:
            want = [((e["step"] if in_steps else e["epoch"]), e[field])
                    for e in periods if isinstance(e.get(field), (int, float))]
            g = nodes.get((run, field))
            if g is None:
                fail(f"no curve of {field} for {path} (run {run})")
            pts = list(g.find_all("circle", "pt"))
            got = [(int(p.attrs["data-x"]), float(p.attrs["data-y"])) for p in pts]
            if int(g.attrs["data-points"]) != len(pts) or len(pts) != len(want):
                fail(f"{path} {field}: {len(pts)} points (data-points "
                     f"{g.attrs['data-points']}), {len(want)} logged")
            for (gx, gy), (wx, wy) in zip(got, want):
                if gx != wx or not math.isclose(gy, wy, rel_tol=1e-5, abs_tol=1e-12):
                    fail(f"{path} {field}: point ({gx}, {gy}), logged ({wx}, {wy})")
            if g.attrs.get("data-file") != path:
                fail(f"series of run {run} names {g.attrs.get('data-file')!r}, not {path!r}")
            total += len(pts)
    return total


def check_confusion(root, logs):
    figures = {int(f.attrs["data-run"]): f for f in root.find_all("figure", "confusion")}
    matrices = 0
    for run, (path, events) in enumerate(logs):
        done = [e for e in events if e["event"] == "done"]
        matrix = done[-1].get("confusion") if done else None
        if matrix is None:
            if run in figures:
                fail(f"{path} has no confusion matrix but the page draws one")
            continue
        n = len(matrix)
        names = done[-1].get("classes") or [str(c) for c in range(n)]
        fig = figures.get(run)
        if fig is None:
            fail(f"no confusion matrix for {path}")
        svg = next(fig.find_all("svg"))
        cells = list(svg.find_all("rect", "cell"))
        if int(svg.attrs["data-classes"]) != n or len(cells) != n * n:
            fail(f"{path}: {len(cells)} cells for {n} classes")
        for c in cells:
            t, p = int(c.attrs["data-true"]), int(c.attrs["data-predicted"])
            if int(c.attrs["data-count"]) != matrix[t][p]:
                fail(f"{path}: cell ({t}, {p}) = {c.attrs['data-count']}, logged {matrix[t][p]}")
        for axis in ("row", "column"):
            labels = [t for t in svg.find_all("text", "class-name") if axis in t.classes()]
            shown = [t.all_text() for t in labels]
            if [t.attrs["data-name"] for t in labels] != names or any(
                    len(x) <= 24 and x != s for x, s in zip(names, shown)):
                fail(f"{path}: {axis} labels {shown}, classes {names}")
        matrices += 1
    return matrices, sorted({n for _, e in logs for d in e if d["event"] == "done"
                             for n in d.get("classes", [])})


def page(html_path, workdir, log_paths):
    os.makedirs(workdir, exist_ok=True)
    url = "file://" + os.path.abspath(html_path)
    check_console_detection(workdir)
    shot_err, colours = check_screenshot(url, workdir)
    root, dom_err = dom_of(url)
    console = console_lines(shot_err) + console_lines(dom_err)
    if console:
        fail("console messages:\n" + "\n".join(console))
    logs = [(p, read_log(p)) for p in log_paths]
    legend = list(root.find_all("li", "run"))
    if [li.find_all("code").__next__().all_text() for li in legend] != log_paths:
        fail(f"legend {[li.all_text() for li in legend]}, logs {log_paths}")
    swatches = {next(li.find_all("span", "swatch")).attrs["style"] for li in legend}
    if len(swatches) != len(log_paths):
        fail(f"runs share colours: {swatches}")
    points = check_curves(root, logs)
    matrices, classes = check_confusion(root, logs)
    if not next(root.find_all("pre"), None):
        fail("no model summary")
    print(f"ok: {len(logs)} run(s), {points} points, {matrices} confusion "
          f"matrices, classes {classes}, screenshot with {colours} colours, "
          "no console messages")


def points(html_path, n):
    with open(html_path, encoding="utf-8") as f:
        root = Dom(f.read()).root
    nodes = series_nodes(root)
    for (run, field), g in nodes.items():
        count = len(list(g.find_all("circle", "pt")))
        if count != n:
            fail(f"{field}: {count} points, expected {n}")
    print(f"ok: {len(nodes)} series of {n} points")


def main():
    if sys.argv[1] == "page":
        page(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "points":
        points(sys.argv[2], int(sys.argv[3]))
    else:
        fail(f"unknown check {sys.argv[1]!r}")


if __name__ == "__main__":
    main()
