from matching import Engine, parse_instance, parse_need, parse_offer, solve
from matching.check import Rules
from matching.text import TextModel, Vocabulary
from tests.matching.helpers import instance, need, offer


def test_resume_need_fits_resume_offer_better_than_sewing():
    texts = ["help with my resume", "resume writing and interview practice", "sewing lessons", "computer basics"]
    model = TextModel(Vocabulary(), texts)
    sims = TextModel.pair_similarity(model.matrix, model.matrix, [0, 0, 0], [1, 2, 3])
    assert sims[0] > 0.3 and sims[0] > 3 * max(sims[1], sims[2])


def test_typos_and_synonyms_still_fit():
    vocab = Vocabulary()
    assert "resume" in vocab.tokens("resmue help")
    assert "ride" in vocab.tokens("need a lift") and "medical" in vocab.tokens("to the clinic")


def test_engine_ranks_the_right_topic_first():
    offers = [offer(id="sew", category="skills", title="Sewing lessons", lat=45.001),
              offer(id="cv", category="skills", title="Resume writing and interview practice", lat=45.02)]
    result = solve(parse_instance(instance([need(category="skills", title="Help with my resume")], offers)))
    assert [c.offer for c in result.candidates["n1"]] == ["cv", "sew"]


def _engine():
    offers = [offer(id=f"o{i}", owner=f"u{i}", category="skills" if i % 2 else "rides",
                    title="Resume writing help" if i % 3 else "Sewing lessons", lat=45.0 + (i % 7) * 0.01,
                    lon=-92.8 + (i % 5) * 0.01, capacity=2,
                    weekly=[{"day": "tue", "start": "08:00", "end": "12:00"}] if i % 4 else []) for i in range(60)]
    return instance([need(id="n0", category="skills", title="resume")], offers)


def test_one_new_need_gets_feasible_ranked_candidates_without_rebuild():
    doc = _engine()
    engine = Engine(parse_instance(doc))
    new = need(id="new", owner="zed", category="skills", title="Help with my resume")
    found = engine.candidates_for_need(parse_need(new))
    rules = Rules(dict(doc, needs=doc["needs"] + [new]))
    feasible = [o["id"] for o in doc["offers"] if rules.feasible("new", o["id"])]
    assert len(found) == min(10, len(feasible)) > 0
    assert all(rules.feasible("new", c.offer) for c in found)
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert all("Resume" in next(o["title"] for o in doc["offers"] if o["id"] == c.offer) for c in found[:3])


def test_one_new_offer_gets_ranked_needs():
    doc = instance([need(id=f"n{i}", owner=f"u{i}", category="food", title="Hot meals" if i % 2 else "Baby formula",
                         lat=45.0 + i * 0.002) for i in range(20)], [])
    engine = Engine(parse_instance(doc))
    new = offer(id="new", owner="cook", category="food", title="Home-cooked hot meals", radius_km=3)
    found = engine.candidates_for_offer(parse_offer(new))
    rules = Rules(dict(doc, offers=[new]))
    feasible = [n["id"] for n in doc["needs"] if rules.feasible(n["id"], "new")]
    assert len(found) == min(10, len(feasible)) and all(rules.feasible(c.need, "new") for c in found)
    assert int(found[0].need[1:]) % 2 == 1  # a meals need ranks first
