"""What the engine's text model made of English words and phrases before it knew Spanish.

Recorded once by running the original matching/text.py (before Spanish was added) over these inputs:
every word of the English thesaurus and its stopwords, with -s, -es, -ing, -ed, -er and -ers added;
English words that look Spanish to the new tables (ENGLISH_LOOKALIKES, "pan", "red", "once", "sale",
"come", ...); typos of English words; every 50th word of Debian's /usr/share/dict/american-english;
the generator's post titles, the titles in the other engine tests, and some hand-written posts. One
line each: the input, a tab, and the tokens `Vocabulary().tokens(input)` returned, space-separated
(nothing after the tab: no tokens). tests/matching/test_spanish.py checks the new code gives the same.
"""

from pathlib import Path

_HERE = Path(__file__).resolve().parent
WORDS = (_HERE / "english_tokens_words.txt").read_text()
PHRASES = (_HERE / "english_tokens_phrases.txt").read_text()



def rows(block: str) -> list[tuple[str, list[str]]]:
    out = []
    for line in block.strip("\n").split("\n"):
        text, _, tokens = line.partition("\t")
        out.append((text, tokens.split()))
    return out
