"""The landing page's copy (``landing.yaml``) as typed, rendered data.

Text fields named ``body``, ``intro``, ``subtitle``, ``answer`` and ``note`` are inline
Markdown, returned as sanitised HTML (``*_html``); titles, labels and code are plain text
for the template to escape. Every string may use the same placeholders as the Markdown
pages (``{{ company_name }}``, ``{{ base_url }}`` …). Prices never appear here: the site
renders them from the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2

from modelsnest.content.markdown import render_inline
from modelsnest.content.templating import compile_template, render_template
from modelsnest.content.types import ContentError


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True, slots=True)
class CodeSample:
    id: str
    label: str
    language: str
    code: str


@dataclass(frozen=True, slots=True)
class Hero:
    eyebrow: str
    title: str
    subtitle_html: str
    primary: Link
    secondary: Link
    points: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Showcase:
    eyebrow: str
    title: str
    intro_html: str
    samples: tuple[CodeSample, ...]
    response: CodeSample
    notes_html: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LandingItem:
    """A card of a section: ``size`` (``large``/``wide``/``small``) drives the bento grid,
    ``icon`` names an icon of the design system, ``meta`` carries section-specific fields
    (the edge section's ``us``/``typical``/``evidence``, a testimonial's ``role``)."""

    title: str
    body_html: str
    icon: str | None = None
    size: str = "small"
    link: Link | None = None
    meta: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class LandingSection:
    id: str
    eyebrow: str
    title: str
    intro_html: str
    layout: str
    items: tuple[LandingItem, ...]
    note_html: str = ""


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    answer_html: str


@dataclass(frozen=True, slots=True)
class Faq:
    title: str
    intro_html: str
    items: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class CallToAction:
    title: str
    body_html: str
    primary: Link
    secondary: Link | None


@dataclass(frozen=True, slots=True)
class Landing:
    hero: Hero
    showcase: Showcase
    sections: tuple[LandingSection, ...]
    faq: Faq
    cta: CallToAction

    def section(self, section_id: str) -> LandingSection:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    def links(self) -> list[str]:
        """Every ``href`` in the copy (checked against the site's paths by the tests)."""
        out = [self.hero.primary.href, self.hero.secondary.href, self.cta.primary.href]
        if self.cta.secondary:
            out.append(self.cta.secondary.href)
        out += [item.link.href for s in self.sections for item in s.items if item.link]
        return out


class _Renderer:
    def __init__(self, env: jinja2.Environment, context: Mapping[str, Any], origin: str) -> None:
        self.env, self.context, self.origin = env, context, origin

    def text(self, data: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            raise ContentError(f"{self.origin}: {where}.{key} is required text")
        name = f"{self.origin} ({where}.{key})"
        return render_template(compile_template(self.env, value, name), self.context, name)

    def html(self, data: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
        return render_inline(self.text(data, key, where, default=default))

    def mapping(self, data: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            raise ContentError(f"{self.origin}: {where} must be a mapping")
        return data

    def items(self, data: Mapping[str, Any], key: str, where: str) -> list[Mapping[str, Any]]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise ContentError(f"{self.origin}: {where}.{key} must be a non-empty list")
        return [self.mapping(v, f"{where}.{key}[{i}]") for i, v in enumerate(value)]

    def link(self, data: Any, where: str) -> Link:
        data = self.mapping(data, where)
        return Link(self.text(data, "label", where), self.text(data, "href", where))

    def sample(self, data: Mapping[str, Any], where: str) -> CodeSample:
        return CodeSample(
            id=self.text(data, "id", where, default=""),
            label=self.text(data, "label", where),
            language=self.text(data, "language", where),
            code=self.text(data, "code", where).rstrip("\n"),
        )

    def item(self, data: Mapping[str, Any], where: str) -> LandingItem:
        meta = data.get("meta") or {}
        return LandingItem(
            title=self.text(data, "title", where),
            body_html=self.html(data, "body", where),
            icon=data.get("icon"),
            size=str(data.get("size", "small")),
            link=self.link(data["link"], f"{where}.link") if data.get("link") else None,
            meta={k: self.text(meta, k, f"{where}.meta") for k in self.mapping(meta, f"{where}.meta")},
        )


def build_landing(data: Any, env: jinja2.Environment, context: Mapping[str, Any], origin: str) -> Landing:
    r = _Renderer(env, context, origin)
    root = r.mapping(data, "landing")
    hero = r.mapping(root.get("hero"), "hero")
    show = r.mapping(root.get("showcase"), "showcase")
    faq = r.mapping(root.get("faq"), "faq")
    cta = r.mapping(root.get("cta"), "cta")
    sections = []
    for i, section in enumerate(r.items(root, "sections", "landing")):
        where = f"sections[{i}]"
        sections.append(
            LandingSection(
                id=r.text(section, "id", where),
                eyebrow=r.text(section, "eyebrow", where, default=""),
                title=r.text(section, "title", where),
                intro_html=r.html(section, "intro", where, default=""),
                layout=r.text(section, "layout", where, default="grid"),
                items=tuple(
                    r.item(item, f"{where}.items[{j}]")
                    for j, item in enumerate(r.items(section, "items", where))
                ),
                note_html=r.html(section, "note", where, default=""),
            )
        )
    return Landing(
        hero=Hero(
            eyebrow=r.text(hero, "eyebrow", "hero"),
            title=r.text(hero, "title", "hero"),
            subtitle_html=r.html(hero, "subtitle", "hero"),
            primary=r.link(hero.get("primary"), "hero.primary"),
            secondary=r.link(hero.get("secondary"), "hero.secondary"),
            points=tuple(r.text({"p": p}, "p", "hero.points") for p in hero.get("points", [])),
        ),
        showcase=Showcase(
            eyebrow=r.text(show, "eyebrow", "showcase", default=""),
            title=r.text(show, "title", "showcase"),
            intro_html=r.html(show, "intro", "showcase", default=""),
            samples=tuple(
                r.sample(s, f"showcase.samples[{i}]")
                for i, s in enumerate(r.items(show, "samples", "showcase"))
            ),
            response=r.sample(r.mapping(show.get("response"), "showcase.response"), "showcase.response"),
            notes_html=tuple(
                render_inline(r.text({"n": n}, "n", "showcase.notes")) for n in show.get("notes", [])
            ),
        ),
        sections=tuple(sections),
        faq=Faq(
            title=r.text(faq, "title", "faq"),
            intro_html=r.html(faq, "intro", "faq", default=""),
            items=tuple(
                Question(r.text(q, "question", f"faq.items[{i}]"), r.html(q, "answer", f"faq.items[{i}]"))
                for i, q in enumerate(r.items(faq, "items", "faq"))
            ),
        ),
        cta=CallToAction(
            title=r.text(cta, "title", "cta"),
            body_html=r.html(cta, "body", "cta"),
            primary=r.link(cta.get("primary"), "cta.primary"),
            secondary=r.link(cta["secondary"], "cta.secondary") if cta.get("secondary") else None,
        ),
    )
