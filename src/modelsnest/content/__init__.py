"""Content of the public site: company and legal pages, docs, SDK guides, tutorials, the help
centre, the API reference, the blog and the landing copy, as Markdown (and one YAML file)
shipped in this package, rendered to sanitised HTML.

A service package: no HTTP. The site builds one ``ContentLibrary`` per process and calls it
with the request's public base URL::

    library = ContentLibrary.from_settings(settings)
    page = library.get_page("pages", "privacy", base_url=public_base)
"""

from modelsnest.content.landing import Landing
from modelsnest.content.library import ContentLibrary
from modelsnest.content.paths import API_ENDPOINTS, SITE_PATHS, ApiEndpoint, api_endpoint, is_site_path
from modelsnest.content.templating import missing_operator_facts, normalize_base_url
from modelsnest.content.types import (
    HELP_CATEGORIES,
    SECTIONS,
    ContentError,
    HelpCategory,
    Page,
    Post,
    Section,
    SitemapEntry,
    TocEntry,
)

__all__ = [
    "API_ENDPOINTS",
    "HELP_CATEGORIES",
    "SECTIONS",
    "SITE_PATHS",
    "ApiEndpoint",
    "ContentError",
    "ContentLibrary",
    "HelpCategory",
    "Landing",
    "Page",
    "Post",
    "Section",
    "SitemapEntry",
    "TocEntry",
    "api_endpoint",
    "is_site_path",
    "missing_operator_facts",
    "normalize_base_url",
]
