"""Korean transcripts whose words carry the speaker's emotion only part of the time.

A transcript is a few clauses (about one per `seconds_per_clause` of speech). Its words follow one
of three modes:
- cue: one clause (two in long utterances) comes from the speaker's own emotion bank;
- neutral-worded: only everyday clauses, whatever the state;
- misleading: one clause comes from another emotion's bank (quotes, irony, retelling).
For a neutral speaker "cue" means neutral words only. `text_cue` is True when the words' emotion
is the speaker's state. Markup (markup.py) is added afterwards."""

from dataclasses import dataclass

import numpy as np

from erc_core.labels import EMOTIONS
from feature_extractor.synthetic.markup import add_markup

EMOTIONAL_CLAUSES = {
    "happy": (
        "와 진짜 너무 좋다", "오늘 기분 완전 최고야", "{name} 덕분에 정말 행복했어",
        "드디어 합격했어 너무 기뻐", "생각만 해도 신나", "정말 잘됐다 축하해",
        "이렇게 웃어 본 게 얼마 만이야", "{time} {place}에서 만나는 거 너무 기대돼",
        "선물 받았는데 진짜 마음에 들어", "너랑 있으면 항상 즐거워", "우리 이번에 상 받았대 대박 좋다",
        "너무 맛있다 행복해", "하하 진짜 웃기다 너무 재밌어", "이번 여행 진짜 좋았지",
        "고마워 정말 감동이야", "일이 술술 풀려서 기분 좋아", "그 얘기 들으니까 마음이 따뜻해진다",
        "날씨도 좋고 다 좋다", "네가 와 줘서 너무 반가워", "이제 다 끝났다 속이 다 시원하네",
    ),
    "sad": (
        "요즘 너무 우울해", "{name}가 떠난다니 너무 슬프다", "괜히 눈물이 나네",
        "아무것도 하기 싫어 그냥 지쳤어", "나만 혼자인 것 같아서 서러워", "결국 떨어졌어 너무 속상해",
        "그때 생각하면 아직도 마음이 아파", "다 내 잘못인 것 같아", "보고 싶다 너무 그리워",
        "이제 아무도 내 말을 안 들어 줘", "열심히 했는데 다 소용없었어",
        "헤어지자는 말 듣고 하루 종일 울었어", "외로워서 잠이 안 와", "기운이 하나도 없어",
        "미안해 내가 너무 못났지", "키우던 강아지가 아파서 마음이 무거워",
        "왜 나한테만 이런 일이 생길까", "그냥 다 포기하고 싶어",
    ),
    "angry": (
        "도대체 왜 그러는 거야", "진짜 짜증 나 죽겠네", "몇 번을 말해야 알아들어", "너 지금 장난해",
        "하지 말라고 했잖아", "{name} 때문에 완전 열받았어", "약속을 또 어겼어 정말 화가 나",
        "그런 식으로 말하지 마", "내가 만만해 보여", "왜 맨날 나만 손해를 봐야 되는데",
        "됐어 더 이상 얘기하기 싫어", "말도 안 되는 소리 하지 마", "이번이 벌써 세 번째야 참을 만큼 참았어",
        "책임질 거야 말 거야", "너 진짜 너무한다", "당장 사과해", "누가 내 물건 마음대로 만졌어",
        "시끄러워 좀 조용히 해",
    ),
    "surprise": (
        "어 진짜야", "헐 말도 안 돼", "깜짝이야 언제 왔어", "{name}가 결혼한다고 대박", "세상에 이게 뭐야",
        "정말 그게 가능해", "어떻게 알았어 놀랐잖아", "우와 이걸 다 혼자 만들었어", "갑자기 무슨 소리야",
        "벌써 끝났다고 말도 안 돼", "이게 여기 왜 있어", "설마 그 사람이 {name}였어", "와 생각지도 못했다",
        "이렇게 빨리 올 줄 몰랐어", "눈을 의심했어 진짜 놀랐어", "잠깐만 방금 뭐라고 했어",
    ),
    "fear": (
        "무서워서 못 가겠어", "누가 따라오는 것 같아", "혹시 무슨 일 생기면 어떡해", "밤에 혼자 있기 너무 겁나",
        "심장이 떨려서 아무것도 못 하겠어", "저 소리 들었어 누가 있는 것 같아",
        "제발 아무 일도 없었으면 좋겠어", "불 좀 켜 줘 너무 어두워", "다칠까 봐 겁이 나",
        "검사 결과 나오는 게 너무 두려워", "문이 저절로 열렸어 소름 돋아",
        "여기서 빨리 나가자 느낌이 안 좋아", "손이 떨려서 전화도 못 하겠어", "또 그런 일이 생길까 봐 불안해",
    ),
    "disgust": (
        "으 냄새 진짜 역겹다", "그런 사람이랑은 말도 섞기 싫어", "보기만 해도 속이 안 좋아", "정말 구역질 나",
        "어떻게 그런 짓을 할 수가 있어 더러워", "위선 떠는 거 진짜 꼴 보기 싫다",
        "벌레가 음식에 들어 있었어 토할 것 같아", "그 사람 하는 짓이 너무 치사해", "으 끈적끈적해 만지기 싫어",
        "남 뒷담화나 하고 정말 한심하다", "쓰레기를 여기다 버렸어 지저분해", "생각만 해도 비위가 상해",
    ),
}

NEUTRAL_CLAUSES = (
    "{time} {place}에 가야 돼", "회의는 {clock}에 시작한대", "그 서류 책상 위에 두었어", "점심 뭐 먹을까",
    "버스 타고 가면 {count} 정도 걸려", "{name}한테 전화해 볼게", "그건 나중에 다시 얘기하자",
    "어제 비가 많이 왔더라", "{thing} 어디 있는지 알아", "지금 몇 시야", "그럼 {time} 다시 연락할게",
    "나 {place} 들렀다 갈게", "요즘 {food} 자주 먹어", "이번 주는 좀 바빠", "그거 인터넷으로 주문하면 돼",
    "내일 날씨 어떻대", "주차는 건물 뒤에 하면 돼", "보고서는 거의 다 썼어", "엄마가 {food} 만들어 놓으셨대",
    "{name}는 {place}에서 일해", "그 책 아직 다 못 읽었어", "일단 알겠어", "음 그렇구나",
    "거기까지는 지하철이 더 빨라", "수업이 {clock}에 끝나", "나는 아무거나 괜찮아", "장 보러 가는데 필요한 거 있어",
    "창문 좀 닫아 줄래", "택배가 아직 안 왔어", "{thing} 충전해야 돼", "그 가게는 월요일에 쉬어",
    "다음 역에서 내리면 돼", "이따가 {name}도 온대", "커피 한 잔 할래", "그 얘기는 처음 듣네", "메일 확인해 봤어",
    "그렇게 하면 되겠다", "계산은 카드로 할게", "표는 두 장 예매해 뒀어", "아까 말한 거 기억나",
    "우리 {place} 앞에서 보자", "그건 잘 모르겠어", "어디쯤이야", "응 맞아", "{clock}쯤 도착할 것 같아",
)

OPENERS = ("음", "어", "아", "그러니까", "근데", "저기", "있잖아", "아니", "그래서", "야")

SLOT_WORDS = {
    "name": ("민수", "지수", "서희", "유나", "현주", "태호", "준호", "영희", "은주", "재우", "다희", "소라"),
    "place": ("회사", "학교", "카페", "병원", "은행", "도서관", "편의점", "우체국", "시장", "공원", "역", "백화점"),
    "time": ("내일", "오늘 저녁", "주말에", "다음 주에", "모레", "이따가", "금요일에"),
    "thing": ("휴대폰", "지갑", "열쇠", "우산", "노트북", "충전기", "안경", "가방"),
    "food": ("김치찌개", "떡볶이", "비빔밥", "라면", "김밥", "냉면", "불고기"),
}

# (as written, as spoken): a dual transcription is written "(written)/(spoken)".
DUAL_SLOT_WORDS = {
    "clock": (("3시", "세 시"), ("2시", "두 시"), ("10시", "열 시"), ("7시 반", "일곱 시 반"), ("1시", "한 시")),
    "count": (("20분", "이십 분"), ("30분", "삼십 분"), ("1시간", "한 시간"), ("10분", "십 분")),
}

# Spaces inside a dual transcription must survive word splitting (markup goes between words).
_KEEP_TOGETHER = "\ue000"  # private use: not whitespace for str.split, never in the banks


@dataclass(frozen=True)
class TextKnobs:
    cue_rate: float = 0.65  # non-neutral speaker: words carry the state
    misleading_rate: float = 0.10  # non-neutral speaker: words of another emotion
    neutral_misleading_rate: float = 0.08  # neutral speaker: emotional words anyway
    seconds_per_clause: float = 2.5
    max_clauses: int = 8
    opener_rate: float = 0.35
    markup_rate: float = 0.3  # chance of transcription tags in a transcript
    dual_rate: float = 0.3  # chance that a number slot is written as a dual transcription


def compose_transcript(emotion: str, duration_s: float, knobs: TextKnobs, rng: np.random.Generator):
    """Return (transcript, text_cue) for a speaker in state `emotion` talking for `duration_s`."""
    words_emotion = _words_emotion(emotion, knobs, rng)
    count = int(np.clip(round(duration_s / knobs.seconds_per_clause), 1, knobs.max_clauses))
    clauses = [_fill(template, knobs, rng) for template in _distinct(NEUTRAL_CLAUSES, count, rng)]
    if words_emotion != "neutral":
        emotional = 2 if count >= 4 else 1
        templates = _distinct(EMOTIONAL_CLAUSES[words_emotion], emotional, rng)
        for position, template in zip(rng.choice(count, size=emotional, replace=False), templates):
            clauses[position] = _fill(template, knobs, rng)
    words = " ".join(clauses).split()
    if rng.random() < knobs.opener_rate:
        words.insert(0, _pick(OPENERS, rng))
    text = " ".join(add_markup(words, emotion, knobs.markup_rate, rng)).replace(_KEEP_TOGETHER, " ")
    return text, words_emotion == emotion


def _words_emotion(emotion: str, knobs: TextKnobs, rng: np.random.Generator) -> str:
    """Which emotion the words will express."""
    draw = rng.random()
    if emotion == "neutral":
        return _other_emotion("neutral", rng) if draw < knobs.neutral_misleading_rate else "neutral"
    if draw < knobs.cue_rate:
        return emotion
    if draw < knobs.cue_rate + knobs.misleading_rate:
        return _other_emotion(emotion, rng)
    return "neutral"


def _other_emotion(emotion: str, rng: np.random.Generator) -> str:
    choices = [name for name in EMOTIONS if name not in (emotion, "neutral")]
    return _pick(choices, rng)


def _fill(template: str, knobs: TextKnobs, rng: np.random.Generator) -> str:
    text = template
    for slot, words in SLOT_WORDS.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", _pick(words, rng), 1)
    for slot, pairs in DUAL_SLOT_WORDS.items():
        while "{" + slot + "}" in text:
            written, spoken = pairs[rng.integers(len(pairs))]
            shown = f"({written})/({spoken})" if rng.random() < knobs.dual_rate else spoken
            shown = shown.replace(" ", _KEEP_TOGETHER) if shown.startswith("(") else shown
            text = text.replace("{" + slot + "}", shown, 1)
    return text


def _distinct(options, count: int, rng: np.random.Generator) -> list:
    return [options[i] for i in rng.choice(len(options), size=count, replace=False)]


def _pick(options, rng: np.random.Generator):
    return options[rng.integers(len(options))]
