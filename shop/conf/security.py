"""The Content-Security-Policy (django-csp 4).

Scripts only from this site or carrying the request's nonce (`{{ request.csp_nonce }}`; never on a
page served from the page cache), no inline event handlers. Styles allow 'unsafe-inline' for style
attributes (the picture placeholder's CSS variables, the admin) and htmx's indicator <style>.
"""
from csp.constants import NONCE


def content_security_policy(*, img_src: list[str], connect_src: list[str], bucket: str,
                            s3_custom_domain: str | None, s3_endpoint_url: str | None,
                            form_action: list[str] = ()) -> dict:
    """CONTENT_SECURITY_POLICY. `img_src` and `connect_src` are extra image hosts (an S3 or CDN
    media domain) and WebSocket origins; `form_action` extra form targets (Stripe Checkout: a form
    posting to our checkout is redirected there, and Chromium applies form-action to the redirect). Media in S3 (`bucket`) adds its host to img-src: the
    custom domain, else the endpoint, else the bucket's amazonaws.com host."""
    media = []
    if s3_custom_domain:
        media = [f"https://{s3_custom_domain}"]
    elif s3_endpoint_url:
        media = [s3_endpoint_url.rstrip("/")]
    elif bucket:
        media = [f"https://{bucket}.s3.amazonaws.com"]
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'", NONCE],
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": ["'self'", "data:", *img_src, *media],
            "font-src": ["'self'"],
            "connect-src": ["'self'", *connect_src],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": ["'self'", *form_action],
            "frame-ancestors": ["'none'"],
        },
    }
