"""The widget's own translations and how a shopper's language is picked."""

from __future__ import annotations

import re

import pytest

from chat.widget_i18n import (
    STRINGS,
    widget_language_choose,
    widget_language_normalize,
    widget_strings,
    widget_text_direction,
)


def test_every_language_translates_every_string_with_the_same_placeholders():
    english = STRINGS["en"]
    assert set(STRINGS) == {"en", "zh-Hans", "es", "de", "fr", "ja", "pt", "ar"}
    for language, strings in STRINGS.items():
        assert set(strings) == set(english), language
        for key, text in strings.items():
            assert text.strip(), (language, key)
            placeholders = set(re.findall(r"\{(\w+)\}", text))
            assert placeholders == set(re.findall(r"\{(\w+)\}", english[key])), (language, key)


def test_translations_are_not_english_left_in_place():
    for language in ("zh-Hans", "es", "de", "fr", "ja", "pt", "ar"):
        same = [k for k, v in STRINGS[language].items() if v == STRINGS["en"][k]]
        # Placeholder-only strings and words that are the same in both may match.
        assert set(same) <= {
            "email_placeholder",
            "optional",
            "message_label",
            "name_label",
            "conversation_label",
        }, (language, same)


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("en-GB", "en"),
        ("pt_BR", "pt"),
        ("ZH-cn", "zh-Hans"),
        ("zh-Hant-TW", "zh-Hans"),
        ("zh-hans", "zh-Hans"),
        ("ar-EG", "ar"),
        ("ko", None),
        ("*", None),
        ("", None),
    ],
)
def test_tags_map_to_the_widget_languages(tag, language):
    assert widget_language_normalize(tag) == language


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("ko-KR, ko;q=0.9, ja;q=0.8", "ja"),
        ("en;q=0.1, de;q=0.9", "de"),
        ("de;q=0, es", "es"),
        ("ko, *;q=0.5", "en"),
        ("garbage;;;, ===, es;q=abc, pt;q=0.5", "pt"),
        ("x" * 5000, "en"),
        ("", "en"),
    ],
)
def test_browser_language_is_the_best_supported_one(header, language):
    assert widget_language_choose(override="", accept_language=header) == language


def test_merchant_choice_wins_over_the_browser():
    assert widget_language_choose(override="zh-Hans", accept_language="de") == "zh-Hans"
    assert widget_language_choose(override="ar", accept_language="de") == "ar"
    # A stored value we don't know falls back to the browser, not to an error.
    assert widget_language_choose(override="tlh", accept_language="de") == "de"


def test_arabic_is_right_to_left_and_the_rest_left_to_right():
    assert widget_text_direction("ar") == "rtl"
    assert {widget_text_direction(code) for code in STRINGS if code != "ar"} == {"ltr"}


def test_unknown_language_gets_english_strings():
    assert widget_strings("tlh") == STRINGS["en"]
