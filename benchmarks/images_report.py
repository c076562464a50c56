"""benchmarks/images.py's bookkeeping: one side's worker pool and the figures its tasks send back,
and the tables it prints from them."""
from __future__ import annotations

import math
import time


class Side:
    """One side's pool and the figures its tasks sent back."""

    def __init__(self, label: str, pool, work) -> None:
        self.label, self.pool, self.work = label, pool, work
        self.wall = 0.0       # s, sum over blocks of submit -> last result
        self.attempted = 0    # files given to it (both sides are given the same ones)
        self.results: list[dict] = []
        self.failed: list[tuple[str, str]] = []

    def run(self, paths: list[str]) -> float:
        """Process `paths`; returns the CPU seconds its tasks used."""
        started = time.perf_counter()
        used = 0.0
        self.attempted += len(paths)
        for path, result in zip(paths, self.pool.imap(Guarded(self.work), paths, chunksize=1)):
            if isinstance(result, str):
                self.failed.append((path, result))
                continue
            self.results.append(result)
            used += result["cpu"]
        self.wall += time.perf_counter() - started
        return used

    def per_image(self, key: str) -> float:
        return sum(r[key] for r in self.results) / max(1, len(self.results))

    def stage(self, key) -> tuple[float, int]:
        """(mean seconds over the images that had this stage, how many had it)."""
        values = [r["stages"][key] for r in self.results if key in r["stages"]]
        return (sum(values) / len(values) if values else float("nan")), len(values)

    def rss(self) -> dict[int, tuple[float, float]]:
        """pid -> (RSS after imports, peak RSS) in MB."""
        out: dict[int, tuple[float, float]] = {}
        for r in self.results:
            init, peak = out.get(r["pid"], (r["init_rss"], 0.0))
            out[r["pid"]] = (init, max(peak, r["peak_rss"]))
        return out


class Guarded:
    """A picklable wrapper: a task's exception comes back as its text, so one bad file does not
    stop the run (it is listed before the figures)."""

    def __init__(self, work) -> None:
        self.work = work

    def __call__(self, path: str):
        try:
            return self.work(path)
        except Exception as exc:  # noqa: BLE001
            return f"{type(exc).__name__}: {exc}"


def ms(seconds: float) -> str:
    """Seconds as milliseconds, one decimal; "-" for NaN (nothing measured)."""
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.1f}"


def table(headers: list[str], rows: list[list[str]], *, left: int = 1) -> None:
    """Print a Markdown table: the first `left` columns left-aligned, the others right-aligned."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    line = lambda cells: "| " + " | ".join(  # noqa: E731
        str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    print(line(headers))
    print("|" + "|".join(("-" * (w + 2)) if i < left else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|")
    for row in rows:
        print(line(row))


def report(ours: Side, vips: Side, args) -> None:
    for side in (ours, vips):
        for path, reason in side.failed:
            print(f"  {side.label} failed on {path}: {reason}")
    if ours.failed or vips.failed:
        print("  note: wall ms/image and images/s divide by the files each side was given, failed ones "
              "included; the other columns are over the images it made")
    if not ours.results or not vips.results:
        print("nothing measured")
        return

    print(f"\nPer image ({len(ours.results)} images, {args.workers} worker{'s' if args.workers != 1 else ''} per side; "
          "wall = the side's "
          "elapsed time / images, worker = time inside one worker per image):")
    rows, figures = [], {}
    for side in (ours, vips):
        count = side.attempted
        wall, worker, cpu, extras = (side.wall / count, side.per_image("wall"), side.per_image("cpu"),
                                     side.per_image("extras"))
        figures[side.label] = (wall, worker, cpu, extras)
        rss = ", ".join(f"{peak:.0f} ({init:.0f})" for init, peak in sorted(side.rss().values(), key=lambda v: -v[1]))
        rows.append([side.label, f"{count / side.wall:.2f}", ms(wall), ms(worker), ms(cpu), ms(extras),
                     ms(worker - extras), rss])
    table(["side", "images/s", "wall ms/image", "worker ms/image", "CPU ms/image", "extras ms",
           "worker ms w/o extras", "peak RSS per worker (after imports), MB"], rows)
    o, v = figures["ours"], figures[vips.label]
    full = o[0] / v[0]
    print("\nRatio ours / pyvips per image (target: the full set within 2x, using both cores):")
    print(f"  full set (renditions + LQIP + dominant colour), wall:     {full:.2f}x  -> target "
          f"{'MET' if full <= 2 else 'NOT met'}")
    print(f"  full set, CPU time:                                       {o[2] / v[2]:.2f}x")
    print(f"  renditions only (both sides' extras left out), worker time: {(o[1] - o[3]) / (v[1] - v[3]):.2f}x")

    print("\nPer rendition, mean ms (a width's resize serves both its formats; pyvips' thumbnail "
          "includes its own decode,\nours is in 'decode' below), and mean KB of the files:")
    widths = sorted({k[1] for side in (ours, vips) for r in side.results for k in r["stages"]
                     if isinstance(k, tuple) and k[0] == "resize"})
    rows = []
    for width in widths:
        sizes = []
        for side in (ours, vips):
            kb = []
            for ext in ("webp", "jpeg"):
                values = [r["outputs"][(width, ext)][0] for r in side.results if (width, ext) in r["outputs"]]
                kb.append(f"{sum(values) / len(values) / 1024:.1f}" if values else "-")
            sizes.append(" / ".join(kb))
        rows.append([str(width), str(ours.stage(("resize", width))[1]),
                     ms(ours.stage(("resize", width))[0]), ms(ours.stage(("encode", width, "webp"))[0]),
                     ms(ours.stage(("encode", width, "jpeg"))[0]), ms(vips.stage(("resize", width))[0]),
                     ms(vips.stage(("encode", width, "webp"))[0]), ms(vips.stage(("encode", width, "jpeg"))[0]),
                     *sizes])
    table(["width", "images", "ours resize", "ours WebP", "ours JPEG", "pyvips thumbnail", "pyvips WebP",
           "pyvips JPEG", "ours KB WebP / JPEG", "pyvips KB WebP / JPEG"], rows, left=0)
    o_stages = {key: ours.stage(key)[0] for key in ("decode", "lqip", "dominant", "io")}
    v_stages = {key: vips.stage(key)[0] for key in ("lqip", "dominant", "io")}
    print(f"\nours, per image: check + decode + orient/sRGB/strip {ms(o_stages['decode'])} ms, "
          f"LQIP {ms(o_stages['lqip'])} ms, dominant colour {ms(o_stages['dominant'])} ms, "
          f"file read + writes {ms(o_stages['io'])} ms")
    print(f"pyvips, per image: LQIP {ms(v_stages['lqip'])} ms, dominant colour {ms(v_stages['dominant'])} ms, "
          f"header + file writes {ms(v_stages['io'])} ms")
    shapes = {side: {r["path"]: {k: size for k, (_, size) in r["outputs"].items()} for r in side.results}
              for side in (ours, vips)}
    both = shapes[ours].keys() & shapes[vips].keys()
    mismatched = sum(shapes[ours][path] != shapes[vips][path] for path in both)
    print(f"outputs: {len(both)} images made by both sides; {mismatched} where pyvips' set of (format, width x "
          "height) differs from ours")
