from assistant.answer import Answer
from assistant.evaluation import (
    EvalQuestion,
    RetrievalScores,
    answer_matches,
    evaluate_answers,
    evaluate_retrieval,
    first_gold_rank,
    load_questions,
    percentile,
)
from tests.conftest import SEEDS
from vectorstore.catalog import load_catalog
from vectorstore.loading import LoadLimits, load_folder


def test_the_evaluation_set_is_multilingual_and_mostly_cross_lingual():
    questions = load_questions()
    catalog = load_catalog(SEEDS)
    assert len(questions) >= 40
    assert len({q.id for q in questions}) == len(questions)
    answerable = [q for q in questions if q.answerable]
    for language in ("en", "fr", "vi"):
        assert sum(q.language == language for q in answerable) >= 10
        assert sum(q.language == language and not q.answerable for q in questions) >= 2
    cross = [q for q in answerable if all(catalog[g].language != q.language for g in q.gold)]
    assert len(cross) > len(answerable) / 2
    assert all(g in catalog for q in answerable for g in q.gold)
    assert all(q.answer_any for q in answerable)


def test_no_question_already_contains_an_accepted_answer():
    """Else an answer that only repeats the question counts as right (fr-09 asked about a scam and
    accepted "escroquerie": "the migrants face scams [2]" scored as an answer)."""
    parrots = [q.id for q in load_questions() if q.answerable and answer_matches(q.question, q.answer_any)]
    assert parrots == []


def test_every_accepted_answer_set_is_stated_in_its_gold_article():
    """Else a right answer copied from the source in its own words scores as wrong (en-01 accepted
    only English dates; the date is stated only in French, "28 novembre 2024")."""
    articles = {d.metadata["source"]: d.page_content for d in load_folder(SEEDS, LoadLimits())}
    unreachable = [
        q.id
        for q in load_questions()
        if q.answerable and not answer_matches(" ".join(articles[g] for g in q.gold), q.answer_any)
    ]
    assert unreachable == []


def test_metrics():
    assert first_gold_rank([["a"], ["b", "c"]], ["c"]) == 2
    assert first_gold_rank([["a"]], ["z"]) is None
    scores = RetrievalScores([1, 3, None, 5])
    assert scores.hit_at(1) == 0.25 and scores.hit_at(4) == 0.5
    assert abs(scores.mrr - (1 + 1 / 3 + 1 / 5) / 4) < 1e-9
    assert percentile([5, 1, 3], 50) == 3


def test_evaluate_retrieval_reports_misses_per_language():
    questions = [q for q in load_questions() if q.answerable][:6]
    report = evaluate_retrieval(questions, lambda _question: [["nothing"]] * 4)
    assert report.overall.hit_at(4) == 0.0
    assert report.misses == [q.id for q in questions]


def test_an_accepted_figure_matches_however_the_answer_writes_it():
    from assistant.evaluation import answer_matches

    assert answer_matches("4.000.000 người di cư [2].", ["4 triệu", "four million"])
    assert answer_matches("About four million migrants [1].", ["4 triệu"])
    assert answer_matches("Plus de 300,000 migrants [1].", ["300 000"])
    assert not answer_matches("400.000 người [2].", ["4 triệu"])
    assert answer_matches("Le Thi Thu Hang [1]", ["Lê Thị Thu Hằng"])
    assert not answer_matches("Kendra Rinas [1]", ["Stuart Simpson"])


def test_an_accepted_answer_must_be_whole_words_or_the_whole_figure():
    from assistant.evaluation import answer_matches

    assert not answer_matches("It was held in 2018 [1].", ["8"])  # a digit inside a year
    assert not answer_matches("năm 2020 [1]", ["0"])
    assert not answer_matches("Bà Kendra Rinas báo cáo [1]", ["ba"])  # "bà" (Mrs), "báo"
    assert not answer_matches("Ukraine [1]", ["UK"])
    assert not answer_matches("It happened in 2024 [1].", ["28/11/2024"])  # the year is not the date
    assert answer_matches("IOM has 8 observer states [1].", ["8"])
    assert answer_matches("Hội nghị gồm ba phiên chính [1].", ["3"])
    assert answer_matches("Vers le Royaume Uni [1].", ["Royaume-Uni"])
    assert answer_matches("des escroqueries [1]", ["escroquerie"])  # a plural
    assert answer_matches("in Hanoi [1]", ["Hà Nội"])
    assert answer_matches("le 28/11/2024 [1]", ["28/11/2024"])


def test_the_answer_report_keeps_what_each_question_got():
    questions = [
        EvalQuestion(id="a", language="en", question="Which port?", gold=("x",), answer_any=("8080",)),
        EvalQuestion(id="b", language="en", question="Which colour?", gold=(), answer_any=()),
    ]
    replies = {"Which port?": "It listens on 8081 [1].", "Which colour?": "The articles don't say."}

    def ask(question: str) -> Answer:
        refused = question == "Which colour?"
        return Answer(
            question=question, standalone_question=question, answer=replies[question], refused=refused,
            language="en", generator="local", requested_generator="local",
        )  # fmt: skip

    report = evaluate_answers(questions, ask, "local").as_dict()
    assert report["replies"] == {"a": replies["Which port?"], "b": replies["Which colour?"]}
    assert report["wrong"] == ["a"] and report["not_refused"] == []


def test_risk_counts_every_wrong_reply_shown_as_an_answer_and_coverage_the_right_ones():
    questions = [
        EvalQuestion(id="a", language="en", question="Which port?", gold=("x",), answer_any=("8080",)),
        EvalQuestion(id="b", language="en", question="Which user?", gold=("x",), answer_any=("root",)),
        EvalQuestion(id="c", language="en", question="Which colour?", gold=(), answer_any=()),
        EvalQuestion(id="d", language="en", question="Which city?", gold=(), answer_any=()),
        EvalQuestion(id="e", language="en", question="Which disk?", gold=("x",), answer_any=("sda",)),
    ]
    replies = {  # right, wrong, an unanswerable answered, one refused, one answerable refused
        "Which port?": ("It listens on 8080 [1].", False),
        "Which user?": ("It runs as nobody [1].", False),
        "Which colour?": ("Quoting the sources directly: “Blue skies.” [1]", False),
        "Which city?": ("The articles don't say.", True),
        "Which disk?": ("The articles don't say.", True),
    }

    def ask(question: str) -> Answer:
        text, refused = replies[question]
        return Answer(
            question=question, standalone_question=question, answer=text, refused=refused,
            language="en", generator="local", requested_generator="local",
        )  # fmt: skip

    overall = evaluate_answers(questions, ask, "local").as_dict()["overall"]
    assert overall["risk"] == round(2 / 3, 4)  # 3 shown as answers, 2 of them wrong
    assert overall["coverage"] == round(1 / 3, 4)
