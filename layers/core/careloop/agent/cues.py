"""Explicit cues for each intent (EN / ES), found by patterns on canonical text.

Strong cues are specific enough to drive the priority rules of spec/intents.md when a text
says several things ("Yes I'll be there, what's the address?" is `location`); weak cues are
suggestive only. Both feed the model as features, so rare phrasings of a known cue still
count."""

from __future__ import annotations

from careloop.agent.patterns import Matcher, any_of, lazy

_rx = any_of


STRONG: dict[str, Matcher] = {
    "running_late": _rx(
        r"\brunning (?:a |\w+ )?(?:little |bit |few |couple \w+ |<num> |\d+ )?(?:min |minutes )?(?:late|behind)\b",
        r"\b(?:be|am|are|is|will be|be a|be about|be like|be running|im|i am|were|we are)(?! open)(?: (?!open)\w+){0,3} late\b(?! on| hours| night)",
        r"\bl8\b", r"\b(?:min|minutes|mins) (?:late|behind|away|out)\b", r"\blate\b(?! reply| response| answer| text)(?:.*)\b(?:on my way|coming|be there)\b",
        r"\bbe there in\b", r"\bon (?:my|our) way\b", r"\bstuck (?:in|on) (?:traffic|the|\d+)", r"\btraffic\b", r"\beta\b",
        r"\balmost there\b", r"\bheld up\b", r"\brunning behind\b", r"\bsorry (?:i am|im|for being) late\b",
        r"\bbe right (?:in|there)\b", r"\bcircling\b", r"\bleaving (?:now|work now|the house)\b", r"\bas soon as i can\b",
        r"\bheading (?:over|there|out|your way)\b", r"\bva(?:mos|y)? saliendo\b", r"\bsaliendo (?:ya|ahorita|del trabajo)\b", r"\bstill coming\b.*\blate\b",
        r"\bvoy (?:tarde|en camino|para alla)", r"\bllego en\b", r"\bllegar (?:\w+ )?tarde\b", r"\bya casi llego\b",
        r"\bllegamos (?:en|como)\b", r"\bse me hizo tarde\b", r"\btardanza\b", r"\bdemora\b", r"\bvoy tardesito\b",
    ),
    "reschedule": _rx(
        r"\breschedul", r"\bre ?book", r"\b(?:move|push|bump|switch|swap|shift) (?:my|the|it|me|our|her|his|mine|back|appointment)\b",
        r"\bchange (?:my|the|it|her|his|our) (?:appointment|time|date|day)\b", r"\bchange (?:the )?(?:time|date|day)\b",
        r"\b(?:different|another|other|diff|new) (?:day|time|date|slot)\b", r"\bcan we do\b",
        r"\b(?:later|earlier) (?:time|appointment|slot|in the)", r"\bcome (?:in )?(?:another|other|next)\b",
        r"^(?:n|no|nope|nah)\b.{0,40}\b(?:how about|what about|can we|could we|can i|could i|instead|another|other|next|later|earlier|friday|monday|tuesday|wednesday|thursday|saturday|sunday)\b",
        r"\bcancel\b.*\b(?:re ?book|book|reschedul\w*|another (?:day|time)|next week|new (?:time|day))\b",
        r"\b(?:anything|something) (?:later|earlier|after (?:\d+|lunch|work|school|noon)|in the (?:afternoon|morning))\b",
        r"\bcambiar (?:la|mi|el|de) (?:cita|hora|fecha|dia|appointment)", r"\bcambiarla\b", r"\breprogram", r"\botro dia\b",
        r"\botra (?:fecha|hora)\b", r"\bmas tarde\b", r"\bmover\b", r"\bmoverla\b", r"\ben vez de(?:l)?\b",
        r"\bmejor (?:el|la|para|otro|otra)\b", r"\bse puede (?:el|la|para|otro|otra)\b", r"\bhabra algo\b",
        r"^(?:no|n)\b.{0,30}\b(?:podemos|puedo|se puede)\b.{0,30}\b(?:semana|lunes|martes|miercoles|jueves|viernes|sabado|otro|otra|tarde)\b",
        r"\bcancelar y (?:hacer|sacar|agendar)\b", r"\bquiero otra\b", r"\botra (?:cita|fecha|hora) para\b",
        r"\bbut (?:i )?(?:could|can) (?:come|do|make)\b",
        r"\b(?:come|do|go|make it|switch|move me) (?:on |to |in )?(?:\w+ ){0,3}instead\b", r"\binstead\W*\?", r"\bpero (?:puedo|podria) (?:ir|venir)\b",
        r"^(?:yes|y|si|ok|sure)\b.{0,25}\b(?:but|pero)\b.{0,50}\b(?:instead|later|earlier|another|different|other|move|change|can (?:we|it|i)|mas tarde|otro|otra)\b",
    ),
    "cancel": _rx(
        r"\bcancel\b(?! fee)", r"\bcant (?:make it|come|do it|go|attend)\b",
        r"\bwont (?:be able to )?(?:make it|be there|be coming|come|attend)\b", r"\bnot (?:coming|going to make it|able to come|going to be able)",
        r"\bwill not be there\b", r"\bcancel(?:ar|e|en|o|a|ela|enla|en)\b", r"\bno (?:puedo|podre|voy a poder|podemos|vamos a) (?:ir|asistir|llegar)",
        r"\bno vamos a ir\b", r"\bno voy a ir\b", r"\bya no (?:voy a )?necesit\w* la cita\b",
        r"\btake (?:me|us|him|her) off the (?:schedule|books|calendar)\b",
    ),
    "book": _rx(
        r"\b(?:make|book|schedule|set up|get|need|want|like) (?:me )?(?:an |a |my |one |another )?(?:\w+ ){0,2}(?:appointment|cleaning|checkup|check up|physical|exam|visit|consult\w*)",
        r"\bnew patient(?! forms?| paperwork| packet)", r"\bnext available\b", r"\bsoonest\b", r"\bearliest (?:appointment|available|opening)\b",
        r"\b(?:anything|something|any (?:slots?|spots?|openings?|appointments?)) (?:open|available|free)\b",
        r"\bsee (?:someone|somebody|a doctor|the doctor|a dentist|the dentist|doctor \w+)\b", r"\bopenings?\b", r"\bfit (?:me|us|him|her) in\b",
        r"\bbe seen\b", r"\bget (?:it |my \w+ |him |her |them )?(?:looked at|checked)", r"\bwalk in\b",
        r"\b(?:book|schedule)\w* online\b", r"\blink to (?:book|schedule)\b", r"\bneeds? a (?:cleaning|checkup|physical|exam)\b",
        r"\bhacer (?:una |la )?cita\b", r"\bagendar\b", r"\bsacar (?:una )?cita\b", r"\bnecesito (?:una )?cita\b",
        r"\bquiero (?:una |hacer )?cita\b", r"\bcita (?:para|con)\b", r"\bocupo (?:una )?cita\b", r"\bcita disponible\b",
        r"\btienen cita\b", r"\bme (?:revisen|vean)\b", r"\bque (?:me )?revisen\b", r"\bbook (?:one|an?|me|my|for)\b",
        r"\bget (?:me|us|him|her|them|my \w+) in\b", r"\bget in (?:today|this week|tomorrow|soon|sooner|asap)\b",
    ),
    "refill": _rx(
        r"\brefill", r"\bprescription\b", r"\brenew\w*\b", r"\bout of (?:my |his |her )?(?:\w+ )?(?:medication|pills|inhaler|insulin)",
        r"\bran out\b", r"\brunning (?:low|out)\b", r"\bsupply\b", r"\breceta\b", r"\bresurt", r"\bse me (?:acab|termin)\w*",
    ),
    "results": _rx(
        r"\bresults?\b", r"\blab\b", r"\bblood (?:work|test)", r"\bbiopsy\b", r"\b(?:came|come|coming) back\b",
        r"\bmammogram\b", r"\bpap\b", r"\bbiopsia\b", r"\bwhat did (?:my|the) .{0,30}\bshow\b", r"\ba1c\b", r"\bresultados?\b", r"\b(?:cholesterol|sugar|glucose|a1c|potassium|iron|thyroid|vitamin d|blood) (?:numbers|levels?|results|count)\b",
        r"\banalisis\b", r"\bque salio\b",
    ),
    "billing": _rx(
        r"\bbill\b(?! (?:my|the|your|our) insurance)", r"\bbills\b", r"\bbilled\b", r"\bbalance\b", r"\bowe\b", r"(?<!insurance )(?<!plan )\bpay\b", r"\bpaid\b", r"\bpayment",
        r"\bcopay", r"\bco pay", r"\bcharg", r"\bstatement\b", r"\breceipt\b", r"\bcost\b", r"\bhow much (?:is|does|do|will|for)\b",
        r"\brefund", r"\bcollections?\b", r"\bcuanto (?:le )?debo\b", r"\bpagar\b", r"\bpago\b", r"\bfactura\b", r"\bcopago\b", r"\bcobr\w+",
        r"\bsaldo\b", r"\brecibo\b", r"\b(?:cancellation|late|no show|missed appointment) fee\b", r"\ble debo\b", r"\bcuanto (?:es|cuesta|cobran|le debo|tengo|hay que)\b", r"\bout of pocket\b",
        r"\bcredit card\b", r"\btarjeta de credito\b", r"\bauto ?pay\b", r"\bvenmo\b", r"\bzelle\b", r"\bpaypal\b", r"\bhsa\b",
    ),
    "insurance": _rx(
        r"\binsurance\b(?! (?:forms?|paperwork))", r"\bin ?network\b", r"\bdo you (?:take|accept)\b", r"\b(?:is|are) \w+ accepted\b", r"\bcover(?:ed|s|age)?\b",
        r"\bmy plan\b", r"\bmedicaid\b", r"\bmedicare\b", r"\bmedi-cal\b", r"\bppo\b", r"\bhmo\b", r"\bseguro\b",
        r"\baceptan\b(?! (?:tarjeta|efectivo|cheques?|pagos?))", r"\bcubre\b",
        r"\baetna\b", r"\bcigna\b", r"\bblue (?:cross|shield)\b", r"\bdelta dental\b", r"\bmember id\b",
        r"\bprior auth", r"\bagarran\b",
    ),
    "hours": _rx(
        r"\bhours\b", r"\bwhat time do you\b", r"\b(?:are you|you|is the office|r you|are you guys|is anyone|is someone) open\b",
        r"(?<!anything )(?<!something )\bopen (?:on|sat|sun|today|tomorrow|late|early|right now|this|during|yet)\b", r"\bclos(?:e|ed|ing) (?:on|at|for|early|today|tomorrow)\b",
        r"\bwhat time (?:do you|does the office) close\b", r"\bhorario\b", r"\babren\b", r"\bcierran\b", r"\babiertos?\b",
        r"\batienden\b", r"\bwhat days\b", r"\bopen\?", r"\bdoors open\b",
    ),
    "location": _rx(
        r"\b(?:your|the|ur|office|clinic|practice|the office) address\b", r"^address\b", r"\baddress (?:please|pls|of|again)\b",
        r"\bsend (?:me )?the address\b", r"\bwhere (?:are|is|r) (?:you|your|the)\b", r"\bwhere (?:are )?you (?:guys )?at\b",
        r"\blocated\b", r"\bwhich location\b", r"\bpark\w*\b", r"\bsuite\b", r"\bwhat floor\b", r"\bwhich floor\b", r"\bdirections\b",
        r"\bentrance\b", r"\bwhich (?:door|building)\b", r"\bhow do i get (?:to|there|in)\b", r"\bwhere do i (?:go|park|check in)\b",
        r"\bdireccion\b", r"\bdonde (?:queda|estan|me estaciono|puedo estacionar)", r"\bestacion\w*", r"\bparqueo\b",
        r"\bubicad", r"\bque piso\b", r"\bcomo llego\b", r"\bzip ?code\b", r"\bdid you (?:guys )?move\b",
        r"\bsiguen en el mismo\b", r"\bse (?:cambiaron|mudaron) de (?:lugar|oficina)\b", r"\bcerca de\b", r"\bnear (?:the|a|my|your)\b",
        r"\bclosest\b", r"\bbus stop\b", r"\bparada\b", r"\bsame (?:location|place|address|building)\b", r"\belevator\b",
        r"\bwheelchair\b", r"\bramp\b", r"\bascensor\b", r"\belevador\b", r"\bsilla de ruedas\b",
    ),
    "human": _rx(
        r"\bcall me\b", r"\bcall (?:me )?back\b", r"\bgive me a (?:call|ring)\b", r"\bspeak (?:to|with)\b", r"\btalk (?:to|with)\b",
        r"\breal person\b", r"\bhuman\b", r"\ba person\b", r"\bllam(?:en|e|ar)(?:me)?\b", r"\bhablar con\b", r"\bmarquen",
        r"\bphone call\b", r"\brepresentative\b", r"\boperator\b", r"\bcall my (?:daughter|son|husband|wife|mom|dad|cell)\b",
        r"\bsomeone (?:to )?call\b", r"\bme marcan\b", r"\bmarcar(?:me)?\b", r"\bme (?:pueden|puede) (?:llamar|marcar)\b", r"\b(?:no one|nobody|noone) (?:has )?(?:called|got) (?:me )?back\b",
    ),
    "confirm": _rx(
        r"^(?:yes|y|c|si|ok yes|confirmed)\b", r"\bsee (?:you|ya)\b", r"\b(?:will|i will|well|we will|she will|he will|they will) be there\b",
        r"\bnos vemos\b", r"\b(?:ahi|alli|aqui) (?:estare|estaremos|voy)", r"\bestare\b", r"\bstill (?:on|good) for\b",
        r"\basistir[ea]\b", r"\b(?:i will|we will|well|ill) (?:come|attend|make it)\b", r"\bsi voy\b", r"^definitely\b", r"\b(?:i am|im|we are|were|still) coming\b", r"\bcount me in\b",
        r"\bconfirm(?:ing)? (?:my|for|the|our|jacob|\w+s)\b", r"^confirm", r"\bconfirmo\b",
    ),
    "help": _rx(
        r"\bwho (?:is|dis|r|are) (?:this|you|u)\b", r"\bwho(?: is)? (?:texting|sending|texted)", r"\bwhat (?:is|does) (?:this|c|r|that)\b",
        r"\bwhat practice\b", r"\bwhich (?:office|dentist|doctor|practice) is this\b", r"\bquien (?:es|habla|eres|manda)\b",
        r"\bque es esto\b", r"\bque significa\b", r"\bwhat do i (?:reply|text|need to reply)\b", r"\bhow do i (?:confirm|reply|respond|answer)\b",
        r"\brobot\b", r"\bautomated\b", r"\bis this (?:the|a|an|spam|real|from)\b", r"\bcodes\b", r"\bwhat (?:is|does) (?:the )?code\b",
        r"\bwhat do the letters\b",
        r"\bque (?:debo|tengo que) (?:responder|contestar)\b", r"\bno entiendo\b", r"\bdont understand (?:this|the|your) (?:message|text)\b", r"\bnumber to call\b", r"\bwhat number (?:can|do|should) i\b",
        r"\b(?:office|your) (?:phone )?number\b", r"\bnumero de la oficina\b", r"\bsu numero\b", r"\ba que numero\b",
    ),
    "thanks": _rx(r"\bthank", r"\bgracias\b", r"^ok\b", r"^k\b", r"emo_ok", r"emo_pray", r"\bappreciate",
                  r"\b(?:merry christmas|happy (?:new year|holidays|thanksgiving|easter)|feliz (?:navidad|ano nuevo|dia))\b"),
}

WEAK: dict[str, Matcher] = {
    "reschedule": _rx(r"\binstead\b", r"\bnext week\b", r"\bproxima semana\b"),
    "book": _rx(r"\bcome in\b", r"\bavailab\w*\b", r"\bdisponible\b", r"\bcheck ?up\b", r"\bstop by\b.*\bcheck"),
    "refill": _rx(r"\bmedicina\b", r"\bpastillas\b", r"\bpharmacy\b", r"\bfarmacia\b", r"\bmedication\b"),
    "insurance": _rx(r"\baccept\w*\b", r"\bplan\b", r"\bcard\b", r"\btarjeta\b", r"\baceptan\b", r"\bunited\b", r"\bdelta\b"),
    "billing": _rx(r"\bcuanto\b", r"\bhow much\b", r"\bprice\b", r"\bfee\b", r"\bdebo\b"),
    "location": _rx(r"\baddress\b", r"\bfloor\b", r"\bget to\b", r"\bpiso\b"),
    "confirm": _rx(r"\bconfirm"),
    "help": _rx(r"\bphone number\b", r"\bwhat number\b", r"\bque numero\b", r"\bwho\b", r"\bnumero de telefono\b"),
    "thanks": _rx(r"\bgot it\b"),
    # "other" is never promoted by the priority rules; as a feature it keeps admin questions
    # (forms, records, notes, contact details, wrong number, spam) away from the requests.
    "other": _rx(
        r"\bforms?\b", r"\bpaperwork\b", r"\brecords?\b", r"\bletter\b", r"\bnote\b", r"\bexcuse\b", r"\bfax\b",
        r"\breferral\b", r"\bwrong (?:number|person|#)(?!\w)", r"\bnot (?:her|his|my) number\b",
        r"\bupdate (?:my|the|his|her) (?:phone|number|address|email|name|file|info)", r"\bnew (?:phone|cell) number\b",
        r"\bchanged my (?:email|number|phone|address|name)\b", r"\b(?:when|what time|what day) is my (?:next )?appointment\b",
        r"\bis my appointment\b", r"\bclick\b", r"\bwon\b", r"\bgift card\b", r"\bwarranty\b", r"\bprize\b",
        r"\bdo you (?:do|offer|sell|see|treat|have)\b", r"\bcan i bring\b", r"\bshould i (?:eat|take|bring|arrive|stop)\b",
        r"\bhow long (?:does|will|is)\b", r"\bcomplaint\b", r"\breview\b", r"\blink\b", r"\bchart\b",
        r"\bformulario", r"\bpapeles\b", r"\bcarta\b", r"\bexpediente\b", r"\bequivoc",
        r"\b(?:cuando|que dia|a que hora) es mi (?:proxima )?cita\b", r"\bpuedo llevar\b", r"\bactualizar\b",
        r"\bcambie de (?:numero|telefono|direccion)\b", r"\benlace\b", r"\bcuanto dura\b", r"\ballowed\b", r"\bleft my\b",
        r"\bdeje mis?\b", r"\b(?:eat|comer|drink|beber)\b", r"\bbano\b", r"\bbathroom\b",
    ),
}

# Negated cues do not count: "I'm not cancelling", "no need to reschedule", "no quiero cancelar".
_NEGATED = {
    "cancel": lazy(
        r"\bno cancel\w*|\b(?:not|dont want to|dont need to|no need to|never|wont|didnt|no quiero|sin|dont) (?:\w+ )?(?:cancel\w*)"
        r"|\b(?:not|no|dont|never|nunca) (?:going to|gonna|voy a|vamos a|quiero|want to|need to|necesito|planning to|planeo|pienso) cancel\w*"
        r"|\bcancel\w* (?:fee|policy)|\bcanceled (?:appointment|visit)|\bfor (?:a |the )?cancel\w*"
        r"|\b(?:called|tried|asked|wanted|i) (?:to )?cancel(?:ed)?\b(?! (?:it|my|the|appointment))"
    ),
    "reschedule": lazy(r"\b(?:not|no need to|dont need to|dont want to|dont|no necesito|no) (?:\w+ ){0,3}(?:reschedul\w*|re ?book\w*|change it|cambiar\w*|move it)"),
}

# Priority of spec/intents.md, highest first (urgent / opt_out / opt_in are decided earlier).
PRIORITY = (
    "urgent", "opt_out", "opt_in", "running_late", "reschedule", "cancel", "book", "refill", "results",
    "billing", "insurance", "hours", "location", "human", "confirm", "help", "thanks", "other",
)
CHANGES = ("running_late", "reschedule", "cancel")
SPECIFIC = ("book", "refill", "results", "billing", "insurance", "hours", "location")
# Labels inside one group share a rank; within a group the model's probability decides.
GROUP_RANK = {
    **{label: i for i, label in enumerate(("urgent", "opt_out", "opt_in"))},
    **{label: 3 for label in CHANGES}, **{label: 4 for label in SPECIFIC},
    "human": 5, "confirm": 6, "help": 7, "thanks": 8, "other": 9,
}


_MONEY = lazy(r"\bcopay|\bco pay|\bbill\b|\bbills\b|\bbilled\b|\bbalance\b|\bowe\b|\bcharg|\bstatement\b|\bcollections\b|\bcopago\b|\bfactura\b|\bdebo\b|\bsaldo\b|\bcobr")
# "cancel it, I'll call to rebook when I'm ready": rebooking later is still a cancel.
_DEFER = lazy(r"\b(?:when|once) (?:i am|im|i|things|my|we)\b|\blater\b(?! (?:this|in the|today|next|that))|\bwill (?:call|reach out|book)\b|\breach out\b|\bready\b|\bluego\b|\bdespues\b")


def cue_labels(canon: str) -> tuple[str, ...]:
    """Labels whose strong cues occur in the text (negated ones left out)."""
    found = [label for label, rx in STRONG.items() if rx.search(canon) and label not in negated_labels(canon, rx, label)]
    if "billing" in found and "insurance" in found and _MONEY.search(canon):
        found.remove("insurance")  # intents.md: a bill / balance / copay question is billing even if insurance is named
    if "cancel" in found and "reschedule" in found:
        # "cancel and rebook", "N, can we do next week": a move, unless the rebooking is for later
        found.remove("reschedule" if _DEFER.search(canon) else "cancel")
    return tuple(found)


def negated_labels(canon: str, rx: Matcher | None = None, label: str | None = None) -> tuple[str, ...]:
    """Labels the text explicitly negates ("I'm not cancelling"): they cannot win."""
    out = []
    for name, neg in _NEGATED.items():
        if label is not None and name != label:
            continue
        cue = rx if rx is not None else STRONG[name]
        if neg.search(canon) and len(cue.findall(canon)) <= 1:
            out.append(name)
    return tuple(out)


def weak_labels(canon: str) -> tuple[str, ...]:
    return tuple(label for label, rx in WEAK.items() if rx.search(canon))
