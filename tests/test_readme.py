"""What the README says about the suite stays true as files are added."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _test_table(readme: str) -> str:
    """The rows of "What the suite covers, by file": from its header to the blank line."""
    return readme.split("| area | file |", 1)[1].split("\n\n", 1)[0]


def test_the_readme_test_table_names_every_test_file():
    named = set(re.findall(r"`(test_\w+\.py)`", _test_table((REPO / "README.md").read_text())))
    files = {path.name for path in (REPO / "tests").glob("test_*.py")}

    assert sorted(files - named) == []
    assert sorted(named - files) == []  # and no file that is gone
