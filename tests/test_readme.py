"""The README documents the code as it is."""

from __future__ import annotations

import re
from pathlib import Path

from streams.cli import settings_table

ROOT = Path(__file__).resolve().parent.parent


def test_settings_table_matches_the_settings_object() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", readme, re.S)
    assert block, "README lost its settings markers"
    assert block.group(1).strip() == settings_table().strip(), "run `adsent settings --markdown` and paste it"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test   #" in readme
    assert re.search(r"^make test$", ci, re.M)
