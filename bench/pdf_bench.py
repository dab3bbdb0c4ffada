#!/usr/bin/env python3
"""Time `sekisho sanitize` on PDFs against a plain `qpdf in out` rewrite and mat2.

usage: bench/pdf_bench.py SEKISHO [--runs N] [--mat2-runs N] PDF...

Medians of N runs each, process start included for all three: CPU time (user+sys of the
child, what the figures and ratios use; steady on a shared machine) and wall-clock time
(sekisho's includes the fsync of its atomic output write; qpdf does not fsync). mat2 writes
FILE.cleaned.pdf next to its input; by default it rasterises every page (the text is then
gone), with --lightweight it only strips metadata, so both are timed."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import resource
import tempfile
import time


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, runs, cwd=None):
    """(median CPU seconds, median wall seconds) or None when the command failed."""
    cs, ws = [], []
    for _ in range(runs):
        c, t = cpu(), time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ws.append(time.perf_counter() - t)
        cs.append(cpu() - c)
        if r.returncode not in (0, 3):  # qpdf exits 3 on warnings
            return None
    return statistics.median(cs), statistics.median(ws)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sekisho")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mat2-runs", type=int, default=1)
    ap.add_argument("--mat2-max-pages", type=int, default=400,
                    help="skip mat2 on longer documents (it takes about a second a page)")
    ap.add_argument("pdfs", nargs="+")
    a = ap.parse_args()
    mat2 = shutil.which("mat2")
    print("CPU seconds (wall seconds)")
    print("| file | pages | size | sekisho | qpdf | mat2 | mat2 -L | sekisho/qpdf | mat2/sekisho | mat2 -L/sekisho |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for pdf in a.pdfs:
        pages = subprocess.run(["qpdf", "--show-npages", pdf], capture_output=True, text=True).stdout.strip()
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, os.path.basename(pdf))
            shutil.copy(pdf, src)
            s = timed([a.sekisho, "sanitize", "-o", os.path.join(d, "out"), src], a.runs)
            q = timed(["qpdf", src, os.path.join(d, "q.pdf")], a.runs)
            m = ml = None
            if mat2 and pages.isdigit() and int(pages) <= a.mat2_max_pages:
                m = timed([mat2, src], a.mat2_runs)
                ml = timed([mat2, "--lightweight", src], a.mat2_runs)
        f = lambda x: "%.3f (%.3f)" % x if x is not None else "-"
        r = lambda x, y: "%.2f" % (x[0] / y[0]) if x and y and y[0] > 0 else "-"
        print("| %s | %s | %d KB | %s | %s | %s | %s | %s | %s | %s |" % (
            os.path.basename(pdf), pages, os.path.getsize(pdf) // 1024, f(s), f(q), f(m), f(ml),
            r(s, q), r(m, s), r(ml, s)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
