"""Every link and API path the content names exists: internal links are site paths (and their
#fragments are headings of the target), model pages and model ids are in the catalog, and
every /api/v1 path is a documented endpoint, live unless the document is a draft."""

from __future__ import annotations

import html as htmllib
import re

import pytest

from modelsnest.content import SITE_PATHS, ContentLibrary, Page, Post, api_endpoint, is_site_path
from modelsnest.content.paths import API_ENDPOINTS
from modelsnest.content.types import INDEX_SLUG, SECTION_PREFIX
from tests.content.conftest import BASE_URL, all_documents, catalog_models, hrefs, origin

_API_PATH = re.compile(r"/api/v1(?:/[A-Za-z0-9_\-{}.]+)*")
_MODEL_IDS = (
    re.compile(r'"model":\s*"([^"]+)"'),
    re.compile(r'\bmodel="([^"]+)"'),
    re.compile(r'\bmodel:\s*"([^"]+)"'),
    re.compile(r"-F model=([A-Za-z0-9.\-]+)"),
    re.compile(r'"slug":\s*"([^"]+)"'),
)
# Ids that examples use on purpose to show MODEL_NOT_FOUND.
_WRONG_ON_PURPOSE = {"no-such-model", "gpt4o", "gpt-5-turbo"}
_ID = re.compile(r'\bid="([^"]+)"')


def _documents_by_url(library: ContentLibrary) -> dict[str, Page | Post]:
    return {doc.url: doc for doc in all_documents(library)}


def _is_draft(doc: Page | Post) -> bool:
    return doc.draft


def test_every_internal_link_is_a_site_path_and_its_fragment_exists(library: ContentLibrary) -> None:
    by_url = _documents_by_url(library)
    landing = library.landing(base_url=BASE_URL)
    landing_html = " ".join(
        [
            landing.hero.subtitle_html,
            landing.showcase.intro_html,
            landing.faq.intro_html,
            landing.cta.body_html,
        ]
        + [s.intro_html + s.note_html for s in landing.sections]
        + [i.body_html for s in landing.sections for i in s.items]
        + [q.answer_html for q in landing.faq.items]
    )
    sources: list[tuple[str, Page | Post | None, list[str]]] = [
        (origin(doc), doc, hrefs(doc.html)) for doc in all_documents(library)
    ]
    sources.append(("landing.yaml", None, hrefs(landing_html) + landing.links()))
    problems = []
    for name, doc, links in sources:
        for link in links:
            if link.startswith(("http://", "https://", "mailto:")):
                if link.startswith("http://") and not link.startswith(BASE_URL):
                    problems.append(f"{name}: insecure external link {link}")
                continue
            path, _, fragment = link.partition("#")
            path = path.split("?")[0]
            if not path:  # a same-page anchor
                target = doc
            else:
                if not is_site_path(path):
                    problems.append(f"{name}: {link} is not one of SITE_PATHS")
                    continue
                target = by_url.get(path)
                if path.startswith("/models/") and path.removeprefix("/models/") not in catalog_models():
                    problems.append(f"{name}: {link} names no catalog model")
                if (
                    target is None
                    and any(path.startswith(p + "/") for p in SECTION_PREFIX.values() if p)
                    and not path.startswith("/blog/rss")
                ):
                    problems.append(f"{name}: {link} names no document")
                if target is not None and target.draft and not (doc is not None and doc.draft):
                    problems.append(f"{name}: {link} links a draft from published content")
            if fragment and target is not None and fragment not in _ID.findall(target.html):
                problems.append(f"{name}: {link}: no heading with id '{fragment}'")
    assert problems == []


def test_every_api_path_named_is_a_documented_endpoint(library: ContentLibrary) -> None:
    problems = []
    seen = set()
    for doc in all_documents(library):
        text = htmllib.unescape(doc.html)
        for path in _API_PATH.findall(text):
            path = path.rstrip(".")
            if path in ("/api/v1", "/api/v1/"):
                continue
            endpoint = api_endpoint(path)
            if endpoint is None:
                problems.append(f"{origin(doc)}: {path} is not a documented endpoint")
            elif endpoint.availability != "live" and not doc.draft:
                problems.append(f"{origin(doc)}: {path} is planned, so only drafts may name it")
            else:
                seen.add(endpoint.path)
    landing = repr(library.landing(base_url=BASE_URL))
    for path in _API_PATH.findall(landing):
        endpoint = api_endpoint(path.rstrip("."))
        if path.rstrip(".") != "/api/v1" and (endpoint is None or endpoint.availability != "live"):
            problems.append(f"landing.yaml: {path}")
    assert problems == []
    # The reference documents every live endpoint at least once.
    live = {e.path for e in API_ENDPOINTS if e.availability == "live"}
    assert live - seen - {"/api/v1/images/generate", "/api/v1/text-to-speech"} == set()


def test_every_model_id_in_an_example_is_in_the_catalog(library: ContentLibrary) -> None:
    catalog = catalog_models()
    problems = []
    for doc in all_documents(library):
        text = htmllib.unescape(doc.html)
        for pattern in _MODEL_IDS:
            for model in pattern.findall(text):
                if model not in catalog and model not in _WRONG_ON_PURPOSE:
                    problems.append(f"{origin(doc)}: model '{model}' is not in the catalog")
    assert problems == []


def test_the_site_paths_list_covers_every_published_document(library: ContentLibrary) -> None:
    for doc in all_documents(library, include_drafts=False):
        assert is_site_path(doc.url), f"{doc.url} must be in SITE_PATHS for the router check"
    assert len(SITE_PATHS) == len(set(SITE_PATHS))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/chat/completions", "/api/v1/chat/completions"),
        ("/api/v1/generation?id=req_1", "/api/v1/generation"),
        ("/api/v1/video/generations/vid_abc", "/api/v1/video/generations/{id}"),
        ("/api/v1/models/deepseek", "/api/v1/models/{slug}"),
        ("/api/v1/chat/completion", None),
        ("/api/v1/video/generations/a/b", None),
    ],
)
def test_api_paths_match_endpoint_templates_segment_by_segment(path: str, expected: str | None) -> None:
    endpoint = api_endpoint(path)
    assert (endpoint.path if endpoint else None) == expected


def test_section_index_pages_are_site_paths() -> None:
    for prefix in SECTION_PREFIX.values():
        assert is_site_path(prefix or "/")
    assert INDEX_SLUG == "index"
