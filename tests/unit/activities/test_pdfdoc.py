"""The PDF building blocks (activities/contract/pdfdoc.py): fonts found or a clear error,
hyphenation points in long words, emoji found as Twemoji pictures."""
import os

import pytest

from activities.contract import pdfdoc
from tests.support import ASSETS


def test_missing_fonts_say_what_to_install(tmp_path):
    with pytest.raises(pdfdoc.FontsMissing, match="fonts-dejavu-core.*PLAYROOM_FONT_DIR"):
        pdfdoc.font_files([str(tmp_path)])


def test_fonts_are_found_in_a_folder_that_holds_both(tmp_path):
    found = pdfdoc.font_files()
    for style, path in found.items():
        os.symlink(path, tmp_path / os.path.basename(path))
    assert pdfdoc.font_files([str(tmp_path / "none"), str(tmp_path)]) == {
        style: str(tmp_path / os.path.basename(p)) for style, p in found.items()}


def test_long_words_get_soft_hyphens_short_ones_none():
    out = pdfdoc.hyphenate("a cat and extraordinarily long words")
    assert "\u00ad" in out.split()[3] and out.replace("\u00ad", "") == \
        "a cat and extraordinarily long words"
    assert "\u00ad" not in " ".join(out.split()[:3])


def test_emoji_are_split_out_as_their_twemoji_file():
    svg = ASSETS.twemoji_dir()
    runs = pdfdoc.split_emoji("Owl \U0001F989 and \u2764\ufe0f — “quoted”", svg)
    assert runs == [("Owl ", None), ("\U0001F989", os.path.join(svg, "1f989.svg")),
                    (" and ", None), ("\u2764\ufe0f", os.path.join(svg, "2764.svg")),
                    (" — “quoted”", None)]
    assert pdfdoc.split_emoji("plain", None) == [("plain", None)]
