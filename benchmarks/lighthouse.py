"""Lighthouse 12.2.3 (npm, in .lighthouse/) with Debian's Chromium on the mobile preset, on the
storefront's home, category, product and cart pages (issue 23: each score should be >= 95).

    make lighthouse LIGHTHOUSE_URL=http://127.0.0.1:8000

needs a running shop with the Luma demo catalogue (make run, or make prod for production-like
numbers). Prints a Markdown table of the four category scores per page (the README's), and keeps
each page's JSON report in .lighthouse/reports/.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / ".lighthouse" / "node_modules" / ".bin" / "lighthouse"
REPORTS = ROOT / ".lighthouse" / "reports"
PAGES = {"home": "/", "category": "/c/men/tops/", "product": "/p/chaz-kangeroo-hoodie/", "cart": "/cart/"}
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


def audit(url: str, name: str) -> dict[str, int]:
    """Run Lighthouse (mobile preset: its default form factor and throttling) on `url`; the four
    category scores out of 100."""
    report = REPORTS / f"{name}.json"
    subprocess.run([str(BINARY), url, "--quiet", "--output=json", f"--output-path={report}",
                    f"--only-categories={','.join(CATEGORIES)}",
                    "--chrome-flags=--headless=new --no-sandbox --disable-gpu"],
                   check=True, env={**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")})
    found = json.loads(report.read_text())["categories"]
    return {category: round(found[category]["score"] * 100) for category in CATEGORIES}


def main(base: str) -> None:
    """Audit every page under `base` and print the table."""
    REPORTS.mkdir(parents=True, exist_ok=True)
    print("| Page | Performance | Accessibility | Best practices | SEO |")
    print("| --- | --- | --- | --- | --- |")
    for name, path in PAGES.items():
        scores = audit(base.rstrip("/") + path, name)
        print(f"| {name} (`{path}`) | " + " | ".join(str(scores[c]) for c in CATEGORIES) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
