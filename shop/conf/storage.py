"""Where files go: media in S3 (or any S3-compatible store) when a bucket is named, the filesystem
otherwise; static files through WhiteNoise's compressed manifest storage in production."""

# Stored files never change under their name (renditions carry a content hash; uploads are never
# overwritten), so they are served with an immutable cache header.
S3_OBJECT_PARAMETERS = {"CacheControl": "public, max-age=31536000, immutable"}


def storages(*, s3_bucket: str, debug: bool) -> dict:
    """STORAGES: "default" (media) in S3 when `s3_bucket` is set, else the filesystem
    (MEDIA_ROOT); "staticfiles" plain under DEBUG, hashed and compressed otherwise."""
    return {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage" if s3_bucket
            else "django.core.files.storage.FileSystemStorage"
        },
        "staticfiles": {
            "BACKEND": (
                "django.contrib.staticfiles.storage.StaticFilesStorage"
                if debug
                else "whitenoise.storage.CompressedManifestStaticFilesStorage"
            )
        },
    }
