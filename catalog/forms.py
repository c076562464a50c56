"""Catalogue forms: validation only.

`ProductImageForm` is the admin's product image inline form. Its file field refuses anything
that is not a safe JPEG, PNG, WebP or GIF (see catalog.images) with an error naming the reason,
before the file is stored.
"""
from django import forms
from django.conf import settings

from . import images
from .images import services
from .models import ProductImage


class ProductImageFileField(forms.FileField):
    """A file upload that must pass catalog.images.services.validate_image_upload (size limit, magic
    bytes, structure, decompression bombs, polyglots, truncation). Django's own ImageField is
    not used: it hides the reason behind one generic message."""

    default_error_messages = {"empty": "The file is empty (0 bytes)."}

    def to_python(self, data):
        upload = super().to_python(data)
        if upload is None:
            return None
        try:
            services.validate_image_upload(upload=upload)
        except images.InvalidImage as exc:
            raise forms.ValidationError(exc.reason, code="invalid_image") from exc
        return upload

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = "image/jpeg,image/png,image/webp,image/gif"
        return attrs


class ProductImageForm(forms.ModelForm):
    """A product image row: the file (checked as above), alt text, position and variant."""

    image = ProductImageFileField(
        help_text=f"JPEG, PNG, WebP or GIF, up to {settings.SHOP_IMAGE_MAX_BYTES / 1048576:.0f} MB "
        f"and {images.MAX_PIXELS / 1e6:.0f} megapixels."
    )

    class Meta:
        model = ProductImage
        fields = ["image", "alt_text", "position", "variant"]
