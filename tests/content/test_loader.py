"""Front matter is validated with errors that name the file, and an operator's content
directory overrides or adds documents without touching the package."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsnest.content import ContentError, ContentLibrary
from modelsnest.content.loader import load_sources, parse_source
from modelsnest.settings import Settings
from tests.content.conftest import BASE_URL


def _doc(front: str, body: str = "Body text.\n") -> str:
    return f"---\n{front}\n---\n{body}"


@pytest.mark.parametrize(
    ("section", "slug", "text", "message"),
    [
        ("pages", "x", _doc("description: d"), "front matter needs 'title'"),
        ("pages", "x", _doc("title: t"), "front matter needs 'description'"),
        ("pages", "x", _doc("title: [not, text]\ndescription: d"), "'title' must be text"),
        ("pages", "x", _doc("title: t\ndescription: d: e"), "front matter is not valid YAML"),
        ("pages", "x", _doc("title: t\ndescription: d", body=""), "the document has no body"),
        ("pages", "Bad_Name", _doc("title: t\ndescription: d"), "lowercase words joined by '-'"),
        ("pages", "x", _doc("title: t\ndescription: d\nupdated: yesterday"), "'updated' must be a date"),
        ("pages", "x", _doc("title: t\ndescription: d\ndraft: maybe"), "'draft' must be true or false"),
        ("pages", "x", _doc("title: t\ndescription: d\norder: first"), "'order' must be a whole number"),
        ("help", "x", _doc("title: t\ndescription: d"), "front matter needs 'category'"),
        ("help", "x", _doc("title: t\ndescription: d\ncategory: gossip"), "help category 'gossip' is not one of"),
        ("blog", "x", _doc("title: t\ndescription: d\nsummary: s\nauthor: a\ntags: [x]"), "needs 'date'"),
        ("blog", "x", _doc("title: t\ndescription: d\nsummary: s\nauthor: a\ndate: 2026-01-01\ntags: x"), "'tags' must be a list"),
    ],
)  # fmt: skip
def test_malformed_front_matter_is_refused_with_the_file_named(
    section: str, slug: str, text: str, message: str
) -> None:
    with pytest.raises(ContentError, match=rf"^{section}/{slug}\.md: .*") as failure:
        parse_source(section, slug, text, f"{section}/{slug}.md")  # type: ignore[arg-type]
    assert message in str(failure.value)


def test_dates_are_parsed_from_front_matter() -> None:
    source = parse_source(
        "blog",
        "x",
        _doc("title: t\ndescription: d\nsummary: s\nauthor: a\ndate: 2026-10-06\ntags: [billing]"),
        "blog/x.md",
    )
    assert source.meta["date"].isoformat() == "2026-10-06"


def test_an_operator_directory_overrides_and_adds_documents(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "help").mkdir()
    (tmp_path / "pages" / "terms.md").write_text(
        _doc("title: Our terms\ndescription: Edited by the operator", "Terms of {{ company_name }}.\n")
    )
    (tmp_path / "help" / "office-hours.md").write_text(
        _doc(
            "title: When is support open?\ndescription: Hours\ncategory: account",
            "Weekdays. <script>alert(1)</script>\n",
        )
    )
    library = ContentLibrary.from_settings(Settings(content_dir=tmp_path, company_name="Acme AI"))
    terms = library.get_page("pages", "terms", base_url=BASE_URL)
    assert terms is not None and terms.title == "Our terms" and "Terms of Acme AI." in terms.html
    added = library.get_page("help", "office-hours", base_url=BASE_URL)
    assert added is not None and "<script" not in added.html
    assert "office-hours" in [p.slug for p in library.list_section("help", base_url=BASE_URL)]
    assert library.get_page("pages", "privacy", base_url=BASE_URL) is not None  # shipped pages stay


def test_a_broken_operator_file_fails_at_start_up_naming_its_path(tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    broken = tmp_path / "pages" / "about.md"
    broken.write_text(_doc("title: About\ndescription: d", "Hi {{ nope }}\n"))
    library = ContentLibrary.from_settings(Settings(content_dir=tmp_path))
    with pytest.raises(ContentError, match=str(broken)):
        library.validate()


def test_a_missing_operator_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="is not a directory"):
        load_sources(tmp_path / "nope")


def test_the_operator_can_replace_the_landing_copy(tmp_path: Path) -> None:
    shipped = (Path(__file__).parents[2] / "src/modelsnest/content/landing.yaml").read_text()
    (tmp_path / "landing.yaml").write_text(shipped.replace("Get your API key", "Start building", 1))
    library = ContentLibrary.from_settings(Settings(content_dir=tmp_path))
    assert library.landing(base_url=BASE_URL).hero.primary.label == "Start building"
