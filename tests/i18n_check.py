"""Finds text in templates that is outside a translation call (used by tests/test_translations.py).

What is left of a template once comments, `{% trans %}` blocks, `{{ ... }}` expressions, `{% ... %}`
tags, scripts and styles and HTML tags are taken out must hold no words; and the attributes people
read (title, alt, placeholder, aria-label, and the value of buttons) must come from an expression.
"""
import re
from pathlib import Path

COMMENT = re.compile(r"\{#.*?#\}", re.S)
TRANS = re.compile(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", re.S)
EXPR = re.compile(r"\{\{.*?\}\}", re.S)
TAG = re.compile(r"\{%.*?%\}", re.S)
SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
ELEMENT = re.compile(r"<[^>]*>", re.S)
READ_ATTRS = re.compile(r'\b(title|alt|placeholder|aria-label|aria-description)\s*=\s*"([^"]*)"', re.I)
ENTITY = re.compile(r"&[a-zA-Z]+;|&#\d+;")
WORD = re.compile(r"[^\W\d_]{2,}")


def problems(path: Path) -> list[str]:
    text = path.read_text()
    text = COMMENT.sub(" ", text)
    text = TRANS.sub(" ", text)
    found = []
    for name, value in READ_ATTRS.findall(text):
        if WORD.search(EXPR.sub(" ", value)):
            found.append(f'{name}="{value}"')
    text = EXPR.sub(" ", text)
    text = TAG.sub(" ", text)
    if path.suffix == ".html":
        text = SCRIPT.sub(" ", text)
        text = HTML_COMMENT.sub(" ", text)
        text = re.sub(r"<!doctype[^>]*>", " ", text, flags=re.I)
        text = ELEMENT.sub(" ", text)
        text = ENTITY.sub(" ", text)
    for line in text.splitlines():
        if WORD.search(line):
            found.append(line.strip())
    return found


def untranslated(root: Path) -> dict[str, list[str]]:
    out = {}
    for path in sorted(root.rglob("*")):
        if path.suffix in (".html", ".txt"):
            issues = problems(path)
            if issues:
                out[str(path.relative_to(root))] = issues
    return out
