"""Catalogue text at import (issue 23), on slices of the real Luma data: entities decoded in names,
slugs and attribute values, attribute codes shown as labels, and a re-import fixing products
imported before, their old slugs answering 301."""
import pytest
from django.urls import reverse

from catalog.importers.text import attribute_label, plain_text, slug_text
from catalog.models import Product, Variant

from .luma import import_luma_slice

pytestmark = pytest.mark.django_db

SLICE = {"MJ10", "24-UG02", "MS04", "24-MB01", "WJ12"}


def test_names_slugs_and_attribute_values_are_decoded_and_attributes_labelled(luma_dir, tmp_path, client):
    import_luma_slice(luma_dir, tmp_path, SLICE)
    pullover = Product.objects.get(sku="MJ10")
    assert pullover.name == "Mars HeatTech™ Pullover" and pullover.slug == "mars-heattech-pullover"
    assert Product.objects.get(sku="MS04").name == "Gobi HeatTec® Tee"
    assert Product.objects.get(sku="24-UG02").slug == "pursuit-lumaflex-tone-band"  # its url_key had &trade;
    assert not Product.objects.filter(name__contains="&").exists()
    assert not Variant.objects.filter(name__contains="&").exists()
    assert "¼ zip" in pullover.attributes["Style"] and "HeatTec®" in Product.objects.get(sku="MS04").attributes["Material"]
    bag = Product.objects.get(sku="24-MB01")
    assert bag.attributes["Features"] == ["Waterproof", "TSA Approved", "Lockable"]
    assert set(bag.attributes) == {"Features", "Pattern", "Strap/handle", "Material", "Style", "Activity"}
    page = client.get(reverse("catalog:product", args=[pullover.slug])).content.decode()
    assert "Mars HeatTech™ Pullover" in page and "&amp;trade;" not in page and "trade;" not in page


def test_reimport_fixes_products_imported_before_and_old_slugs_redirect(luma_dir, tmp_path, client):
    import_luma_slice(luma_dir, tmp_path, SLICE)
    # As the importer left them before catalogue text was decoded:
    Product.objects.filter(sku="MJ10").update(name="Mars HeatTech&trade; Pullover", slug="mars-heattechtrade-pullover",
                                              attributes={"style_general": ["&frac14; zip"]})
    Variant.objects.filter(sku="MJ10-XS-Black").update(name="Mars HeatTech&trade; Pullover-XS-Black")
    import_luma_slice(luma_dir, tmp_path, SLICE)
    pullover = Product.objects.get(sku="MJ10")
    assert (pullover.name, pullover.slug) == ("Mars HeatTech™ Pullover", "mars-heattech-pullover")
    assert "¼ zip" in pullover.attributes["Style"] and "style_general" not in pullover.attributes
    assert Variant.objects.get(sku="MJ10-XS-Black").name == "Mars HeatTech™ Pullover-XS-Black"
    old = client.get("/p/mars-heattechtrade-pullover/")
    assert old.status_code == 301 and old["Location"] == "/p/mars-heattech-pullover/"
    assert client.get("/p/mars-heattechtrade-pullover/", follow=True).status_code == 200
    assert client.get("/p/no-such-pullover/").status_code == 404
    # The search finds it by its decoded brand word, not by the entity's name.
    results = [card.name for card in client.get(reverse("catalog:search"), {"q": "heattech"}).context["products"]]
    assert results == ["Mars HeatTech™ Pullover"]
    assert not client.get(reverse("catalog:search"), {"q": "trade"}).context["products"]


@pytest.mark.parametrize(("raw", "plain", "slug"), [
    ("Ryker LumaTech&trade; Tee (Crew-neck)", "Ryker LumaTech™ Tee (Crew-neck)", "ryker-lumatech-tee-crew-neck"),
    ("Logan  HeatTec&reg; Tee", "Logan HeatTec® Tee", "logan-heattec-tee"),
    ("&frac14; zip", "¼ zip", "14-zip"),
    ("harmony-lumaflex&trade;-strength-band-kit", "harmony-lumaflex™-strength-band-kit", "harmony-lumaflex-strength-band-kit"),
])
def test_text_and_slug_of_luma_values(raw, plain, slug):
    assert (plain_text(raw), slug_text(raw)) == (plain, slug)


def test_attribute_codes_become_labels():
    assert [attribute_label(code) for code in ("features_bags", "strap_bags", "style_general", "eco_collection",
                                               "material", "category_gear")] == [
        "Features", "Strap/handle", "Style", "Eco collection", "Material", "Category"]
