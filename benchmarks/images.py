"""Product image renditions: how fast does catalog.images.render() make the full rendition set,
next to pyvips' `thumbnail` making the same files on the same cores?

Run from the repository root:

    .venv/bin/python benchmarks/images.py
    .venv/bin/python benchmarks/images.py --limit 100 --workers 2

It reads the Luma photos in place (../shared/data/luma/images, --images to change) and writes
every output file to a temp dir that is removed at the end (--keep-output keeps it). Nothing
touches the database, storage or Django settings: catalog.images is pure functions on bytes.

Two sides, each with its own --workers processes (default 2: both cores), given the same files:

* ours: read the file, `catalog.images.render(data, max_bytes=15 MB)` (the upload checks, a
  decode with JPEG shrink-on-load, EXIF orientation, sRGB, every width of 320/640/1024/1600 px
  that is not an upscale in WebP q80 and JPEG q82 progressive+optimised, the LQIP and the
  dominant colour), write the renditions.
* pyvips: for each of the same widths, `pyvips.Image.thumbnail(path, width)` (its own
  shrink-on-load and autorotate; one decode per width, as thumbnail is meant to be used; with
  --vips-chain, one thumbnail at the largest width and each smaller one made from the previous
  with `thumbnail_image`, one decode like ours), kept in memory, then `webpsave_buffer(Q=80,
  effort=4)` and `jpegsave_buffer(Q=82, interlace, optimize_coding, 4:2:0)`, all with
  `keep=none` (no metadata); write them. Plus two cheap steps
  equivalent to our extras, timed apart: an LQIP (the smallest thumbnail shrunk to 20 px,
  gaussblur 1, WebP q40, base64) and a dominant colour (shrunk to 64 px, 6x6x6 histogram, fullest
  bin). Each pyvips worker runs with --vips-threads threads (default 1), so both sides use the
  same number of cores.

The files are dealt into --blocks blocks; the sides take turns block by block (the one going
first alternates), so that load from other processes falls on both alike. Each worker times its
own stages (the render's stages by wrapping catalog.images' functions and PIL's resize), and
reports its peak RSS. The run stops after the block in which --budget seconds are used up;
both sides have then done the same files.
"""
from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from images_report import Guarded, Side, report

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_IMAGES = BASE_DIR.parent / "shared" / "data" / "luma" / "images"
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
MAX_BYTES = 15 * 1024 * 1024  # SHOP_IMAGE_MAX_BYTES' default
# pyvips' settings, chosen to match catalog.images' WEBP_QUALITY/WEBP_METHOD and JPEG_QUALITY.
VIPS_WEBP = {"Q": 80, "effort": 4, "keep": "none"}
VIPS_JPEG = {"Q": 82, "optimize_coding": True, "interlace": True, "subsample_mode": "on", "keep": "none"}
VIPS_LQIP = {"Q": 40, "effort": 4, "keep": "none"}
UNBOUNDED = 10_000_000  # px: thumbnail's height when only the width should limit


# --- in the worker processes ------------------------------------------------------------------

_worker: dict = {}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _write(out_dir: Path, name: str, width: int, ext: str, data: bytes) -> None:
    (out_dir / f"{name}-{width}w.{ext}").write_bytes(data)


def _output_name(path: str) -> str:
    """A flat, unique-enough file name: the photo's last two folders and its name."""
    return "_".join(Path(path).parts[-3:])


def init_ours(sys_path: list[str], out_dir: str, max_bytes: int) -> None:
    """Import catalog.images.renditions and wrap the functions render() calls, to time its stages."""
    sys.path[:] = sys_path
    from PIL import Image

    from catalog.images import renditions as images  # render() looks these names up in its module

    _worker.update(side="ours", out_dir=Path(out_dir), max_bytes=max_bytes, images=images,
                   init_rss=_current_rss_mb(), stage=None, depth=0)

    def timed_extra(name, function):
        def wrapper(*args, **kwargs):
            _worker["depth"] += 1  # resizes inside are the extra's, not a rendition's
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                _worker["stage"][name] += time.perf_counter() - started
                _worker["depth"] -= 1
        return wrapper

    def timed_resize(method):
        def wrapper(self, *args, **kwargs):
            outermost = _worker["depth"] == 0 and _worker["stage"] is not None
            _worker["depth"] += 1
            started = time.perf_counter()
            try:
                result = method(self, *args, **kwargs)
            finally:
                _worker["depth"] -= 1
            if outermost:
                _worker["stage"][("resize", result.width)] += time.perf_counter() - started
            return result
        return wrapper

    encode = images._encode

    def timed_encode(im, ext, *, icc):
        started = time.perf_counter()
        try:
            return encode(im, ext, icc=icc)
        finally:
            if _worker["stage"] is not None:
                _worker["stage"][("encode", im.width, ext)] += time.perf_counter() - started

    images.make_lqip = timed_extra("lqip", images.make_lqip)
    images.dominant_colour = timed_extra("dominant", images.dominant_colour)
    images._encode = timed_encode
    Image.Image.resize = timed_resize(Image.Image.resize)
    Image.Image.reduce = timed_resize(Image.Image.reduce)


def work_ours(path: str) -> dict:
    images = _worker["images"]
    stage = _worker["stage"] = defaultdict(float)
    cpu, started = time.process_time(), time.perf_counter()
    data = Path(path).read_bytes()
    read = time.perf_counter() - started
    rendered = images.render(data, max_bytes=_worker["max_bytes"])
    rendered_at = time.perf_counter()
    name = _output_name(path)
    for encoded in rendered.renditions:
        _write(_worker["out_dir"], name, encoded.width, encoded.format, encoded.data)
    _write(_worker["out_dir"], name, 20, "lqip.txt", rendered.lqip.encode() + b"\n" +
           rendered.dominant_colour.encode())
    finished = time.perf_counter()
    _worker["stage"] = None
    render_time = rendered_at - started - read
    inner = sum(stage.values())  # resize, encode, lqip, dominant
    stages = {"io": read + finished - rendered_at, "decode": render_time - inner, **stage}
    return {
        "pid": os.getpid(), "wall": finished - started, "cpu": time.process_time() - cpu,
        "extras": stage["lqip"] + stage["dominant"], "stages": stages,
        "path": path, "outputs": {(e.width, e.format): (len(e.data), (e.width, e.height)) for e in rendered.renditions},
        "init_rss": _worker["init_rss"], "peak_rss": _rss_mb(),
    }


def init_vips(sys_path: list[str], out_dir: str, widths: tuple[int, ...], threads: int, chain: bool) -> None:
    sys.path[:] = sys_path
    import pyvips

    pyvips.concurrency_set(threads)
    _worker.update(side="vips", out_dir=Path(out_dir), widths=widths, pyvips=pyvips, chain=chain,
                   init_rss=_current_rss_mb())


def work_vips(path: str) -> dict:
    pyvips = _worker["pyvips"]
    stages: dict = defaultdict(float)
    cpu, started = time.process_time(), time.perf_counter()
    header = pyvips.Image.new_from_file(path)  # header only, for the widths (as displayed)
    orientation = header.get("orientation") if header.get_typeof("orientation") else 1
    width = header.height if orientation in (5, 6, 7, 8) else header.width
    widths = sorted((w for w in _worker["widths"] if w <= width), reverse=True) or [width]
    name, outputs, smallest = _output_name(path), {}, None
    stages["io"] += time.perf_counter() - started  # the header read: it opens the file
    for target in widths:
        mark = time.perf_counter()
        if _worker["chain"] and smallest is not None:  # --vips-chain: from the previous, larger one
            thumb = smallest.thumbnail_image(target, height=UNBOUNDED).copy_memory()
        else:
            thumb = pyvips.Image.thumbnail(path, target, height=UNBOUNDED).copy_memory()
        now = time.perf_counter()
        stages[("resize", target)] += now - mark
        for ext, save, options in (("webp", thumb.webpsave_buffer, VIPS_WEBP),
                                   ("jpeg", thumb.jpegsave_buffer, VIPS_JPEG)):
            mark = time.perf_counter()
            data = save(**options)
            now = time.perf_counter()
            stages[("encode", target, ext)] += now - mark
            _write(_worker["out_dir"], name, thumb.width, ext, data)
            stages["io"] += time.perf_counter() - now
            outputs[(target, ext)] = (len(data), (thumb.width, thumb.height))
        smallest = thumb
    # The extras, the cheap way: from the smallest thumbnail, already in memory.
    mark = time.perf_counter()
    tiny = smallest.thumbnail_image(20, height=UNBOUNDED).gaussblur(1.0)
    lqip = "data:image/webp;base64," + base64.b64encode(tiny.webpsave_buffer(**VIPS_LQIP)).decode("ascii")
    now = time.perf_counter()
    stages["lqip"] += now - mark
    sample = smallest.thumbnail_image(64, height=64)
    if sample.hasalpha():
        sample = sample.flatten(background=[255, 255, 255])
    sample = sample.colourspace("srgb")[0:3]
    _, x, y = sample.hist_find_ndim(bins=6).maxpos()  # 6x6x6 bins; the fullest one
    stages["dominant"] += time.perf_counter() - now
    _write(_worker["out_dir"], name, 20, "lqip.txt", f"{lqip}\n{x},{y}".encode())
    finished = time.perf_counter()
    return {
        "pid": os.getpid(), "wall": finished - started, "cpu": time.process_time() - cpu,
        "extras": stages["lqip"] + stages["dominant"], "stages": dict(stages), "path": path, "outputs": outputs,
        "init_rss": _worker["init_rss"], "peak_rss": _rss_mb(),
    }


def versions() -> dict:
    """Library versions, from inside a worker (the parent imports neither library)."""
    if _worker["side"] == "vips":
        pyvips = _worker["pyvips"]
        return {"pyvips": pyvips.__version__,
                "libvips": f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}",
                "threads": pyvips.concurrency_get()}
    import PIL
    from PIL import features

    return {"Pillow": PIL.__version__, "libjpeg-turbo": features.version("libjpeg_turbo"),
            "libwebp": features.version("webp")}


# --- in the parent ----------------------------------------------------------------------------

def cpu_busy_seconds() -> float:
    """CPU time (all CPUs, all processes) spent busy since boot, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def load_warning(when: str) -> None:
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) * 0.5:
        print(f"  warning ({when}): 1-minute load average {load:.1f} on {os.cpu_count()} CPUs: other "
              "processes compete for the CPU; wall times are inflated (CPU times much less)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES, help="folder of photos (recursive)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files (sorted by path)")
    parser.add_argument("--workers", type=int, default=2, help="processes per side (default 2)")
    parser.add_argument("--vips-threads", type=int, default=1, help="libvips threads per pyvips worker")
    parser.add_argument("--vips-chain", action="store_true",
                        help="pyvips makes each width from the previous, larger one (thumbnail_image) instead of "
                        "thumbnail(path, width) per width: one decode per image, as ours")
    parser.add_argument("--blocks", type=int, default=6, help="turns the sides take (default 6)")
    parser.add_argument("--budget", type=float, default=240.0,
                        help="stop after the block that uses up this many seconds (default 240)")
    parser.add_argument("--keep-output", action="store_true", help="keep the temp dir with every output file")
    args = parser.parse_args()
    if args.workers < 1 or args.blocks < 1 or args.vips_threads < 1:
        parser.error("--workers, --blocks and --vips-threads must be at least 1")
    sys.path.insert(0, str(BASE_DIR))
    from catalog.images import RENDITION_WIDTHS

    if not args.images.is_dir():
        print(f"no such folder: {args.images}", file=sys.stderr)
        return 2
    paths = sorted(str(p) for p in args.images.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if args.limit:
        paths = paths[: args.limit]
    if not paths:
        print(f"no images under {args.images}", file=sys.stderr)
        return 2
    blocks = [paths[i :: args.blocks] for i in range(min(args.blocks, len(paths)))]

    print(f"{len(paths)} images from {args.images}, {args.workers} worker process"
          f"{'es' if args.workers != 1 else ''} per side, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    load_warning("before the run")
    tmp = Path(tempfile.mkdtemp(prefix="ishop-bench-images-"))
    context = multiprocessing.get_context("spawn")  # clean workers: each side imports only its library
    pools = []
    try:
        (tmp / "ours").mkdir()
        (tmp / "vips").mkdir()
        ours_pool = context.Pool(args.workers, initializer=init_ours,
                                 initargs=(sys.path, str(tmp / "ours"), MAX_BYTES))
        pools.append(ours_pool)
        vips_pool = context.Pool(args.workers, initializer=init_vips,
                                 initargs=(sys.path, str(tmp / "vips"), RENDITION_WIDTHS, args.vips_threads,
                                           args.vips_chain))
        pools.append(vips_pool)
        ours, vips = Side("ours", ours_pool, work_ours), Side("pyvips", vips_pool, work_vips)
        print(f"pyvips makes each width with "
              f"{'thumbnail_image() from the previous width' if args.vips_chain else 'thumbnail(path, width)'}")
        print("ours:   " + ", ".join(f"{k} {v}" for k, v in ours_pool.apply(versions).items()))
        print("pyvips: " + ", ".join(f"{k} {v}" for k, v in vips_pool.apply(versions).items()))
        # Warm-up (not counted): every worker imports, opens files, fills its caches.
        warm = paths[: args.workers * 2]
        ours_pool.map(Guarded(work_ours), warm, chunksize=1)
        vips_pool.map(Guarded(work_vips), warm, chunksize=1)

        started = time.perf_counter()
        busy_before, parent_before = cpu_busy_seconds(), time.process_time()
        ours_cpu = vips_cpu = 0.0
        done = 0
        for number, block in enumerate(blocks):
            order = (ours, vips) if number % 2 == 0 else (vips, ours)
            for side in order:
                used = side.run(block)
                if side is ours:
                    ours_cpu += used
                else:
                    vips_cpu += used
            done += len(block)
            elapsed = time.perf_counter() - started
            print(f"  block {number + 1}/{len(blocks)}: {done} images, {elapsed:.0f} s", flush=True)
            if elapsed > args.budget and number + 1 < len(blocks):
                print(f"  budget of {args.budget:g} s used up: stopping after {done} of {len(paths)} images")
                break
        measured = time.perf_counter() - started
        busy = cpu_busy_seconds() - busy_before
        parent = time.process_time() - parent_before
        others = max(0.0, busy - ours_cpu - vips_cpu - parent)
        capacity = measured * (os.cpu_count() or 1)
        print(f"measured for {measured:.0f} s; load average now {os.getloadavg()[0]:.2f}; other processes "
              f"used {others:.0f} CPU-s, {others / capacity:.0%} of the machine, during it")
        if others / capacity > 0.10:
            print("  warning: other processes took more than 10% of the CPU during the measured runs: "
                  "wall times and images/s are pessimistic; the CPU ms columns and the ratios are less affected")
        report(ours, vips, args)
        if args.keep_output:
            print(f"outputs kept in {tmp}")
    finally:
        for pool in pools:
            pool.terminate()
            pool.join()
        if not args.keep_output:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0




if __name__ == "__main__":
    sys.exit(main())
