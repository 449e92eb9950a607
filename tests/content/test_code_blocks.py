"""Code in the docs is well-formed: every Python example compiles, every JSON example parses
(fragments of a body as members of an object), every TOML example loads."""

from __future__ import annotations

import html as htmllib
import json
import re
import tomllib

from modelsnest.content import ContentLibrary
from tests.content.conftest import all_documents, origin

_BLOCK = re.compile(r'<pre><code class="language-([a-z]+)">(.*?)</code></pre>', re.S)


def _blocks(library: ContentLibrary, language: str) -> list[tuple[str, str]]:
    found = []
    for doc in all_documents(library):
        for lang, code in _BLOCK.findall(doc.html):
            if lang == language:
                found.append((origin(doc), htmllib.unescape(code)))
    landing = library.landing(base_url="https://api.example.com")
    for sample in (*landing.showcase.samples, landing.showcase.response):
        if sample.language == language:
            found.append((f"landing.yaml ({sample.id})", sample.code))
    return found


def test_every_python_example_compiles(library: ContentLibrary) -> None:
    blocks = _blocks(library, "python")
    assert len(blocks) > 30
    for name, code in blocks:
        if code.lstrip().startswith(">>>"):  # an interpreter session, not a program
            continue
        compile(code, name, "exec")


def test_every_json_example_parses(library: ContentLibrary) -> None:
    blocks = _blocks(library, "json")
    assert len(blocks) > 15
    for name, code in blocks:
        try:
            json.loads(code)
        except json.JSONDecodeError:
            json.loads("{" + code.strip().rstrip(",") + "}")  # members of a body, shown alone
            assert name


def test_every_toml_example_loads(library: ContentLibrary) -> None:
    for name, code in _blocks(library, "toml"):
        assert tomllib.loads(code), name


def test_shell_examples_send_the_key_from_the_environment(library: ContentLibrary) -> None:
    for name, code in _blocks(library, "bash"):
        assert "ptr_" not in code.replace('"ptr_..."', ""), f"{name}: a literal key in an example"
