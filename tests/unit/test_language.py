import pytest

from assistant.language import answer_language, is_small_talk, reply_language


@pytest.mark.parametrize(
    ("question", "code"),
    [
        # Names must not decide: the question words do.
        ("Who is Le Thi Thu Hang?", "en"),
        ("What did Phan Thi Minh Giang say?", "en"),
        ("Who won the 2018 World Cup?", "en"),
        ("Where did Thứ trưởng Lê Thị Thu Hằng receive bà Kendra Rinas on 11/11?", "en"),
        ("Qui est David Knight ?", "fr"),
        ("Qui a présidé la conférence du 18 décembre à Hanoï ?", "fr"),
        ("Combien d'États membres compte l'OIM ?", "fr"),
        ("Où est Hanoï ?", "fr"),
        ("Ai là Kendra Rinas?", "vi"),
        ("Stuart Simpson là ai?", "vi"),
        ("IOM có bao nhiêu quốc gia thành viên?", "vi"),
        ("Hội nghị diễn ra vào ngày nào?", "vi"),
        # Nothing to go on but a greeting.
        ("hi", "en"),
        ("bonjour", "fr"),
        ("xin chào", "vi"),
        # Longer questions, as before.
        ("How many migrants leave the Greater Mekong Sub-region each year to work abroad?", "en"),
        ("Quels travailleurs ont été évacués de Libye en 2014 ?", "fr"),
        ("Luật số 69 về người lao động Việt Nam đi làm việc ở nước ngoài được sửa đổi năm nào?", "vi"),
    ],
)
def test_the_reply_language_is_the_questions_not_its_names(question, code):
    assert reply_language(question).code == code


@pytest.mark.parametrize("question", ["a", "hi", "ok thanks", "Merci !", "cảm ơn", "Hello!"])
def test_greetings_and_single_letters_are_small_talk(question):
    assert is_small_talk(question)


@pytest.mark.parametrize("question", ["IOM?", "Who is David Knight?", "budget", "Hà Nội"])
def test_anything_with_a_word_to_look_up_is_a_question(question):
    assert not is_small_talk(question)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ("IOM has 175 member states and 8 observer states [1].", "en"),
        ("L'OIM compte 8 États observateurs, et la liste est dans le texte [1].", "fr"),
        ("IOM có 175 nước thành viên [1].", "vi"),
        ("8 pays quan sát viên ont participé à l'atelier [3].", "vi"),  # untranslated words
        ("Le Thi Thu Hang is the Vice Minister of Foreign Affairs [2].", "en"),  # a name is no clue
        ("Phan Thi Minh Giang [1].", None),
        ("“Với 175 nước thành viên” [2].", None),  # a quote is the source's language
        (
            "Quoting the sources directly:\n\n“l'OIT a présenté l'initiative « frais 0 » pour les travailleurs” [2]",
            None,  # the header is too short to tell; the quote is set aside
        ),
    ],
)
def test_an_answers_language_is_told_by_its_own_words(answer, code):
    assert answer_language(answer) == code
