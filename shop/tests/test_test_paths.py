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
