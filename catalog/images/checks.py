"""The checks every uploaded product photo must pass before it is stored or rendered.

Pure functions on bytes: no database, no storage, no Django settings (catalog.images.services does
those and passes the limits in). Everything here treats its input as hostile:

- Only JPEG, PNG, WebP and GIF are accepted, recognised by their magic bytes, and Pillow is
  only allowed to open the format those bytes name (`Image.open(..., formats=[...])`).
- Decompression bombs: `Image.MAX_IMAGE_PIXELS` is MAX_PIXELS (40 megapixels) for the whole
  process, and Pillow's `DecompressionBombWarning` (between 1x and 2x that) is an error too.
- Truncated files, files with bytes after their end marker, and files carrying HTML or script
  markup in their metadata (HTML/image polyglots) are refused; the file structure is walked
  (PNG chunks, JPEG segments, GIF blocks, RIFF chunks), so compressed pixel data is never
  mistaken for markup.
- The whole first frame is decoded, so a file that only looks right is refused too.
- What is served is always re-encoded: renditions are new files holding pixels only.

"""
from __future__ import annotations

import io
import re
import struct
import warnings
import zlib
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# --- Limits ---------------------------------------------------------------------------------

MAX_PIXELS = 40_000_000  # pixels (width x height) of the largest image accepted: 40 MP
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow refuses 2x this outright and warns above 1x

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")  # Pillow format names
FORMAT_LABELS = "JPEG, PNG, WebP or GIF"


class InvalidImage(ValueError):
    """The file is not an image we accept. `reason` says why, in words for the person who
    uploaded it (it is shown in form errors, API errors and the admin)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


# --- Recognising and checking a file ----------------------------------------------------------

_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
)
_OTHER_MAGIC = (
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "Photoshop"),
    (b"PK\x03\x04", "ZIP"),
)

# Markup a browser could act on if it ever sniffed the file as HTML (or an SVG), found in the
# parts of a file that hold text: metadata, comments, anything after the image's end.
# Only tokens of 4+ bytes, so that binary metadata (an EXIF thumbnail) does not match by chance.
_MARKUP = re.compile(
    rb"<(?:html|head|body|script|iframe|svg|object|embed|meta|link|style|img|form|base|!doctype|\?php)"
    rb"|javascript:",
    re.IGNORECASE,
)


def sniff_format(head: bytes) -> str | None:
    """The Pillow format name ("JPEG", "PNG", "WEBP", "GIF") the first 12 bytes announce, or None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def _describe_unknown(head: bytes) -> str:
    for magic, name in _OTHER_MAGIC:
        if head.startswith(magic):
            return f"a {name} file"
    stripped = head.lstrip().lower()
    if stripped.startswith((b"<", b"\xef\xbb\xbf<")):
        return "a text/markup file (HTML, SVG or XML)"
    return "not a recognised image"


@dataclass(frozen=True)
class ImageInfo:
    """What a checked file is: its Pillow format and its size as displayed (after EXIF
    orientation), in px."""

    format: str
    width: int
    height: int


def check_image(data: bytes, *, max_bytes: int) -> ImageInfo:
    """Check a whole file as an upload: size, magic bytes, structure, and a full decode of its
    first frame. Returns its format and oriented size; raises InvalidImage with the reason.

    `max_bytes` is the largest file accepted (bytes). Time is bounded by the pixel limit: the
    decode is of at most MAX_PIXELS pixels, and JPEGs are decoded at 1/8 scale here.
    """
    fmt = check_file(data, max_bytes=max_bytes)
    with opened(data, fmt) as im:
        width, height = oriented_size(im)
        if fmt == "JPEG":
            im.draft(None, (max(1, im.width // 8), max(1, im.height // 8)))  # only to prove it decodes
        load_pixels(im)
    return ImageInfo(format=fmt, width=width, height=height)


def check_file(data: bytes, *, max_bytes: int) -> str:
    """Size, magic bytes and structure (no pixel decoding). Returns the Pillow format name;
    raises InvalidImage with the reason."""
    if not data:
        raise InvalidImage("The file is empty (0 bytes).")
    if len(data) > max_bytes:
        raise InvalidImage(
            f"The file is {_megabytes(len(data))}; the largest accepted is {_megabytes(max_bytes)}."
        )
    fmt = sniff_format(data[:12])
    if fmt is None:
        raise InvalidImage(f"Only {FORMAT_LABELS} images are accepted; this is {_describe_unknown(data[:64])}.")
    _STRUCTURE_CHECKS[fmt](data)
    return fmt


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"


def _refuse_markup(chunk: bytes, where: str) -> None:
    if found := _MARKUP.search(chunk):
        text = found.group(0).decode("latin-1").strip()
        raise InvalidImage(f"The file carries HTML/script markup ({text!r} in {where}); it may be a polyglot.")


def _check_png(data: bytes) -> None:
    """Walk the chunks: each must fit in the file, the last must be IEND with nothing after it,
    and no text-bearing chunk may hold markup (IDAT, compressed pixels, is not searched)."""
    pos, size = 8, len(data)
    while True:
        if pos + 12 > size:
            raise InvalidImage("The PNG file is truncated (it ends inside a chunk, before IEND).")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > size:
            raise InvalidImage("The PNG file is truncated (a chunk runs past the end of the file).")
        if kind not in (b"IDAT", b"fdAT"):
            _refuse_markup(data[pos + 8 : pos + 8 + length], f"PNG chunk {kind.decode('latin-1')!r}")
        pos = end
        if kind == b"IEND":
            break
    if pos != size:
        trailing = data[pos:]
        _refuse_markup(trailing, "data after the PNG's end")
        raise InvalidImage(f"The PNG file has {len(trailing):,} bytes after its end (IEND); it may be a polyglot.")


# JPEG: markers without a length field (RSTn, SOI, EOI, TEM) and the next marker in entropy data.
_JPEG_NO_LENGTH = {0x01, 0xD8, 0xD9, *range(0xD0, 0xD8)}
_JPEG_NEXT_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def _check_jpeg(data: bytes) -> None:
    """Walk the segments: APPn and COM segments (metadata) may hold no markup, and a file
    without its end-of-image marker is truncated. After the end, further JPEGs (a camera's MPF
    images, an Ultra HDR gain map) are walked the same way; any other trailing data may hold no
    markup."""
    pos, size = _walk_jpeg(data, 2), len(data)
    while pos < size:
        start = pos
        while start < size and data[start] == 0:  # padding between embedded images
            start += 1
        if data[start : start + 3] != b"\xff\xd8\xff":
            _refuse_markup(data[pos:], "data after the JPEG's end")
            return
        pos = _walk_jpeg(data, start + 2)


def _walk_jpeg(data: bytes, pos: int) -> int:
    """Check the JPEG whose first segment starts at `pos` (just after its SOI marker); return
    the position just after its end-of-image marker."""
    size = len(data)
    while True:
        # Fill bytes (0xFF) may precede a marker.
        while pos + 1 < size and data[pos] == 0xFF and data[pos + 1] == 0xFF:
            pos += 1
        if pos + 2 > size:
            raise InvalidImage("The JPEG file is truncated (no end-of-image marker).")
        if data[pos] != 0xFF:
            raise InvalidImage("The JPEG file is corrupt (a segment does not start with a marker).")
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI
            return pos + 2
        if marker in _JPEG_NO_LENGTH:
            pos += 2
            continue
        if pos + 4 > size:
            raise InvalidImage("The JPEG file is truncated (it ends inside a segment header).")
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if length < 2 or end > size:
            raise InvalidImage("The JPEG file is truncated (a segment runs past the end of the file).")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # APPn (EXIF, XMP, ICC...) and COM
            _refuse_markup(data[pos + 4 : end], f"JPEG segment 0x{marker:02X}")
        pos = end
        if marker == 0xDA:  # SOS: entropy-coded data follows, up to the next real marker
            found = _JPEG_NEXT_MARKER.search(data, pos)
            if found is None:
                raise InvalidImage("The JPEG file is truncated (no end-of-image marker).")
            pos = found.start()


def _check_gif(data: bytes) -> None:
    """Walk the blocks: extension blocks (comments, application data) may hold no markup, the
    file must end with its trailer (0x3B), and nothing may follow it."""
    size = len(data)
    if size < 13:
        raise InvalidImage("The GIF file is truncated (no screen descriptor).")
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)

    def sub_blocks(pos: int, keep: bool) -> tuple[int, bytes]:
        parts = []
        while True:
            if pos >= size:
                raise InvalidImage("The GIF file is truncated (it ends inside a data block).")
            length = data[pos]
            if length == 0:
                return pos + 1, b"".join(parts)
            if keep:
                parts.append(data[pos + 1 : pos + 1 + length])
            pos += 1 + length

    while True:
        if pos >= size:
            raise InvalidImage("The GIF file is truncated (no trailer).")
        kind = data[pos]
        if kind == 0x3B:  # trailer
            pos += 1
            break
        if kind == 0x21:  # extension: label, then sub-blocks
            if pos + 2 > size:
                raise InvalidImage("The GIF file is truncated (it ends inside an extension).")
            label = data[pos + 1]
            pos, payload = sub_blocks(pos + 2, keep=label != 0xF9)
            _refuse_markup(payload, f"GIF extension 0x{label:02X}")
        elif kind == 0x2C:  # image descriptor, optional local colour table, LZW data
            if pos + 11 > size:
                raise InvalidImage("The GIF file is truncated (it ends inside an image descriptor).")
            local = data[pos + 9]
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0) + 1  # +1: LZW code size
            pos, _ = sub_blocks(pos, keep=False)
        else:
            raise InvalidImage(f"The GIF file is corrupt (unknown block 0x{kind:02X}).")
    if pos < size:
        trailing = data[pos:]
        _refuse_markup(trailing, "data after the GIF's end")
        if trailing.strip(b"\x00"):
            raise InvalidImage(f"The GIF file has {len(trailing):,} bytes after its end; it may be a polyglot.")


def _check_webp(data: bytes) -> None:
    """The RIFF size must match the file; chunks other than image data may hold no markup."""
    size = len(data)
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 > size:
        raise InvalidImage("The WebP file is truncated (shorter than its RIFF header says).")
    if riff_size + 8 < size:
        trailing = data[riff_size + 8 :]
        _refuse_markup(trailing, "data after the WebP's end")
        raise InvalidImage(f"The WebP file has {len(trailing):,} bytes after its end; it may be a polyglot.")
    pos = 12
    while pos < size:
        if pos + 8 > size:
            raise InvalidImage("The WebP file is truncated (it ends inside a chunk header).")
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        end = pos + 8 + length
        if end > size:
            raise InvalidImage("The WebP file is truncated (a chunk runs past the end of the file).")
        if kind not in (b"VP8 ", b"VP8L", b"ALPH", b"ANMF"):
            _refuse_markup(data[pos + 8 : end], f"WebP chunk {kind.decode('latin-1')!r}")
        pos = end + (length & 1)


_STRUCTURE_CHECKS = {"PNG": _check_png, "JPEG": _check_jpeg, "GIF": _check_gif, "WEBP": _check_webp}

# What Pillow raises on broken or hostile input (besides the bomb errors, handled apart).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, TypeError, IndexError, KeyError, EOFError,
                  struct.error, zlib.error, MemoryError, Image.DecompressionBombError)


class opened:
    """`with opened(data, fmt) as im:` Pillow's image for `data`, opened as `fmt` only, with
    decompression-bomb warnings raised as errors and every decoding error turned into
    InvalidImage."""

    def __init__(self, data: bytes, fmt: str):
        self.data, self.fmt = data, fmt

    def __enter__(self) -> Image.Image:
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            self.image = Image.open(io.BytesIO(self.data), formats=[self.fmt])
            width, height = self.image.size
            if width < 1 or height < 1:
                raise InvalidImage("The image has no pixels (0 width or height).")
            if width * height > MAX_PIXELS:
                raise InvalidImage(_too_large(width * height))
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self.image

    def __exit__(self, exc_type, exc, tb) -> bool:
        if getattr(self, "image", None) is not None:
            self.image.close()
        self._warnings.__exit__(None, None, None)
        if exc is None or isinstance(exc, InvalidImage):
            return False
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise InvalidImage(_too_large(_pixels_in(str(exc)))) from exc
        if isinstance(exc, _DECODE_ERRORS):
            raise InvalidImage(_decode_reason(exc, self.fmt)) from exc
        return False


def _pixels_in(message: str) -> int | None:
    found = re.search(r"\((\d+) pixels\)", message)
    return int(found.group(1)) if found else None


def _too_large(pixels: int | None) -> str:
    size = f"{pixels / 1e6:.1f} megapixels" if pixels else "too many pixels"
    return (f"The image is too large ({size}; the limit is {MAX_PIXELS / 1e6:.0f} megapixels). "
            "It may be a decompression bomb.")


def _decode_reason(exc: BaseException, fmt: str) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return f"The file starts like a {fmt} image but is not a readable one."
    text = str(exc) or type(exc).__name__
    if "truncated" in text.lower():
        return f"The {fmt} file is truncated ({text})."
    return f"The {fmt} file cannot be decoded ({text})."


def orientation(im: Image.Image) -> int:
    """The EXIF orientation (1-8) of `im`; 1 when it has none or it cannot be read."""
    try:
        return int(im.getexif().get(0x0112, 1))
    except _DECODE_ERRORS:
        return 1


def oriented_size(im: Image.Image) -> tuple[int, int]:
    """(width, height) in px as displayed: swapped for EXIF orientations 5-8 (quarter turns)."""
    width, height = im.size
    return (height, width) if orientation(im) in (5, 6, 7, 8) else (width, height)


def load_pixels(im: Image.Image) -> None:
    """Decode all of `im`'s first frame; raises InvalidImage if the file ends early."""
    im.load()
    if getattr(im, "tile", None):  # Pillow left undecoded data: treat as truncated
        raise InvalidImage("The image file is truncated.")
