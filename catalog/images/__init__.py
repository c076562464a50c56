"""The product image room: everything between a photo arriving and a rendition being served.

- `checks`: the checks every uploaded file must pass (formats by magic bytes, decompression
  bombs, truncation, HTML/image polyglots). Pure functions on bytes.
- `renditions`: the renditions, placeholder (LQIP) and dominant colour made from a checked file,
  and `fit`, the image proxy's resize. Pure functions on bytes.
- `services`: the writes: upload validation, storing an image, rendition jobs and processing
  (the only place that changes an image's pipeline state).
- `tasks`: the Celery tasks that call those services (named `catalog.tasks.*`).
- `safe_fetch`: fetching an image from an allowlisted host without SSRF.
- `proxy`: GET /api/v1/images/proxy, an external image fetched, resized and cached.

This package's own namespace holds the pure API below (no database, no Django settings), so
benchmarks and scripts can import it without a configured Django.
"""
from .checks import (ALLOWED_FORMATS, FORMAT_LABELS, MAX_PIXELS, ImageInfo, InvalidImage, check_file,
                     check_image, sniff_format)
from .renditions import (CONTENT_TYPES, LQIP_WIDTH, RENDITION_FORMATS, RENDITION_WIDTHS, Encoded, Rendered,
                         dominant_colour, fit, fitted_size, make_lqip, render, rendition_widths, scaled_height)

__all__ = [
    "ALLOWED_FORMATS", "CONTENT_TYPES", "FORMAT_LABELS", "LQIP_WIDTH", "MAX_PIXELS", "RENDITION_FORMATS",
    "RENDITION_WIDTHS", "Encoded", "ImageInfo", "InvalidImage", "Rendered", "check_file", "check_image",
    "dominant_colour", "fit", "fitted_size", "make_lqip", "render", "rendition_widths", "scaled_height",
    "sniff_format",
]
