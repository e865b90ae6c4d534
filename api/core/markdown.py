"""Markdown to safe HTML: raw HTML in the source is never passed through."""

from __future__ import annotations

import hashlib

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# html=False makes markdown-it escape any raw HTML; nh3 then whitelists what remains, as a
# second wall (links with javascript: URLs, odd attributes).
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True}).enable("table")
_ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
}
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}


# Part of every stored rendering's digest: change it when the rules above change, and the next
# content sync renders every lesson again.
RENDERER_VERSION = "1"


def digest(text: str | None) -> str:
    """What a stored rendering of `text` is keyed by: the source and the renderer's version."""
    return hashlib.sha256(f"{RENDERER_VERSION}\0{text or ''}".encode()).hexdigest()


def render_markdown(text: str | None) -> Markup:
    html = _md.render(text or "")
    clean = nh3.clean(
        html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS, url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised above
