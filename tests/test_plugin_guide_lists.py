"""The plugin guide's lists that must follow the code: every training option is named among the keys
``train_defaults`` accepts, and every name ``zoo.logged`` exports is in the table of what a run logs."""

import re
from pathlib import Path

from zoo import logged
from zoo.training.options import names

GUIDE = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()


def _paragraph(starting: str) -> str:
    start = GUIDE.index(starting)
    return GUIDE[start:GUIDE.index("\n\n", start)]


def test_every_training_option_is_listed_as_a_train_defaults_key():
    listed = set(re.findall(r"`(\w+)`", _paragraph("**`train_defaults`** gives")))
    assert [name for name in names() if name not in listed] == []


def test_every_name_of_zoo_logged_is_in_the_table_of_what_a_run_logs():
    table = _paragraph("| key | `zoo.logged` |") + _paragraph("`logged.BOOKKEEPING` holds")
    missing = [name for name in logged.__all__ if not re.search(rf"\b{name}\b", table)]
    assert missing == []
    for value in (logged.STEP, logged.EPOCH, logged.IMAGES_PER_SECOND, logged.TIME_SECONDS):
        assert f"`{value}`" in table
    assert f"`{logged.HELDOUT_PREFIX}<name>`" in table and f"`{logged.EVAL_PREFIX}<name>`" in table
