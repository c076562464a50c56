"""Catalogue imports: a Magento 2 product import CSV (products, variants, categories, images)
and a reviews CSV. Modules: `reading` (reports, CSV records, Magento values), `plans`, `products`,
`product_images` and `reviews`.

Both importers read the whole file first, report every bad row with the physical line on which
its record starts (the header is line 1; a record may span several lines), import everything
else, and return a report that the management commands only format. Re-running an import
updates rows in place: products and variants match on SKU, categories on their path, images on
(product, source path) and reviews on (product, reviewer, title).
"""
from .products import import_catalog
from .reading import (CatalogImportReport, Counts, ImportFileError, ReviewImportReport, parse_attributes,
                      parse_variations, sanitise_html)
from .reviews import import_reviews

__all__ = ["CatalogImportReport", "Counts", "ImportFileError", "ReviewImportReport", "import_catalog",
           "import_reviews", "parse_attributes", "parse_variations", "sanitise_html"]
