"""Documentation generated from the code stays current."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_input_table_is_current():
    spec = importlib.util.spec_from_file_location("make_input_table", ROOT / "docs" / "make_input_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (ROOT / "docs" / "input-errors.md").read_text(encoding="utf-8")
    assert module.table() == committed, "run: python docs/make_input_table.py > docs/input-errors.md"
