"""CI runs what pytest collects: every app's tests/ folder must be in pytest.ini's testpaths (payments
and branding were left out once, and their tests never ran in CI)."""
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_app_s_tests_are_collected():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    collected = set(config["pytest"]["testpaths"].split())
    apps_with_tests = {path.parent.name for path in ROOT.glob("*/tests") if (path.parent / "apps.py").exists()}
    assert apps_with_tests - collected == set(), "add these to testpaths in pytest.ini"


def test_no_merge_conflict_markers_are_left_in_the_code_or_the_pages():
    """A merge once left its conflict markers in templates/accounts/wishlist.html, and shoppers saw
    "<<<<<<< HEAD" above their wishlist."""
    tracked = [path for folder in ("templates", "static/js", "static/css") for path in (ROOT / folder).rglob("*")
               if path.is_file() and "vendor" not in path.parts]
    tracked += [path for path in ROOT.glob("*/**/*.py") if ".venv" not in path.parts and ".bench" not in path.parts]
    marked = [str(path.relative_to(ROOT)) for path in tracked
              if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in path.read_text(errors="replace").splitlines())]
    assert marked == []
