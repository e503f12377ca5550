"""The recall-first layer: finds urgent texts (self-harm, emergencies, the urgent symptoms of
spec/intents.md) and requests to stop texting before any statistical model is consulted.

Patterns run on canonical text (see `canonical`): lower case, no accents or apostrophes, SMS
abbreviations expanded. They are deliberately broad: a false alarm costs a staff member a
glance, a miss can cost a life or break consent law.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from careloop.agent.features import CANON, normalize
from careloop.agent.patterns import any_of, lazy
from careloop.sms.keywords import bare_word, keyword_kind

_WORD = lazy(r"[a-z]+")


def canonical(text: str) -> str:
    """Normalised text with abbreviations expanded, punctuation kept (for the rules)."""
    return _WORD.sub(lambda m: CANON.get(m.group(), m.group()), normalize(text))


_rx = any_of


_W = r"(?:\W+\w+){0,%d}?\W+"  # up to N words in between


def _near(a: str, b: str, n: int = 4) -> str:
    """a, then b within n words (either order)."""
    gap = _W % n
    return rf"\b(?:{a}){gap}(?:{b})|\b(?:{b}){gap}(?:{a})"


# --- self-harm, direct and indirect (EN / ES) --------------------------------------------
SELF_HARM = _rx(
    r"\bkill(?:ing)? (?:my ?self|myself)\b",
    r"\bkms\b", r"\bsuicid", r"\bend(?:ing)? (?:it all|my life|my own life|things|everything)\b",
    r"\b(?:want|going|gonna|ready|plan(?:ning)?|thinking|think) (?:to |about |of )?end(?:ing)? it\b",
    r"\bend(?:ing)? it (?:tonight|today|now|soon)\b", r"\btake my (?:own )?life\b",
    r"\b(?:hurt|harm|cut|cutting|hurting|harming) (?:my ?self|myself)\b", r"\bself ?harm",
    r"\bbetter off (?:dead|without me|if i (?:was|were) (?:dead|gone))\b",
    r"\bwould be better (?:off )?(?:if i (?:was|were) )?(?:dead|gone)\b",
    r"\b(?:dont|do not|no longer) want to (?:live|be alive|be here|exist|wake up|go on)\b",
    r"\b(?:want|wanna|wish i could|going) to die\b", r"\bi want to die\b", r"\bwish i (?:was|were) dead\b",
    r"\b(?:whats|what is) the point (?:of|in) (?:living|life|going on|anything)\b",
    r"\bno (?:reason|point) (?:to|in) (?:live|living|go on|going on)\b",
    r"\bcant (?:go on|do this anymore|keep living|keep going like this|take it anymore)\b",
    r"\bnever wake up\b", r"\bwont be (?:alive|around|here) (?:much longer|anymore|next)",
    r"\bnot be (?:alive|around) (?:much longer|anymore)\b", r"\bdont think i will be around\b",
    r"\bgoodbye (?:letter|note)", r"\b(?:pills|gun|rope) (?:lined up|ready)\b", r"\bbought a gun\b",
    r"\boverdos", r"\btook (?:too many|the whole bottle|all (?:of )?(?:my|the) (?:pills|medication))",
    r"\bnot safe (?:right now|with myself|at home)?\s*$", r"\bi am not safe\b",
    r"\bdisappear (?:forever|for good)\b", r"\b(?:nobody|no one|noone) (?:would|will) (?:miss|care|notice)",
    r"\bdone with (?:life|living)\b", r"\bthoughts? (?:of|about) (?:hurting|killing|ending|dying|suicide)",
    r"\bthink(?:ing)? about (?:dying|death|killing)", r"\bwant (?:it all|everything) to (?:end|stop)\b",
    r"\bwant it to all (?:end|stop)\b", r"\bhopeless\b",
    r"\bsee (?:a |the |any )?(?:reason|point) (?:to|in|of) (?:keep\w*|go|going|live|living|life|anything|try\w*|be|being|wak\w*)\b",
    r"\b(?:dont|do not|cant|can not|no longer) see (?:a |the |any )?(?:reason|point) ?(?:anymore|any more)?\W*$", r"\bno (?:reason|point) (?:to|in) (?:keep|keeping|going|living|be|being)",
    r"\b(?:and|to|could|would|just) (?:not|never) wake up\b", r"\bnot (?:to )?wake up (?:again|anymore|tomorrow|ever)\b", r"\bsleep (?:forever|and not wake)", r"\btired of (?:living|life|being alive)\b",
    r"\b(?:want|wanna|wish i (?:was|were|could be)) (?:to be )?dead\b", r"\bwish i (?:was|were|had) never (?:been )?born\b",
    r"\bgive up on (?:life|living|everything)\b", r"\b(?:life|living) (?:is not|isnt|aint) worth\b", r"\bnot worth living\b",
    r"\bend (?:my|the) (?:suffering|pain for good)\b", r"\b(?:hang|shoot|drown|cut|starve) myself\b", r"\bjump off\b",
    r"\b(?:take|taking|swallow) all (?:of )?(?:my|the|these) (?:pills|medication)", r"\bslit\b", r"\bsay(?:ing)? (?:my )?(?:final )?goodbyes?\b",
    r"\bwont be a (?:problem|burden) (?:much )?(?:longer|anymore)\b", r"\bburden to (?:everyone|my family)\b",
    r"\b(?:cortarme|ahorcarme|tirarme|colgarme|envenenarme)\b", r"\bcansad[oa] de (?:vivir|la vida)\b", r"\bno despertar\b",
    r"\bif i (?:was|were|wasnt|werent|was not|were not)(?: not)? (?:here|around|alive|gone|dead)\b", r"\bif i (?:died|disappeared|wasnt born)\b",
    r"\b(?:better|happier|easier)\b.{0,40}\bwithout me\b", r"\bwithout me (?:around|here)\b", r"\bworthless\b",
    r"\bgoodbye (?:everyone|forever|world|cruel)\b", r"\bcant (?:take|handle|bear) (?:it|this|life) anymore\b",
    r"\bsi (?:yo )?no estuviera\b", r"\bsin mi (?:estarian|estaria|seria)", r"\bsi me muero\b", r"\bmejor (?:si )?me muero\b",
    r"\bgiv(?:e|ing) up on (?:everything|life|living|myself)\b", r"\bwant to disappear\b", r"\bquiero desaparecer\b",
    r"\b(?:life|my life|living|everything) (?:is|feels) (?:pointless|meaningless|not worth it|hopeless)\b",
    r"\bkill(?:ing)? (?:him|her|them|your|my)sel(?:f|ves)\b", r"\b(?:hurt|harm)(?:ing)? (?:him|her|them)sel(?:f|ves)\b",
    r"\b(?:going|gonna|want) to jump\b", r"\bjump (?:in front|from)\b", r"\bno aguanto (?:mas )?(?:esta|la|mi) vida\b", r"\bno aguanto mas\b",
    r"\bdormir para siempre\b", r"\bno (?:vale|valgo) la pena\b", r"\bya no (?:le )?encuentro sentido\b", r"\bno quiero estar aqui\b",
    # Spanish
    r"\b(?:me )?quiero morir", r"\bquiero morirme\b", r"\bno quiero (?:vivir|seguir viviendo|despertar)",
    r"\bya no quiero (?:vivir|seguir|estar aqui|despertar)", r"\bquitarme la vida\b", r"\bmatarme\b",
    r"\bme (?:voy a|quiero) (?:matar|morir|quitar la vida)", r"\bhacerme (?:dano|algo)\b",
    r"\bme voy a hacer dano\b", r"\bmejor muert[oa]s?\b", r"\bmejor sin mi\b",
    r"\b(?:que )?todo se acabe\b", r"\b(?:terminar|acabar) con todo\b", r"\bacabar con mi vida\b",
    r"\bno (?:le )?veo (?:el )?sentido\b", r"\bno tiene sentido (?:seguir|vivir)",
    r"\bdesaparecer para siempre\b", r"\bnadie (?:me )?(?:extranaria|extrañaria|le importaria|notaria)",
    r"\ble importaria si me muero\b", r"\bya no aguanto\b", r"\bya no puedo mas\b",
    r"\bno (?:vale|valgo) la pena vivir\b", r"\bsin ganas de vivir\b",
)

# --- medical emergencies and the urgent symptom list -------------------------------------
_DENTAL_WORK = (
    r"extract\w*|pulled|pull(?:ing)? (?:my|a|the)|root canal|surgery|surgical|implant|procedure|"
    r"filling|crown|wisdom|oral surgeon|stitches|sutures|socket|numbing|injection|anesthe\w*|"
    r"since (?:my|the) (?:visit|appointment|cleaning)|after (?:my|the) (?:visit|appointment|cleaning)|"
    r"endodoncia|extraccion|sacaron|cirugia|muela|implante|empaste|operacion"
)
_BABY = r"baby|babys|infant|newborn|\d+ (?:month|week|mo) old|\d+ (?:month|week|mo)s? old|bebe|recien nacid\w+|\d+ meses|\d+ semanas"
_FEVER = r"fever\w*|temp(?:erature)?|burning up|fiebre|calentura|ardiendo"
_SWELL = r"swell\w*|swollen|hinch\w*|inflamad\w*|inflamacion"
_PAIN = r"pain\w*|hurt\w*|ache\w*|aching|throb\w*|toothache|tooth|teeth|molar|jaw|gums?|dolor|duele|muela|diente"

MEDICAL = _rx(
    # chest / heart
    _near(r"chest", r"pain\w*|hurt\w*|tight\w*|pressure|pound\w*|heavy|ache\w*|squeez\w*|crush\w*", 5),
    r"\bheart attack\b", r"\bheart (?:is )?(?:racing|pounding)\b.*\bchest\b",
    _near(r"pecho", r"dolor|duele|presion|aprieta|apretado", 4), r"\binfarto\b", r"\bataque al corazon\b",
    # breathing
    r"\bcant (?:breathe|breath|catch (?:my|his|her|their) breath)", r"\bcan not breathe\b",
    r"\b(?:trouble|hard time|difficulty|problems?|struggling|hard) (?:to )?breath", r"\bshort(?:ness)? of breath",
    r"\b(?:not|isnt|stopped|stop) breathing\b", r"\bwheez", r"\bturning blue\b", r"\blips? (?:are |is )?(?:turning )?blue\b",
    r"\bchoking\b", r"\basthma attack\b", r"\bsob\b", r"\bgasping\b", r"\b(?:barely|hardly) (?:breathe|breath)", r"\bthroat\b.{0,25}\bclos",
    r"\bno (?:puedo|puede|podia|pudo) respirar", r"\b(?:me|le) cuesta respirar", r"\bdificultad para respirar",
    r"\bme falta el aire\b", r"\b(?:me|se|nos) ahog", r"\bno respira\b", r"\bponiendo morad",
    # stroke
    r"\bstroke\b", r"\bdroop", r"\bslurr", r"\bcant (?:talk|speak) (?:right|properly|normally|well)",
    r"\bspeech is (?:weird|slurred|off|strange|funny)", r"\bnumb on one side\b", r"\bone side (?:of (?:my|his|her) (?:face|body) )?(?:is |feels |went )?numb",
    r"\bhalf (?:my|his|her|of (?:my|his|her)) face\b", r"\barm (?:went|is|feels|going) numb\b", r"\bleft arm\b",
    r"\bsudden (?:weakness|numbness|confusion|vision)", r"\bcara caida\b", r"\bno puede hablar bien\b",
    r"\bno puedo hablar bien\b", r"\bse (?:me|le) durmio (?:la mitad|el brazo|media)", r"\bderrame\b",
    # fainting / seizure / unresponsive
    r"\bfaint", r"\bpass(?:ed|ing)? out\b", r"\bblack(?:ed|ing)? out\b", r"\bcollaps", r"\bunresponsive\b",
    r"\bunconscious\b", r"\bwont wake up\b", r"\b(?:not|isnt|stopped) respond(?:ing|ed)?\b", r"\bcant move (?:my|his|her) (?:left|right|arm|leg|side|face)",
    r"\bheart\b.{0,25}\b(?:squeez|crush|pressure|pound)", r"\bdesmay", r"\bno responde\b", r"\bperdio el conocimiento",
    r"\bseizure", r"\bconvuls", r"\bataque epileptico",
    # allergy
    r"\ballergic reaction\b", r"\banaphyla", r"\bepi ?pen\b", r"\bthroat (?:is |feels )?(?:closing|swelling|tight|swollen)",
    r"\b(?:tongue|lips?|throat) (?:is |are )?(?:swelling|swollen|puffing)", r"\bhives\b",
    r"\b(?:trouble|hard|cant|difficulty|problems?) (?:to )?swallow", r"\bcierra la garganta\b", r"\bronchas\b",
    r"\bno (?:puedo|puede) tragar\b", r"\bhinchando la (?:lengua|garganta|cara|boca)\b", r"\breaccion alergica\b",
    # bleeding that will not stop / heavy
    r"\bbleed\w*(?:\W+\w+){0,6}?\W+(?:wont|will not|doesnt|does not|hasnt|has not|didnt|isnt|cant|not|never) (?:stop|stopped|stopping)",
    r"\b(?:wont|will not|doesnt|hasnt|cant get it to|cannot|cant|unable to|not) stop(?:ped)? (?:the )?bleed",
    r"\b(?:it|blood|this) (?:wont|will not|hasnt|doesnt|has not) stop\b",
    r"\bbleed\w* (?:nonstop|non stop|non-stop|constantly|profusely|continuously|all (?:day|night))\b", r"\b(?:nonstop|non stop) bleed",
    r"\bsangr\w* (?:sin parar|todo el dia|toda la noche)\b", r"\bkeeps? (?:on )?bleeding\b", r"\bbleeding and bleeding\b", r"\bstill bleeding\b",
    r"\b(?:heavy|heavily|severe|lots of|a lot of) (?:bleeding|blood)\b", r"\bbleeding (?:heavily|a lot|badly|so much|everywhere)",
    r"\bblood everywhere\b", r"\bsoak\w* (?:through|the)", r"\bthrough (?:the |\w+ )?gauze", r"\bbleeding for (?:hours|days|a day|<num>|\d+)",
    r"\bbleeding since\b", r"\b(?:vomit\w*|throwing up|coughing up) blood\b",
    r"\bno (?:para|paro|deja|dejo|ha parado|ha dejado) de sangrar", r"\bsangr\w* (?:mucho|demasiado|sin parar)",
    r"\bsigue sangrando\b", r"\bsangra y sangra\b", r"\bmucha sangre\b", r"\bsangrado (?:abundante|fuerte|mucho)",
    # dental trauma
    r"\bknock\w* (?:out|loose)\b", r"\btooth (?:got )?knocked\b", r"\bbroke (?:his|her|my) jaw\b",
    r"\bjaw (?:is )?locked\b", r"\bcant open (?:my|his|her) mouth\b", r"\bno puedo abrir la boca\b",
    # poisoning, overdose, other emergencies
    r"\bswallowed (?:a |an |some |the |a bunch of |a lot of )?(?:\w+ )?(?:pills|battery|batteries|bleach|magnets?|poison|medication)",
    r"\bpoison", r"\bse trago\b", r"\b(?:hit|banged) (?:his|her|my) head\b", r"\bsevere abdominal\b",
    r"\bcant (?:stand|walk) up\b", r"\bsugar is [34]\d\d\b", r"\bpanic attack\b", r"\bambulanc", r"\b911\b",
    r"\bsos\b", r"^help+ me\W*$", r"\blethargic\b", r"\b(?:limp|floppy|hard to wake)\b", r"\bardiendo en (?:fiebre|calentura)\b", r"\bburning up with fever\b", r"\bayuda\b.*\b(?:no puede|dolor|sangr|respirar)",
    # fever + baby / dental work / very high
    _near(_FEVER + r"|hot|caliente", _BABY, 8), _near(_FEVER, _DENTAL_WORK, 10), r"\bhigh fever\b", r"\bfiebre (?:muy )?alta\b",
    r"\b(?:fever|temp\w*|fiebre) (?:of |is |de )?(?:10[3-9]|39\.[5-9]|4[01])\b", r"\b10[3-6](?:\.\d)? (?:fever|temp|on the thermometer)",
    # swelling: face, eye, airway, or after dental work
    _near(_SWELL, r"face|cheek|jaw|eye|neck|throat|tongue|lip|lips|cara|mejilla|cachete|ojo|cuello|garganta|lengua|boca", 5),
    _near(_SWELL, _DENTAL_WORK, 10), r"\bswelling (?:is )?(?:bad|worse|getting worse|severe|spreading)",
    # pregnancy + bleeding
    _near(r"pregnant|pregnancy|embarazada|embarazo", r"bleed\w*|blood|spotting|sangr\w*|manchando|cramp\w*|colicos", 12),
)

# Severe pain: urgent, unless the patient calls it mild / not urgent and it is not extreme.
SEVERE_PAIN = _rx(
    r"\bkill+(?:ing|in)? me\b", r"\bme (?:esta|estan)? ?matando\b", r"\bme mata\b",
    r"\b(?:8|9|10) ?(?:/|out of|of|de) ?10\b", r"\bpain (?:level |is |at )?(?:a )?(?:8|9|10)\b",
    r"\bunbearable\b", r"\bexcruciating\b", r"\binsoportable\b", r"\bworst (?:pain|headache)\b",
    r"\bsevere(?:ly)? (?:pain|tooth|jaw|abdominal|headache|swelling|bleeding|allergic)", r"\bextreme pain\b",
    r"\bin (?:so much|a lot of|severe|terrible|horrible) pain\b", r"\bcrying (?:from|because of|in) (?:the )?pain\b",
    r"\bpain\w* (?:is |so )?(?:so )?(?:bad|severe|terrible|horrible) (?:i|that)",
    _near(_PAIN, r"cant sleep|couldnt sleep|unable to sleep|havent slept|not slept|up all night|no (?:he )?(?:podido )?dormi\w*|no puedo dormir|sin dormir", 8),
    r"\b(?:so|really) bad (?:i am|im) crying\b", r"\bmuchisimo dolor\b", r"\bme duele (?:muchisimo|demasiado|horrible)",
)

_GENERIC = lazy(r"\bemergenc(?:y|ies)\b|\bemergencias?\b|\burgent(?:e|ly)?\b")
_GENERIC_SAFE = lazy(
    r"\b(?:not|no|nothing|isnt|non|dont think its|not an?|no es|nada|no es una?) ?(?:an? |una? )?(?:urgent\w*|emergenc\w*)"
    r"|\b(?:family|work|personal|house|pet|dog|vet|childcare|home) emergenc\w*|\bemergenc\w* (?:came up|at work|at home|contact)"
    r"|\bemergencia (?:familiar|en (?:el trabajo|la casa|casa))|\burgent care\b"
)
# Phrases with which a patient calls their (non-listed) complaint mild or not urgent.
_MILD = lazy(
    r"\b(?:not|nothing|no|isnt|non) (?:an? )?(?:urgent|emergency|serious|bad|too bad)\b|\bmild\w*\b|\bslight\w*\b"
    r"|\b(?:feel|feeling|i am|im|he is|she is|hes|shes|doing) (?:fine|ok|okay|good|better)\b|\bestoy bien\b|\besta bien\b"
    r"|\bno (?:me )?duele\b|\bdoesnt hurt\b|\bdont hurt\b|\bno pain\b|\bwithout pain\b|\bsin dolor\b|\bpainless\b"
    r"|\ba (?:little|bit|tiny bit)\b|\bnada (?:urgente|grave|serio)\b|\bno es urgente\b|\bun poco\b|\bun poquito\b"
)
_EXTREME_PAIN = lazy(r"\bkill+(?:ing|in)? me\b|\bmatando\b|\b(?:9|10) ?(?:/|out of|of|de) ?10\b|\bunbearable\b|\binsoportable\b|\bworst\b|\bexcruciating\b")


# "no problems breathing", "no fever or swelling": an explicit denial just before a symptom.
_DENIED = lazy(r"\b(?:no|not|without|denies|never|sin|nunca)(?: \w+)?\s*$")


def mild(canon: str) -> bool:
    """The patient calls the complaint mild / not urgent (intents.md: that pain is `book`)."""
    return bool(_MILD.search(canon))


@dataclass(frozen=True)
class SafetyHit:
    intent: str  # "urgent" | "opt_out"
    kind: str | None  # "self_harm" | "medical" | None
    reason: str


def urgent(canon: str) -> SafetyHit | None:
    """Self-harm first (so the agent can add 988), then medical emergencies."""
    if SELF_HARM.search(canon):
        return SafetyHit("urgent", "self_harm", "self-harm statement")
    for m in MEDICAL.finditer(canon):
        if not _DENIED.search(canon[max(0, m.start() - 14):m.start()]):
            return SafetyHit("urgent", "medical", "urgent symptom")
    if SEVERE_PAIN.search(canon) and (not _MILD.search(canon) or _EXTREME_PAIN.search(canon)):
        return SafetyHit("urgent", "medical", "severe pain")
    if _GENERIC.search(canon) and not _GENERIC_SAFE.search(canon):
        return SafetyHit("urgent", "medical", "says urgent / emergency")
    return None


# --- opt-out -----------------------------------------------------------------------------
_MSG = r"(?:text\w*|txt\w*|message\w*|msgs?|sms|reminder\w*|notification\w*|alert\w*|survey\w*|these|them|this|it|mensajes?|textos?|recordatorios?|msjs?)"
# A clause that is nothing but a stop word (with please / again / emoji around it).
_BARE_STOP = lazy(
    r"^(?:(?:please|i said|just|ok|now|so|pls) )*(?:stop|stopall|stop all|unsubscribe|opt ?out|alto|baja|parar|dar de baja)"
    r"(?: (?:please|now|it|already|again|thanks|thank you|por favor|ya|emo_\w+|stop|alto))*$"
)
OPT_OUT = _rx(
    r"\b(?:stop|quit|cease) (?:texting|sending|messaging|contacting|reminding|txting|msging)\b", rf"\bstop (?:the|these|all|your|those|ur) (?:\w+ )?{_MSG}",
    r"\bunsubscrib\w*\b", r"\bopt(?:ed)?(?: me)? ?out\b", r"\boptout\b",
    r"\bcancel\w* (?:all |the |my |these |your |those |this |ur |mi |la |los |las |sus |su |el |de )?(?:text|sms|message|reminder|notification|subscription|suscripcion|mensaje|recordatorio|texto)",
    r"\b(?:desuscribir|desuscribirme|desinscribir)",
    r"\b(?:remove|delete|erase) (?:me|my number|this number|my (?:\w+ )?(?:number|phone|cell)|my \w+s (?:number|phone)|\w+s number)(?: (?:off|from))?\b(?! (?:the )?(?:appointment|schedule|waitlist|wait list|waiting list))",
    r"\b(?:off|out of) (?:your|the|this|ur) (?!wait)(?:\w+ )?(?:list|texts|text list|mailing list|system)\b", r"\btake (?:me|us|this number|my number|him|her) off\b(?! (?:the |your |of )?(?:schedule|appointment|calendar|books|wait))", r"\blose (?:my|this) number\b", r"\bleave me alone\b",
    rf"\b(?:dont|do not|never|pls dont|please dont|please do not) (?:ever )?(?:text|txt|message|msg|contact|sms|send me (?:any )?(?:more |another )?{_MSG})",
    rf"\bno (?:more|further) {_MSG}", r"\b(?:dont|do not|no longer|no more|doesnt|dont even) (?:want|need|wish|wanna)(?: to)?(?: (?:get|receive|be getting|keep getting|have))? (?:any |these |the |your |those |more |any more )*(?:texts|text messages|text reminders|messages|reminders?|txts|sms|notifications?)\b",
    r"\b(?:turn|shut|switch) off (?:the |my |these |your |all )?(?:text|reminder|message|notification|alert)",
    r"\b(?:turn|shut|switch) (?:the |my |these |your |all )?(?:texts?|reminders?|messages?|notifications?) off\b",
    r"\bstop (?:the |these |all |your )?(?:\w+ )?(?:reminders?|texts|messages|alerts|surveys?)\b",
    r"\bstop (?:please|pls|plz|now|already|it already)\b", r"\b(?:please|pls|plz|just|i said|can you|could you|can you please|could you please|will you) stop\b(?! by| in| at| over| for)",
    r"\bstop(?: \w+)? (?:reminding|texting|sending|messaging|contacting)\b",
    r"\bstop (?:with )?the (?:robot|spam)\b.*\bno more\b",
    # Spanish
    r"\b(?:ya )?no (?:me |nos |le |les )?(?:manden|mande|envien|envie|escriban|escriba|mandes|envies|sigan mandando|sigan enviando)\b(?! (?:la|el|los|las) (?:cuenta|factura|recibo|receta|resultado))",
    r"\bdej(?:en|e|a) de (?:mandar|enviar|escribir|mensajear|textear)", r"\bno (?:quiero|queremos|deseo|necesito) (?:recibir |mas |seguir recibiendo )*(?:los |sus |estos )?(?:mensajes|textos|recordatorios|msjs|mensajitos)",
    r"\bya no (?:quiero|queremos|deseo|necesito) (?:recibir )?(?:mas )?(?:los |sus |estos )?(?:mensajes|textos|recordatorios|msjs|nada)",
    r"\bno mas (?:mensajes|textos|recordatorios|msjs)\b", r"\bdej\w* de recibir (?:los |sus |estos )?(?:mensajes|textos|recordatorios)",
    r"^(?:no|no more) (?:texts|messages|txts|text messages)\b", r"\bremove\b.*\b(?:from|off) (?:your|the|this|ur) (?:\w+ )?(?:list|texts|texting|messages|reminders|system)\b", r"\b(?:dar|darme|denme|doy|den|darnos) de baja\b",
    r"\bquit(?:en|enme|ame|eme|arme|arnos|ar) (?:de |mi numero)", r"\b(?:borren|borre|eliminen|elimine) (?:mi|este|el) numero\b",
)
# Someone who stopped by mistake and wants texts back is opting in, not out.
_UNDO = lazy(
    r"\b(?:by mistake|accident\w*|didnt mean to|did not mean to|oops|changed my mind|me equivoque|por error|sin querer)\b"
    r"|\b(?:start|resume) (?:sending|texting)\b|\bsubscribe again\b|\bresubscribe\b|(?<!no )\bquiero (?:los|recibir) (?:mensajes|recordatorios)\b"
)


def opt_out(text: str, canon: str) -> SafetyHit | None:
    if keyword_kind(text) == "opt_out":
        return SafetyHit("opt_out", None, "carrier keyword")
    word = bare_word(canon).lower()
    if word in ("st0p", "s top", "stopp", "stoppp", "sto p", "stop stop", "stop stop stop", "unsub", "opt out", "opt out please", "stop all"):
        return SafetyHit("opt_out", None, "carrier keyword (variant)")
    if _UNDO.search(canon):
        return None
    for clause in re.split(r"[.,;:!?\n]+|\s-\s|\bbut\b|\band\b|\bpero\b|\by\b", canon):
        clause = clause.strip()
        if clause and _BARE_STOP.match(clause):
            return SafetyHit("opt_out", None, "stop keyword as a sentence")
    for m in OPT_OUT.finditer(canon):
        if not _stop_trap(canon, m):
            return SafetyHit("opt_out", None, "asks to stop texts")
    return None


_TRAP_AFTER_STOP = lazy(r"stop (?:by|in|at|over|for|taking|eating|drinking|the bleeding|bleeding|the pain|hurting|smoking)")


_NEGATED_STOP = lazy(r"\b(?:wont|dont|not|never|cant|didnt|doesnt|will not|do not|no) (?:ever )?$")


def _stop_trap(canon: str, m: re.Match[str]) -> bool:
    """"stop by tomorrow?", "I won't stop texting you until...": not a request to stop texts."""
    return bool(_TRAP_AFTER_STOP.match(canon, m.start())) or bool(_NEGATED_STOP.search(canon[max(0, m.start() - 12):m.start()]))


def without_traps(canon: str) -> str:
    """Canonical text with the non-opt-out uses of "stop" removed (for the model's backstop)."""
    return _NEGATED_STOP_PHRASE.sub(" ", _TRAP_AFTER_STOP.sub(" ", canon))


_NEGATED_STOP_PHRASE = lazy(r"\b(?:wont|dont|not|never|do not|will not|no) stop\w*")


def keeps_texts(canon: str) -> bool:
    """"don't stop sending me reminders": the opposite of an opt-out."""
    return bool(_NEGATED_STOP_PHRASE.search(canon)) or bool(_UNDO.search(canon))
