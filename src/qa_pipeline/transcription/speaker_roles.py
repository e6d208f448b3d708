"""Which of a mono call's speakers is the agent, from what each says.

Agents greet with the company, give their name, offer help and ask for details; customers say why they
call and talk about "my" order or card. Each speaker's words are matched against such cues (Russian and
English, plus the call's own company and agent name from the manifest), the one who opened the call (said
most of its first words) gets a small head start, and the margin between the two gives a confidence. A
manifest that knows the layout (`agent_speaker: first|second`) decides outright.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from qa_pipeline.models import CallMetadata

AGENT_CUES = [
    r"thanks? (you )?for (calling|contacting|holding|waiting|your patience)",
    r"how (can|may|could) i (help|assist)",
    r"what can i do for you",
    r"my name is",
    r"this is \w+ (from|at|with)",
    r"\w+ speaking",
    r"welcome to",
    r"(anything|something) else i can",
    r"is there anything else",
    r"(let me|i'?ll|i will) (check|look|see|transfer|put you)",
    r"(one|a) moment,? please",
    r"(may|can|could) i (have|get|take|ask|confirm|put you)",
    r"could you (please )?(confirm|spell|give|tell|provide)",
    r"your (account|order|reference|card|policy|contract) number",
    r"i (can|will) help",
    r"чем (я )?могу (вам )?помочь",
    r"меня зовут",
    r"спасибо за (звонок|обращение|ожидание|терпение)",
    r"(слушаю вас|вас слушаю)",
    r"(компания|банк|служба поддержки) \w+",
    r"(остались|есть (ещё|еще)) (ли )?(какие-?(то|нибудь) )?вопросы",
    r"(подождите|оставайтесь на линии|минуточку)",
    r"(назовите|уточните|продиктуйте|подскажите,? пожалуйста,? ваш)",
    r"ваш(его|ей|у|е)? (номер|договор|заказ|счёт|счет|карт)",
    r"(могу|давайте) (я )?(вам )?(проверить|посмотреть|уточнить|помочь)",
]
CUSTOMER_CUES = [
    r"i'?m calling (about|because|to|regarding)",
    r"i (have|had|got) (a|an) (problem|issue|question)",
    r"\bmy (order|card|account|bill|internet|phone|package|parcel|payment|loan|booking)",
    r"i('d| would) like to",
    r"i (want|need) to",
    r"(it|this) (doesn'?t|does not|isn'?t|is not) work",
    r"я (звоню|хотел|хотела|хочу)",
    r"у меня (проблема|вопрос|не )",
    r"\bмо(й|я|ё|е|его|ей) (заказ|карт|счёт|счет|номер|интернет|телефон|кредит|посылк|платёж|платеж)",
    r"мне (нужно|надо|бы)",
    r"не (работает|приходит|могу)",
]
FIRST_SPEAKER_BONUS = 0.5  # agents usually open an inbound call; a cue outweighs it
ROLE_SCALE = 1.5  # cue-count margin -> log-odds
MIN_ROLE_CONFIDENCE = 0.6  # below this, speaker-scoped items go to people


@dataclass(frozen=True)
class Roles:
    agent: int | None
    confidence: float
    reason: str


def agent_speaker(texts: list[str], metadata: CallMetadata, opener: int = 0) -> Roles:
    """`texts[i]`: all of speaker i's words; `opener`: the speaker who opened the call."""
    if metadata.agent_speaker is not None and len(texts) >= 2:
        return Roles(0 if metadata.agent_speaker == "first" else 1, 1.0, "manifest")
    scores = [_cue_score(text, metadata) for text in texts]
    if len(texts) == 1:
        if scores[0] == 0:
            return Roles(None, 0.0, "one speaker, no cues")
        return Roles(0 if scores[0] > 0 else None, _sigmoid(abs(scores[0]) * ROLE_SCALE), "one speaker")
    scores[opener] += FIRST_SPEAKER_BONUS
    ranked = sorted(range(len(texts)), key=lambda i: scores[i], reverse=True)
    margin = scores[ranked[0]] - scores[ranked[1]]
    reason = "cues" if margin > FIRST_SPEAKER_BONUS else "first speaker"
    return Roles(ranked[0], round(_sigmoid(margin * ROLE_SCALE), 3), reason)


def _cue_score(text: str, metadata: CallMetadata) -> float:
    lowered = " ".join(text.lower().split())
    agent = sum(1 for cue in AGENT_CUES if re.search(cue, lowered))
    customer = sum(1 for cue in CUSTOMER_CUES if re.search(cue, lowered))
    for own in (metadata.company, (metadata.agent or "").split(" ")[0]):
        if own and len(own) > 2 and own.lower() in lowered:
            agent += 1
    return float(agent - customer)


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))
