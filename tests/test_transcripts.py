"""Transcript reading (UTF-8, then cp949) and the markup cleaning rule."""

import pytest

from feature_extractor.corpus.transcripts import UndecodableTranscript, clean_transcript, read_transcript


@pytest.mark.parametrize(
    "raw, clean",
    [
        ("l/ 아 진짜?", "아 진짜?"),
        ("그래 b/", "그래"),
        ("c/ n/ N/ u/ l/ b/ o/ I/ 끝", "끝"),
        ("N/I/ 음", "음"),  # tags glued together
        ("o/아니", "아니"),  # tag glued to the word it precedes
        ("(3시)/(세 시)에 가자", "3시에 가자"),  # dual transcription: first alternative
        ("(그러니까)/ (그니까) 뭐", "그러니까 뭐"),
        ("가+ 가자", "가 가자"),  # repetition marker
        ("뭐* 했어", "뭐 했어"),  # unclear-word marker
        ("  많은   공백  ", "많은 공백"),
        ("ab/ 1/2", "ab/ 1/2"),  # a letter inside a word is not a tag; plain slashes stay
        ("l/", ""),  # markup only
        # Markup found in about 1 % of the real KEMDy19 transcripts:
        ("s/ 뭐야 진짜", "뭐야 진짜"),  # `s/` opening the transcript
        ("그런 거야.b/", "그런 거야."),  # a tag glued to punctuation
        ("거야?n/ 응", "거야? 응"),
        ("알았어 /n", "알았어"),  # a tag written backwards, as a word of its own
        ("/n 알았어", "알았어"),
        ("그런(건데+u/) 뭐", "그런건데 뭐"),  # a group holding markup loses its parentheses
        ("(건데+u/)", "건데"),
        ("(u/)", ""),
        ("거야b/", "거야b/"),  # glued to a syllable: part of the word, as `ab/`
        ("a/n 1/n", "a/n 1/n"),  # a backwards tag only as a word of its own
        ("(웃음) 그래", "(웃음) 그래"),  # parentheses without markup stay
    ],
)
def test_cleaning_rule(raw, clean):
    assert clean_transcript(raw) == clean


def test_reads_utf8_with_and_without_bom(tmp_path):
    plain, bom = tmp_path / "a.txt", tmp_path / "b.txt"
    plain.write_bytes("안녕 l/\n".encode("utf-8"))
    bom.write_bytes("\ufeff안녕".encode("utf-8"))
    assert read_transcript(plain) == "안녕 l/"
    assert read_transcript(bom) == "안녕"


def test_falls_back_to_cp949(tmp_path):
    path = tmp_path / "c.txt"
    data = "감사합니다".encode("cp949")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path.write_bytes(data)
    assert read_transcript(path) == "감사합니다"


def test_lines_are_joined_and_ends_stripped(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("  첫 줄 \r\n\n둘째 줄\n", encoding="utf-8")
    assert read_transcript(path) == "첫 줄 둘째 줄"


def test_undecodable_bytes_raise(tmp_path):
    path = tmp_path / "e.txt"
    path.write_bytes(b"\xff\xfe\xff\xff")
    with pytest.raises(UndecodableTranscript):
        read_transcript(path)
