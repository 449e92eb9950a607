"""Placeholders: operator facts and the base URL fill the text through a sandbox that refuses
escapes and unknown names with an error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelsnest.content import ContentError, ContentLibrary, missing_operator_facts, normalize_base_url
from modelsnest.content.landing import build_landing
from modelsnest.content.loader import load_yaml, parse_source
from modelsnest.content.templating import OperatorContext, make_environment
from modelsnest.settings import Settings
from tests.content.conftest import BASE_URL, OPERATOR


def _library(body: str, *, title: str = "A page", settings: Settings | None = None) -> ContentLibrary:
    source = parse_source(
        "pages", "sample", f"---\ntitle: {title}\ndescription: d\n---\n{body}", "pages/sample.md"
    )
    context = OperatorContext.from_settings(settings or Settings())
    return ContentLibrary(context, {("pages", "sample"): source}, ({}, "landing.yaml"))


def _render(body: str) -> str:
    page = _library(body).get_page("pages", "sample", base_url=BASE_URL)
    assert page is not None
    return page.html


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ company_name.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ lipsum.__globals__['os'] }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_a_sandbox_escape_fails_with_a_clear_error(escape: str) -> None:
    with pytest.raises(ContentError, match=r"^pages/sample\.md: ") as failure:
        _render(f"Hello {escape}\n")
    message = str(failure.value)
    assert "sandbox" in message or "unknown placeholder" in message


def test_the_sandbox_refuses_unsafe_attributes_by_name() -> None:
    with pytest.raises(ContentError, match="unsafe placeholder refused by the sandbox"):
        _render("{{ company_name.__class__ }}\n")


def test_an_unknown_placeholder_names_the_file_and_the_known_ones() -> None:
    with pytest.raises(ContentError) as failure:
        _render("Write to {{ contact_mail }}.\n")
    message = str(failure.value)
    assert message.startswith("pages/sample.md: unknown placeholder")
    assert "contact_mail" in message and "contact_email" in message and "base_url" in message


def test_a_syntax_error_is_reported_when_the_library_is_built() -> None:
    with pytest.raises(ContentError, match=r"pages/sample\.md: line 1"):
        _library("Broken {{ company_name \n")


def test_placeholders_in_front_matter_are_filled_from_settings() -> None:
    library = _library("Body\n", title="About {{ company_name }}", settings=Settings(company_name="Acme AI"))
    page = library.get_page("pages", "sample", base_url=BASE_URL)
    assert page is not None and page.title == "About Acme AI"


def test_a_hostile_operator_value_is_sanitised_like_any_content() -> None:
    settings = Settings(company_name='Acme <script>alert(1)</script><img src=x onerror="alert(2)">')
    library = _library("We are {{ company_name }}.\n", settings=settings)
    page = library.get_page("pages", "sample", base_url=BASE_URL)
    assert page is not None
    assert "<script" not in page.html and "onerror" not in page.html and "We are Acme" in page.html


def test_landing_strings_use_the_same_sandbox() -> None:
    data, origin = load_yaml("landing.yaml")
    data["hero"]["title"] = "{{ base_url.__class__ }}"
    context = OperatorContext.from_settings(Settings()).with_base_url(BASE_URL)
    with pytest.raises(ContentError, match=r"landing\.yaml \(hero\.title\): unsafe placeholder"):
        build_landing(data, make_environment(), context, origin)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.acme.test/", "https://api.acme.test"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("https://acme.test/gateway/", "https://acme.test/gateway"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        (None, "http://127.0.0.1:8000"),
        ("", "http://127.0.0.1:8000"),
        ('https://x.test/"><script>', "http://127.0.0.1:8000"),
        ("javascript:alert(1)", "http://127.0.0.1:8000"),
        ("https://x.test/[a](b)", "http://127.0.0.1:8000"),
        ("https://x.test/ {{ company_name }}", "http://127.0.0.1:8000"),
    ],
)
def test_base_urls_are_plain_origins_or_the_local_default(given: str | None, expected: str) -> None:
    assert normalize_base_url(given) == expected


def test_missing_operator_facts_lists_what_still_reads_as_a_default(tmp_path: Path) -> None:
    assert "MODELSNEST_COMPANY_ADDRESS" in missing_operator_facts(Settings())
    assert "MODELSNEST_SECURITY_EMAIL" in missing_operator_facts(Settings())
    assert missing_operator_facts(Settings(**OPERATOR)) == []  # type: ignore[arg-type]
