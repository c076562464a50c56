"""The renditions, the low-quality placeholder (LQIP) and the dominant colour that the worker makes
from a product photo that passed catalog.images.checks. Pure functions on bytes, like the checks.

Renditions (see `render`):
- widths RENDITION_WIDTHS (320, 640, 1024, 1600 px), never upscaled: widths larger than the
  (EXIF-oriented) original are skipped. An original narrower than 320 px gets one rendition at
  its own width, so every image has at least one rendition per format;
- each width in WebP (quality 80) and JPEG (quality 82, progressive, optimised);
- JPEG sources are decoded with `draft()` (libjpeg shrink-on-load by 1/2, 1/4 or 1/8) to the
  smallest scale that is still at least as large as the largest rendition;
- orientation: EXIF orientation is applied to the pixels (`ImageOps.exif_transpose`), then all
  metadata (EXIF, XMP, comments, text chunks) is dropped;
- colour: a source with a non-sRGB ICC profile (Adobe RGB, Display P3, a CMYK profile...) is
  converted to sRGB with LittleCMS (ImageCms, perceptual intent). A source that carried any
  ICC profile gets the compact sRGB profile (588 bytes) embedded in its renditions; an untagged
  source stays untagged, which browsers already treat as sRGB. A profile LittleCMS cannot read
  is ignored (the pixels are used as they are);
- transparency: kept in WebP; flattened onto white for JPEG;
- animation: GIF and WebP animations are rendered from their first frame.

`fit` makes one picture the same way, fitted within a width x height box (the image proxy's).
"""
from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image, ImageCms, ImageFilter, ImageOps

from .checks import check_file, load_pixels, opened, orientation, oriented_size

# --- Rendition parameters -------------------------------------------------------------------

RENDITION_WIDTHS = (320, 640, 1024, 1600)  # px
RENDITION_FORMATS = ("webp", "jpeg")  # file extensions; the order pages list <source>s in
CONTENT_TYPES = {"webp": "image/webp", "jpeg": "image/jpeg"}
WEBP_QUALITY = 80  # 0-100
WEBP_METHOD = 4  # libwebp effort 0 (fast) - 6 (small); 4 is libwebp's and libvips' default
JPEG_QUALITY = 82  # 0-100
LQIP_WIDTH = 20  # px
LQIP_BLUR_RADIUS = 1.0  # px, Gaussian, at LQIP size
LQIP_QUALITY = 40  # WebP quality of the placeholder (it is blurred anyway)
DOMINANT_SAMPLE = 64  # px: the image is reduced to at most this square before counting colours
DOMINANT_PALETTE = 6  # colours in the reduced palette; the most common one wins

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_SRGB_BYTES = _SRGB.tobytes()

# --- Renditions -----------------------------------------------------------------------------


def rendition_widths(width: int) -> list[int]:
    """The rendition widths (px) for an original `width` px wide: every RENDITION_WIDTHS value up
    to it (never upscaled), or just `width` itself when it is narrower than the smallest."""
    widths = [w for w in RENDITION_WIDTHS if w <= width]
    return widths or [width]


def scaled_height(*, width: int, height: int, to_width: int) -> int:
    """The height (px, at least 1) of a `width` x `height` image scaled to `to_width` px wide."""
    return max(1, round(height * to_width / width))


@dataclass(frozen=True)
class Encoded:
    """One rendition: `width` x `height` px, `format` ("webp" or "jpeg"), the file's bytes, and
    `digest`, the first 16 hex digits of the SHA-256 of those bytes (for the file name)."""

    width: int
    height: int
    format: str
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:16]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass
class Rendered:
    """What `render` made from one original: its oriented `width` x `height` (px), the
    renditions asked for, `lqip` (a data: URI, LQIP_WIDTH px wide) and `dominant_colour`
    ("#rrggbb")."""

    format: str
    width: int
    height: int
    lqip: str
    dominant_colour: str
    renditions: list[Encoded] = field(default_factory=list)


def render(data: bytes, *, max_bytes: int, skip: set[tuple[int, str]] = frozenset()) -> Rendered:
    """Check `data` like `check_image`, then make every rendition (see `rendition_widths` and
    RENDITION_FORMATS) except those in `skip` ((width, format) pairs that already exist), the
    LQIP and the dominant colour. Raises InvalidImage with the reason for a file we refuse.
    """
    fmt, width, height, picture, tagged = _decode(data, max_bytes=max_bytes, largest=_largest_rendition)
    widths = sorted(rendition_widths(width), reverse=True)
    result = Rendered(format=fmt, width=width, height=height, lqip=make_lqip(picture),
                      dominant_colour=dominant_colour(picture))
    wanted = {(w, f) for w in widths for f in RENDITION_FORMATS} - set(skip)
    source, icc = picture, (_SRGB_BYTES if tagged else None)
    # Each width is made from the next larger one (cheaper; Lanczos keeps it sharp), always along
    # the same chain, so that a rendition's bytes (and name) do not depend on which others exist.
    for target in widths:
        if not any(w <= target for w, _ in wanted):
            break
        size = (target, scaled_height(width=width, height=height, to_width=target))
        if source.size != size:
            source = source.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        for ext in RENDITION_FORMATS:
            if (target, ext) in wanted:
                result.renditions.append(Encoded(width=size[0], height=size[1], format=ext,
                                                 data=_encode(source, ext, icc=icc)))
    return result


def fit(data: bytes, *, width: int | None = None, height: int | None = None, format: str,
        max_bytes: int) -> Encoded:
    """One picture from `data`, fitted within `width` x `height` px (either may be None: no
    limit that way), keeping its aspect ratio and never upscaled, encoded as `format` ("webp" or
    "jpeg"). The same checks and treatment as a rendition (see `render`): the file is checked
    like `check_image`, JPEGs shrink on load, orientation is applied, colour converted to sRGB,
    metadata dropped, transparency kept in WebP and flattened onto white in JPEG. Raises
    InvalidImage with the reason for a file we refuse. (The image proxy's resize.)"""
    if format not in CONTENT_TYPES:
        raise ValueError(f"format must be one of {', '.join(CONTENT_TYPES)}, not {format!r}")
    if (width is not None and width < 1) or (height is not None and height < 1):
        raise ValueError("width and height must be at least 1 px")

    def fitted(original_width: int, original_height: int) -> tuple[int, int]:
        return fitted_size(width=original_width, height=original_height, max_width=width, max_height=height)

    _, original_width, original_height, picture, tagged = _decode(data, max_bytes=max_bytes, largest=fitted)
    size = fitted(original_width, original_height)  # from the original's size, not the shrunk decode's
    if picture.size != size:
        picture = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return Encoded(width=size[0], height=size[1], format=format,
                   data=_encode(picture, format, icc=_SRGB_BYTES if tagged else None))


def fitted_size(*, width: int, height: int, max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """The size (px) of a `width` x `height` image scaled down, keeping its aspect ratio, to fit
    within `max_width` x `max_height` (None: no limit that way); never larger than it is."""
    scale = min(1.0, (max_width or width) / width, (max_height or height) / height)
    if scale >= 1.0:
        return width, height
    if max_width is not None and scale == max_width / width:
        return max_width, scaled_height(width=width, height=height, to_width=max_width)
    return max(1, round(width * max_height / height)), max_height


def _largest_rendition(width: int, height: int) -> tuple[int, int]:
    """The size (px) of the largest rendition of a `width` x `height` original."""
    largest = max(rendition_widths(width))
    return largest, scaled_height(width=width, height=height, to_width=largest)


def _decode(data: bytes, *, max_bytes: int, largest: Callable[[int, int], tuple[int, int]]
            ) -> tuple[str, int, int, Image.Image, bool]:
    """Check `data` (see `check_file`) and decode it: its format, oriented width and height, the
    pixels from `_normalise` and whether it had an ICC profile. `largest(width, height)` gives the
    largest size (px, oriented) that will be made from it: a JPEG is decoded at the smallest
    1/2^n scale still at least that large (libjpeg shrink-on-load through `draft`)."""
    fmt = check_file(data, max_bytes=max_bytes)
    with opened(data, fmt) as im:
        width, height = oriented_size(im)
        if fmt == "JPEG":
            need_width, need_height = largest(width, height)
            im.draft(None, (need_width, need_height) if orientation(im) < 5 else (need_height, need_width))
        load_pixels(im)
        picture, tagged = _normalise(im)
    return fmt, width, height, picture, tagged


def _normalise(im: Image.Image) -> tuple[Image.Image, bool]:
    """Oriented, sRGB, RGB or RGBA pixels with no metadata; and whether the source had an ICC
    profile (its renditions then get the sRGB profile embedded)."""
    icc = im.info.get("icc_profile")
    oriented = ImageOps.exif_transpose(im)
    has_alpha = oriented.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        oriented.mode in ("P", "L", "RGB") and "transparency" in oriented.info
    )
    target = "RGBA" if has_alpha else "RGB"
    converted = None
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            if "srgb" not in (ImageCms.getProfileDescription(profile) or "").lower():
                source = oriented
                if source.mode not in ("RGB", "RGBA", "L", "CMYK", "LAB"):
                    source = source.convert(target)
                converted = ImageCms.profileToProfile(source, profile, _SRGB, outputMode=target)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # an unreadable or mismatched profile: use the pixels as they are
    if converted is None:
        if oriented.mode.startswith("I") or oriented.mode == "F":  # 16/32-bit grey: scale to 8 bits
            oriented = oriented.convert("I").point(lambda value: value * (1 / 256)).convert("L")
        converted = oriented if oriented.mode == target else oriented.convert(target)
    clean = Image.new(converted.mode, converted.size)
    clean.paste(converted)  # a fresh image: no info dict, so no EXIF, XMP, comments or profile
    return clean, bool(icc)


def _flatten(im: Image.Image) -> Image.Image:
    """RGB pixels: RGBA is composited onto white."""
    if im.mode == "RGB":
        return im
    background = Image.new("RGB", im.size, (255, 255, 255))
    background.paste(im, mask=im.getchannel("A"))
    return background


def _encode(im: Image.Image, ext: str, *, icc: bytes | None) -> bytes:
    buffer = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    if ext == "webp":
        im.save(buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD, exif=b"", **extra)
    else:
        _flatten(im).save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True,
                          subsampling="4:2:0", exif=b"", **extra)
    return buffer.getvalue()


def make_lqip(im: Image.Image) -> str:
    """A blurred placeholder LQIP_WIDTH px wide, as a `data:image/webp;base64,...` URI
    (a few hundred bytes). Pages show it, scaled up, until the real image loads."""
    height = scaled_height(width=im.width, height=im.height, to_width=LQIP_WIDTH)
    tiny = im.resize((LQIP_WIDTH, height), Image.Resampling.BOX, reducing_gap=2.0)
    tiny = _flatten(tiny).filter(ImageFilter.GaussianBlur(LQIP_BLUR_RADIUS))
    buffer = io.BytesIO()
    tiny.save(buffer, "WEBP", quality=LQIP_QUALITY, method=4)
    return "data:image/webp;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def dominant_colour(im: Image.Image) -> str:
    """The most common colour ("#rrggbb") after reducing the picture to DOMINANT_PALETTE colours
    (transparent areas count as white). For a product shot on white this is the backdrop, which
    is what a placeholder behind the photo should be."""
    scale = DOMINANT_SAMPLE / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale))) if scale < 1 else im.size
    sample = _flatten(im.resize(size, Image.Resampling.BOX, reducing_gap=2.0))
    palette_image = sample.quantize(colors=DOMINANT_PALETTE, method=Image.Quantize.MEDIANCUT)
    palette = palette_image.getpalette() or []
    _, index = max(palette_image.getcolors(DOMINANT_PALETTE * 4) or [(1, 0)])
    red, green, blue = palette[index * 3 : index * 3 + 3] or (255, 255, 255)
    return f"#{red:02x}{green:02x}{blue:02x}"
