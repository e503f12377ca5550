"""Stage 1 of the agent, the safety layer: finds urgent texts (self-harm, emergencies, the urgent
symptoms of spec/intents.md) before anything else reads the text, and stage 2's opt-out rules.

Urgent detection has three parts, each built for recall on meaning rather than spelling:
- warning signs (`WARNING_SIGNS`), named after the clinical lists they come from: the Columbia
  Suicide Severity Rating Scale (wish to be dead, ideation, method, intent, preparatory acts),
  the 988 Lifeline's warning signs (burden, no reason to live, trapped, saying goodbye, giving
  possessions away, putting affairs in order, increased drug use) and the ADA / MedlinePlus /
  AHA emergency lists (chest pain, breathing, stroke, fainting, anaphylaxis, hypoglycaemia,
  knocked-out tooth, spreading swelling after extraction, bleeding that won't stop), in English
  and Spanish;
- scope: a symptom the patient denies ("no chest pain") or places in the past ("after my ER visit
  last week") does not count, unless the text also says it is happening now;
- a binary urgent-versus-not model (`urgent_model.json`, trained on thousands of paraphrases)
  whose threshold was set for recall in cross-validation: any doubt is urgent.

Patterns run on `InboundText.canon`: lower case, no accents or apostrophes, SMS abbreviations
expanded. A false alarm costs a staff member a glance; a miss can cost a life.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from careloop.agent.features import normalize
from careloop.agent.patterns import Matcher, any_of, lazy
from careloop.agent.text import InboundText
from careloop.agent.text import canonical as _canonical


def canonical(text: str) -> str:
    """Canonical form of a raw text (for tests and tools; the agent reads `InboundText.canon`)."""
    return _canonical(normalize(text))


_rx = any_of


_W = r"(?:\W+\w+){0,%d}?\W+"  # up to N words in between


def _near(a: str, b: str, n: int = 4) -> str:
    """a, then b within n words (either order)."""
    gap = _W % n
    return rf"\b(?:{a}){gap}(?:{b})|\b(?:{b}){gap}(?:{a})"


# --- self-harm, direct (C-SSRS: wish to be dead, active ideation, method, intent) --------
_SELF_HARM_DIRECT = _rx(
    r"\bkill(?:ing)? (?:my ?self|myself)\b",
    r"\b(?:me quiero|quiero|quisiera|me voy a|ganas de|me dan ganas de) mor+i+r+(?:me)?\b",
    r"\bkms\b", r"\bsuicid", r"\bsui?s+i[dt]", r"\bsuic?s?idal\b", r"\bsewer ?slide\b", r"\bunalive\b", r"\bself[ -]?delet\w*\b", r"\bdelet(?:e|ing) (?:my ?self|myself|my (?:whole |entire )?(?:existence|life))\b", r"\bme (?:volvi|volvio) a cortar\b", r"\bi (?:cut|burned) (?:myself )?again\b",
    r"\b(?:a |my )?way out (?:planned|figured out|ready)\b", r"\bi (?:already )?know what (?:im|i am) (?:going|gonna) (?:to )?do\b.{0,40}\b(?:dont|do not|nobody|no one)\b|\b(?:dont|do not) call me\b.{0,40}\bi (?:already )?know what (?:im|i am) (?:going|gonna) (?:to )?do\b",
    r"\b(?:wont|will not) have to worry about (?:me|him|her) (?:much )?(?:longer|anymore)\b", r"\bno (?:aguanto|soporto) (?:un dia mas|mas)\b", r"\bpara que todo (?:pare|termine|se acabe)\b", r"\bend(?:ing)? (?:it all|my life|my own life|things|everything)\b",
    r"\b(?:want|going|gonna|ready|plan(?:ning)?|thinking|think) (?:to |about |of )?(?:just |finally |really |actually )?end(?:ing)? it\b(?! (?:with|off|early)\b)",
    r"\b(?:work(?:ed|ing)? up|get up|got up|have|find|found|get|got) (?:the )?(?:nerve|courage|guts) (?:to )?(?:finally )?(?:end it|do it|go through with it|kill myself|end my life)\b|\b(?:tener|agarrar|juntar) (?:el )?valor (?:de|para) (?:hacerlo|acabar|matarme|quitarme)\b",
    r"\b(?:die|dying|kill myself|end it|morir\w*|matarme|muero)\b.{0,40}\b(?:not kidding|not joking|no (?:es|estoy) (?:broma|bromeando|jugando)|for real this time|fr this time|i mean it this time|en serio esta vez)\b",
    r"\b(?:jealous of|envy|envious of) (?:people|those|the ones|anyone|everyone) (?:who|that) (?:die|died|are dead|get to die)\b|\benvy the dead\b|\b(?:envidio|envidia (?:de|a)) (?:a )?(?:los|las) (?:que se mueren|muert[oa]s)\b",
    r"\b(?:quisiera|ojala|quiero) que me (?:atropellara|atropelle|matara|mate|pasara algo|cayera algo encima)\b|\bwish (?:a|some) (?:car|truck|bus|train|driver|someone|somebody) would (?:hit|kill|run over) me\b|\bwish i (?:would|could) (?:get|be) (?:hit|run over|killed)\b",
    r"\b(?:phq|depression (?:form|questionnaire|screening|survey)|cuestionario de depresion)\b.{0,80}\b(?:meant it|i mean it|yes|si|lo dije en serio|en serio|last question|question 9|ultima pregunta|pregunta 9)\b.{0,40}\b(?:meant it|i mean it|en serio|yes|si)\b|\b(?:last|final) question\b.{0,40}\b(?:meant it|i mean it|en serio)\b",
    r"\bend(?:ing)? it (?:tonight|today|now|soon)\b", r"\btake my (?:own )?life\b",
    r"\b(?:hurt|harm|cut|cutting|hurting|harming) (?:my ?self|myself)\b", r"\bself ?harm",
    r"\bbetter off (?:dead|without me|if i (?:was|were) (?:dead|gone))\b",
    r"\bwould be better (?:off )?(?:if i (?:was|were) )?(?:dead|gone)\b",
    r"\b(?:dont|do not|no longer) want to (?:live|be alive|be here|exist|wake up|go on)\b",
    r"\b(?:want|wanna|wish i could|going) to die\b", r"\bi want to die\b", r"\bwish i (?:was|were) dead\b",
    r"\b(?:whats|what is) the point (?:of|in) (?:living|life|going on|anything)\b",
    r"\bno (?:reason|point) (?:to|in) (?:live|living|go on|going on)\b",
    r"\bcant (?:go on|do this anymore|keep living|keep going like this|take it anymore)\b",
    r"\bnever wake up\b", r"\bwont be (?:alive|around|here) (?:much longer|anymore)",
    r"\bnot be (?:alive|around) (?:much longer|anymore)\b", r"\bdont think i will be around\b",
    r"\bgoodbye (?:letter|note)", r"\b(?:pills|gun|rope) (?:lined up|ready)\b", r"\bbought a gun\b",
    r"\boverdos", r"\btook (?:too many|the whole bottle|all (?:of )?(?:my|the) (?:pills|medication))",
    r"\bnot safe (?:right now|with myself|at home)?\s*$", r"\bi am not safe\b",
    r"\bdisappear\w* (?:forever|for good)\b", r"\b(?:nobody|no one|noone) (?:would|will) (?:miss|care|notice)",
    r"\bdone with (?:life|living)\b", r"\bthoughts? (?:of|about) (?:hurting|killing|ending|dying|suicide)",
    r"\bthink(?:ing)? about (?:dying|death|killing)", r"\bwant (?:it all|everything) to (?:end|stop)\b",
    r"\bwant it to all (?:end|stop)\b", r"\bhopeless\b",
    r"\bsee (?:a |the |any )?(?:reason|point) (?:to|in|of) (?:keep\w*|go|going|live|living|life|anything|try\w*|be|being|wak\w*)\b",
    r"\b(?:dont|do not|cant|can not|no longer) see (?:a |the |any )?(?:reason|point) ?(?:anymore|any more)?\W*$", r"\bno (?:reason|point) (?:to|in) (?:keep|keeping|going|living|be|being)",
    r"\b(?:and|to|could|would|just) (?:not|never) wake up\b", r"\bnot (?:to )?wake up (?:again|anymore|tomorrow|ever)\b", r"\bsleep (?:forever|and not wake)", r"\btired of (?:living|life|being alive)\b",
    r"\b(?:want|wanna|wish i (?:was|were|could be)) (?:to be )?dead\b", r"\bwish i (?:was|were|had) never (?:been )?born\b",
    r"\bgive up on (?:life|living|everything)\b", r"\b(?:life|living) (?:is not|isnt|aint) worth\b", r"\bnot worth living\b",
    r"\bend (?:my|the) (?:suffering|pain for good)\b", r"\b(?:hang|shoot|drown|cut|starve) myself\b", r"\bjump off\b",
    r"\b(?:take|taking|swallow) all (?:of )?(?:my|the|these) (?:pills|medication)", r"\bslit\b", r"\bsay(?:ing)? (?:my )?final goodbyes?\b",
    r"\bwont be a (?:problem|burden)\b.{0,25}\b(?:longer|anymore)\b", r"\bburden to (?:everyone|my family)\b",
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
    r"\bme voy a hacer dano\b", r"\bme (?:quise|quiero|queria|quisiera|iba a|intente) (?:hacer dano|lastimar|cortar|matar)\b", r"\blastimarme\b", r"\bmejor muert[oa]s?\b", r"\b(?:mejor|ya) me mato\b", r"\bme (?:dan ganas|da ganas) de matarme\b", r"\bmejor sin mi\b",
    r"\b(?:que )?todo se acabe\b", r"\b(?:terminar|acabar) con todo\b", r"\bacabar con mi vida\b",
    r"\bno (?:le )?veo (?:el )?sentido\b", r"\bno tiene sentido (?:seguir|vivir)",
    r"\bdesaparecer para siempre\b", r"\bnadie (?:me )?(?:extranaria|extrañaria|le importaria|notaria)",
    r"\ble importaria si me muero\b", r"\bya no aguanto\b", r"\bya no puedo mas\b",
    r"\bno quiero seguir\b(?! (?:con|el|la|los|las|en|yendo|pagando|esperando|viniendo|tomando|usando|recibiendo|el tratamiento)\b)",
    r"\b(?:ways|how) to (?:end it|die|kill myself|end my life|not wake up)\b", r"\bresearch\w* (?:ways|how) to\b.{0,20}\b(?:end|die|kill|overdose)\b",
    r"\b(?:tengo|ya tengo|tiene|ya tiene) (?:planead[oa]|planificad[oa]|pensad[oa]|decidid[oa]) (?:mi|su) salida\b(?! (?:del?|al?|para|a las|hacia)\b)", r"\b(?:my|an) exit (?:planned|ready|figured out)\b",
    r"\b(?:nobody|no one|noone) needs me\b", r"\bnadie me necesita\b",
    r"\bnadie (?:me )?(?:va|iba) a (?:extranar|notar|echar de menos)\b", r"\b(?:nobody|no one|noone) (?:is going to|is gonna|gonna) (?:miss|notice|care)\b",
    r"\bif i (?:dont|do not|never|cant) (?:make it|show up|come|get there)\b.{0,50}\b(?:did it|went through with it|finally)\b",
    r"\b(?:gun|rifle|shotgun|pistol|firearm|escopeta|pistola|arma)\b.{0,80}\b(?:de otra (?:forma|manera)|look(?:ing)? at it differently|thinking about (?:it|using it)|pensando en (?:ella|usarla)|tempt\w*|me llama)\b",
    r"\bno (?:vale|valgo) la pena vivir\b", r"\bsin ganas de vivir\b",
    r"\b(?:manguera|hose|tube|tubo)\b.{0,30}\b(?:escape|exhaust|tailpipe|mofle)\b",
    r"\b(?:worth more|better off|come out ahead|only way)\b.{0,80}\b(?:life insurance|seguro de vida)\b|\b(?:life insurance|seguro de vida)\b.{0,80}\b(?:worth more|better off|come out ahead|only way|salen ganando|estarian mejor)\b",
    r"\b(?:darme|pegarme|meterme) un (?:tiro|balazo)\b", r"\b(?:me quiero|quiero|me voy a|voy a|ganas de) (?:dar|pegar)(?:me)? un (?:tiro|balazo)\b",
    # someone else's intent in Spanish ("dice que se va a matar", "se quiere morir"), funeral imagery,
    # resting "permanently", being sick of one's life
    r"\bse (?:quiere|va a|iba a|queria|quisiera|piensa|anda queriendo) (?:morir|matar|suicidar|quitar la vida|dar un (?:tiro|balazo))\b",
    r"\bquiere(?:n)? (?:morirse|matarse|suicidarse|quitarse la vida)\b", r"\b(?:me|se) (?:voy|va|quiero|quiere) (?:a )?quitar del medio\b",
    r"\b(?:picturing|imagining|imagine|thinking|dreaming|planning|plan)\b(?:\W+\w+){0,3}?\W+my (?:own )?funeral\b",
    r"\b(?:imagin\w*|pienso|pensando|planeando|planeo|sueno)\b(?:\W+\w+){0,3}?\W+mi (?:propio )?(?:funeral|entierro|velorio)\b",
    r"\brest (?:permanently|for good|forever)\b", r"\bdescansar (?:para siempre|por siempre|definitivamente)\b",
    r"\b(?:sick|tired) (?:of|with) (?:this|my) (?:life|existence)\b(?! insurance)", r"\bdone with (?:this|my) (?:life|existence)\b(?! insurance)",
    r"\b(?:hart[oa]|cansad[oa]) de (?:esta|mi) vida\b",
    # a firearm looked at ever longer (C-SSRS: method), a lethal-dose question about oneself
    r"\b(?:stare|staring|stared|look(?:ing)? at|sit(?:ting)? with|hold(?:ing)?|mirando|miro|me quedo (?:viendo|mirando)|viendo)\b.{0,40}\b(?:gun|shotgun|rifle|pistol|revolver|firearm|escopeta|pistola|arma|revolver)\b.{0,40}\b(?:longer|every night|each night|again|for hours|cada noche|mas tiempo|todas las noches|por horas)\b",
    r"\b(?:gun|shotgun|rifle|pistol|revolver|firearm|escopeta|pistola|arma)\b.{0,60}\b(?:keep|kept|sigo|me quedo) (?:staring|looking|thinking|mirando|viendo|pensando)\b",
    r"\b(?:keep|kept|sigo|me quedo) (?:staring|looking|mirando|viendo)\b (?:at )?(?:\w+ ){0,3}?(?:gun|shotgun|rifle|pistol|revolver|firearm|escopeta|pistola|arma)\b",
    r"\b(?:pills|meds|medication|medicine|dose|tablets|sleep\w*|pastillas|medicina|dosis)\b.{0,100}\b(?:too much|overdose|sobredosis|demasiad\w*|lethal|fatal|deadly)\b.{0,60}\b(?:asking for (?:me|myself)|its for me|(?:es|seria|pregunto) (?:para|por) mi)\b",
    r"\b(?:most|max\w*|how many|how much|cuantas|cuanto)\b.{0,60}\b(?:pills|meds|medication|tablets|pastillas|tylenol|ambien|xanax|insulin\w*|insulina)\b.{0,60}\b(?:lethal|fatal|deadly|to not wake up|never wake up|no despertar|mortal|para morir)\b",
    # declining the medicine because of "another plan" tonight (C-SSRS: intent with a plan)
    r"\b(?:dont|do not|wont|no)\b (?:\w+ )?(?:need|necesito|voy a necesitar|ocupo|quiero)\b.{0,40}\b(?:refill|meds|medication|medicine|pills|resurtido|receta|medicina|pastillas)\b.{0,60}\b(?:(?:other|another|different|my own) plans?|otro plan|otros planes|mi propio plan)\b.{0,25}\b(?:tonight|esta noche|hoy|this weekend|este fin)\b",
    # a high place, and no knowing whether one will come back down (988: a method at hand)
    r"\b(?:overlook|cliff|ledge|edge|bridge|roof|rooftop|top floor|parking garage|puente|azotea|techo|barranco|acantilado|mirador|precipicio)\b.{0,80}\b(?:dont know if|do not know if|not sure if|no se si|might not|may not|tal vez no|quizas no)\b.{0,25}\b(?:coming back|come back|going back|make it back|climb back|get back|regres\w*|vuelv\w*|baj\w*)\b",
)

# --- self-harm, indirect (988 Lifeline warning signs; C-SSRS preparatory behaviour) --------
# Moving house, travelling or changing practice explains many "goodbye" / "won't be around"
# texts; those readings of the indirect signs are set aside (the model still scores them).
_ELSEWHERE = lazy(
    r"\bmov(?:e|ed|ing)\b|\brelocat|\bnew (?:dentist|doctor|practice|office|job|city|state|home|place)\b|\bswitch\w*\b"
    r"|\btransfer\w*\b|\bout of (?:state|town|the country)\b|\banother (?:state|city|country|office|practice)\b"
    r"|\bvacation\b|\btrip\b|\btravel\w*\b|\bdeploy\w*\b|\bcollege\b|\bbusiness\b|\bflight\b|\bcruise\b"
    r"|\bmud(?:o|amos|aron|e|arme|arnos|anza|ando)\b|\bme voy a vivir\b|\bnos vamos a vivir\b|\bviaj\w*\b"
    r"|\bvacaciones\b|\botro (?:estado|pais|dentista|doctor|consultorio)\b|\bcambi\w* de (?:dentista|doctor|clinica|consultorio|seguro)\b"
    r"|\bpassed away\b|\bfalleci\w*\b|\bmurio\b|\bhospice\b"
    # better because of treatment ("my anxiety is so much better since the new meds"), not "better now that I have decided"
    r"|\bbetter (?:since|with|after|thanks to|on) (?:the |my |this )?(?:new )?(?:meds|medication|medicine|treatment|therapy|sessions?|surgery|procedure|pills|dose)\b"
    r"|\bmejor (?:con|desde|gracias a) (?:el |la |los |las |mi |mis )?(?:nuev[oa]s? )?(?:medicina\w*|medicamento\w*|tratamiento|terapia|pastillas|dosis)\b"
)
_FINAL = (
    r"goodbye|good bye|farewell|wont (?:need|be)|will not (?:need|be)|one last|last time|for the last|"
    r"take care of (?:my|them|him|her|everyone)|remember me|no longer|where i am going|forever|para siempre|"
    r"por ultima vez|ultimo mensaje|ya no (?:voy a )?(?:estar|necesitar)|despedirme|me despido para siempre|adios a todos|no (?:voy a llegar|llego) (?:al|hasta el)"
)
SELF_HARM_INDIRECT: dict[str, Matcher] = {
    # "saying goodbye" (988): farewell and gratitude notes that sound final
    "saying goodbye": _rx(
        # a goodbye, and then no answer (988: saying goodbye; a family member's worry)
        r"\b(?:despidiendose|se despidio|despedida|despedirse|goodbye|good bye|said bye|saying bye|farewell)\b.{0,80}\b(?:no (?:me |nos )?(?:contesta|responde|agarra el telefono)|(?:wont|doesnt|isnt|not|will not|does not) (?:answer|pick up|picking up|respond|answering|responding)\w*)\b",
        r"\b(?:this is|consider this|wanted to say|just wanted to say|saying|to say) (?:my )?(?:goodbye|good bye|farewell|goodbyes)\b",
        rf"\bthank(?:s| you) for everything\b.{{0,120}}\b(?:{_FINAL})\b", rf"\b(?:{_FINAL})\b.{{0,120}}\bthank(?:s| you) for everything\b",
        rf"\bgracias (?:por|x) todo\b.{{0,120}}\b(?:{_FINAL})\b", rf"\b(?:{_FINAL})\b.{{0,120}}\bgracias (?:por|x) todo\b",
        r"\b(?:my )?(?:last|final) (?:message|text|goodbye|words|letter)\b", r"\b(?:when|after|once) i am (?:gone|no longer here)\b",
        r"\b(?:one last time|for the last time|before i go for good)\b", r"\b(?:mi|este es mi) ultimo mensaje\b",
        r"\bcuando (?:yo )?ya no (?:este|estoy)\b", r"\b(?:me despido|despedirme|despido) (?:de (?:ustedes|todos) )?para siempre\b",
        r"\badios para siempre\b", r"\bpor ultima vez\b", r"\bquiero despedirme de (?:ustedes|todos)\b",
        r"\b(?:ya )?me (?:habre|habra) ido(?: para siempre)?\b|\b(?:gone|ido|ida) (?:for good|forever|para siempre)\b(?!.{0,30}\b(?:to|a|al|para) (?:mexico|texas|florida|california|another|otro|otra|my|mi)\b)",
    ),
    # "giving away possessions" (988)
    "giving possessions away": _rx(
        r"\b(?:gave|giving|handed|left) (?:me|us|my \w+|her sister|his brother) (?:her|his|their) (?:wedding ring|ring|rings|jewelry|watch|necklace|guitar|savings|car keys|dog|cat)\b",
        r"\b(?:me|nos|le|les) (?:da|dio|regala|regalo|deja|dejo|entrega|entrego|va a dejar|quiere dejar) (?:a )?(?:su|sus) (?:anillo\w*|argolla|joyas|reloj|collar|cadena|perro|perrita|perrito|gato|gata|gatito|mascota|ahorros)\b",
        r"\bwho (?:gets|will get|should get|is getting|takes|will take) (?:my|all my) (?:dog|dogs|cat|cats|pets?|puppy|birds?|things|stuff|belongings|jewelry|car|house)\b",
        r"\bquien se (?:queda|va a quedar) con (?:mi|mis) (?:perro|perra|gato|gata|mascota|mascotas|cosas|joyas|carro|casa)\b",
        r"\b(?:a alguien|to someone|to somebody)(?: mas| else)? (?:que (?:la|lo|las|los) necesite|who (?:needs|can use|could use) (?:it|them))\b.{0,40}\b(?:yo ya no|i (?:wont|dont|will not)(?: need (?:it|them))? anymore|i (?:wont|will not) need (?:it|them))\b",
        r"\bgiv(?:e|ing|en) (?:away )?(?:all )?(?:of )?(?:my|all my|his|her|their|all his|all her) (?:things|stuff|belongings|possessions|clothes|dog|dogs|cat|cats|pets?|puppy|birds?|jewelry|furniture|guitar|car|collection)(?: away)?\b",
        r"\bgave (?:away )?(?:all )?(?:of )?(?:my|all my|his|her|their|all his|all her) (?:things|stuff|belongings|possessions|clothes|dog|dogs|cat|cats|pets?|puppy|birds?|jewelry|furniture)(?: away)?\b",
        r"\bgiv(?:e|ing) (?:everything|it all) away\b", r"\bgave (?:everything|it all) away\b",
        r"\b(?:gave|giving|given|give)(?: away)? (?:all )?(?:my|his|her) (?:\w+ ){1,6}?(?:to|away)\b.{0,80}\b(?:dont need|wont need|anymore|not (?:her|his|their|your) fault|goodbye|bye|last|for good|wont see|never)\b",
        r"\b(?:regale|regalo|regalando|regalaste|regalaron) (?:su|sus|mi|mis|todo|todas|todos) .{0,60}\b(?:ya no|nunca|para siempre|adios|no (?:lo|la|me|nos) (?:iban|van|vamos) a volver a ver|no es su culpa)\b",
        r"\b(?:found|finding|find|need to find) (?:a )?(?:new )?(?:home|homes|owner|family) for (?:my|our) (?:dog|dogs|cat|cats|pets?|puppy|birds?)\b",
        r"\bwho (?:will|would|can|is going to) (?:take care of|look after|feed|keep|take) (?:my|our) (?:dog|dogs|cat|cats|pets?|plants|puppy)\b",
        r"\b(?:you can|feel free to|they can) have (?:all )?(?:my|all my) (?:things|stuff|clothes)\b",
        r"\bregal(?:e|ando|ar|o|are|ado|andole) (?:todas |todos )?(?:mis|mi) (?:cosas|ropa|perro|perrito|perra|gato|gatito|gata|mascota|mascotas|pertenencias|joyas|muebles)\b",
        r"\b(?:un )?nuevo hogar para (?:mi|mis) (?:perro|perrita|perrito|gato|gata|mascota|mascotas)\b",
        r"\bquien (?:va a )?(?:cuide|cuidara|cuidar|se quede con) (?:a )?(?:mi|mis) (?:perro|perra|gato|gata|mascota|mascotas|plantas)\b",
        r"\bles (?:deje|dejo|voy a dejar) (?:todas )?mis cosas\b", r"\bregalando todo\b",
        r"\b(?:wont|will not|cant|can not|no (?:voy a poder|podre|voy a estar para)) (?:be able to |be around to )?(?:look after|take care of|care for|cuidar(?:lo|la|los|las)?|feed|alimentar(?:lo|la)?) (?:him|her|them|it|my \w+|lo|la|los|a mi \w+)?\s?(?:\w+ )?(?:after|past|beyond|despues de|pasado|desde)\b (?:this |el |este |esta )?(?:\w+day|tonight|tomorrow|weekend|week|viernes|lunes|martes|miercoles|jueves|sabado|domingo|hoy|manana|fin de semana|semana)\b",
        r"\bfree to a good home\b.{0,120}\b(?:wont|will not|cant|no longer|not going to) (?:be able to |be around to )?(?:look after|take care of|care for|be here|be around)\b",
        r"^(?!.*\b(?:while|weekend|week|until|when|trip|vacation|sitting|sit|watch|visit\w*)\b).*\b(?:my|the) (?:cat|cats|dog|dogs|pets?|puppy|kitty)(?: is| are|s) (?:going|gone) to (?:my|a|the|our) (?:neighbou?r|friend|sister|brother|mom|mother|daughter|son|cousin|aunt|niece|nephew)\b",
    ),
    # "letters left for family" (C-SSRS preparatory behaviour: a suicide note)
    "letters left for family": _rx(
        r"\b(?:ya )?escribi (?:mi|la|una) carta\b(?! (?:para|a|al|de) (?:el |la |mi )?(?:seguro|trabajo|escuela|jefe|banco|juez|corte|abogado|aseguranza|doctor|oficina))",
        r"\b(?:no quiero|dont want|do not want) (?:que )?(?:sea )?(?:mi|my) (?:\w+ )?(?:la|el|to be the one|the one)? ?(?:que me (?:encuentre|halle)|who finds me|to find me)\b|\b(?:who|quien) (?:will )?(?:finds?|encuentre|va a encontrar) (?:me|my body|mi cuerpo|me encuentre)\b",
        r"\bi (?:already )?(?:wrote|left|have written|recorded|write|written|finish(?:ed)? (?:writing )?) (?:a |my |the )?(?:note|voice memo|video|letter)\b(?! (?:for|to|of|from) (?:the |my )?(?:school|work|boss|insurance|doctor|office|pharmacy|employer|judge|court|appeal|job|landlord|bank))(?! of )",
        r"\b(?:left|leaving|wrote|writing|written|write|finished) (?:a |some |the |my )?(?:letters?|notes?|goodbye notes?) (?:for|to) (?:my |the |each of my |all my )?(?:family|kids|children|wife|husband|son|daughter|mom|mother|dad|parents|everyone|loved ones|grandkids|grandchildren|sister|brother)\b",
        r"\b(?:deje|dejando|escribi|escribiendo|escribo|termine) (?:una |unas |las |mis |mi )?(?:carta|cartas|nota|notas) (?:para|a) (?:mi |mis |toda mi )?(?:familia|hijos|hijas|hijo|hija|esposo|esposa|mama|papa|nietos|todos|hermana|hermano)\b",
    ),
    # "putting affairs in order" (988; C-SSRS preparatory behaviour)
    "putting affairs in order": _rx(
        r"\b(?:want|need|have|get|getting|got) (?:everything|it all|all of it) (?:settled|squared away|taken care of|wrapped up)\b(?!.{0,30}\b(?:before|by) (?:my|the|our) (?:trip|move|surgery|visit|appointment)\b)",
        r"\b(?:dejar|tener|quiero) todo (?:arreglado|resuelto|saldado)\b",
        r"\b(?:dont|do not|no) (?:want to|quiero|deseo) (?:leave|dejar(?:les)?) (?:any |ninguna |ningun )?(?:debts?|deudas?|bills?|cuentas) (?:behind |atras |pendientes )?(?:for|to|a|para) (?:my|mis|mi)\b",
        r"\b(?:put|putting|get|getting|got|have|had|set|setting) (?:all )?(?:of )?(?:my|our) (?:affairs|things|papers|life|house) in order\b", r"\baffairs in order\b",
        r"\b(?:made|making|wrote|writing|updated|updating|finished|signed|finalized) (?:out )?(?:my|a) (?:will|testament)\b",
        r"\b(?:put|left|leaving|placed|laid|set) (?:out )?(?:my|the) (?:will|testament) (?:out )?(?:on|where|in|by)\b|\b(?:deje|dejo|puse|pongo) (?:mi|el) testamento (?:en|sobre|donde)\b",
        r"\b(?:arreglando|arregle|arreglar|poner|puse|poniendo|dejar|deje|dejando|tengo) (?:todos |todas )?(?:mis|todos mis) (?:asuntos|papeles|cosas|pendientes) (?:en orden|arreglad\w+)\b",
        r"\b(?:dejar|deje|dejando|dejo|puse|pongo|poniendo|poner|tengo|arregle|arreglando) (?:ya )?todo (?:en orden|arreglado|listo)\b", r"\b(?:hice|haciendo|escribi|hacer) (?:mi )?testamento\b", r"\b(?:ya )?(?:arregle|deje arreglado|puse en orden) (?:lo de )?(?:la casa|los papeles|el testamento|mis cosas|todo)\b",
    ),
    # "feeling like a burden" (988)
    "feels a burden": _rx(
        r"\b(?:i am|i feel like|feel like|i am just|im just|being|just|such|only) (?:a |such a |nothing but a |only a )?burden\b",
        r"\bburden (?:to|on|for) (?:my|everyone|the|them|all|you|him|her|others|people|everybody)\b",
        r"\b(?:shes|hes|she is|he is|theyre|they are|she feels|he feels|she thinks|he thinks|feels like|says (?:she|he) is|saying (?:she|he) is)(?: she is| he is)? (?:just |only |such )?(?:a |such a |nothing but a )?burden\b",
        r"\b(?:dice|siente|piensa|cree) que (?:es|solo es) (?:una )?(?:carga|estorbo)\b",
        r"\b(?:everyone|they|my family|my kids|the kids|my wife|my husband|everybody|my children)(?: would| will| are)? (?:be )?(?:better off|happier|fine|ok|okay)(?: \w+)? without me\b",
        r"\b(?:soy|ser|seria|siento que soy|me siento|solo soy) (?:una |como una |puro )?(?:carga|estorbo)\b", r"\bsolo (?:estorbo|doy problemas)\b",
        r"\b(?:estarian|estaran|estarian todos) mejor sin mi\b",
    ),
    # "not expecting to be around" (988: talking about having no future)
    "no future": _rx(
        r"\b(?:there|it) (?:wont|will not) be an? (?:\w+ )?(?:for me|next (?:time|one|year))\b", r"\b(?:probably|likely) (?:my|the) last (?:one|birthday|visit|appointment|text)\b",
        r"\b(?:not|no) (?:to )?(?:this|esta) (?:or|ni) (?:anything|any|nada|ninguna) (?:else|mas|otra)\b", r"\bnothing left to (?:show up|live|come back|look forward) for\b",
        r"\b(?:wont|will not|dont think i will|dont think i am going to|dont expect to|not going to|probably wont|may not|might not|doubt i will) (?:still )?be (?:around|here|alive)\b",
        r"\b(?:wont|will not|dont think i will) (?:need|be needing|make it to) (?:\w+ ){0,4}(?:anymore|any more|after this|where i am going|by then|much longer)\b",
        r"\bwhere i am going\b", r"\b(?:by then|before then) i (?:wont|will not) be\b", r"\bi will be gone (?:by then|soon|before)\b",
        r"\b(?:dont|no need to) (?:book|schedule|bother) (?:\w+ ){0,5}(?:i wont|i will not) be (?:here|around)\b", r"\bwont be (?:a )?(?:patient|here) much longer\b",
        r"\bya no (?:voy a )?(?:estar|estare) (?:aqui|aca|para (?:esa|la|mi|entonces|eso)|por aqui|vivo|viva)\b",
        r"\bno (?:voy a|creo (?:que )?(?:vaya a|voy a)?) (?:estar|llegar) (?:viv[oa]|aqui|para (?:esa|la) cita)\b",
        r"\bpara entonces ya no (?:voy a estar|estare|estoy)\b", r"\bno creo que (?:vuelva|regrese)\b", r"\ba donde voy\b", r"\bno voy a estar para\b",
        r"\bno (?:me|lo|la|nos|los) (?:iban|van|vamos|vas|va) a volver a ver\b", r"\b(?:wont|will not|never) see (?:me|him|her) again\b",
        r"\bno (?:llego|voy a llegar|paso|creo llegar) (?:al|a|del|hasta el) (?:otro|proximo|siguiente) (?:mes|ano)\b", r"\b(?:wont|will not|dont think i will) make it (?:to|till|until) (?:next|the next|my next) (?:month|year|visit|appointment|session|birthday)\b(?!.{0,60}\b(?:traffic|car|work|ride|flight|trip|town|schedule|busy|sick|kids|babysitter|shift|school|weather|snow)\b)",
        r"\bno (?:voy a llegar|llego|creo (?:que )?llegar|creo que llegue) (?:al|hasta el) (?:lunes|martes|miercoles|jueves|viernes|sabado|domingo|fin de semana)\b(?!.{0,40}\b(?:trabajo|carro|trafico|ride|cita de las|a tiempo|temprano)\b)",
        r"\b(?:dont|do not) know if i(?: will|ll)? (?:still )?(?:be (?:alive|around|here)|make it (?:that long|till then|until then))\b",
        r"\bnot sure i(?: will|ll)? (?:still )?be (?:alive|around)\b", r"\bno future (?:worth|for me|left|to look forward)\b", r"\bthere is no future (?:for me|anymore)?\b", r"\bno se si (?:siga|sigo|seguire|voy a seguir|voy a estar|este|llegue) (?:viv[oa]|aqui|con vida)\b",
        r"\b(?:wont|will not) (?:need|be needing) (?:\w+ ){0,3}(?:after|past|beyond) (?:this |next )?(?:\w+day|tonight|tomorrow|weekend|week)\b",
        r"\bno (?:voy|vamos) a necesitar (?:\w+ ){0,3}(?:despues|pasado) (?:del?|de (?:este|esta|la|el)) (?:\w+)\b",
        r"\b(?:there (?:wont|will not) be|no (?:va a haber|habra)) (?:anyone |anybody |a )?(?:quien|nadie|anyone|anybody|nobody)? ?(?:left )?(?:to |a quien )?(?:remind|text|send|recordar\w*|avisar\w*|mandar\w*|escribir\w*)\b",
    ),
    # "no reason to live" (988) as it shows at a practice: no point in treatment
    "no point in treatment": _rx(
        r"\b(?:no|whats the|what is the|dont see the|dont see any|see no) point (?:in|of|to) (?:treatment|treating|fixing|getting|taking|continuing|my (?:meds|medication|treatment|teeth|health)|any of (?:it|this)|trying|bothering|anything|it anymore)\b(?!.{0,40}\bif\b)",
        r"\b(?:it|nothing|none of (?:it|this)) (?:doesnt|wont|will not|does not) matter (?:anymore|any more|soon|where)\b",
        r"\b(?:wont|will not|doesnt|does not) matter (?:after (?:this|the|next) (?:weekend|week|month|\w+day)|by then|soon)\b",
        r"\bwhy bother (?:with|fixing|treating|taking|getting)\b", r"\bnot worth (?:fixing|treating|saving) (?:me|anymore)\b",
        r"\b(?:stopped|stopping|quit|quitting) (?:taking )?(?:all )?(?:of )?(?:my )?(?:meds|medication|medicine|insulin|treatment|pills)\b.{0,60}\b(?:point|matter|care anymore|done with|give up|gave up)\b",
        r"\b(?:ya )?no tiene (?:caso|sentido) (?:seguir|el tratamiento|tratarme|arreglar\w*|nada|vivir|ir|venir)\b",
        r"\bpara que (?:me )?(?:arreglo|trato|sigo|seguir|tratarme|arreglarme|curarme|me curo)\b", r"\bde que sirve (?:seguir|el tratamiento|tratarme|todo esto|vivir)\b",
        r"\bya no (?:me )?importa nada\b", r"\bnada (?:me )?importa ya\b", r"\bdeje (?:todas )?(?:mis )?(?:medicinas|pastillas|insulina) (?:porque|pq) ya no\b",
    ),
    # "no way out / unbearable" (988: feeling trapped; C-SSRS wish to be dead, passive)
    "trapped / wish to be gone": _rx(
        r"\bno way out\b", r"\bfeel(?:ing)? (?:so )?trapped\b", r"\bwish i (?:wasnt|was not|were not|werent) (?:here|alive|around|born)\b",
        r"\bwish (?:it would|everything would|it could) (?:all )?(?:end|stop)\b", r"\bwish i could (?:just )?(?:disappear|vanish|go to sleep forever|not exist)\b",
        r"\b(?:ojala|quisiera|quiero) (?:no )?(?:despertar|desaparecer|dormir y no despertar|dormirme y no despertar)\b", r"\bojala (?:me )?muriera\b",
        r"\bno (?:hay|veo) (?:otra )?salida\b", r"\bme siento atrapad[oa]\b", r"\bno quisiera (?:seguir|despertar)\b",
        r"\b(?:think|thinking|thought|dream|dreaming|wish|wishing|hope|hoping|pray|praying) (?:\w+ ){0,2}(?:about |of )?(?:just )?(?:not waking up|never waking up|not wake up|i (?:wont|dont|wouldnt|never) wake up)\b",
        r"\b(?:prefiero|preferiria|preferia|mejor) estar muert[oa]s?\b|\b(?:id|i would|i had) rather be dead\b",
    ),
    # overdose told plainly; stockpiling; lethal-dose questions (C-SSRS method / preparatory acts)
    "overdose or stockpiled medication": _rx(
        r"\b(?:took|taken|swallowed|ate|take|taking|popped)(?: (?:a|the|my|his|her|all|of|like|about|almost|over|maybe|around))* (?:handful|bunch|bottle|whole bottle|whole box|box|pack|lot|rest|\d{2,}|twenty|thirty|forty|fifty|way too many|too many|all)\b(?:\W+\w+){0,5}?\W+(?:pills|tablets|capsules|meds|medication|oxy\w*|xanax|tylenol|advil|ibuprofen|sleeping|insulin|percocet|vicodin|painkillers|pain killers|benadryl|ambien|gummies)",
        r"\bon purpose\b.{0,60}\b(?:pills|tablets|meds|medication|took|swallowed|cut|burn\w*|overdose)\b", r"\b(?:pills|tablets|meds|medication|took|swallowed|cut|burn\w*)\b.{0,60}\bon purpose\b",
        r"\bintentional(?:ly)?\b.{0,40}\b(?:took|overdose|pills|medication)\b",
        r"\b(?:how many|what amount of|cuantas|cuantos) (?:\w+ ){0,3}(?:pills|tablets|pastillas|tabletas) (?:\w+ ){0,5}(?:to (?:die|not wake|sleep forever|be fatal|overdose|end)|(?:is|are|would be|would) (?:fatal|lethal|deadly|too many|kill)|para (?:no despertar|dormir para siempre|acabar))",
        r"\b(?:the )?(?:most|max\w*) (?:\w+ ){0,2}(?:a person|someone|one|i|you) (?:can|could) take\b.{0,40}\b(?:too much|before|dangerous|fatal)\b", r"\bhow much (?:\w+ ){0,4}(?:would be|is|would) too much\b",
        r"\blethal dose\b", r"\bdosis (?:letal|mortal)\b", r"\b(?:cuant[oa]s?|how many|how much|que cantidad)\b.{0,60}\b(?:pa|para|to|so (?:i|you|someone)) (?:no )?(?:despertar\w*|not wake|never wake|morir\w*|die|dormir para siempre|sleep forever)\b",
        r"\bhow many\b(?:\W+\w+){0,5}?\W+(?:is|are|would be|will be|counts as) too many\b", r"\bcuant[oa]s\b.{0,40}\b(?:son|serian|seria) demasiad[oa]s?\b",
        r"\bstockpil\w*\b|\bhoard\w* (?:it|them|my|pills|meds)\b",
        r"\b(?:putting|put|setting|set|saving|stashing|hiding|keeping) (?:a few|some|them|pills|\w+) (?:aside|away|back)\b.{0,60}\b(?:planned|plan|for later|for something|got plenty|enough|what i)\b",
        r"\bwhat (?:happens|would happen|will happen) if (?:someone|somebody|a person|i|you|he|she) (?:takes?|took|doubles? up|doubled up|injects?|injected|ate|swallow\w*|drinks?|drank)\b.{0,50}\b(?:insulin|pills|tylenol|advil|meds|medication|bottle|a lot|too much|all of|whole)\b",
        r"\b(?:double[sd]? up|doubling up|took double|triple[sd]? up)\b.{0,30}\b(?:insulin|pills|meds|medication)\b.{0,40}\b(?:a lot|hypothetical\w*|asking for a friend|what happens)\b",
        r"\b(?:refill\w*|more|extra)\b(?:\W+\w+){0,5}?\W+(?:dont ask why|no pregunten (?:por que|para que)|saving them (?:up )?for something)\b|\bsaving them (?:up )?for something\b",
        r"\b(?:how long|how many|how much|cuant[oa]s?|cuanto tiempo)\b(?:\W+\w+){0,4}?\W+(?:\d{2,}|a (?:bottle|bunch)) (?:\w+ )?(?:tylenol|advil|aspirin|pills|tablets|paracetamol\w*|pastillas|tabletas|gabapentin\w*|ibuprofen\w*)\b",
        r"\b(?:how many|cuant[oa]s)\b(?:\W+\w+){0,4}?\W+(?:tylenol|advil|pills|tablets|pastillas|tabletas|gabapentin\w*|paracetamol\w*)\b.{0,40}\b(?:shut|liver|higado|peligros\w*|dangerous|fatal|kill|de un jalon|de golpe|at once)\b", r"\b(?:saving|stockpiling|hoarding|collecting|stocking up on|guardando|juntando) (?:up )?(?:all )?(?:my |mis |las )?(?:pills|meds|medication|pastillas|medicinas|painkillers)\b",
        _near(r"(?:juntar|guardar|acumular|juntando|guardando|acumulando|save up|stock up|collect) (?:\w+ )?(?:cajas|frascos|pastillas|medicinas|boxes|bottles|pills)", r"por si acaso|just in case|por si las dudas|for later|para despues", 6),
        r"\b(?:me )?(?:tome|trague|se tomo|se trago|me trague|nos tomamos) (?:todas? |un (?:frasco|bote|monton|punado)|el (?:frasco|bote)|muchas|todo el (?:frasco|bote)|\d{2,}) ?(?:de )?(?:las |mis |sus )?(?:pastillas|pildoras|medicinas|tabletas|capsulas)\b",
        r"\b(?:me )?(?:tome|trague|se tomo|se trago|me trague) (?:un (?:monton|punado|chingo|frasco|bote|paquete|blister|caja)|una caja|muchisim[oa]s|tod[oa]s? (?:el|la|los|las)) (?:de )?(?:\w+ )?(?:tylenol|paracetamol|acetaminofen\w*|advil|ibuprofeno|aspirinas?|clonazepam|alprazolam|xanax|rivotril|ambien|zolpidem|insulina|pastillas|pildoras)\b",
        r"\b(?:junte|guarde|junto|juntando|reuni|gathered|collected|put|lined up|counted out) (?:up )?(?:todas |all )?(?:las |the |my |mis )?(?:pastillas|pills|meds|medicinas|tablets) (?:de la casa |in the house |i have |que (?:tengo|habia) )?(?:en|in|into|on|sobre)\b",
        r"\ba proposito\b.{0,50}\b(?:pastillas|tome|me corte|tabletas|me queme)\b|\b(?:pastillas|tome|me corte|me queme)\b.{0,50}\ba proposito\b",
        r"\b(?:enough|suficientes?|bastantes?)\b.{0,40}\b(?:to|pa|para) (?:finish|end|acabar con|terminar con) (?:this|it|esto|todo|it all)\b",
        r"\b(?:amount|dose|how much|how many|cuant[oa]s?|cantidad)\b.{0,40}\b(?:would|could|will|to) (?:actually |really |finally )?(?:do it|do the job|be fatal|be lethal|end it)\b",
        r"\b(?:refill\w*|prescription|pills|meds|receta|pastillas|surt\w*)\b.{0,80}\b(?:not (?:planning on|going to be) needing (?:any )?more|last time i (?:will )?(?:bother|ask|text)|no (?:voy a|vuelvo a) necesitar (?:mas|otra))\b",
    ),
    # self-injury, also told by a parent about a child
    "self-injury": _rx(
        r"\b(?:me|se) (?:queme|quemo|quema|quemaba) con (?:el |un |los |la |mi |su )?(?:cigarr\w*|encendedor)\b", r"\bburn(?:ed|t|ing)? (?:my ?self|myself|himself|herself) with (?:a |the |my )?(?:cigarette|lighter)\b",
        r"\bme (?:queme|corte|lastime|pegue|rasgune) (?:\w+ ){0,4}(?:otra vez|de nuevo|a proposito)\b",
        r"\b(?:cutting|burning|hitting|scratching|hurting|harming) (?:my ?self|myself|himself|herself|themselves|themself)\b",
        r"\b(?:scratch\w*|pick\w*|rasgun\w*|rasque) (?:at )?(?:my|his|her|mis|sus|la|el) (?:\w+ )?(?:arms?|legs?|skin|wrists?|thighs?|brazos|piernas|piel|munecas)\b.{0,20}\b(?:till|until|hasta) (?:they|it|i|que) ?(?:bled|bleed|bleeding|sangr\w*)\b",
        r"\b(?:cut|burned|burnt) (?:my ?self|myself|himself|herself|themselves) (?!shaving|cooking|by accident|accidentally)",
        r"\b(?:he|she|they|my (?:son|daughter|kid|child|teen|boy|girl|grandson|granddaughter)) (?:has been|have been|is|are|keeps|was|started|been) (?:cutting|hurting|harming|burning) (?:again|(?:him|her|them)sel(?:f|ves)|on purpose)\b",
        r"\b(?:marks|scars|cuts|burns) on (?:his|her|their|my) (?:arms?|wrists?|legs?|thighs?)\b",
        r"\b(?:hit|hitting|bang|banging|slam|slamming|punch|punching) (?:my|his|her) (?:head|fists?) (?:against|on|into) (?:the |a )?(?:wall|floor|door)\b",
        r"\b(?:me pego|me golpeo|se pega|se golpea|me doy) (?:en )?(?:la cabeza|cabezazos|golpes)\b.{0,25}\b(?:contra|pared|cuando)\b",
        r"\b(?:se|me|te) (?:corto|corte|cortaron|corta|cortas) (?:las|sus|mis|tus) (?:munecas|venas)\b", r"\bcortarse las (?:munecas|venas)\b",
        r"\b(?:cut|slit|slashed|sliced) (?:his|her|my|their|both) (?:own )?wrists\b", r"\bslit (?:his|her|my|their) (?:own )?wrist\b",
        r"\bse (?:esta|estaba|anda|ha estado) cortando\b", r"\b(?:me|se) sigo (?:lastimando|cortando|haciendo dano|quemando)\b|\bsigo (?:lastimandome|cortandome|haciendome dano)\b|\bme sigue (?:dando ganas de (?:cortarme|lastimarme))\b|\b(?:keep|keeps) (?:hurting|cutting|harming) (?:myself|herself|himself)\b", r"\bse corta\b", r"\bse lastima (?:a proposito|sol[oa])\b", r"\bcortes en (?:sus|los|mis) (?:brazos|munecas|piernas)\b",
        r"\b(?:me|se) (?:quemo|quema|corto|corta|rasguno|rasguna|rayo|raya) (?:los|las|mis|sus) (?:brazos|piernas|munecas|muslos|manos)\b",
        r"\b(?:i|he|she|they) (?:burn|burns|cut|cuts|scratch|scratches) (?:my|his|her|their) (?:arms|legs|wrists|thighs|skin)\b(?! (?:shaving|cooking|at work|on))",
        r"\b(?:found|saw|noticed|see|seen|encontre|vi|note|descubri)\b(?:\W+\w+){0,4}?\W+(?:cuts|cortadas|cortes|cortaduras|burns|quemaduras|scars|cicatrices)\b.{0,30}\b(?:arms?|legs?|wrists?|thighs?|brazos|piernas|munecas|muslos)\b",
    ),
    # C-SSRS wish to be dead / intent, in words the direct list lacks
    "wish to be gone": _rx(
        r"\b(?:im|i am) (?:not|no longer) (?:scared|afraid)(?: anymore)?\b.{0,60}\b(?:ready|at peace)\b", r"\bya no tengo miedo\b.{0,60}\b(?:list[oa]|en paz)\b",
        r"\b(?:ready|listo|lista) (?:to die|to go|para morir\w*|para irme)\b", r"\b(?:irme|me quiero ir|me voy a ir|leave|leaving) (?:de )?(?:este|this) (?:mundo|world)\b",
        r"\b(?:no quiero|ya no quiero|dont want to|do not want to) existir\b|\b(?:dont|do not) want to exist\b|\btired of exist\w*\b", r"\bunalive\b",
        r"\b(?:dont|do not|cant|can not) (?:feel )?safe (?:with myself|tonight|alone|by myself)\b|\bcant promise i (?:will|am going to) be safe\b",
        r"\bno me siento segur[oa] (?:conmigo|sol[oa]|esta noche)\b", r"\b(?:at|on|en) (?:the|el) (?:bridge|puente)\b.{0,60}\b(?:text|know|who|nadie|quien|sabe|bye|adios)\b",
        r"\b(?:at|by|near|on|en|junto al|cerca del) (?:the|el|la) (?:river|rio|lake|lago|bridge|puente|tracks|train tracks|vias|cliff|acantilado|presa|dam)\b.{0,80}\b(?:tell (?:my|him|her|them|everyone)|diganle|dile|love (?:her|him|them|you)|(?:la|lo|los|las) quiero|bye|adios|sorry|perdon|perdonen|nobody|nadie|forgive)\b",
        # a last message relayed through the practice ("tell my daughter I love her")
        r"\btell (?:my )?(?:daughter|son|kids|children|wife|husband|mom|mother|dad|father|family|everyone|grandkids|sister|brother)\b.{0,15}\b(?:i love (?:her|him|them|you)|i am sorry|goodbye|bye)\b(?!.{0,40}\b(?:appointment|appt|visit|pick\w* up|after school|today at)\b)",
        r"\b(?:diganle|digale|dile|diles|digan(?:le|les)?) a (?:mi |mis )?(?:hija|hijo|hijos|hijas|esposa|esposo|mama|papa|familia|nietos|todos)\b.{0,10}\bque (?:la|lo|los|las) (?:quiero|amo)\b",
        # faith: asking God to take one now, going to be with the Lord after tonight, made peace with God and no need to worry
        r"\b(?:ready|listo|lista|waiting|esperando|praying|pray|rezo|rezando|pido|pidiendo|le pido|asking)\b.{0,15}\b(?:for )?(?:god|the lord|jesus|dios|diosito|el senor)\b (?:to )?(?:take|call|lleve|llame|recoja|se me lleve|me lleve|me recoja) ?(?:me )?(?:home )?(?:tonight|now|today|soon|already|ya|hoy|esta noche|pronto)?\b",
        r"\bque (?:dios|diosito|el senor) (?:ya )?me (?:lleve|recoja|llame)\b(?! (?:con bien|a mi cita|a la cita))",
        r"\b(?:after|by|past) (?:tonight|today|tomorrow|this weekend)\b.{0,30}\b(?:i will|ill|i am going to|im going to|i gonna|i go to) be (?:with (?:the lord|god|jesus|my (?:savior|saviour|late \w+))|in heaven|home with (?:the lord|god|jesus))\b",
        r"\b(?:i will|ill|i am going to|im going to|i gonna) be (?:with (?:the lord|god|jesus)|in heaven) (?:tonight|today|tomorrow|soon|after tonight|by (?:tomorrow|morning))\b",
        r"\b(?:made|make|have made|ive made|hice|he hecho|ya hice) (?:my |las |mis )?(?:peace|paces) (?:with|con) (?:god|the lord|dios|el senor|everyone|todos)\b.{0,60}\b(?:dont worry|do not worry|no se preocupen|no te preocupes|wont need|will not need|no need|ya no|anymore|ready|list[oa]|goodbye|adios|bye|cancel\w*)\b",
        # cannot go on living like this
        r"\b(?:cant|cannot|can not|no puedo|ya no puedo|no quiero)\b (?:\w+ )?(?:continue|keep|go on|seguir) (?:to live|living|viviendo|vivir|asi|like this) (?:like this|asi|anymore|mas)?\b(?!.{0,40}\b(?:pain|tooth|teeth|dolor|muela|diente|knee|back|rodilla|espalda|insurance|seguro|bill|factura)\b)",
        r"\b(?:car|carro|coche)\b.{0,40}\b(?:garage|cochera)\b.{0,40}\b(?:engine|motor)\b|\b(?:engine|motor) (?:running|prendido|encendido)\b.{0,30}\b(?:garage|cochera)\b",
        r"\b(?:pain|suffering|dolor|sufrimiento) to be over (?:for good|forever)\b|\bthe pain (?:to )?(?:stop|end) for good\b",
        r"\bdeath (?:sounds|seems|would be|feels) (?:like )?(?:a )?(?:relief|peaceful|nice|better)\b|\bla muerte (?:suena|seria|parece) (?:como )?(?:un )?(?:alivio|descanso)\b",
        r"\bojala (?:ya )?(?:estuviera muert[oa]|me muriera|no despertara)\b", r"\b(?:tying|tie) up (?:all )?(?:my )?loose ends\b", r"\bhandling my estate\b",
        r"\b(?:leave|leaving|dejar|dejarles|dejando) (?:everything|todo|mis cosas) (?:clean|in order|arreglado|en orden|listo) (?:for|para) (?:my|mi|mis)\b",
        r"\b(?:driv\w*|drove|jump\w*|steer\w*|crash\w*) (?:my car )?(?:off|into|over|from|out of) (?:the|a|an|my) (?:overpass|bridge|cliff|roof|building|ledge|highway|wall|tree|train|balcony|window)\b",
        r"\b(?:tirarme|aventarme|estrellarme|lanzarme) (?:del|de un|de una|contra|al|con el carro)\b", r"\bse (?:quiso|quiere|queria|intento|trato de) (?:tirar|aventar|lanzar|matar|colgar|ahorcar|cortar las venas)\b|\bme (?:quise|quiero|queria|intente|trate de) (?:tirar|aventar|lanzar|colgar|ahorcar)\b", r"\b(?:tirar|aventar|lanzar)(?:se|me|te) (?:por|de|desde) (?:la|el|una|un) (?:ventana|balcon|puente|edificio|azotea|techo)\b",
        r"\b(?:i am|im) (?:up |sitting |standing )?on (?:the|a|my) (?:roof|rooftop|ledge|edge|bridge|overpass|train tracks|tracks) (?:of (?:my|the|a|our|this) (?:\w+ )?(?:building|apartment|school|garage|dorm|work|house|hotel|hospital) )?(?:right now|rn|now)\b",
        r"\b(?:i am|im) (?:up |sitting |standing )?on (?:the|a|my) (?:roof|rooftop|ledge|edge|bridge|overpass|train tracks|tracks)\b.{0,80}\b(?:somebody|someone|anyone|anybody|knew me|know me|one last|last)\b",
        # researching a method (C-SSRS preparatory behaviour)
        r"\b(?:googl\w*|search\w*|looking up|look up|looked up|research\w*|reading (?:up )?(?:on|about)|buscando|busque|busco|investigando|investigue)\b.{0,30}\b(?:ways|how|methods|como|maneras|formas|metodos)\b.{0,25}\b(?:to die|dying|end it|end my life|kill (?:myself|himself|herself|yourself)|hang (?:myself|himself|herself|yourself)|overdose|painless\w*|without (?:it )?(?:pain|hurting)|it (?:wont|doesnt) hurt|morir\w*|matar(?:me|se)|ahorcar\w*|colgar(?:me|se)|quitar(?:me|se) la vida|sin que duela|no despertar|acabar con todo|suicid\w*)\b",
        r"\b(?:googl\w*|search\w*|looking up|look\w* up|research\w*|reading (?:up )?(?:on|about)|buscando|busque|busco|investig\w*)\b.{0,40}\b(?:is |are |would be |es |seria )?(?:painless|lethal|fatal|deadly|sin dolor|letal|mortal)\b",
        r"\b(?:helium|exit bag|nitrogen|charcoal grill|carbon monoxide|helio|carbon)\b.{0,40}\b(?:painless|die|dying|quick|enough|sin dolor|morir|rapido)\b",
        r"\b(?:bought|got|have|picked up|compre|consegui|ya tengo|tengo) (?:what|everything|all|lo que|todo lo que) (?:i|yo)? ?(?:need|needed|necesito|necesitaba)\b.{0,80}\b(?:not going to say|wont say|not saying|dont ask|no voy a decir|no pregunten|tonight|esta noche|ready|list[oa]|goodbye|adios|talked about|hablamos)\b|\b(?:talked about|hablamos) (?:in|en) (?:session|sesion|therapy|terapia)\b.{0,40}\b(?:bought|got|compre|consegui)\b",
        r"\b(?:keep|kept|been|always|cant stop) (?:googl\w*|search\w*|looking up|reading about|researching) (?:ways|how|methods) to do it\b|\b(?:buscando|busco|busque) (?:en (?:google|internet) )?(?:como|formas de|maneras de) hacerlo\b",
        r"\bthinking about (?:just )?(?:driving|jumping|crashing|stepping)\b", r"\b(?:think|thinking|thoughts?|urges?|pensar|pensando|pienso) (?:about|of|to|en) (?:just )?(?:jump\w*|tirarme|aventarme|lanzarme)\b",
        r"\b(?:thinking|think|thoughts?|pensando|pienso) (?:about|of|en) (?:just )?(?:swerv\w*|steer\w*|walk\w* in ?to|aventarme|tirarme|chocar|estrellarme|meterme)\b",
        r"\b(?:swerv\w*|steer\w*|driv\w*|walk\w*|step\w*) (?:my car )?(?:in ?to|in front of) (?:the )?(?:oncoming )?(?:traffic|a (?:truck|bus|train|car))\b",
        r"\b(?:on|up on|at|standing on|sitting on|en|arriba en|parad[oa] en|sentad[oa] en) (?:the|a|my|el|la|un|una) (?:roof|rooftop|ledge|edge|bridge|overpass|tracks|train tracks|cliff|techo|azotea|orilla|puente|vias)\b.{0,60}\b(?:thinking|for a while|alone|cant|dont know|goodbye|bye|last|nobody|no one|pensando|sol[oa]|no se|adios|nadie)\b",
                r"\b(?:i have|i got|tengo|ya tengo) (?:a|un) plan\b", r"\bi know (?:when|how|where) i (?:will|am going to) do it\b", r"\bya se (?:cuando|como|donde) lo voy a hacer\b",
        r"\b(?:made|i have made|hice|tome) (?:my|the|mi|la) (?:decision|decision final)\b.{0,60}\b(?:peace|paz|need|necesit\w*|wont|goodbye|ready)\b", r"\bat peace with (?:it|my decision)\b",
        r"\b(?:if|si) (?:i am|sigo|estoy) (?:still )?(?:here|alive|around|aqui|viv[oa]|con vida) (?:by then|para entonces|todavia)\b", r"\bhoping i am not (?:here|around|alive)\b",
        # survival as a condition of the next visit ("see you monday, if i am still here")
        r"\bif i am still (?:here|around|alive|breathing|living)\b(?! (?:at|after|in|by|past|when|waiting|working|on|for|at work|in line|in town)\b)",
        r"\bif i (?:make it|last|live|survive) (?:that long|till then|until then|to then|to (?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|next week))\b",
        r"\bsi (?:es que )?(?:todavia |aun |para entonces )?(?:sigo|estoy|sigo estando) (?:viv[oa]|con vida)\b|\bsi es que (?:todavia |aun )?sigo (?:aqui|por aqui|aca)\b",
        r"\bno (?:pienso|voy a|creo que voy a|creo) (?:seguir|estar|durar|quedarme) (?:aqui |por aqui |aca |en este mundo )?(?:por )?(?:mucho|mas) tiempo\b|\bno (?:pienso|quiero) seguir (?:aqui|en este mundo|viviendo)\b",
        # "no more texts. no more anything", "im done with everything"
        r"\bno more (?:anything|everything|of anything)\b", r"\bwish i (?:hadnt|had not|didnt|did not|wouldnt|would not|never) (?:woken|wake|woke|waked) up\b|\bojala no (?:hubiera|me hubiera) despertado\b",
        r"\b(?:help|ayud\w*) (?:a person |someone |somebody |me |alguien |a alguien |a una persona )?(?:to |a )?(?:die|morir|morirse) (?:peacefully|in peace|quietly|tranquil\w*|en paz|sin dolor|painlessly|dormid[oa])\b|\b(?:algo|something|anything|pills?|pastillas?) (?:para|to) (?:morir|morirme|die|help me die)\b",
        r"\b(?:ya )?(?:vivi|he vivido) (?:bastante|suficiente|lo suficiente|demasiado|mucho ya)\b|\b(?:ive|i have) lived (?:long )?enough\b|\blived (?:a )?long enough\b", r"\b(?:me canse|me cansé|estoy cansad[oa]|ya me canse|cansad[oa]) de (?:luchar|pelear|seguir|vivir|aguantar)\b(?! (?:con|contra) )|\btired of (?:fighting|struggling|going on|hanging on)\b(?! (?:with|against|for) )",
        r"\bno creo que me (?:vean|vuelvan a ver|vayan a ver)\b", r"\b(?:dont|do not) think i(?: will|ll)? (?:make it|last|hold on|hang on|be able to hold on|can (?:hold|hang) on|can last) (?:that long|till then|until then|much longer)\b",
        r"\bno (?:creo|se si (?:voy a|pueda|podre)) (?:aguantar|durar|llegar) (?:tanto|hasta (?:entonces|ese dia|esa fecha|el \w+)|mucho mas)\b",
        r"\b(?:no es (?:cierto|broma)|es broma|just kidding|jk|kidding)\b.{0,20}\b(?:bueno|well|or|o|pero|but)\b.{0,5}\b(?:mas o menos|kind of|sort of|not really|no tanto|maybe not|no del todo|tal vez no)\b", r"\b(?:i am|im) (?:so |just |completely )?done (?:with )?(?:everything|life|it all|all of it|living|being alive)\b",
        # impulsive intent: "before i do something stupid", "antes de que haga una locura"
        r"\b(?:before|afraid|scared|worried|think|might|could|going to|gonna|about to|so i dont)\b(?: that)?(?: i| i will| ill| i am going to| i might)? do something (?:stupid|crazy|drastic|dumb|terrible|permanent|i cant take back|i will regret|to myself)\b",
        r"\b(?:antes de que|antes de|miedo de|miedo a|temo|creo que voy a|voy a|podria|tengo ganas de) (?:haga |hacer |cometa |cometer )?(?:una )?(?:locura|tonteria|algo (?:malo|estupido|tonto|de lo que me arrepienta|contra mi))\b",
        r"\b(?:ya )?me despedi de (?:todos|mi familia|ustedes)\b",
        r"\b(?:after|when|once) i (?:die|am dead|pass|pass away|am gone)\b.{0,80}\b(?:soon|this week|tonight|tomorrow|quickly|right away|pronto)\b|\b(?:cuando|despues de que) (?:me muera|muera|ya no este)\b.{0,80}\b(?:pronto|esta semana|esta noche|manana|rapido)\b", r"\b(?:said|say|saying) (?:my )?goodbyes? to (?:everyone|my family|all|everybody)\b",
        r"\b(?:no tengo|sin|ni|ya no tengo) (?:las )?ganas de (?:seguir )?vivi\w*\b", r"\bno (?:le )?encuentro (?:sentido|razon) (?:a|para) (?:la vida|vivir|seguir)\b",
        r"\bencargarse de mis cosas\b", r"\bantes de irme de este mundo\b", r"\bya (?:se|tengo decidido) lo que voy a hacer\b", r"\bi know what i (?:am going to|will) do\b.{0,40}\b(?:tonight|now|finally)\b",
    ),
    # a psychiatric crisis: voices, commands, a dead loved one calling (988)
    "voices or commands": _rx(
        r"\bvoices?\b.{0,40}\b(?:tell\w*|say\w*|want\w*|order\w*|command\w*|telling|asking) (?:me|him|her|them) to\b",
        r"\b(?:hearing|hears|hear|heard|oigo|oye|escucha|escucho|oyendo|escuchando) (?:\w+ ){0,2}(?:voices|voces)\b",
        r"\b(?:tell\w*|call\w*|ask\w*|want\w*) me to (?:come )?(?:join|be with) (?:her|him|them)\b",
        r"\b(?:me|le) (?:dice|dicen|pide|piden|llama|llaman) que (?:me vaya con|se vaya con|vaya con|me una|me mate|se mate|me haga dano|se haga dano)\b",
    ),
    # what a parent or partner reports another person said (988 warning signs, third person)
    "another person's words": _rx(
        r"\b(?:says|said|keeps saying|told me|told us|texted|posted|wrote|saying) (?:that )?(?:he|she|they) (?:wants? to|wished|wishes|would rather|is going to|was going to|doesnt want to|dont want to|does not want to|didnt want to) (?:die|be dead|not be here|disappear|end it|live|be alive|hurt (?:himself|herself|themselves)|wake up|be around)\b",
        r"\b(?:says|said|keeps saying|told me|thinks) (?:that )?(?:we|everyone|the family|i|they) (?:would be|are|will be|d be) better off without (?:him|her|them)\b",
        r"\b(?:wants|wanted) to (?:die|be dead|not be (?:alive|here)|kill (?:him|her|them)sel(?:f|ves)|end (?:it|his life|her life))\b",
        r"\b(?:says|said|wrote|writes|texted|posted|told \w+)\b(?:\W+\w+){0,6}?\W+that (?:he|she|they) (?:wants? to|wished|wishes|is going to) (?:die|be dead|disappear|end it|not be here)\b",
        r"\b(?:dice|dijo|anda diciendo|me dijo) que (?:ya )?(?:no )?quiere (?:morir\w*|vivir|estar aqui|desaparecer|despertar|seguir)\b",
        r"\b(?:dice|dijo|piensa) que (?:seria|estariamos|estamos) mejor sin (?:el|ella)\b",
    ),
}


# --- medical emergencies and the urgent symptom list -------------------------------------
_DENTAL_WORK = (
    r"extract\w*|pulled|pull(?:ing)? (?:my|a|the)|root canal|surgery|surgical|implant|procedure|"
    r"filling|crown|wisdom|oral surgeon|stitches|sutures|socket|numbing|injection|anesthe\w*|"
    r"since (?:my|the) (?:visit|appointment|cleaning)|after (?:my|the) (?:visit|appointment|cleaning)|"
    r"endodoncia|extraccion|sacaron|cirugia|muela|implante|empaste|operacion"
)
_BABY = r"baby|babys|infant|newborn|\d+[ -](?:month|week|mo|wk)s?[ -]old|\d+[ -]?(?:weeks?|wks?|months?|mos?)\b|bebe|recien nacid\w+|\d+ meses|\d+ semanas|semanitas|mesecitos"
_FEVER = r"fever\w*|temp(?:erature)?|temperatura|termometro|thermometer|3[89]\.\d|10[0-4]\.\d|burning up|fiebre|calentura|ardiendo"
_SWELL = r"swell\w*|swollen|swole|hinch\w*|inflam\w*"
# A symptom in "a near b" is matched from its anchor word, so a denial just before the symptom
# ("sin fiebre", "no está hinchado", "no spotting or cramps") is checked by look-behinds on the
# symptom itself: the denials every symptom shares, and each symptom's own.
_DENIALS = (r"\bno ", r"\bnot ", r"\bsin ", r"\bni ", "no hay ", "without ")


def _undenied(symptom: str, *more: str) -> str:
    """`symptom`, unless one of the shared denials (or `more`) comes just before it."""
    return "".join(f"(?<!{d})" for d in _DENIALS + more) + f"(?:{symptom})"


_FEVER_LIVE = _undenied(_FEVER, "no tiene ", "no tengo ", r"\bany ", r"\bnor ", "no swelling or ", "no pain or ", "no bleeding or ", "no redness or ")
_SWELL_LIVE = _undenied(_SWELL, "no esta ", "isnt ", "arent ", "not really ", "no real ", "no visible ", "no tiene ", "no se ve ")
_PREG_SIGNS = (r"bleed\w*|blood|spotting|sangr\w*|manchando|cramp\w*|colicos|emo_blood|leak\w*|fluid|liquido|contract\w*|contracc\w*|"
               r"tighten\w*|pressure|presion|water broke|rompi (?:la )?fuente|se me rompio la fuente")
_PREG_LIVE = _undenied(_PREG_SIGNS, "ningun ", "no tengo ", r"\bany ", r"\bnor ", "no spotting or ", "no bleeding or ", "no cramps or ", "no cramping or ")
# sudden confusion counts, not the long decline of a named dementia (a prefix for whole-text patterns)
_NOT_DEMENTIA = r"^(?!.*\b(?:dementia|alzheimer\w*|demencia)\b).*"
_PAIN = r"pain\w*|hurt\w*|ache\w*|aching|throb\w*|toothache|tooth|teeth|molar|jaw|gums?|dolor|duele|muela|diente"

MEDICAL = _rx(
    # chest / heart
    _near(r"chest", r"pain\w*|hurt\w*|tight\w*|pressure|pound\w*|heavy|ache\w*|squeez\w*|crush\w*", 5),
    r"\bheart attack\b", r"\bheart (?:is )?(?:racing|pounding)\b.*\bchest\b",
    _near(r"pecho", r"dolor|duele|presion|aprieta|apretado", 4), r"\binfarto\b", r"\bataque al corazon\b",
    # breathing
    r"\bcant (?:really |quite |seem to |even |fully )?(?:breathe|breath|catch (?:my|his|her|their) breath)", r"\bcan not breathe\b",
    r"\b(?:trouble|hard time|difficulty|problems?|struggling|hard) (?:to )?breath", r"\bshort(?:ness)? of breath",
    r"\b(?:not|isnt|stopped|stop) breathing\b", r"\bwheez", r"\bturning blue\b", r"\blips? (?:are |is )?(?:turning )?blue\b",
    r"\bchoking\b", r"\basthma attack\b", r"\bsob\b", r"\bgasping\b", r"\b(?:barely|hardly) (?:breathe|breath)", r"\bthroat\b.{0,25}\bclos",
    r"\bno (?:puedo|puede|podia|pudo) respirar", r"\b(?:me|le) cuesta respirar", r"\bdificultad para respirar",
    r"\b(?:me|le|nos|les) falta(?:ba)? (?:el )?aire\b", r"\b(?:me|se|nos) ahog", r"\bno respira\b", r"\bponiendo morad",
    # stroke
    r"\bstroke\b", r"\bdroop", r"\bslurr", r"\bcant (?:talk|speak) (?:right|properly|normally|well)",
    r"\bspeech is (?:weird|slurred|off|strange|funny)", r"\bnumb on one side\b", r"\bone side (?:of (?:my|his|her) (?:face|body) )?(?:is |feels |went )?numb",
    r"\bhalf (?:my|his|her|of (?:my|his|her)) face\b", r"\barm (?:went|is|feels|going) numb\b", r"\bleft arm\b",
    r"\bsudden (?:weakness|numbness|confusion|vision)", r"\bcara caida\b", r"\bno puede hablar bien\b",
    r"\bno puedo hablar bien\b", r"\bse (?:me|le) durmio (?:la mitad|el brazo|media)", r"\bderrame\b",
    # fainting / seizure / unresponsive
    r"\bfaint", r"\bpass(?:ed|ing)? out\b", r"\bblack(?:ed|ing)? out\b", r"\bcollaps", r"\bunresponsive\b",
    r"\bunconscious\b", r"\bwont wake up\b", r"\bpast out\b", r"\b(?:cant|can not|couldnt|could not|unable to) (?:wake|rouse|get) (?:him|her|them|my \w+|up)\b(?! (?:for|in time|early|at))",
    r"\bno (?:reacciona|despierta|lo puedo despertar|la puedo despertar|podemos despertar\w*)\b",
    r"\b(?:having|had|has|tuvo|tiene) (?:a |an |un )?(?:sees? (?:your|yer|sure)|seizer|seazure|siezure|ceasure|seisure|seasure)\b",
    r"\b(?:cant|can not|hard to|trouble|struggling to|no (?:puedo|puede)) breed\b|\bbreeding (?:a ?lot|alot|bad|so much|everywhere|from|since|wont|still|again)\b|\b(?:i am|im|is|keeps?|still|been) breeding\b",
    _near(r"vision|sight|vista|eye|ojo", r"blurr\w*|double|borros\w*|went (?:dark|black|gray|grey)", 3) + r".{0,60}\b(?:arm|leg|hand|face|side|brazo|pierna|mano|cara|lado)\b.{0,15}\b(?:weak|numb|heavy|debil|dormid[oa]|pesad[oa])\b", r"\b(?:not|isnt|stopped) respond(?:ing|ed)?\b", r"\bcant move (?:my|his|her) (?:left|right|arm|leg|side|face)",
    r"\bheart\b.{0,25}\b(?:squeez|crush|pressure|pound)", r"\bdesmay", r"\bno responde\b", r"\bperdio el conocimiento",
    r"\b(?:tieso|tiesa|rigid[oa]|duro|dura|stiff|rigid)\b.{0,25}\b(?:temblando|sacudiendo\w*|convulsionando|brincando|shaking|jerking|twitching|convulsing)\b",
    r"\b(?:le|me) dio un ataque\b.{0,60}\b(?:tieso|temblando|sacud\w*|espuma|no respond\w*|desmay\w*|confundid[oa])\b|\btuvo un ataque\b.{0,60}\b(?:tieso|temblando|sacud\w*|espuma|confundid[oa])\b",
    r"\bseizure(?!s? (?:med\w*|medicine|pills?|prescription|rx|drugs?|history|free|disorder|action plan|clinic|log|diary|precautions))", r"\bconvuls", r"\bataque epileptico",
    # allergy
    r"\ballergic reaction\b", r"\banaphyla", r"\b(?:throat|garganta)\b.{0,25}\b(?:cerrando\w*|cierra|closing|tight|apretad\w*)\b", r"\bse me (?:esta )?cerrando la garganta\b",
    r"\b(?:fallen|fell|fall|me cai|se cayo|me he caido|se ha caido)\b.{0,50}\b(?:cant|cannot|can not|no (?:me )?puedo|no (?:se )?puede) (?:get up|stand|move|walk|levantar\w*|parar\w*|mover\w*|caminar)\b",
    r"\b(?:arm|leg|wrist|ankle|elbow|brazo|pierna|muneca|tobillo|codo)\b.{0,30}\b(?:bent (?:wrong|weird|funny|the wrong way)|doblad[oa] (?:raro|feo|chueco)|chueco|out of place|sticking out)\b",
    r"\b(?:leg|pierna)\b.{0,30}\b(?:(?:looks |is |se ve )?shorter|turned out(?:ward)?|rotated|(?:mas )?corta que la otra|volteada hacia (?:afuera|fuera))\b",
    r"\b(?:fell|fall|fallen|me cai|se cayo|caida)\b.{0,80}\b(?:cant|can not|unable to|wont|no (?:puede|puedo)) (?:put|bear|stand|apoyar|poner)\b (?:any |ningun )?(?:weight|peso|el pie|la pierna)\b",
    _near(r"(?:arm|leg|wrist|ankle|brazo|pierna|muneca|tobillo)", r"(?:cant|cannot|can not) move (?:it|him|her)|no (?:lo|la|me lo|me la) (?:puedo|puede) mover", 8), r"\b(?:used|use|gave|give|injected|had to use|needed|jabbed|usamos|use la|le pusimos|le puse|le di|le dimos|le aplique) (?:\w+ ){0,2}epi ?pens?\b",
    r"\bepi ?pens?\b(?!.{0,40}\b(?:expir\w*|refill\w*|renew\w*|prescription|new (?:one|ones)|spare|another|extra|for (?:school|camp|daycare|the nurse)|vence|vencio|vencid\w*|receta|surt\w*)\b)", r"\bthroat (?:is |feels )?(?:closing|swelling|tight|swollen|narrowing|getting (?:tight|small|narrow))", r"\b(?:tongue|lips?|throat|lengua|labios?|garganta)\b (?:\w+ )?(?:feels?|is|are|se (?:me |le )?siente) (?:\w+ )?(?:thick|heavy|fat|gruesa|pesada|gorda)\b", r"\b(?:itchy |itching |raised )?welts\b",
    r"\b(?:tongue|lips?|throat) (?:is |are )?(?:swelling|swollen|puffing)", r"\bhives\b",
    r"\b(?:trouble|hard|cant|difficulty|problems?) (?:to )?swallow", r"\bcierra la garganta\b", r"\bronchas\b",
    r"\bno (?:puedo|puede) tragar\b", r"\bhinchando la (?:lengua|garganta|cara|boca)\b", r"\breaccion alergica\b",
    # bleeding that will not stop / heavy
    r"\b(?:nose ?bleed\w*|bloody nose)\b.{0,40}\b(?:wont|will not|doesnt|does not|hasnt|has not|not|cant|keeps|for (?:over )?(?:an|one|two|\d+) (?:hour|hours|hr|hrs)|over an hour|eliquis|warfarin|xarelto|coumadin|blood thinner\w*)\b",
    r"\bcoffee grounds?\b|\b(?:cafe molido|asientos de cafe|borra de cafe|como (?:de )?cafe)\b.{0,30}\b(?:vomit\w*|devolv\w*)\b|\b(?:vomit\w*|devolv\w*)\b.{0,30}\b(?:cafe molido|asientos de cafe|borra de cafe|como (?:de )?cafe)\b",
    r"\bbleed\w*(?:\W+\w+){0,6}?\W+(?:wont|will not|doesnt|does not|hasnt|has not|didnt|isnt|cant|not|never) (?:stop|stopped|stopping)",
    r"\b(?:wont|will not|doesnt|hasnt|cant get it to|cannot|cant|unable to|not) stop(?:ped)? (?:the )?bleed",
    r"\b(?:it|blood|this) (?:wont|will not|hasnt|doesnt|has not) stop\b",
    r"\bbleed\w* (?:nonstop|non stop|non-stop|constantly|profusely|continuously|all (?:day|night))\b", r"\b(?:nonstop|non stop) bleed",
    r"\bsangr\w* (?:sin parar|todo el dia|toda la noche)\b", r"\bkeeps? (?:on )?bleeding\b", r"\bbleeding and bleeding\b", r"\bstill bleeding\b",
    r"\b(?:heavy|heavily|severe|lots of|a lot of) (?:bleeding|blood)\b", r"\bbleeding (?:heavily|a lot|badly|so much|everywhere)",
    r"\bblood everywhere\b", r"\bsoak\w* (?:through|thru|the)", r"\bsoak\w* (?:through )?(?:a|an|one|my|\d+)? ?(?:\w+ )?(?:pads?|toallas?|gauzes?|towels?|shirt)\b",
    r"\bgush\w*\b", r"\b(?:pouring|spurting|squirting) (?:out )?(?:blood|from)\b|\bblood (?:is )?(?:pouring|spurting|squirting)\b", r"\b(?:sale|salia|sangra) a chorros\b|\bchorreando sangre\b",
    r"\bclots? (?:bigger|larger|the size of|as big as)\b|\bcoagulos? (?:grandes|mas grandes|enormes|del tamano)\b", r"\bthrough (?:the |\w+ )?gauze", r"\bbleeding for (?:hours|days|a day|<num>|\d+)",
    r"\bbleeding since\b", r"\b(?:vomit\w*|throwing up|coughing up) blood\b", r"\bspit\w* (?:up |out )?(?:bright |fresh )?(?:red )?blood\b", r"\b(?:escupe|escupiendo|escupio|vomita|vomitando|vomito|tose|tosiendo) sangre\b",
    _near(r"tonsil\w*|amigdal\w*|adenoid\w*", r"blood|bleed\w*|sangr\w*", 15),
    r"\bno (?:para|paro|deja|dejo|ha parado|ha dejado) de sangrar", r"\bsangr\w* (?:mucho|demasiado|sin parar)",
    r"\bbleed\w*\b.{0,80}\b(?:hasnt|has not|wont|will not|not|isnt) (?:let up|slowed|eased|stopped|gotten better)\b", r"\bsigue sangrando\b", _near(r"sangr\w*|bleed\w*|emo_blood", r"no (?:para|paran|se detiene|se para|se quita)|wont stop|will not stop|doesnt stop|hasnt stopped", 6), r"\bsangra y sangra\b", r"\bmucha sangre\b", r"\bsangrado (?:abundante|fuerte|mucho)",
    # dental trauma
    r"\bknock\w* (?:out|loose)\b", r"\btooth (?:got )?knocked\b", r"\bbroke (?:his|her|my) jaw\b",
    r"\bjaw (?:is )?locked\b", r"\bcant open (?:my|his|her) mouth\b", r"\bno puedo abrir la boca\b",
    # poisoning, overdose, other emergencies
    r"\bswallowed (?:a |an |some |the |a bunch of |a lot of )?(?:\w+ )?(?:pills|battery|batteries|bleach|magnets?|poison|medication)",
    r"\bpoison", r"\bse trago\b", r"\b(?:hit|banged) (?:his|her|my) head\b", r"\bsevere abdominal\b",
    r"\bcant (?:stand|walk) up\b", r"\bsugar is [34]\d\d\b", r"\bpanic attack\b", r"(?<!behind an )(?<!behind the )(?<!behind a )(?<!detras de una )(?<!detras de la )\bambulanc", r"\b911\b",
    r"\bsos\b", r"^help+ me\W*$", r"\blethargic\b", r"\b(?:limp|floppy|hard to wake)\b", r"\bardiendo en (?:fiebre|calentura)\b", r"\bburning up with fever\b", r"\bayuda\b.*\b(?:no puede|dolor|sangr|respirar)",
    # fever + baby / dental work / very high
    _near(_FEVER + r"|hot|caliente|calientit[oa]", _BABY, 14), _near(_FEVER_LIVE, _DENTAL_WORK, 10), r"\bhigh fever\b", r"\bfiebre (?:muy )?alta\b",
    r"\b(?:fever|temp\w*|fiebre) (?:of |is |de )?(?:10[3-9]|39\.[5-9]|4[01])\b", r"\b10[3-6](?:\.\d)? (?:fever|temp|on the thermometer)",
    r"\b(?:10[3-6]|39\.[5-9]|4[01])(?:\.\d)? (?:de |of |degrees? (?:of )?|grados (?:de )?)?(?:fiebre|fever|calentura|temperatura)\b",
    # swelling: face, eye, airway, or after dental work
    _near(_SWELL_LIVE, r"face|cheek|jaw|eyes?|eyelids?|neck|throat|tongue|lip|lips|collarbone|clavicle|cara|mejilla|cachete|ojos?|parpados?|cuello|garganta|lengua|boca|labios?|clavicula", 5),
    _near(r"puff\w*|inflad[oa]s?|infland\w*|inflo|globos?|balloon\w*|hamster|no me cabe", r"face|cheek|cara|cachete|mejilla|eyes?|eyelids?|parpados?|lips?|labios?|ojos?|tongue|lengua", 5),
    _near(_SWELL_LIVE, _DENTAL_WORK, 10), r"\bswelling (?:is )?(?:bad|worse|getting worse|severe|spreading)",
    # pregnancy + bleeding
    _near(r"pregnant|pregnancy|preggo|prego|embarazada|embarazo|emo_pregnant|twins|gemelos|cuates|nt scan|anatomy scan|trimester|trimestre|prenatal", _PREG_LIVE, 12),)

# Casual phrasings of the ADA / MedlinePlus / AHA emergency lists the list above misses.
MEDICAL_CASUAL = _rx(
    # hypoglycaemia: a reading under 70, or "low" with symptoms (ADA); a reading of 400 or more
    # (ADA: over 300 needs a call), or "high" / "HI" with vomiting or confusion
    r"\b(?:sugar|suger|shugar|sugars|glucose|bg|azucar|glucosa)\b(?:\W+\w+){0,4}?\W+(?:[4-9]\d\d)\b(?! ?(?:units|dollars|mg of|calories|cal\b))",
    _near(r"(?:meter|glucometro|reading|lectura|im at|i am at|estoy en|marca|says) (?:\w+ )?(?:[2-5]\d|6[0-9])\b", r"shak\w*|sweat\w*|dizz\w*|tembl\w*|tiembl\w*|mare\w*|confus\w*|juice|jugo|cant (?:think|focus|see)|blurr\w*|weak|faint\w*|no puedo pensar", 8),
    r"\b(?:sugar|glucose|bg|blood sugar|azucar|glucosa|glucometer|dexcom|libre|cgm)\b(?:\W+\w+){0,5}?\W+(?:[2-5]\d|6[0-9])\b(?! ?(?:units|min|minutes|dollars|mg of))",
    _near(r"(?:sugar|glucose|azucar|glucosa) (?:is |was |esta |se me )?(?:low|dropping|crashing|tanking|baja|bajo|bajando)|\blow (?:blood )?sugar|\bhypo\b|bajon de azucar|se me bajo el azucar",
          r"shak\w*|sweat\w*|confus\w*|dizz\w*|faint\w*|blurr\w*|trembl\w*|tembl\w*|sud\w+|mare\w*|confundid\w*|cant think|pass out|weak|debil", 12),
    r"\b(?:sugar|glucose|azucar|glucosa)\b(?:\W+\w+){0,4}?\W+(?:hi|high)\b.{0,60}\b(?:vomit\w*|throw\w* up|confus\w*|breath\w*|vomit|vomitando|confundid\w*)",
    # knocked-out / avulsed permanent tooth (ADA: see a dentist within 30 minutes)
    r"\b(?:tumbaron|tumbo|tiraron|volaron|botaron)\b (?:un |el |los |sus |mis |dos )?dientes?\b|\bdientes? tumbad[oa]s?\b|\bse (?:me |le )?(?:salio|cayo) (?:un |el )?diente (?:de un golpe|con un golpe)\b",
    r"\b(?:tooth|teeth|diente|dientes|muela)\b.{0,60}\b(?:in (?:a cup of |some )?milk|en (?:un vaso de )?leche|in (?:his|her|my) (?:hand|pocket) now)\b",
    _near(r"(?:tooth|teeth|front tooth|diente|dientes)\b.{0,20}\b(?:knocked|fell (?:\w+ )?out|came (?:\w+ )?out|popped (?:\w+ )?out|flew out|got hit|se (?:le |me )?(?:cayo|salio|tumbo|zafo)|tumbaron)",
          r"fell|fall|hit|accident|fight|ball|bike|skate\w*|face|trampoline|playground|cayo|golpe|pelea|accidente|bici\w*|pelota|car", 12),
    # spreading swelling / infection after dental work (ADA)
    r"\b(?:hinchazon|swelling|swollen|hinchad[oa]|inflamad[oa])\b.{0,40}\b(?:no me deja|cant|can not|no puedo|couldnt) (?:abrir|open) (?:la boca|my mouth|mouth)\b",
    r"\bswelling\b.{0,40}\b(?:spread\w*|mov(?:e|es|ed|ing)|going (?:down|up) (?:my|his|her)|down to (?:my|his|her) (?:neck|collarbone|chest)|to (?:my|his|her) eye)\b",
    r"\b(?:swelling|lump|bump|bulto|hinchazon|bola)\b.{0,15}\b(?:the size of an?|del tamano de una?|como una? (?:pelota|naranja|huevo|limon))\b",
    r"\b(?:flemon|absceso|abscess|pus|infection|infeccion)\b.{0,40}\b(?:ojo|eye|eyelid|parpado|cuello|neck|hasta el|casi no veo|cant see)\b",
    _near(r"(?<!sinus )(?<!ear )(?<!yeast )(?<!bladder )(?<!urinary tract )(?<!de oido )(?<!de orina )(?<!vaginal )(?:infect\w*|infecc\w*|se infecto|se me infecto)", r"face|cheek|jaw|eye|cara|cachete|mejilla|quijada|ojo|swell\w*|hinch\w*|inflam\w*|fever|fiebre|calentura|chills|escalofrios|no me cabe", 10),
    r"\b(?:bump|pimple|boil|bubble|abscess|absceso|bolita|granito|flemon)\b.{0,40}\b(?:popped|burst|broke|drain\w*|revento|se reviento)\b.{0,60}\b(?:chills|fever|escalofrios|fiebre|calentura|swell\w*|hinch\w*|inflam\w*)\b",
    _near(r"chills|escalofrios|shivering|shaking all over", _DENTAL_WORK + r"|gums?|encias?", 12),
    # dental trauma (ADA): a tooth pushed in or loosened by a blow, a broken jaw, a bite that no longer meets
    r"\b(?:tooth|teeth|diente|dientes)\b.{0,30}\b(?:pushed|shoved|jammed|driven|went|got pushed|se (?:le |me )?(?:metio|hundio)) (?:up |back |in |inside )?(?:into |in |up into |back into )?(?:the |his |her |my )?(?:gums?|encia|back|up|in)\b",
    r"\b(?:jaw|mandibula|quijada)\b.{0,20}\b(?:broke\w*|broken|fractur\w*|rot[ao]|quebrad[ao])\b",
    r"\bteeth (?:dont|do not|wont|no longer|dont even) (?:line up|meet|fit together|close)\b|\b(?:los dientes|la mordida) (?:ya )?no (?:me )?(?:cierran|encajan|cierra|coinciden)\b",
    r"\b(?:dientes? flojos?|diente suelto|se me aflojaron|se (?:le|me) aflojo)\b.{0,60}\b(?:golpe|pegaron|dieron|cai|cayo|accidente|encia abierta|sangr\w*)\b|\b(?:golpe|pegaron|dieron con|me cai|se cayo|accidente)\b.{0,60}\b(?:dientes? flojos?|diente suelto|encia abierta)\b",
    _near(r"(?:tooth|teeth|diente\w*|dientito\w*|muela\w*)\b.{0,25}\b(?:loose|wiggl\w*|wobbl\w*|crooked|sideways|pointing|out of place|shifted|moved|bent|floj\w*|suelt\w*|torcid\w*|chuec\w*|movid\w*|de lado|se movio|se mueve)",
          r"hit|crash\w*|fell|fall|fight|punch\w*|ball|bike|skate\w*|hockey|soccer|football|accident|elbow\w*|golpe\w*|pegaron|pego|me pegue|cai|cayo|pelea|accidente|pelotazo|\w+azo|choque|chocamos|bici\w*", 12),
    r"\bse (?:me |le )?(?:cayo|salio|zafo|tumbo|boto|volo) (?:el |un |los |dos |su |mi )?(?:diente|dientes|muela)\b.{0,50}\b(?:golpe\w*|pelotazo|\w+azo|pelea|accidente|cai|cayo|pegaron|raiz|bici\w*)\b",
    r"\b(?:con todo y (?:la )?raiz|root and all|(?:with|and) the (?:whole )?root)\b",
    r"\bencia (?:abierta|rajada|partida)\b", r"\bhinchazon\b.{0,40}\b(?:se (?:esta )?(?:extendiendo|pasando|riega)|hasta el (?:ojo|cuello))\b",
    r"\b(?:pus|puss|abscess|absceso)\b.{0,60}\b(?:fever|swell\w*|fiebre|hinch\w*|face|cara)\b", r"\b(?:fever|swell\w*|fiebre|hinch\w*)\b.{0,60}\b(?:pus|abscess|absceso)\b",
    r"\b(?:cheek|face|jaw|gums?|lip|eye|cachete|mejilla|cara|quijada|encias?)\b.{0,30}\b(?:(?:the )?size of an?|tamano de una?|como una? (?:pelota|naranja|toronja|huevo|limon)|twice (?:the|its) size|ballooned|blown up)\b",
    # fainting, racing heart (AHA)
    r"\b(?:heart|corazon)\b.{0,20}\b(?:racing|pounding|beating (?:so |really |super )?(?:fast|hard|out of)|fluttering|skipping|going (?:crazy|a mile)|acelerad\w*|late (?:muy )?(?:rapido|fuerte)|palpit\w*|brinca)\b",
    r"\bpalpitations?\b", r"\b(?:heart rate|pulse|hr|pulso|ritmo cardiaco)\b(?:\W+\w+){0,3}?\W+(?:1[4-9]\d|2\d\d)\b",
    r"\b(?:almost|nearly|about to|going to|gonna|feel like i am going to|feels like i might) (?:faint|pass out|black out|collapse)\b",
    r"\b(?:perdi|perdio|perdimos) el conocimiento\b", r"\bse (?:me|le) (?:fue|va) el mundo\b", r"\bme desvaneci\b", r"\bse desvanecio\b", r"\bse (?:me|le) nublo (?:todo|la vista)\b",
    r"\bwent down\b.{0,30}\b(?:floor|ground|hit (?:his|her|my) head)\b", r"\bhit (?:his|her|my) head\b.{0,60}\b(?:vomit\w*|throw\w* up|confus\w*|sleepy|drowsy|dizzy)\b",
    r"\b(?:fell|fall(?:en)?|hit|banged|bumped|knocked|se cayo|se pego|se golpeo|me cai|me pegue|me golpee)\b.{0,80}\b(?:confused|confusion|confundid[oa]|disoriented|desorientad[oa]|not making sense|no (?:me )?reconoce|doesnt know where|no sabe donde|repeating (?:herself|himself|the same)|asking the same (?:question|thing)|repite (?:lo mismo|la misma))\b",
    r"\b(?:fell|fall(?:en)?|hit|banged|bumped|knocked|se cayo|se pego|se golpeo|me cai|me pegue|me golpee)\b.{0,80}\b(?:threw up|throw\w* up|vomit\w*|keeps? falling asleep|falling asleep|hard to wake|drowsy|seeing double|double vision|vomito|vomitando|somnolient\w*|no (?:se )?despierta|se (?:queda|esta quedando) dormid[oa])\b",
    r"\bseeing double\b|\bdouble vision\b|\bveo doble\b|\bve doble\b",
    # heart attack as women and older adults have it (AHA): jaw, back or arm with sweat or nausea
    r"\b(?:pressure|pain|ache|tight\w*|heavy|heaviness|dolor|presion)\b.{0,40}\b(?:jaw|upper back|shoulders?|left arm|arms?|neck|espalda|mandibula|quijada|brazo|hombros?)\b.{0,60}\b(?:sweat\w*|nause\w*|clammy|sudo\w*|sudando|nausea\w*|mare\w*|vomit\w*|short of breath|falta de aire)\b",
    r"\b(?:sweat\w*|nause\w*|clammy|sudo\w*|sudando)\b.{0,60}\b(?:pressure|pain|ache|tight\w*|dolor|presion)\b.{0,30}\b(?:jaw|upper back|shoulders?|left arm|neck|espalda|mandibula|quijada|brazo)\b",
    # hypoglycaemia as a relative sees it: acting drunk, sweating, not answering
    _near(r"type (?:1|one|2|two)|diabetic|diabetes|insulin|diabetico|diabetica|insulina",
          r"acting (?:drunk|weird|strange|confused|funny|off)|(?:wont|doesnt|cant|will not|does not) (?:answer|respond|make sense)|not making sense|como borrach[oa]|no (?:me )?(?:responde|contesta) bien|no tiene sentido lo que dice", 15),
    # a wound turning black or smelling (diabetic foot, infection)
    _near(r"wound|cut|sore|ulcer|toe|foot|feet|herida|llaga|ulcera|dedo|pie", r"(?:turn\w*|went|gone|going|getting|is|se (?:puso|esta poniendo|le puso)) (?:all )?(?:black|negr[oa]|purple|morad[oa])|smell\w* (?:bad|awful|terrible|rotten|funny)|huele (?:feo|mal|horrible|a podrido)|red streaks?|rayas rojas", 8),
    # injuries at work and on the farm; pain on breathing after a blow; carbon monoxide
    r"\b(?:chainsaw|saw|auger|mower|machine\w*|grinder|drill|tractor|sierra|motosierra|maquina)\b.{0,40}\b(?:got|cut|caught|hit|mangled|sliced|crushed|corto|agarro|machuco)\b.{0,12}\b(?:my|his|her|mi|su|el|la)? ?(?:leg|hand|arm|fingers?|foot|pierna|mano|brazo|dedos?|pie)\b",
    r"\b(?:hand|arm|fingers?|foot|leg|mano|brazo|dedos?|pie|pierna)\b.{0,20}\b(?:caught|stuck|crushed|mangled|atrapad[oa]|machucad[oa])\b.{0,20}\b(?:in|en)\b",
    r"\b(?:hurts?|pain\w*|duele\w*|dolor)\b (?:\w+ ){0,3}?(?:when|to|every time|cuando|al) (?:i |he |she )?(?:breathe|breath|take a (?:deep )?breath|respiro|respirar)\b",
    _near(r"furnace|heater|generator|carbon monoxide|co detector|co alarm|calentador|calefaccion|estufa|monoxido|boiler", r"headaches?|sick|dizz\w*|nause\w*|vomit\w*|dolor de cabeza|mare\w*|sleepy|confus\w*", 14),
    # blood pressure crisis (AHA: 180/120)
    # bleeding from the gut or lungs (MedlinePlus: black tarry stool, blood in vomit or a cough)
    # a fall or a blow to the head on a blood thinner (bleeding in the skull), however mild it feels
    _near(r"warfarin\w*|coumadin|eliquis|xarelto|pradaxa|plavix|apixaban|rivaroxaban|clopidogrel|blood thinners?|anticoagul\w*|adelgazar la sangre",
          r"fell|fall|falling|hit (?:my|his|her) head|bumped (?:my|his|her) head|head|me cai|se cayo|se cae|caida|cabeza|golpe\w*|me pegue|se pego", 25),
    # not eating or drinking for days, barely passing urine (dehydration, decline in the old)
    r"\b(?:hasnt|has not|havent|have not|no ha|no he|not|wont|will not|refuses to|stopped|dejo de|no quiere|no ha querido)\b (?:\w+ )?(?:eaten|eat|eating|comer|comido|drink|drinking|drunk|tomar agua)\b.{0,40}\b(?:(?:in|for) (?:a week|days|\d+ days|two days|three days|several days|almost a week)|(?:en|por|desde hace) (?:una semana|\d+ dias|dos dias|tres dias|varios dias|casi una semana))\b",
    r"\b(?:sunken|hundid[oa]) (?:soft spot|fontanel\w*|eyes|ojos|mollera)\b|\b(?:soft spot|fontanel\w*|mollera|ojos)\b.{0,10}\b(?:sunken|hundid[oa]|sunk in)\b|\bno tears\b|\bsin lagrimas\b|\bllora sin lagrimas\b",
    r"\b(?:barely|hardly|not|hasnt|has not|havent|have not) (?:peed|pee|peeing|urinated|wet (?:a|her|his|any) diapers?)\b|\b(?:no|dry) (?:wet )?diapers? (?:since|in|all|for)\b|\bpanal(?:es)? sec[oa]s?\b|\b(?:casi no|ya no|no ha|no) (?:orina|orinado|hace pipi|ha hecho pipi)\b|\b(?:hasnt|has not|havent|have not) (?:peed|urinated)\b|\b(?:barely|not|hardly) (?:peeing|urinating)\b",
    _near(r"stool|stools|poop|bm|bowel movements?|heces|popo|excremento|evacuacion", r"black|tarry|tar|bloody|blood|negr\w*|sangre|con sangre", 6),
    r"\bbloody (?:diarrhea|diarrhoea|stool|poop|vomit)\b|\bdiarrea con sangre\b|\b(?:toso|tose|tosi|tosiendo|tosio|escupo|escupe|escupi|escupio|escupiendo|vomito|vomita|vomite|vomitando) (?:con |pura )?sangre\b",
    # a chemical in the eye (AAO: rinse and seek care at once)
    r"\b(?:bleach|chemical\w*|cleaner|acid|lye|ammonia|oven cleaner|drain cleaner|pool (?:chlorine|shock)|chlorine|cloro|quimico\w*|acido|limpiador|amoniaco)\b.{0,30}\b(?:in|into|en) (?:my|his|her|the|both|el|los|mi|mis|su|sus|un) (?:\w+ )?(?:eyes?|ojos?)\b|\b(?:eyes?|ojos?)\b.{0,30}\b(?:bleach|chemical\w*|cleaner|acid|lye|ammonia|chlorine|cloro|quimico\w*|acido|limpiador|amoniaco)\b",
    # sudden loss of sight (AAO: a curtain or shadow, sudden blindness in one eye)
    r"\b(?:suddenly|all of a sudden|out of nowhere|de repente|de pronto)\b.{0,25}\b(?:cant see|can not see|couldnt see|lost (?:my |the )?(?:vision|sight)|went blind|blind|no veo|no ve|perdi la vista|se me nublo)\b",
    r"\b(?:curtain|shadow|veil|black spot) (?:over|across|coming down (?:over|across)?) (?:my|his|her|the|one) (?:\w+ )?(?:eye|vision)\b|\bno veo nada (?:del|de un|de mi|por el) ojo\b|\blost (?:the )?(?:vision|sight) in (?:my|one|his|her)\b",
    # confusion with a fever, and a fever or a draining wound after surgery or a birth (infection, sepsis)
    _near(r"confus\w*|confundid\w*|disoriented|desorientad\w*|delirious|not making sense", _FEVER, 14),
    _near(_FEVER_LIVE, r"c ?section|cesarea|surgery|surgical|operaron|operacion|cirugia|incision|herida|stitches|puntos|after (?:the |my |his |her )?(?:operation|procedure|delivery|birth)|parto|dio a luz", 12),
    r"\b(?:wound|incision|herida|cut|puntos|stitches)\b.{0,20}\b(?:supura\w*|oozing pus|pus|draining|leaking pus|smells|huele mal|saca pus|echa pus)\b",
    r"\b(?:1[89]\d|2\d\d) ?(?:/|over|sobre) ?(?:1[1-9]\d|\d{2})\b",
    # anaphylaxis after a new medicine, casual
    r"\b(?:lips?|tongue|face|throat|labios?|lengua|cara|garganta)\b.{0,30}\b(?:puff\w*|blow\w* up|huge|getting big|hinch\w*|inflamad\w*|swell\w*)\b",
    r"\b(?:amoxicillin|penicillin|antibiotic|antibiotico|new (?:medicine|medication|pill)|medicina nueva)\b.{0,60}\b(?:rash|hives|itch\w*|ronchas|comezon|swell\w*|hinch\w*|cant breathe|no puedo respirar)\b",
    r"\b(?:lips?|tongue|face|eyes?|throat|labios?|lengua|cara|ojos?|garganta)\b.{0,40}\b(?:big|huge|fat|puffy|filler|itch\w*|rash|hives|swell\w*|grande\w*|gord\w*|comezon|ronchas|hinch\w*|pica\w*)\b.{0,60}\b(?:after|since|from|despues de|desde|con) (?:the |my |taking |tomar |tome |la |el |mi )?(?:new )?(?:amoxicillin|amoxi\w*|penicillin|antibiotic\w*|antibiotico\w*|augmentin|cephalexin|keflex|clindamycin|medicine|medicina|pill|pastilla|shot|injection|inyeccion|anesthe\w*|numbing)\b",
    r"\b(?:lips?|labios?)\b.{0,20}\b(?:look(?:s|ing)? like|como si) (?:i|me|tuviera)\b.{0,15}\b(?:filler|botox|relleno|got punched)\b",
    # stroke, casual (BE FAST)
    # ... and sudden confusion (AHA: sudden confusion, trouble understanding), not the long decline of dementia
    _NOT_DEMENTIA + r"\b(?:no sabe|no sabia|ya no sabe|no supo) (?:donde esta|en (?:que|donde) (?:ano|dia|esta)|que (?:dia|ano) es|quien soy|quien es)\b",
    _NOT_DEMENTIA + r"\bno (?:me|nos|la|lo) reconoce\b", _NOT_DEMENTIA + r"\b(?:ahorita|ahora|hoy|de repente|de pronto)\b.{0,50}\bno (?:me|nos) conoce\b",
    _near(r"azucar|diabet\w*|sugar|insulin\w*|glucos\w*", r"sudando|sudoros\w*|sweat\w*|shaky|shaking|temblando|tembloros\w*", 10),
    _NOT_DEMENTIA + r"\b(?:doesnt|does not|didnt|did not|cant|can not) (?:know|recogni[sz]e|remember) (?:where (?:she|he|they) (?:is|are|was|were)|me|us|what (?:year|day|month) it (?:is|was)|who (?:i am|we are|i was))\b(?! (?:yet|well|very well|that well|personally|by name))",
    r"\b(?:suddenly|all of a sudden|de repente|de pronto|out of nowhere)\b.{0,30}\b(?:confused|confuse|confundid[oa]|disoriented|desorientad[oa])\b",
    r"\b(?:confused|confuse|confundid[oa]|disoriented|desorientad[oa])\b.{0,30}\b(?:since|desde) (?:this morning|lunch|an hour|hace (?:como )?(?:una|un rato|\w+ horas?)|la manana|anoche|last night)\b",
    r"\b(?:face|mouth|smile|cara|boca|sonrisa)\b.{0,25}\b(?:droop\w*|crooked|lopsided|twisted|chueca|torcida|caida|de lado)\b", r"\bwords (?:are )?(?:coming out )?(?:wrong|jumbled|garbled|funny)\b",
    r"\bcant (?:feel|lift|move) (?:my|his|her) (?:arm|leg|face|hand)\b", r"\b(?:cant|can not|couldnt) get (?:my|his|her) (?:left |right )?(?:arm|leg|hand|foot|fingers) to (?:work|move)\b|\b(?:left|right) (?:arm|leg|hand|foot|side) (?:wont|will not|doesnt|does not|stopped|isnt) (?:work|move|working|moving)\w*\b",
    r"\bspeech (?:is |sounds |was )?(?:\w+ )?(?:weird|slurred|off|strange|funny|wrong|garbled)\b", r"\bno (?:siento|siente|puede mover|puedo mover) (?:el|la|mi|su) (?:brazo|pierna|cara|mano)\b",
    r"\bse (?:le|me) (?:cayo|cae|callo|bajo) (?:la cara|la boca|un lado|media cara)\b", r"\bno (?:mueve|levanta|puede levantar) (?:el|la|su|mi) (?:brazo|pierna|mano)\b",
    r"\b(?:sin poder|no (?:puede|podia|pudo|puedo|pude)) (?:mover|levantar|sentir) (?:el|la|su|mi|los|las) (?:brazo|pierna|mano|cara|lado|pie)\b",
    r"\bse (?:le|me) traba la lengua\b", r"\b(?:habla|hablando) (?:arrastrando|trabad[oa]|enredad[oa])\b", r"\barrastra las palabras\b",
    # cyanosis; slow breathing after opioids and drink (MedlinePlus: opioid overdose)
    r"\b(?:blue|bluish|purple|purplish|gray|grey|morad\w*|azul\w*)\b.{0,15}\b(?:around|on|in|alrededor de) (?:the |his |her |my |los |sus |la )?(?:lips|mouth|labios|boca)\b",
    r"\blabios (?:\w+ )?(?:morad|azul)\w*", r"\blips? (?:\w+ ){0,3}(?:blue|bluish|purple|purplish)\b(?! (?:from|because of) (?:the )?(?:popsicle|candy|slushie|lollipop|cold|pool|paint|marker|lipstick|juice))", r"\b(?:lips|mouth) (?:\w+ )?(?:look|looks|looking|are|is|got) (?:all |kinda |kind of |a bit |a little |sort of )?(?:blue|bluish|purple|gray|grey)\b",
    r"\b(?:lips?|labios?|face|cara|fingers|unas)\b.{0,15}\b(?:turned|went|turning|going|getting|se (?:le |me )?(?:pusieron|puso|estan poniendo)) (?:all )?(?:blue|bluish|grey|gray|azul\w*|morad\w*)\b",
    r"\bbreathing (?:is |really |very |so |super |kinda |kind of )*(?:slow|shallow|weird|funny)\b", r"\brespira(?:ndo)? (?:muy )?(?:lento|despacio|raro)\b",
    r"\b(?:took|taken|had|mixed|drank|tome)\b.{0,40}\b(?:oxy\w*|opioid\w*|percocet|vicodin|hydrocodone|xanax|fentanyl|morphine|codeine)\b.{0,40}\b(?:beers?|alcohol|drinks|wine|vodka|whiskey|tequila|cervezas?)\b",
    # vertigo with falls (AHA: sudden dizziness, loss of balance)
    _near(r"room (?:is |keeps )?spinning|todo me da vueltas|(?:very |really |so )?dizzy|mareadisim\w*", r"fell|fall(?:ing)? (?:down|over)|passed out|fainted|me cai|me he caido|se cayo", 10),
    # breathing, casual
    r"\b(?:cant|can not|could not|couldnt) (?:really |quite |seem to )?(?:get|catch) (?:a |my )?(?:breath|air)\b",
    r"\b(?:cant|cannot|can not|could not|couldnt|not able to|no (?:puedo|puede|podia) (?:agarrar|tomar|jalar)) (?:take|get|catch|find|pull in|in)? ?(?:the |enough |el |nada de |suficiente )?(?:air|aire)\b",
    r"\b(?:inhaler|albuterol|puffer|nebuli[sz]er|neb|rescue inhaler|inhalador|bomba|bombita|pump)\b.{0,20}\b(?:not helping|isnt helping|doesnt help\w*|not working|isnt working|no (?:me |le )?(?:ayuda|sirve|hace nada|funciona|esta ayudando)|ya no (?:me |le )?(?:ayuda|sirve|hace))\b",
    r"\b(?:bother|trouble|problems?|struggl\w*|difficult\w*|issues?) (?:with|in) (?:my|his|her|their|the) breath\w*\b",
    r"\bbreathing (?:is |has been |feels )?(?:really |very |so |kind of |kinda )?(?:hard|laboured|labored|rough|bad|difficult)\b", r"\bno (?:me )?(?:entra|llega) (?:el )?aire\b", r"\bsin aire\b",
    # pregnancy (ACOG): reduced movement, leaking fluid, severe headache with swelling
    r"\b(?:baby|bebe)\b.{0,25}\b(?:not moving|stopped moving|hasnt moved|moving less|no se mueve|dejo de moverse|no se ha movido)\b",
    _near(r"\d{1,2} (?:semanas|weeks|wks)(?: de embarazo| pregnant)?", r"sangr\w*|bleed\w*|spotting|manchando|cramp\w*|colicos|contracc\w*|contractions", 10),
    # ... and by the number of weeks alone (16-42): leaking fluid, contractions or tightening, pressure
    _near(r"(?:1[6-9]|[23]\d|4[0-2]) ?(?:weeks?|wks?|wk|semanas?|sem)(?: de embarazo| pregnant| along)?",
          r"leak\w*|fluid|liquido|agua|gush\w*|chorro|contract\w*|contracc\w*|tighten\w*|se (?:me )?pone (?:dura|duro)|endurec\w*|pressure|presion|pushing|empujando|bleed\w*|sangr\w*|spotting|manchando|not moving|no se mueve|moving less|se mueve menos", 16),
    # a child's poisoning, casual
    r"\b(?:ate|eat|eats|swallow\w*|drank|drink|drinks|drinked|drunk|got into|chewed|se comio|se trago|se tomo|tomo|bebio|se bebio)\b.{0,40}\b(?:(?:from |de )?under (?:the )?sink|debajo del (?:fregadero|lavabo|lavaplatos|lavatrastes|trastero)|cleaning (?:stuff|products?|liquid|fluid|solution|spray)|cleaner|de limpieza|cloro|bleach|lye|drain|destapa\w*|drano)\b",
    _near(r"(?:gave|give|di|dio|le di|le dio|le dimos)", r"(?:adult|wrong|double|twice the|de adulto|equivocad\w*|por equivocacion|by mistake|doble) (?:\w+ )?(?:medicine|medication|dose|meds|medicina|medicamento|dosis)", 8),
    _near(_BABY + r"|toddler|child|kid|son|daughter|hij[oa]|nin[oa]", r"(?:medicin\w*|medicamento|medicine|medication|dosis|dose|pills?|pastillas?) (?:\w+ ){0,2}(?:de adulto|for adults|equivocad\w*)|por equivocacion|por error|by mistake|wrong (?:medicine|medication|dose|pills?)", 10),
    # sepsis (CDC: confusion, fever or shivering, fast breathing) and angina that nitroglycerin does not relieve
    _near(r"confus\w*|confundid\w*|disoriented|desorientad\w*", r"fever|fiebre|breathing (?:fast|rapid\w*)|rapid breathing|respirando (?:rapido|muy rapido)|respira rapido", 10),
    _near(r"nitro\w*", r"(?:took|tome|me tome|taken|\d|two|three|dos|tres) (?:\w+ )?(?:today|hoy|doses|dosis|already|ya)|still|sigue|not helping|no (?:me )?(?:ayuda|hace nada|funciona)", 10),
    r"\b(?:mouth|boca)\b.{0,20}\b(?:keeps |sigue )?(?:fill\w*|llen\w*) (?:up )?(?:with|de) (?:blood|sangre)\b",
    r"\b(?:ate|swallowed|drank|drink|drinks|got into|chewed|se comio|se trago|se tomo|se bebio|bebio|tomo)\b.{0,40}\b(?:pills|gummies|vitamins|batter(?:y|ies)|button batter(?:y|ies)|bleach|detergent|pod|tide pod|cleaner|clorox|lysol|windex|drano|pine sol|mr clean|pastillas|pila|cloro|cloralex|lejia|lavandina|pinol|fabuloso|maestro limpio|suavitel|destapacanos|detergente|veneno|raticida|insecticida)\b",
    # fever by the number beside a baby (AAP: 100.4 F / 38 C under 3 months)
    _near(r"(?:100\.[4-9]|10[1-9](?:\.\d)?|3[89](?:\.\d)?|4[01](?:\.\d)?)", _BABY, 8),
    r"\b(?:ketones|cetonas)\b", r"\b(?:vomit\w*|throw\w* up|vomitando)\b.{0,60}\b(?:sugar|glucose|azucar|glucosa)\b(?:\W+\w+){0,4}?\W+(?:hi|high)\b",
    r"\b(?:drank|swallowed|ate|se tomo|se trago|tomo)\b.{0,30}\b(?:windshield|antifreeze|washer fluid|gasoline|lighter fluid|lamp oil|drain cleaner|anticongelante|gasolina|limpiador)\b",
    r"\b(?:screaming|crying|gritando|llorando) (?:with|in|from|de) (?:the )?(?:pain|dolor)\b",
    # severe pain, casual
    r"\bpain\w* (?:is )?(?:off the charts|unreal|insane|through the roof)\b", r"\b(?:worst|peor) (?:dolor|pain) (?:of|de) (?:my|mi) (?:life|vida)\b",
    # swelling all over after a medicine or an anaesthetic (anaphylaxis)
    r"\b(?:me|se|le) (?:hinche|hincho|hincharon|ha hinchado|he hinchado|puse|puso) (?:\w+ )?(?:tod[oa]|enter[oa]|por todas partes|todo el cuerpo)\b(?! (?:la semana|el mes|el dia|el ano))|\bswell\w* up all over\b|\b(?:whole|entire) body (?:is |got |went )?(?:all )?(?:swollen|swelling|puffy|puffed up|covered in hives|broke out)\b|\bhinchad[oa] (?:de )?(?:tod[oa]|todo el cuerpo)\b",
    # bleeding told by what it costs: gauze used up, red that keeps coming, a mouth filling with red
    r"\b(?:gaste|gastado|gastamos|acabe|acabamos|termine|went through|gone through|going through|used up|burned through|ran out of|run out of|out of|se me acabaron|se acabaron)\b.{0,30}\b(?:gasas?|gauze)\b",
    r"\b(?:soltando|echando|saliendo|chorreando|goteando|oozing|leaking|dripping|pouring|gushing) (?:\w+ )?(?:rojo|bright red|red)\b|\b(?:fill\w*|llen\w*) (?:up )?(?:my|his|her|the|mi|su|la) (?:mouth|boca) (?:with|de) (?:red|rojo)\b",
    # a wound that goes through (OSHA / MedlinePlus: puncture wounds), a foreign body in the eye
    r"\b(?:went|gone|go|goes|going|right|straight|all the way|clean) (?:right |straight |all the way )?(?:through|thru) (?:my |his |her |the |el |la )?(?:boot|shoe|sole|foot|hand|palm|finger|thumb|arm|leg|thigh|calf|cheek|work boot)\b",
    r"\b(?:nail|rebar|stake|spike|screw|nail gun|glass|knife|blade|metal rod|fierro|varilla|clavo|vidrio|cuchillo|estaca)\b.{0,30}\b(?:through|thru|atraves\w*|traspas\w*)\b|\bse (?:me|le) (?:clavo|enterro|atraveso|metio) (?:un|una|el|la) (?:clavo|varilla|fierro|vidrio|estaca|pedazo de \w+)\b",
    r"\b(?:metal|piece|chip|sliver|shard|splinter|glass|wire|debris|fierrito|pedazo|astilla|rebaba|vidrio|viruta)\b.{0,25}\b(?:in|into|stuck in|en|metid[oa] en) (?:my|his|her|the|el|mi|su) (?:\w+ )?(?:eye|ojo)\b",
    # burns that blister, chemical burns of the skin (American Burn Association: seek care)
    r"^(?!.*\b(?:small|tiny|little|pequen\w*|chiquit\w*|sunburn|quemadura de sol|cold sore|fever blister|fuego|herpes)\b).*\b(?:burned|burnt|burns?|scald\w*|me queme|se quemo|se quemaron|me quemo|te quemaste|quemadura\w*|quemad[oa])\b.{0,60}\b(?:blister\w*|ampolla\w*|peel\w* off|skin (?:is )?(?:white|black|charred|coming off|gone|melted)|piel (?:blanca|negra|se (?:cae|desprende|levanta|cayo)))\b",
    r"^(?!.*\b(?:small|tiny|little|pequen\w*|chiquit\w*|sunburn|cold sore|fever blister|fuego|herpes)\b).*\b(?:blister\w*|ampolla\w*)\b.{0,60}\b(?:burn\w*|quem\w*|scald\w*|fryer|freidora|grease|hot oil|aceite|steam|vapor)\b",
    r"\b(?:chemical\w*|acid|acido|bleach|cloro|lye|caustic|solvent|quimico\w*|sosa|degreaser|desengrasante|drain cleaner)\b.{0,60}\b(?:skin|piel|arm|forearm|hand|face|leg|brazo|antebrazo|mano|cara|pierna)\b.{0,40}\b(?:blister\w*|white|blanc\w*|burn\w*|quem\w*|ampolla\w*|peel\w*|raw|arde|ardiendo)\b",
    # a needle-stick from a used needle (CDC: post-exposure care within hours)
    r"\bneedle ?stick\b|\b(?:stuck|poked|pricked|jabbed|stabbed|cut) (?:myself |me )?(?:with|by|on) (?:a |an |the )?(?:used|dirty|contaminated|patients?|someones|someone elses|old) (?:\w+ )?(?:needle|syringe|lancet|sharp)\b|\b(?:aguja|jeringa)s? (?:usada|sucia|contaminada|de (?:un|una|el|la) paciente)\b",
)

# Severe pain: urgent, unless the patient calls it mild / not urgent and it is not extreme.
SEVERE_PAIN = _rx(
    r"\bkill+(?:ing|in)? me\b", r"\bme (?:esta|estan)? ?matando\b", r"\bme mata\b",
    r"\b(?:8|9|10) ?(?:/|out of|of|de) ?10\b", r"\bpain (?:level |is |at |like )?(?:a |un )?(?:8|9|10)\b", r"\bpain (?:is |was )?(?:\w+ ){0,4}?(?:a|an) (?:solid |full |straight )?(?:9|10)\b(?! ?(?:am|pm|min|minutes|days|hours|dollars|oclock))", r"\b(?:pain|dolor)\b.{0,20}\b(?:9|10) (?:or|o) (?:10|11)\b",
    r"\bunbearable\b", r"\bexcruciating\b", r"\b(?:scale|escala)\b.{0,40}\b(?:an? |at |en |un )?(?:11|12|15|20|100|eleven|twelve|once|doce)\b", r"\b(?:11|12|15|20|100) (?:out of|of|de) 10\b", r"\binsoportable\b", r"\bworst (?:pain|headache)\b",
    r"\bsevere(?:ly)? (?:pain|tooth|jaw|abdominal|headache|swelling|bleeding|allergic)", r"\bextreme pain\b",
    r"\bin (?:so much|a lot of|severe|terrible|horrible) pain\b", r"\bcrying (?:from|because of|in) (?:the )?pain\b",
    r"\bpain\w* (?:is |so )?(?:so )?(?:bad|severe|terrible|horrible) (?:i|that)",
    _near(_PAIN, r"cant sleep|couldnt sleep|unable to sleep|havent slept|not slept|up all night|no (?:he )?(?:podido )?dormi\w*|no puedo dormir|sin dormir|no me deja dormir|no (?:me )?dej\w* dormir", 8),
    r"\b(?:so|really) bad (?:i am|im) crying\b", r"\bmuchisimo dolor\b", r"\bme duele (?:muchisimo|demasiado|horrible)",
    r"\b(?:hurts?|hurting|aches?|pain\w*|duele) (?:so much|so bad|that much|tanto|muchisimo) (?:that )?(?:i|que)? ?(?:cant|can not|couldnt|no puedo|no pude) (?:think|focus|eat|see|work|function|move|pensar|comer|trabajar|ver)\b",
)

_GENERIC = lazy(r"\bemergenc(?:y|ies)\b|\bemergencias?\b|\burgent(?:e|ly)?\b")
_GENERIC_SAFE = lazy(
    r"\b(?:not|no|nothing|isnt|non|dont think its|not an?|no es|nada|no es una?) ?(?:an? |una? )?(?:urgent\w*|emergenc\w*)"
    r"|\b(?:family|work|personal|house|pet|dog|vet|childcare|home) emergenc\w*|\bemergenc\w* (?:came up|at work|at home|contact)"
    r"|\bemergencia (?:familiar|en (?:el trabajo|la casa|casa))|\burgent care\b"
    r"|\b(?:do|are|can|is|will|would) (?:you|u|there|they|we|i) (?:\w+ ){0,3}?(?:take|see|do|have|open|offer|accept|handle|treat|get)\b.{0,30}\b(?:emergenc\w*|urgent\w*)"
    r"|\bemergenc\w* (?:appointments?|visits?|slots?|line|number|hours|fees?|exams?|contact|service\w*|policy|dentist)\b|\b(?:in case of|for) (?:an? )?emergenc\w*"
    r"|\b(?:atienden|aceptan|tienen|hacen) (?:\w+ )?(?:emergencias|urgencias)\b|\bnumero de emergencia\b"
)
# Phrases with which a patient calls their (non-listed) complaint mild or not urgent.
_MILD = lazy(
    r"\b(?:not|nothing|no|isnt|non) (?:an? )?(?:urgent|emergency|serious|bad|too bad)\b|\bmild\w*\b|\bslight\w*\b"
    r"|\b(?:feel|feeling|i am|im|he is|she is|hes|shes|doing) (?:fine|ok|okay|good|better)\b|\bestoy bien\b|\besta bien\b"
    r"|\bno (?:me )?duele\b|\bdoesnt hurt\b|\bdont hurt\b|\bno pain\b|\bwithout pain\b|\bsin dolor\b|\bpainless\b"
    r"|\ba (?:little|bit|tiny bit)\b|\bnada (?:urgente|grave|serio)\b|\bno es urgente\b|\bun poco\b|\bun poquito\b"
)
_EXTREME_PAIN = lazy(r"\b(?:scale|escala)\b.{0,40}\b(?:an? |at |en |un )?(?:11|12|15|20|100|eleven|twelve|once|doce)\b|\b(?:11|12|15|20|100) (?:out of|of|de) 10\b|\bpain (?:is |was )?(?:\w+ ){0,2}?(?:a|an) (?:solid |full |straight )?10\b(?! ?(?:am|pm|min|minutes|days|hours|dollars|oclock))"
                      r"|\b(?:havent|have not|not|hasnt|has not) slept (?:in|for|since) (?:days|\d+ (?:days|nights)|two|three|four|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
                      r"|\b(?:dos|tres|cuatro|2|3|4) noches sin dormir\b|\bno me deja dormir\b.{0,40}\b(?:dos|tres|cuatro|2|3|4) noches\b|\b(?:a |un )?(?:9|10) (?:or|o) (?:10|11)\b|\bkill+(?:ing|in)? me\b|\bmatando\b|\b(?:9|10) ?(?:/|out of|of|de) ?10\b|\bunbearable\b|\binsoportable\b|\bworst\b|\bexcruciating\b")


# "no problems breathing", "no fever or swelling": an explicit denial just before a symptom.
_DENIED = lazy(r"\b(?:no|not|without|denies|never|sin|nunca)(?: \w+)?\s*$")


def mild(canon: str) -> bool:
    """The patient calls the complaint mild / not urgent (intents.md: that pain is `book`)."""
    return bool(_MILD.search(canon))


# A text that only makes sense after an earlier one: the complaint goes on or gets worse ("its
# getting worse", "still bleeding", "no se me quita", "worse now"), or nothing has helped. Alone it
# names no symptom; after an urgent text it is the same emergency (careloop.agent.inbound).
_WORSENING = lazy(
    r"\b(?:getting|gotten|got|going|gets|grown|growing|much|way|even|now|feels?|feeling|looks?|is) (?:\w+ )?worse\b|\bworse (?:now|than|and worse|by the (?:hour|minute))\b|\bworsening\b"
    r"|\bnot (?:getting )?(?:any )?better\b|\bno better\b|\bisnt (?:getting )?(?:any )?better\b|\bhasnt (?:gotten |got )?(?:any )?better\b"
    r"|\b(?:(?:is |its |im |it |hes |shes )?still (?:bleeding|hurting|hurts|swollen|swelling|throbbing|burning|there|the same|happening|going|numb|dizzy|vomiting|throwing up|pounding|racing|cant|can not|not|no|have|has|feel|feeling|getting)"
    r"|keeps? (?:bleeding|hurting|swelling|getting|coming|happening|going)|keep on|wont stop|will not stop|doesnt stop|cant stop|not stopping|hasnt stopped|nothing is helping|nothing helps|didnt help|not helping)\b"
    r"|\b(?:more|bigger|worse) (?:and (?:more|bigger|worse) )?(?:every|each|by the) (?:day|hour|minute)\b|\bspreading\b"
    r"|\b(?:peor|empeor\w*|cada vez (?:mas|peor)|(?:sigue|siguen|todavia|aun) (?:igual|sangrando|doliendo|hinchad[oa]|me duele|le duele|duele|sangra|con|sin|mal|peor|mareado|mareada|vomitando)|no (?:se )?(?:me |le )?(?:quita|para|detiene|mejora|calma)|no ha (?:parado|mejorado|bajado)|nada (?:me |le )?(?:ayuda|sirve)|no (?:me |le )?(?:ayuda|sirve) nada)\b"
)


def worsening(canon: str) -> bool:
    """The text says the complaint goes on or gets worse, and does not say it has settled."""
    return bool(_WORSENING.search(canon)) and not _RESOLVED.search(canon)


@dataclass(frozen=True)
class SafetyHit:
    intent: str  # "urgent" | "opt_out"
    kind: str | None  # "self_harm" | "medical" | None
    reason: str


# Signs whose indirect wording is also how people announce a move, a trip or a change of
# practice: read as self-harm only when no such explanation is in the text.
_EXPLAINABLE = ("saying goodbye", "giving possessions away", "putting affairs in order", "no future", "no point in treatment")
SELF_HARM_SIGNS: dict[str, Matcher] = {"self-harm statement": _SELF_HARM_DIRECT, **SELF_HARM_INDIRECT}
MEDICAL_SIGNS: dict[str, Matcher] = {"urgent symptom": MEDICAL, "urgent symptom (casual wording)": MEDICAL_CASUAL}
WARNING_SIGNS: dict[str, Matcher] = {**SELF_HARM_SIGNS, **MEDICAL_SIGNS, "severe pain": SEVERE_PAIN}

# --- scope: denied or past symptoms stay at their request label --------------------------
_CLAUSE_END = lazy(r"[.!?;\n]|\bbut\b|\bpero\b|\bhowever\b|\bsin embargo\b")
_PAST = lazy(
    r"\blast (?:week|weekend|month|year|time|visit|summer|winter|spring|fall|appointment|cleaning|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b|\b(?:weeks|months|years|a week|a month|a year|(?:\d+|two|three|four|five|six|ten|several|many) (?:days|weeks|months|years|yrs|mos)) ago\b"
    r"|\bin the (?:\d0s|\d{4}s|nineties|eighties|seventies)\b|\bas a (?:kid|child|teen\w*|baby)\b|\bcuando (?:era|estaba) (?:nin[oa]|chic[oa]|joven|pequen[oa])\b|\bde (?:nin[oa]|chiquit[oa]|pequen[oa])\b"
    r"|\bback in (?:the (?:day|\d0s)|\d{4}|high school|school|college|my (?:twenties|thirties|youth|day|days)|january|february|march|april|may|june|july|august|september|october|november|december)\b|\bhistory of\b|\bwhen i was (?:a |an )?(?:kid|young|little|pregnant|child|teen\w*|baby)\b|\bsemana pasada\b|\bmes pasado\b|\bano pasado\b"
    r"|\bhace (?:anos|muchos anos|tiempo|rato largo)\b|\bhace (?:\d+|unos|unas|varios|varias|un|una|mucho|dos|tres|cuatro|cinco|seis|muchos|muchas) (?:dias|semanas?|mes|meses|anos?|tiempo)\b|\bla (?:otra|ultima) vez\b|\ben (?:mi|la) ultima (?:cita|visita)\b"
    r"|\b(?:from|in|back in|en|del|de|since) (?:19[5-9]\d|20[0-2]\d)\b|\bafter (?:my|the|his|her) (?:er|emergency room|hospital|urgent care|ambulance)\b|\b(?:was|were|been|went) (?:in|to) the (?:er|hospital|emergency room)\b"
    r"|\bdespues de (?:ir a )?(?:emergencias|la sala de emergencia|el hospital)\b|\bestuve en (?:emergencias|el hospital)\b|\bused to\b"
)
_PRESENT = lazy(
    r"\b(?:now|right now|today|tonight|still|again|currently|this morning|this afternoon|since (?:yesterday|last night|this morning)|wont stop|keeps|getting worse|worse"
    r"|(?:more|worse|bigger) (?:and (?:more|worse|bigger) )?(?:every|each) day|more and more|every day since|(?:has|have|is|are) been (?:\w+ ){0,2}(?:swelling|bleeding|getting)|chills|on and off|off and on|since last (?:week|night|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|every (?:hour|half hour|few (?:min|minutes|hours)|\d+ (?:min|minutes|hours))|cada (?:hora|media hora|rato))\b"
    r"|\b(?:has|have|is|are|ive|its|hes|shes) been (?:\w+ ){0,2}?(?:puffy|swollen|swelling|bleeding|getting|hurting|aching|throbbing|oozing)\b"
    r"|\bsince (?:my|the|his|her) (?:\w+ ){0,2}?(?:filling|extraction|surgery|visit|appointment|procedure|root canal|crown|implant|cleaning|pull)\b"
    r"|\b(?:ahora|ahorita|todavia|sigue|otra vez|de nuevo|hoy|esta manana|esta noche|peor|empeorando|desde (?:ayer|anoche|hoy|esta manana|hace)|cada (?:dia|vez) (?:mas|peor)|escalofrios)\b"
)
_RESOLVED = lazy(
    r"\b(?:fine now|better now|ok now|okay now|all good now|resolved|went away|gone now|all better|cleared up|was nothing|they said it was|(?:all )?(?:fine|good|ok|okay) (?:ever )?since|bien desde entonces|doing (?:well|great|good|fine) now)\b"
    r"|\b(?:ya estoy bien|ya paso|ya se me quito|ya esta bien|ya se (?:le )?quito|ya no (?:me )?duele)\b"
)


def _clause(canon: str, start: int, end: int) -> str:
    """The clause around a match: from the previous sentence break or "but" to the next."""
    lo = 0
    for m in _CLAUSE_END.finditer(canon, 0, start):
        lo = m.end()
    nxt = _CLAUSE_END.search(canon, end)
    return canon[lo:nxt.start() if nxt else len(canon)]


# Figures of speech: "this bill is killing me", "I nearly had a heart attack when I saw the
# statement", "el trabajo me está matando", "me muero de risa": the words of a symptom, no symptom.
_NOT_BODY = (r"bill|bills|statement|invoice|copays?|co pays?|deductibles?|insurance|payments?|charges?|factura|facturas|cobros?|seguro|deducible|boss|work|job|wait|waiting|hold|hours|schedule|traffic|price|prices|cost|homework|kids|"
             r"commute|line|paperwork|(?:this|that|the) (?:dentist |doctor )?(?:appt|appointment|visit)|trabajo|espera|cuenta|jefe|precio|"
             r"calor|trafico|chamba|horario|fila|tarea|copagos?|pagos?|cobros?|renta|colegiatura|escuela|clases|examenes")
_HYPERBOLE = lazy(
    rf"\b(?:{_NOT_BODY})\b(?:\W+\w+){{0,4}}?\W+(?:kill\w* me|me (?:esta |estan )?mat\w*|me va a matar|me van a matar)\b"
    rf"|\b(?:{_NOT_BODY})\b(?:\W+\w+){{0,5}}?\W+(?:almost|nearly|casi|por poco)\b(?:\W+\w+){{0,4}}?\W+(?:heart attack|stroke|infarto|derrame)\b"
    r"|\b(?:almost|nearly|about to|casi|por poco)\b(?:\W+\w+){0,4}?\W+(?:heart attack|stroke|infarto|derrame|patatus|soponcio)\b"
    r".{0,50}\b(?:when|cuando|opened|saw|vi|abri|lol|lmao|jaja\w*|bill|cuenta|factura|statement|price|precio|charge\w*|cobro\w*|emo_\w+)"
    r"|\b(?:kill\w* me|me mata\w*|me muero)\b (?:de (?:risa|la risa|verguenza)|lol|lmao|haha\w*|jaja\w*)"
    rf"|\b(?:kill\w* me|me (?:esta |estan )?mat\w*|me mata)\b(?:\W+\w+){{0,3}}?\W+(?:{_NOT_BODY})\b"
    r"|\b(?:have|had|gotta|got) to kill me to (?:keep|stop|get)\b|\btendrian que matarme para\b"
)


def _figure_of_speech(canon: str, start: int, end: int) -> bool:
    return any(h.start() <= start < h.end() for h in _HYPERBOLE.finditer(canon))


def in_scope(canon: str, start: int, end: int) -> bool:
    """A symptom counts unless the patient denies it just before ("no chest pain"), places it
    in the past ("after my ER visit last week") without saying it is happening now, or uses its
    words as a figure of speech ("this bill is killing me")."""
    if _DENIED.search(canon, max(0, start - 14), start) or _figure_of_speech(canon, start, end):
        return False
    clause = _clause(canon, start, end)
    if not _PAST.search(clause):
        return True  # a recent event counts even if the patient feels better ("passed out, fine now")
    # over and done ("last month, all good now") unless something says it is happening now
    return bool(_PRESENT.search(_RESOLVED.sub(" ", clause)))


EXPLAINED, OUT_OF_SCOPE = "~explained", "~out of scope"


def signs(t: InboundText | str) -> tuple[str, ...]:
    """Every warning sign in the text, by name; one set aside by its context is marked
    ("no future~explained" for a move, "urgent symptom~out of scope" for a denied or past one).
    The rules decide from these, and both models read them as features."""
    canon = t.canon if isinstance(t, InboundText) else canonical(t)
    found: list[str] = []
    explained = None
    for name, rx in WARNING_SIGNS.items():
        if name in SELF_HARM_SIGNS:
            if not rx.search(canon):
                continue
            if name in _EXPLAINABLE:
                explained = bool(_ELSEWHERE.search(canon)) if explained is None else explained
                found.append(name + EXPLAINED if explained else name)
            else:
                found.append(name)
            continue
        matches = list(rx.finditer(canon))
        if matches:
            live = any(in_scope(canon, m.start(), m.end()) for m in matches)
            found.append(name if live else name + OUT_OF_SCOPE)
    if _GENERIC.search(canon):
        found.append(GENERIC_SIGN + ("" if not _GENERIC_SAFE.search(canon) else OUT_OF_SCOPE))
    return tuple(found)


def urgent(t: InboundText | str, found: tuple[str, ...] | None = None) -> SafetyHit | None:
    """The first live warning sign: self-harm first (so the agent adds 988), then medical
    emergencies, severe pain, and a patient who calls it urgent or an emergency."""
    canon = t.canon if isinstance(t, InboundText) else canonical(t)
    found = signs(t) if found is None else found
    for name in found:
        if name in SELF_HARM_SIGNS:
            return SafetyHit("urgent", "self_harm", name)
    for name in found:
        if name in MEDICAL_SIGNS:
            return SafetyHit("urgent", "medical", name)
    if "severe pain" in found and (not _MILD.search(canon) or _EXTREME_PAIN.search(canon)):
        return SafetyHit("urgent", "medical", "severe pain")
    if GENERIC_SIGN in found and (len(re.findall(r"[a-z]+", canon)) <= SHORT_ALARM_WORDS or _CALL_NOW.search(canon)):
        # "emergencia!!", "urgent, call me back": nothing else to weigh, and any doubt is urgent
        return SafetyHit("urgent", "medical", "says it is an emergency")
    return None  # otherwise "says urgent / emergency" is the urgent model's to weigh (it is a feature)


GENERIC_SIGN = "says urgent / emergency"
SHORT_ALARM_WORDS = 5  # "emergency pls call back", "urgente llamen ya": the whole text is the alarm
_CALL_NOW = lazy(r"\b(?:call|ring|phone) (?:me|us)?\s*(?:back|now|asap|right away|please|immediately)\b|\bllam(?:en|eme|enme|ame|ar)\b|\bcall me\b")


# --- opt-out -----------------------------------------------------------------------------
_MSG = r"(?:text\w*|txt\w*|message\w*|msgs?|sms|reminder\w*|notification\w*|alert\w*|survey\w*|these|them|this|it|mensajes?|textos?|recordatorios?|msjs?)"
# A clause that is nothing but a stop word (with please / again / emoji around it).
_BARE_STOP = lazy(
    r"^(?:(?:please|i said|just|ok|now|so|pls) )*(?:stop|stopall|stop all|unsubscribe|opt ?out|alto|baja|parar|dar de baja|quit"
    r"|stpo|sotp|stp|stopp+|sstop|st0p|sopt|unsubcribe|unsuscribe|unsubscibe|vaja|bajaa|altoo)"
    r"(?: (?:please|now|it|already|again|thanks|thank you|por favor|ya|emo_\w+|stop|alto|quit))*$"
)
OPT_OUT = _rx(
    r"\b(?:stop|quit|cease) (?:texting|sending|messaging|contacting|reminding|txting|msging)\b", rf"\bstop (?:the|these|all|your|those|ur) (?:\w+ )?{_MSG}",
    r"\bunsubscrib\w*\b", r"\bopt(?:ed)?(?: me)? ?out\b", r"\boptout\b",
    r"\bcancel\w* (?:all |the |my |these |your |those |this |ur |mi |la |los |las |sus |su |el |de )?(?:text|sms|message|reminder|notification|mensaje|recordatorio|texto)", r"\bcancel\w* (?:my |the )?(?:text|sms|message|reminder) (?:subscription|suscripcion)",
    r"\b(?:desuscrib|desinscrib|desubscrib|dessuscrib)\w*",
    r"\b(?:remove|delete|erase) (?:me|my number|this number|my (?:\w+ )?(?:number|phone|cell)|my \w+s (?:number|phone)|\w+s number)(?: (?:off|from))?\b(?! (?:the )?(?:appointment|schedule|waitlist|wait list|waiting list))",
    r"\b(?:off|out of) (?:your|the|this|ur) (?!wait)(?:\w+ )?(?:list|texts|text list|mailing list|system)\b", r"\b(?:take|took|taking) (?:me|us|this number|my number|him|her) off\b(?! (?:the |your |of |my |his |her |our )?(?:schedule|appointment|calendar|books|wait|account|portal|file|chart|insurance|plan|policy|bill|medication|meds))", r"\blose (?:my|this) number\b", r"\bleave me alone\b",
    rf"\b(?:dont|do not|never|pls dont|please dont|please do not) (?:ever )?(?:text|txt|message|msg|contact|sms|send me (?:any )?(?:more |another )?{_MSG})",
    rf"\bno (?:more|further) {_MSG}", rf"\b(?:just )?not (?:send|text) (?:me )?(?:any )?(?:more )?{_MSG}", r"\bprefer (?:e ?mail|email|a call|calls|phone calls|mail|letters)\b(?! for)", r"\b(?:dont|do not|no longer|no more|doesnt|dont even) (?:want|need|wish|wanna)(?: to)?(?: (?:get|receive|be getting|keep getting|have))? (?:any |these |the |your |those |more |any more )*(?:texts|text messages|text reminders|messages|reminders?|txts|sms|notifications?)\b",
    r"\b(?:turn|shut|switch) off (?:the |my |these |your |all )?(?:text|reminder|message|notification|alert)",
    r"\b(?:turn|shut|switch) (?:the |my |these |your |all )?(?:texts?|reminders?|messages?|notifications?) off\b",
    r"\bstop (?:the |these |all |your )?(?:\w+ )?(?:reminders?|texts|messages|alerts|surveys?)\b",
    r"\bstop (?:please|pls|plz|now|already|it already)\b", r"\b(?:please|pls|plz|just|i said|can you|could you|can you please|could you please|will you) stop\b(?! by| in| at| over| for)",
    r"\bstop(?: \w+)? (?:reminding|texting|sending|messaging|contacting)\b",
    r"\bstop (?:with )?the (?:robot|spam)\b.*\bno more\b",
    # Spanish
    r"\b(?:ya )?no (?:me |nos |le |les )?(?:manden|mande|envien|envie|escriban|escriba|mandes|envies|sigan mandando|sigan enviando|textees|texteen|textee|textes|mensajees|mensajeen)\b(?! (?:mas )?(?:la|el|los|las|esa|esas|ese|esos) (?:cuenta|factura|recibo|receta|resultado|medicina|pastilla|estado))",
    r"\b(?:mensajes|textos|recordatorios|msjs)\b.{0,120}\bya no (?:me |nos |le )?(?:los|las) (?:manden|mande|envien|envie|sigan mandando|sigan enviando)\b",
    r"\bdej(?:en|e|a|ad|es|eis) de (?:mandar|enviar|escribir|mensajear|textear)", r"\bno (?:quiero|queremos|deseo|necesito) (?:recibir |mas |seguir recibiendo )*(?:los |sus |estos )?(?:mensajes|textos|recordatorios|msjs|mensajitos)",
    r"\bya no (?:quiero|queremos|deseo|necesito) (?:recibir )?(?:mas )?(?:los |sus |estos )?(?:mensajes|textos|recordatorios|msjs|nada)",
    r"\bno mas (?:mensajes|textos|recordatorios|msjs)\b", r"\b(?:favor de|por favor|porfa|les pido|pido) (?:que )?(?:ya )?no (?:mandar|enviar|escribir)(?:me|nos|le)? (?:mas )?(?:mensajes|textos|recordatorios|msjs)\b", r"\bdej\w* de recibir (?:los |sus |estos )?(?:mensajes|textos|recordatorios)",
    r"^(?:no|no more) (?:texts|messages|txts|text messages)\b", r"\bremove\b.*\b(?:from|off) (?:your|the|this|ur) (?:\w+ )?(?:list|texts|texting|messages|reminders|system)\b", r"\b(?:dar|darme|denme|doy|den|darnos) de baja\b", r"\bbaj(?:en|e|a)me (?:de|del)\b",
    r"\bya no (?:necesito|quiero|ocupo|hace falta) que me (?:esten )?(?:recuerden|manden|escriban|avisen|envien|mensajeen|avisando|mandando|escribiendo|recordando)\b",
    r"\b(?:ya )?no (?:es necesario|hace falta|tiene caso) que (?:me |le |nos )?(?:sigan )?(?:manden|escriban|envien|mandando|enviando|escribiendo|avisen)\b",
    r"\b(?:borrenme|borrame|sacame|saquenme) de (?:todo|la lista|sus listas)\b", r"\bno me vuelvan a (?:escribir|mandar|mensajear|enviar)\b",
    r"\bya basta (?:con|de) (?:los |sus |tantos )?(?:textos|mensajes|recordatorios)\b", r"\bcancel\w* (?:las |los )?(?:alertas|avisos)\b",
    r"\bsi me vuelven a (?:mandar|escribir|enviar)\b", r"\bborren mis datos\b",
    r"\bplease remove (?:it|this|me|us|this number|my number)\b\W*$", r"\b(?:not|no longer) needed anymore\b.{0,20}\bremove\b",
    r"\b(?:would|id|i would|we would|wed) rather not (?:get|be texted|receive|be messaged|have) ?(?:these|texts|them|messages|any)?\b",
    r"\b(?:disable|deactivate|desactiv\w*) (?:the )?(?:sms|texts?|text messages|notifications|mensajes|recordatorios)\b",
    r"\b(?:dont|do not) send (?:me )?any ?more\b", r"\b(?:wont|will not) (?:need|be needing) (?:these|the|your|any more|more) (?:reminders|texts|messages)\b",
    r"\b(?:dont|do not|no longer|dont even) (?:want|need|wish)(?: to)?(?: (?:get|receive|keep getting))? (?:these|them|those)(?: anymore| any more)?\s*(?:[.!,]|thanks|thank you|$)",
    r"\bquit(?:en|enme|ame|eme|arme|arnos|ar) (?:de |mi numero)", r"\b(?:borren|borre|eliminen|elimine) (?:mi|este|el) numero\b",
    # done with / fed up with the texts; never another one; would prefer not to get them
    rf"\b(?:done|finished|fed up|sick|tired) (?:with|of) (?:all )?(?:these|the|your|those|ur|this) (?:\w+ )?{_MSG}",
    r"\b(?:harta?o?|cansad[oa]|aburrid[oa]) (?:de|con) (?:tantos |los |sus |estos |esos )?(?:mensajes|textos|recordatorios|msjs)\b",
    r"\b(?:texts?|messages?|reminders?|txts?)\b.{0,60}\b(?:never|dont|do not) want (?:another|any more|one more)\b",
    rf"\bprefer (?:not to|to not) (?:get|receive|be sent|have|be getting)\b.{{0,20}}{_MSG}",
    # a Spanish or Spanglish stop with its object ("stop mandandome mensajes", "alto con los mensajes")
    r"\bstop (?:mandando|enviando|mandandome|enviandome|mandarme|enviarme|textear\w*|escribiendo|escribiendome)\b",
    rf"\b(?:stop|alto|basta|ya basta) (?:with|con|de) (?:the |these |all |your |those |los |sus |tantos |esos |estos )?(?:\w+ )?{_MSG}\b",
    r"^(?:\W*\w+){0,2}?\W*\b(?:no|ya no|no mas|nada de) (?:textos|mensajes|msjs|mensajitos)\b",
    r"\bno (?:quiero|queremos|deseo|necesito) que me (?:sigan |vuelvan a )?(?:lleguen|llegue|manden|envien|mandando|enviando|escriban|mensajeen) (?:\w+ )?(?:los |mas |sus |estos )?(?:mensajes|textos|recordatorios|msjs)\b",
    r"\b(?:end|cut off|put an end to) (?:the|these|all|your|those|my) (?:\w+ )?(?:texts|messages|reminders|txts)\b",
    # a partial opt-out: one of the reminders dropped ("drop the day-before one", "stop the extra ones")
    r"\b(?:reminders?|texts?|messages?)\b.{0,80}\b(?:drop|stop|skip|cut|remove|lose)\b (?:the |those |these |that )?(?:\w+[ -]){0,3}?ones?\b",
    r"\b(?:drop|stop|skip|cut|remove|lose)\b (?:the |those |these |that )?(?:\w+[ -]){0,3}?ones?\b.{0,80}\b(?:reminders?|texts?|messages?)\b",
    r"\b(?:quit|stop) (?:blowing up|spamming|blasting) (?:my|this) (?:phone|cell|number)\b|\b(?:quit|stop) (?:spamming|pestering) me\b",
    r"\b(?:pause|suspend|hold off on|put a hold on|freeze) (?:the |these |all |your |my |those )?(?:\w+ )?(?:text\w*|txt\w*|messages?|sms|reminders?|notifications?|alerts?|mensajes|textos|recordatorios)\b",
    r"\bblock\w* (?:this|your|the|ur|you|u)(?: number| #| sender)?\b.{0,40}\b(?:dont|do not|stop|keep|again|more)\b|\b(?:if|unless)\b.{0,40}\b(?:stop|dont stop)\b.{0,30}\bblock\w*\b",
    rf"\bstop (?:getting|receiving|being sent) (?:the |these |your |any |all )?(?!e ?mail|mail|phone|voice|call|robo ?call)(?:\w+ )?{_MSG}",
    r"\bno (?:more|further) (?!e ?mail|mail|phone|voice|call)\w+ (?:text\w*|txt\w*|messages?|sms|reminders?|notifications?|alerts?)\b",
    rf"\b{_MSG}\b.{{0,80}}\b(?:turn|shut|switch) (?:them|it|these|those|all of them|all) (?:all )?off\b",
    # a short text that ends refusing "this" (a stranger's "who is this? I don't want this")
    r"^(?:\W*\w+){0,6}?\W*\b(?:ya )?no (?:quiero|queremos|deseo) (?:recibir )?(?:esto|estos|eso|esos)\W*$",
    r"^(?:\W*\w+){0,6}?\W*\b(?:i )?(?:dont|do not) want (?:this|these|any of this)\W*$",
)
# Someone who stopped by mistake and wants texts back is opting in, not out.
# "by mistake" undoes a STOP only when it is about the stop ("I hit STOP by accident"), not about
# the number ("my brother gave my number by mistake, stop sending here" is an opt-out)
_MISTAKE = r"(?:by mistake|accident\w*|didnt mean to|did not mean to|oops|me equivoque|por error|sin querer|por equivocacion)"
_STOP_WORD = r"(?:stop|alto|baja|parar|unsubscrib\w*|quit|opt\w* out|cancel\w*|end)"
_UNDO = lazy(
    rf"\b{_STOP_WORD}\b(?:\W+\w+){{0,5}}?\W+{_MISTAKE}\b|\b{_MISTAKE}\b(?:\W+\w+){{0,5}}?\W+{_STOP_WORD}\b|\bchanged my mind\b"
    r"|\b(?:start|resume) (?:sending|texting)\b|\bsubscribe again\b|\bresubscribe\b|(?<!no )\bquiero (?:los|recibir) (?:mensajes|recordatorios)\b"
    r"|\bsign (?:me|us|him|her) (?:back )?up (?:again )?for (?:the )?(?:text|reminder|message|sms)|\b(?:texts?|reminders?|messages?|alerts?) back on\b|\b(?:turn|switch) (?:the |my |all |those |these )?(?:text\w* |reminder\w* |message\w* |notification\w* |alert\w* )*(?:them |it )?back on\b|\bput (?:me|us|my number|this number) back on\b"
    r"|\b(?:like|want|wanna|love) (?:to )?(?:get|receive|start getting|have) (?:the )?(?:\w+ )?(?:texts|reminders|messages|alerts) (?:again|back)\b"
    r"|\b(?:volver|vuelvan|pueden volver) a (?:mandar|enviar)(?:me|nos)? (?:\w+ )?(?:los |las |mis )?(?:recordatorios|mensajes|textos|avisos)\b"
)


def opt_out(t: InboundText) -> SafetyHit | None:
    """Stage 2: a carrier keyword (alone, on its own line, spelled out) or a request to stop texts."""
    if t.keyword == "opt_out":
        return SafetyHit("opt_out", None, "carrier keyword")
    canon = t.canon
    word = t.bare.lower()
    if word in ("st0p", "s top", "stopp", "stoppp", "sto p", "stop stop", "stop stop stop", "unsub", "opt out", "opt out please", "stop all"):
        return SafetyHit("opt_out", None, "carrier keyword (variant)")
    if _mistyped_stop(word):
        return SafetyHit("opt_out", None, "carrier keyword (mistyped)")
    if _UNDO.search(canon):
        return None
    retracted = _RETRACTED_STOP.match(canon)
    if retracted:
        canon = canon[retracted.end():]
    for clause in re.split(r"[.,;:!?\n]+|\s-\s|\bbut\b|\band\b|\bpero\b|\by\b", canon):
        clause = clause.strip()
        if clause and _BARE_STOP.match(clause):
            return SafetyHit("opt_out", None, "stop keyword as a sentence")
    for m in OPT_OUT.finditer(canon):
        if not _stop_trap(canon, m):
            return SafetyHit("opt_out", None, "asks to stop texts")
    return None


# English words one key from STOP that a patient might send alone
_NEAR_STOP_WORDS = frozenset({"step", "shop", "spot", "stay", "atop", "slop", "stow", "stoa", "soup", "stomp", "store", "stood"})


def _mistyped_stop(word: str) -> bool:
    """A whole text one slip from STOP ("stip", "sto", "stoo", "sotp"): a thumb that meant the
    keyword. Swaps, one wrong, one missing or one extra letter; real words left alone."""
    word = word.strip(" .!")
    if not 3 <= len(word) <= 5 or not word.isalpha() or word in _NEAR_STOP_WORDS or word[0] != "s":
        return False
    return _one_edit(word, "stop")


def _one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance exactly 1 (or 0) between two short words."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if abs(len(a) - len(b)) != 1:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


_TRAP_AFTER_STOP = lazy(r"stop (?:by|in|at|over|for|taking|eating|drinking|calling|phoning|ringing|the calls|llamar\w*|the bleeding|bleeding|the pain|hurting|smoking|(?:sending|charging|billing|mailing|faxing|emailing) (?:me |us |him |her )?(?:to (?:collections?|an agency|cobranza)|(?:(?:my|the|his|her|our|any|those|these) )?(?:\w+ )?(?:prescription|rx|bill|statement|record|refill|medication|card|payment|account|claim|letter|mail|e ?mail|newsletter|catalog|postcard|flyer)\w*))")


# a negator, then at most a few words of wanting / meaning ("I do not wish to", "not asking you to",
# "no quiero que", "no pienso"): what follows is not asked for
_WANTING = r"(?:(?:ever|me|nos|le|be|wish|want|wanna|mean|meant|plan|planning|intend|ask|asking|need|going|gonna|trying|you|to|quiero|queremos|quise|pienso|vayan|van|voy|a|que|ustedes) )"
_NEGATED_STOP = lazy(rf"\b(?:wont|dont|not|never|cant|didnt|doesnt|will not|do not|shall not|no|nunca) {_WANTING}{{0,4}}$")


# "stop my autopay", "stop sending my account to collections": stop with an object that is not a text
_OTHER_OBJECT = lazy(
    r"\s*(?:(?:sending|charging|billing|putting|reporting|mailing|taking|processing|the) )?(?:me )?(?:my|the|this|that|his|her|our|your|mi|la|el|los|las|mis|su|sus) (?!(?:\w+ )?(?:text|txt|messag|msg|sms|remind|notif|alert|survey|mensaj|recordatorio|texto))\w+"
    # ... or one of the things patients stop that are not texts, with no article ("stop autopay")
    r"|\s*(?:(?:sending|mailing|charging|billing|emailing) )?(?:me )?(?:any more |more |the )?(?:paper |mailed |printed |monthly )?(?:auto ?pay\w*|payments?|charg\w*|billing|bills?|letters?|mail|e ?mails?|newsletters?|catalogs?|postcards?|flyers?|collections?|debits?|statements?|withdrawals?|medica\w*|meds|pills|insulin|refills?|prescriptions?"
    r"|cobr\w*|cargos?|pagos?|medicin\w*|medicamentos?|pastillas|recetas?|tratamiento)\b"
)


def _stop_trap(canon: str, m: re.Match[str]) -> bool:
    """"stop by tomorrow?", "I won't stop texting you until...", "stop my autopay": not a request
    to stop texts."""
    at = m.start() + max(0, m.group().rfind("stop"))  # "please stop calling me": the trap follows the verb
    if _TRAP_AFTER_STOP.match(canon, at) or _NEGATED_STOP.search(canon, max(0, m.start() - 36), m.start()):
        return True
    if m.group().startswith("stop") and _SYMPTOM_BEFORE_STOP.search(canon, max(0, m.start() - 40), m.start()):
        return True  # "the pain is stop now", "bleeding finally stopped": a symptom that stopped
    if m.group().startswith("unsubscrib") and _NOT_TEXTS.match(canon, m.end()):
        return True
    if _REPORTED_STOP.search(canon, max(0, m.start() - 40), m.start()):
        return True  # "my husband keeps telling me to stop texting the dentist back": not asked of us
    if "baja" in m.group() and _OTHER_BAJA.match(canon, m.end()):
        return True  # "me acaban de dar de baja en el trabajo": laid off, or sick leave
    if not _CONTACT_WORD.search(m.group()) and _MAILED_PAPER.search(canon, m.start(), min(len(canon), m.end() + 60)):
        return True  # "pueden stop mandarme los estados de cuenta en papel": mailed paper, not texts
    # the object check is for a bare stop verb ("please stop autopay"); "take me off this list" has its object
    return bool(_STOP_VERB_END.search(m.group())) and bool(_OTHER_OBJECT.match(canon, m.end())) and not _CONTACT_WORD.search(m.group())


# the subject of a stop that is a symptom ("the pain is stop now thank God", "el dolor ya paro")
_SYMPTOM_BEFORE_STOP = lazy(r"\b(?:pain|bleeding|blood|swelling|ache|fever|cough|coughing|itch\w*|rash|vomit\w*|nausea|throbbing|hurting|dolor|sangrado|hinchazon|fiebre|tos|comezon|it)\b (?:\w+ ){0,2}$")
# someone else's stop ("my husband keeps telling me to stop texting back", "mi hija me dice que deje de")
_REPORTED_STOP = lazy(r"\b(?:telling|tells|told|tell|asked|asks|asking|wants|wanted|keeps telling|dice|dijo|dicen|pide|pidio) (?:me|us|her|him|them|me que|que|nos que) (?:to |que )?(?:just )?$")
# "baja" that is not the texts: laid off, sick leave ("me dieron de baja en el trabajo", "baja médica")
_OTHER_BAJA = lazy(r"\s*(?:(?:en|del|de|por|de mi|en mi) (?:el |la |mi )?(?:trabajo|empleo|chamba|compania|empresa|fabrica|obra|seguro|aseguranza|medicaid|enfermedad|maternidad|incapacidad|escuela|universidad)|medica|laboral|por maternidad|por enfermedad)\b")
# a STOP taken back in the same breath ("stop! i mean wait, can i switch to 2pm"): the rest is read
_RETRACTED_STOP = lazy(r"^\W*stop\W+(?:(?:i mean|no|oh|um|sorry|oops)\W+)?(?:wait|nvm|never ?mind|scratch that|ignore that|disregard(?: that)?)\b\W*")
# paper that is mailed is not a text ("ya no me manden el estado de cuenta en papel")
_MAILED_PAPER = lazy(r"\b(?:mand\w*|envi\w*|send\w*|mail\w*)\b (?:\w+ ){0,4}?(?:estados? de cuenta|facturas?|papel|papeles|bills?|statements?|invoices?|cartas?|letters?|catalog\w*|revistas?|postcards?)\b")


_STOP_VERB_END = lazy(r"(?:stop|quit|cease|parar|alto|baja|sending|texting|mandar|enviar|mandando|enviando|manden|mande|envien|envie|mandes|envies)$")
# "unsubscribe from your email newsletter": another channel, not the texts
_NOT_TEXTS = lazy(r"\s*(?:me )?(?:from )?(?:the |your |ur |this |that )?(?:(?!text|txt|sms|messag|remind)\w+ )?(?:e ?mail\w*|newsletter\w*|mailing\w*|marketing e ?mails?|promo\w*(?! (?:texts?|txts?|sms|messages?|msgs?))|portal)")


_CONTACT_WORD = lazy(r"text|txt|messag|msg|sms|remind|notif|alert|survey|mensaj|recordatorio|texto")


def without_traps(canon: str) -> str:
    """Canonical text with the non-opt-out uses of "stop" removed (for the model's backstop)."""
    canon = _TRAP_AFTER_STOP.sub(" ", _RETRACTED_STOP.sub(" ", canon))
    return _NEGATED_STOP_PHRASE.sub(" ", _MAILED_PAPER.sub(" ", canon))


_NEGATED_STOP_PHRASE = lazy(
    rf"\b(?:wont|dont|not|never|do not|will not|shall not|no|nunca) {_WANTING}{{0,4}}(?:stop\w*|dejar de|dejen de|unsubscrib\w*|opt me out|remove(?: me)?|take(?: me)? off"
    r"|(?:den|des|dar|darme) de baja|(?:quiten|saquen|borren)(?: de (?:la lista|baja))?|salir\w* de la lista)\b"
    # and what it is kept from ("... from the list", "... de los mensajes")
    r"(?: (?:me )?(?:from|of|off|de) (?:the |your |this |la |los |sus )?(?:\w+ )?(?:list|lista|texts|reminders|messages|mensajes|recordatorios))?"
)


def keeps_texts_only(canon: str) -> bool:
    """"don't unsubscribe me", "no me den de baja de los mensajes", and nothing else: the patient
    keeps the texts they have (beside another request, that request is the label)."""
    return bool(_NEGATED_STOP_PHRASE.search(canon)) and len(_NEGATED_STOP_PHRASE.sub(" ", canon).split()) <= 2


def undoes_stop(canon: str) -> bool:
    """"I hit STOP by mistake", "resume texting me": the patient wants the texts back."""
    return bool(_UNDO.search(canon))


def keeps_texts(canon: str) -> bool:
    """"don't stop sending me reminders": the opposite of an opt-out."""
    return bool(_NEGATED_STOP_PHRASE.search(canon)) or bool(_UNDO.search(canon)) or bool(_WANTS_TEXTS.search(canon))


# "text me instead", "the texts are fine", "prefiero mensajes": asking for texts, whatever else it stops
_WANTS_TEXTS = lazy(
    r"\b(?:text|txt|message) me (?:instead|only|please|back)\b|\b(?:prefer|rather have|rather get) (?:a )?(?:texts?|txts?|messages?)\b"
    r"|\b(?:the )?(?:texts|reminders|messages) (?:are|r) (?:fine|ok|okay|great|helpful|good)\b|\bi like the (?:reminders|texts)\b"
    r"|\bno (?:paren|dejen|pares|dejes) de (?:mandar|enviar|escribir)\w*\b|\b(?:dont|do not|never) stop (?:sending|texting)\b(?! (?:me )?(?:bills?|statements?))"
    r"|\b(?:texting|texts?) (?:is |are )?(?:fine|ok|okay|better|works?|great)\b|\b(?:mejor|prefiero|solo) (?:por )?(?:los |las )?(?:mensajes?|textos?)\b|\b(?:los )?(?:mensajes|recordatorios) (?:estan bien|son (?:muy )?utiles)\b"
)
