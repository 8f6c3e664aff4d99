"""A dash word after `search` is query syntax ("files without it") unless it is one of search's own
short options: `-kettle` must not become `-k ettle`."""

from __future__ import annotations

import pytest

from seekwise import cli


def parsed(*words: str):
    argv, exclusions = cli._split_exclusions(["--data-dir", "/nowhere", "search", *words])
    args, unknown = cli.build_parser().parse_known_args(argv + (["--", *exclusions] if exclusions else []))
    return args, [w for w in unknown if w != "--"]


@pytest.mark.parametrize("words, query, limit, verbose", [
    (("boiler", "-kettle"), ["boiler", "-kettle"], 10, False),
    (("boiler", "-kettle", "-k", "3"), ["boiler", "-kettle"], 3, False),
    (("-vinegar", "salad", "-k5"), ["salad", "-vinegar"], 5, False),
    (("boiler", "-hot", "-v"), ["boiler", "-hot"], 10, True),
])
def test_exclusions_are_query_words_and_options_stay_options(words, query, limit, verbose):
    args, unknown = parsed(*words)
    assert [*args.query, *unknown] == query
    assert args.limit == limit and bool(getattr(args, "verbose", False)) is verbose


def test_after_a_double_dash_everything_is_the_users():
    args, unknown = parsed("--", "-k", "3")
    assert args.query == ["-k", "3"] and args.limit == 10


def test_a_lone_exclusion_reaches_the_query_check():
    args, unknown = parsed("-bond")
    assert args.query == ["-bond"] and not unknown


def test_other_commands_are_left_alone():
    words = ["index", "-q", "/some/folder"]
    assert cli._split_exclusions(words) == (words, [])
