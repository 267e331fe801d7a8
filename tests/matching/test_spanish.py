"""The text model reads Spanish posts and matches them with English ones of the same topic (and the
reverse), while English words keep exactly the tokens they had before.

`python -m tests.matching.test_spanish` prints ENGLISH_LOOKALIKES made again from Debian's word lists
(wamerican, wamerican-large, wspanish), for matching/text.py after THESAURUS_ES or STOPWORDS_ES changes.
"""
import os

import pytest

from matching import Engine, parse_instance, parse_need
from matching import text as T
from matching.text import Vocabulary
from tests.matching.english_tokens_before_spanish import PHRASES, WORDS, rows
from tests.matching.helpers import instance, need, offer
from tests.matching.spanish_set import NEEDS_EN, NEEDS_ES, OFFERS

CATEGORIES = {"rides", "food", "skills", "emergency_funds", "peer_support", "household_items"}


# The hand-written set ------------------------------------------------------------------------------

def _ranked(category: str, title: str, offers):
    """Every offer ranked for one new need: same place, same (any-time) availability, so only text decides."""
    doc = instance([], [offer(id=oid, owner=f"u-{oid}", category=category, title=t, radius_km=10.0, when=[], weekly=[])
                        for oid, _topic, t in offers])
    engine = Engine(parse_instance(doc))
    new = parse_need(need(id="new", owner="asker", category=category, title=title, when=[], urgency=0))
    return engine.candidates_for_need(new, top_k=len(offers))


def _hit_rate(needs, spanish_offers_only=False):
    """Share of needs whose first offer has a right topic and beats every offer of a wrong one (a tie is a miss)."""
    hits, misses = 0, []
    for category, title, right in needs:
        offers = [o for o in OFFERS[category] if not spanish_offers_only or "-es" in o[0]]
        topic = {oid: tp for oid, tp, _ in offers}
        ranked = _ranked(category, title, offers)
        assert len(ranked) == len(offers)  # all feasible: the text is all that differs
        best_wrong = max((c.score for c in ranked if topic[c.offer] not in right), default=-1.0)
        if topic[ranked[0].offer] in right and ranked[0].score > best_wrong:
            hits += 1
        else:
            misses.append(f"{title!r} (right: {sorted(right)}) -> " +
                          ", ".join(f"{c.offer} {c.score:.3f}" for c in ranked[:3]))
    return hits / len(needs), misses


def test_the_set_is_varied_and_big_enough():
    assert len(NEEDS_ES) >= 40
    assert {c for c, _, _ in NEEDS_ES} == CATEGORIES == set(OFFERS)
    for category, offers in OFFERS.items():
        topics = {tp for _, tp, _ in offers}
        assert len(topics) >= 2, category
        for tp in topics:  # every topic is offered in both languages
            ids = [oid for oid, t, _ in offers if t == tp]
            assert any("-en" in i for i in ids) and any("-es" in i for i in ids), (category, tp)
    for category, _title, right in NEEDS_ES + NEEDS_EN:
        assert right <= {tp for _, tp, _ in OFFERS[category]}
    assert sum(not t.isascii() for _, t, _ in NEEDS_ES) >= 10 and sum(t.isascii() for _, t, _ in NEEDS_ES) >= 10


def test_spanish_needs_rank_an_offer_of_their_topic_first_among_english_and_spanish_offers():
    rate, misses = _hit_rate(NEEDS_ES)
    print(f"Spanish needs vs mixed offers: {rate:.1%} of {len(NEEDS_ES)}")
    assert rate >= 0.90, f"{rate:.1%} of {len(NEEDS_ES)} Spanish needs; misses:\n" + "\n".join(misses)


def test_english_needs_rank_a_spanish_offer_of_their_topic_first():
    rate, misses = _hit_rate(NEEDS_EN, spanish_offers_only=True)
    print(f"English needs vs Spanish offers: {rate:.1%} of {len(NEEDS_EN)}")
    assert rate >= 0.90, f"{rate:.1%} of {len(NEEDS_EN)} English needs; misses:\n" + "\n".join(misses)


def test_a_spanish_need_ranks_the_english_offer_of_its_topic_above_a_spanish_one_of_another():
    offers = [("cv", "resume", "Resume writing and interview practice"), ("sew", "sewing", "Clases de costura y arreglos")]
    assert [c.offer for c in _ranked("skills", "Ayuda con mi currículum", offers)] == ["cv", "sew"]
    offers = [("med", "medical", "Rides to medical appointments"), ("work", "work", "Aventones al trabajo")]
    assert [c.offer for c in _ranked("rides", "nesesito aventon al medico", offers)] == ["med", "work"]


# English unchanged ----------------------------------------------------------------------------------

@pytest.mark.parametrize("block", ["WORDS", "PHRASES"])
def test_english_keeps_the_tokens_it_had_before_spanish(block):
    recorded = rows({"WORDS": WORDS, "PHRASES": PHRASES}[block])
    assert len(recorded) > (3000 if block == "WORDS" else 150)
    vocab = Vocabulary()
    changed = [(text, want, vocab.tokens(text)) for text, want in recorded if vocab.tokens(text) != want]
    assert not changed, f"{len(changed)} changed, e.g. {changed[:10]}"
    fresh = [(text, want) for text, want in recorded[::7] if Vocabulary().tokens(text) != want]  # no cache
    assert not fresh


def test_words_both_languages_have_keep_their_english_meaning_in_english_texts():
    vocab = Vocabulary()
    assert vocab.tokens("pan") == ["pan", "kitchenware"]
    assert vocab.tokens("Pots and pans") == ["pot", "kitchenware", "pan", "kitchenware"]
    for word in ("red", "once", "sale", "come", "mesa", "papa", "taxi", "los", "el", "la", "de", "con", "son"):
        assert vocab.tokens(word) == [T.stem(word)], word
    assert vocab.tokens("Ride to Los Angeles") == ["ride", "ride", "los", "angele"]
    assert vocab.tokens("Yard sale: red couch, come by once") == ["yard", "sale", "red", "couch", "furniture", "come", "once"]
    assert vocab.tokens("A la carte dinner") == ["la", "carte", "dinner", "meal"]
    assert vocab.tokens("Soy milk") == ["soy", "milk"]


def test_the_same_words_take_their_spanish_meaning_in_spanish_texts():
    vocab = Vocabulary()
    assert "grocery" in vocab.tokens("Necesito pan y leche") and "kitchenware" not in vocab.tokens("Necesito pan y leche")
    assert "furniture" in vocab.tokens("Busco una mesa")
    assert vocab.tokens("Viaje a Los Ángeles") == ["ride", "ride", "angele"]  # "a", "los": Spanish filler here
    assert "utility" in vocab.tokens("Me van a cortar la luz")  # Spanish by two fillers, "van" and "la"


def test_generated_english_instances_score_exactly_as_their_tokens_say():
    """The generator's wordings are among the recorded phrases, so its instances rank and score as before."""
    from matching.generate import TOPICS

    recorded = dict(rows(PHRASES))
    for cat in TOPICS.values():
        for needs, offers in cat.values():
            for title in needs + offers:
                assert Vocabulary().tokens(title) == recorded[title], title


# Spanish words ---------------------------------------------------------------------------------------

def test_curriculum_with_and_without_accent_or_typo_means_resume():
    vocab = Vocabulary()
    resume = vocab.tokens("resume")
    for word in ("curriculum", "currículum", "Currículum", "CURRÍCULUM", "curiculum", "currículo", "curriculums"):
        assert vocab.tokens(word) == resume, word
    assert set(vocab.tokens("ayuda con mi curiculum")) == {"resume"}
    assert "resume" in vocab.tokens("Curriculum help for my job search")


def test_accents_are_folded_before_words_are_split():
    vocab = Vocabulary()
    assert T.fold("Currículum, NIÑOS, pañales, médica, ¿sí?") == "curriculum, ninos, panales, medica, ¿si?"
    assert vocab.tokens("currículum") != ["curr", "culum"]
    assert vocab.tokens("Résumé help") == vocab.tokens("resume")
    assert "parent" in vocab.tokens("ropa para niños") and "baby" in vocab.tokens("pañales")


def test_spanish_typos_are_corrected_by_sound_and_strictly():
    vocab = Vocabulary()
    for typo, concept in [("aventon", "ride"), ("abenton", "ride"), ("raite", "ride"), ("cosina", "cook"),
                          ("reseta", "medical"), ("trabajjo", "work"), ("computadra", "computer"), ("chamara", "winter"),
                          ("yevarme", "ride"), ("compuatdora", "computer"), ("calefacsion", "utility")]:
        tokens = vocab.tokens("necesito " + typo)
        assert concept in tokens, (typo, tokens)
    assert vocab.tokens("necesito ijos") == ["ijo"]  # too short to guess
    assert vocab.tokens("nesesito") == [] and vocab.tokens("porfavor") == []
    assert vocab.tokens("cliente") == ["cliente"]  # one letter from "caliente", but a word of its own


def test_every_spanish_thesaurus_word_means_its_concept_in_a_spanish_text():
    vocab = Vocabulary()
    assert set(T.THESAURUS_ES) == set(T.THESAURUS)
    lost = []
    for concept, words in T.THESAURUS_ES.items():
        for word in words.split():
            if concept not in vocab.tokens(f"necesito {word}"):
                lost.append((word, concept, vocab.tokens(f"necesito {word}")))
    assert not lost


def test_spanish_filler_is_dropped_and_is_no_word_of_the_english_thesaurus():
    english = set(T._CONCEPTS) | {T.stem(w) for w in T._CONCEPTS}
    assert not T._STOP_ES & english
    assert Vocabulary().tokens("Necesito ayuda por favor, para esta semana") == []
    assert T.FALSE_FRIENDS <= english


# The list of English lookalikes ------------------------------------------------------------------------

DICT = "/usr/share/dict"
LISTS = ("american-english", "american-english-large", "spanish")


def lookalikes_from_word_lists() -> list[str]:
    def read(name):
        with open(os.path.join(DICT, name), encoding="utf-8", errors="replace") as f:
            return f.read().split("\n")

    spanish = {T.fold(w) for w in read("spanish")} | set(T._STOP_ES) | set(T._ES_FORMS)
    found = set(T.english_lookalikes(read("american-english")))
    found |= set(T.english_lookalikes(read("american-english-large"))) - spanish
    return sorted(found | T.ENGLISH_AMBIGUOUS)


@pytest.mark.skipif(not all(os.path.exists(os.path.join(DICT, n)) for n in LISTS),
                    reason="needs Debian's wamerican, wamerican-large and wspanish word lists")
def test_english_lookalikes_are_up_to_date_with_the_tables():
    assert sorted(T.ENGLISH_LOOKALIKES) == lookalikes_from_word_lists()


def test_english_lookalikes_keep_their_english_tokens():
    vocab = Vocabulary()
    for word in sorted(T.ENGLISH_LOOKALIKES):
        assert vocab.tokens(word) == list(T.read_english_only(word)), word


if __name__ == "__main__":
    import textwrap

    print("\n".join(textwrap.wrap(" ".join(sorted(set(lookalikes_from_word_lists()) - T.ENGLISH_AMBIGUOUS)), 110)))
