import pytest

from assistant.guard import (
    check,
    fold,
    made_up,
    misses_what_is_asked,
    names_in,
    number_value,
    numbers_in,
    repeats_the_question,
)

VI = "Với 175 nước thành viên, 8 nước quan sát viên, và văn phòng đặt tại hơn 100 quốc gia, IOM nỗ lực thúc đẩy di cư an toàn."
EN = (
    "There are approximately four million migrants in the Greater Mekong Sub-region, and more than 300,000 "
    "migrants leave each year to work abroad. David Knight, Chief of Mission for IOM Viet Nam noted the gaps."
)
FR = "Le 18 décembre, à Hanoï, Phan Thi Minh Giang et Kendra Rinas ont présidé la conférence de l'OIM."
PASSAGES = {1: VI, 2: EN, 3: FR}


def test_a_garbled_figure_is_caught():
    result = check("L'OIM compte 175 États observateurs [1].", PASSAGES, "Combien d'États observateurs ?")
    assert result.passed  # 175 is in the cited passage; "OIM" is IOM's French acronym
    result = check("L'OIM compte 176 États observateurs [1].", PASSAGES)
    assert not result.passed and result.unsupported == ["176"]


def test_a_citation_to_the_wrong_passage_is_moved_to_the_one_that_says_it():
    result = check("IOM has 8 observer states [2].", PASSAGES)
    assert (
        result.passed and result.text == "IOM has 8 observer states [1]." and result.repaired == ["[2]→[1]"]
    )
    assert check("IOM has 8 observer states [1].", PASSAGES).repaired == []


def test_a_figure_that_no_passage_states_fails_whatever_it_cites():
    for answer in [
        "IOM has 9 observer states [1].",
        "IOM has 9 observer states [2].",
        "IOM has 9 observer states.",
    ]:
        result = check(answer, PASSAGES)
        assert not result.passed, answer


@pytest.mark.parametrize(
    "answer",
    [
        "Il y a environ 4 millions de migrants [2].",
        "Có khoảng 4 triệu người di cư [2].",
        "There are about four million migrants [2].",
        "Plus de 300 000 migrants partent chaque année [2].",
        "Hơn 300.000 người di cư ra đi mỗi năm [2].",
    ],
)
def test_numbers_match_across_writing_styles(answer):
    assert check(answer, PASSAGES).passed, check(answer, PASSAGES).reason


def test_names_are_compared_without_diacritics_and_invented_names_fail():
    assert check("Bà Kendra Rinas và Phan Thị Minh Giang chủ trì hội nghị [3].", PASSAGES).passed
    result = check("The conference was chaired by John Smith [3].", PASSAGES)
    assert not result.passed and "John Smith" in result.unsupported


def test_an_invented_acronym_fails_but_a_translated_one_passes():
    assert check("Selon l'OIM, 8 pays sont observateurs [1].", PASSAGES).passed
    assert check("Selon l'OMS, 8 pays sont observateurs [1].", PASSAGES).unsupported == ["OMS"]


def test_names_from_the_question_are_allowed():
    assert check(
        "L'OIM a 8 pays observateurs [1].", PASSAGES, "Combien de pays observateurs compte l'OIM ?"
    ).passed


def test_citations_to_passages_that_were_not_retrieved_are_dropped():
    result = check("IOM has 175 member states [1][7].", PASSAGES)
    assert result.passed and result.dropped == [7] and result.text == "IOM has 175 member states [1]."
    assert result.cited == [1]


def test_an_uncited_claim_is_attributed_and_an_uncited_claimless_answer_fails():
    result = check("IOM has 175 member states.", PASSAGES)
    assert result.passed and result.text == "IOM has 175 member states [1]."
    assert check("IOM does good work.", PASSAGES).reason == "the answer cites no retrieved passage"
    assert check("IOM does good work [9].", PASSAGES).dropped == [9]


def test_citations_after_the_full_stop_belong_to_the_sentence():
    result = check("IOM has 8 observer states. [1] David Knight led the mission. [2]", PASSAGES)
    assert result.passed and result.repaired == []
    swapped = check("IOM has 8 observer states. [2] David Knight led the mission. [1]", PASSAGES)
    assert swapped.passed and swapped.repaired == ["[2]→[1]", "[1]→[2]"]


def test_a_figure_or_name_in_no_retrieved_passage_is_made_up_one_in_another_passage_is_not():
    passages = list(PASSAGES.values())
    assert made_up("IOM has 8 observer states and 15 partners [2].", passages) == ["15"]
    assert made_up("Tổng giám đốc IOM là ông Nguyễn Minh Khải [1].", passages) == ["Nguyễn Minh Khải"]
    assert made_up("David Knight noted 8 observer states [3].", passages) == []  # in 2 and 1
    assert made_up("Kendra Rinas has 9 staff [3].", passages, "Does Kendra Rinas have 9 staff?") == []


_VI_PROFILE = "Hồ sơ Di cư Việt Nam 2023 được công bố tại hai hội thảo ở Hà Nội và Thành phố Hồ Chí Minh."
_EN_MEETING = "Kendra Rinas met Vice Minister Le Thi Thu Hang on November 13."


@pytest.mark.parametrize(
    ("source", "answer", "supported"),
    [
        # an ordinal date is the same date
        (
            "From 19th to 22nd March, IOM Vietnam hosted a study visit.",
            "La visite a eu lieu du 19 au 22 mars.",
            True,
        ),
        (
            "From 19th to 22nd March, IOM Vietnam hosted a study visit.",
            "La visite a eu lieu du 19 au 22 avril.",
            False,
        ),
        # small numbers, places and dates across languages
        (_VI_PROFILE, "The profile was launched at two workshops, in Hà Nội and Hồ Chí Minh.", True),
        (_VI_PROFILE, "The profile was launched at three workshops.", False),
        (_VI_PROFILE, "It was launched in Hanoi and Ho Chi Minh City.", True),
        (_VI_PROFILE, "Il a été lancé à Hanoï et à Hô Chi Minh-Ville.", True),
        (_VI_PROFILE, "It was launched in Hanoi and Da Nang City.", False),
        (
            "The profile was launched in Hanoi and Ho Chi Minh City.",
            "Hồ sơ được công bố tại Hà Nội và TP Hồ Chí Minh.",
            True,
        ),
        (_EN_MEETING, "Bà Kendra Rinas gặp Thứ trưởng Lê Thị Thu Hằng ngày 13/11.", True),
        (_EN_MEETING, "Bà Kendra Rinas gặp Thứ trưởng Lê Thị Thu Hằng ngày 13/12.", False),
        # names spelled differently, initialisms
        (
            "l'Organisation internationale du Travail a présenté l'initiative « frais 0 ».",
            "The Organization Internationale du Travail (OIT) presented it.",
            True,
        ),
        (
            "l'Organisation internationale du Travail a présenté l'initiative « frais 0 ».",
            "The International Monetary Fund (IMF) presented it.",
            False,
        ),
    ],
)
def test_figures_dates_and_names_match_across_languages_and_spellings(
    source: str, answer: str, supported: bool
):
    assert check(f"{answer.removesuffix('.')} [1].", {1: source}).passed is supported


def test_extractors():
    assert numbers_in("from 2017-2024, on 11/11/2024 [3]") == {"2017", "2024", "11"}
    assert {"4000000", "4"} <= numbers_in("four million")
    assert "3000000" in numbers_in("ba triệu người")
    assert "3" not in numbers_in("Bà Rinas, ông Hai")  # "Bà" (Mrs) and a name are not numbers
    assert {"2", "3"} <= numbers_in("hai hội thảo, ba phiên")  # two workshops, three sessions
    assert {"6", "8"} <= numbers_in("sáu người, tám ngày") and "6000000" in numbers_in("sáu triệu")
    assert not numbers_in("Sau khi đọc, bay về, tâm sự")  # after, fly, heart: words, not 6, 7, 8
    assert numbers_in("le 13 novembre, November 13, May 2024") == {"13", "11", "5", "2024"}
    assert "5" not in numbers_in("It may help.")
    assert names_in("The workshop was funded by PRM and led by David Knight.") == {"PRM", "David Knight"}
    assert fold("Lê Thị Thu Hằng, Đà Nẵng") == "le thi thu hang, da nang"


def test_lowercase_accented_words_are_not_names():
    assert names_in("Le chef de mission était Kendra Rinas.") == {"Kendra Rinas"}
    assert names_in("Bà Kendra Rinas gặp Thứ trưởng Lê Thị Thu Hằng.") >= {"Kendra Rinas"}
    assert names_in("Il est arrivé, Paris, Lyon.") == set()  # a comma breaks a run


@pytest.mark.parametrize(
    ("text", "declines"),
    [
        ("NOT_IN_SOURCES", True),
        ("The sources do not mention IOM's budget.", True),
        ("Les sources ne précisent pas le budget de l'OIM.", True),
        ("Các nguồn không đề cập đến ngân sách của IOM.", True),
        ("There is no information about this in the sources.", True),
        ("IOM has 175 member states [1].", False),
        ("La loi a été adoptée le 28 novembre 2024 [2].", False),
    ],
)
def test_declines_written_in_prose_are_recognised(text, declines):
    from assistant.verifier import DECLINES as _DECLINES

    assert bool(_DECLINES.search(text)) is declines


@pytest.mark.parametrize(
    ("question", "answer", "misses"),
    [
        ("What is IOM's annual budget? How much is it?", "IOM supports Viet Nam [3].", True),
        ("Ngân sách hằng năm của IOM là bao nhiêu?", "IOM tiếp tục hỗ trợ Việt Nam [3].", True),
        ("Combien de pays observateurs compte l'OIM ?", "L'OIM compte 8 pays observateurs [2].", False),
        ("How many recommendations does the Profile 2023 contain?", "It has twelve [1].", False),
        ("How many recommendations does the Profile 2023 contain?", "The Profile 2023 has many [1].", True),
        ("Hội thảo kéo dài mấy ngày?", "Hội thảo kéo dài hai ngày [1].", False),
        ("When was the profile published?", "It was published in October [1].", False),
        ("Quand a eu lieu la visite ?", "La visite a eu lieu à Bangkok [1].", True),
        ("Since when has IOM been in Viet Nam?", "IOM has been there for long [1].", True),
        # "when" inside the question does not ask for a date.
        ("What URI did they give when installing it?", "They gave ldapi://ldap.falcot.com [2].", False),
        ("Who chaired the conference?", "Phan Thi Minh Giang [1].", False),
        ("Which package do I need?", "The package you need to install is [1].", True),
        ("Quel paquet faut-il ?", "Le paquet à installer est [2].", True),
        ("Is crontab per user?", "Yes, it is [1].", False),
        ("Le fichier existe-t-il ?", "Oui, c'est [2].", False),
        ("Which command?", "The command is [1]: crontab -e.", False),  # the citation mid-sentence
        ("So when did IOM arrive?", "IOM arrived long ago [1].", True),
        ("Et depuis quand ?", "Depuis longtemps [1].", True),
        ("La réunion a lieu quand ?", "À Hanoi [1].", True),
        ("Which file is read when booting?", "The file /etc/fstab [1].", False),
    ],
)
def test_an_answer_without_the_figure_or_date_asked_for_is_a_non_answer(question, answer, misses):
    assert (misses_what_is_asked(question, answer) is not None) is misses


def test_number_value_reads_answers_that_are_only_a_figure():
    assert number_value("4 triệu") == number_value("four million") == "4000000"
    assert number_value("300 000") == "300000" and number_value("huit") == "8"
    assert number_value("28 November 2024") is None and number_value("28/11/2024") is None
    assert number_value("ba") == "3" and number_value("bà") is None
    assert number_value("mười") == "10"


@pytest.mark.parametrize(
    ("question", "answer", "repeats"),
    [
        # Parrots the 1.5B model wrote when it missed the fact in a foreign-language passage.
        (
            "Which law on Vietnamese workers going abroad was amended in 2020?",
            "The law on Vietnamese workers going abroad was amended in 2020 [3].",
            True,
        ),
        (
            "Which countries hosting Vietnamese migrants does IOM engage with?",
            "Vietnam hosts Vietnamese migrants [3].",
            True,
        ),
        (
            "Theo bà Kendra Rinas, những nước nào tiếp nhận người di cư Việt Nam mà IOM đang làm việc cùng?",
            "Bà Kendra Rinas cho biết những nước tiếp nhận người di cư Việt Nam mà IOM đang làm việc cùng là Việt Nam [1].",
            True,
        ),
        (
            "Quels travailleurs ont été évacués de Libye en 2014 ?",
            "Les travailleurs ont été évacués de Libye en 2014 [1].",
            True,
        ),
        (
            "Which command lists all the LXC containers?",
            "The command to list all the LXC containers [1].",
            True,
        ),
        ("Chính phủ đã ký bao nhiêu hiệp định?", "Chính phủ đã ký chín hiệp định [1].", False),  # chín: nine
        # Answers: one new word (a name, a nationality, a place) is enough.
        (
            "Which countries hosting Vietnamese migrants does IOM engage with?",
            "Japan and South Korea [1].",
            False,
        ),
        ("Quels travailleurs ont été évacués de Libye en 2014 ?", "Des travailleurs vietnamiens [1].", False),
        ("Which law on Vietnamese workers going abroad was amended in 2020?", "Law No. 69 [1].", False),
        ("Ai là Phó Giám đốc khu vực của IOM?", "Stuart Simpson là Phó Giám đốc khu vực của IOM [2].", False),
        ("Who chaired it?", "[1]", False),  # nothing said at all is the citation check's business
    ],
)
def test_an_answer_that_only_repeats_the_question_is_a_non_answer(question, answer, repeats):
    assert repeats_the_question(question, answer) is repeats
