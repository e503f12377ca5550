"""The voice bot as data: intents, slots, slot types, prompts and sample utterances in en_US and
es_US, read both by the CDK Lex V2 resources (infra/voice.py) and by the local Lex stand-in."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from careloop.practice import PracticeProfile

SlotConstraint = Literal["Required", "Optional"]
Language = Literal["en", "es"]

BOT_NAME_PREFIX = "careloop"
FALLBACK_INTENT = "FallbackIntent"
FALLBACK_SIGNATURE = "AMAZON.FallbackIntent"
VISIT_TYPE = "VisitType"  # the custom slot type: one value per bookable appointment type

# Built-in slot types the bot uses. Medication is free text: AMAZON.FreeFormInput captures the
# whole answer as it was said, which is what the clinical team needs (it is recognised only when
# elicited and may not appear in sample utterances; the code hook elicits it).
DATE = "AMAZON.Date"
TIME = "AMAZON.Time"
FIRST_NAME = "AMAZON.FirstName"
LAST_NAME = "AMAZON.LastName"
FREE_TEXT = "AMAZON.FreeFormInput"
BUILT_IN_SLOT_TYPES = (DATE, TIME, FIRST_NAME, LAST_NAME, FREE_TEXT)


@dataclass(frozen=True)
class SlotValue:
    """One value of a custom slot type: what Lex resolves to (`value`) and what callers say."""

    value: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlotType:
    """A custom slot type. Resolution is restricted to the values, so the code hook always reads
    one of them (an appointment type id), never whatever the caller happened to say."""

    name: str
    description: str
    values: tuple[SlotValue, ...]

    def resolve(self, text: str) -> str | None:
        """The value whose name or synonym the text contains (longest phrase wins), or None;
        what Lex's restricted resolution does, for the local stand-in."""
        said = f" {fold(text)} "
        best: tuple[int, str] | None = None
        for item in self.values:
            for phrase in (item.value, *item.synonyms):
                folded = fold(phrase)
                if folded and f" {folded} " in said and (best is None or len(folded) > best[0]):
                    best = (len(folded), item.value)
        return None if best is None else best[1]


@dataclass(frozen=True)
class Slot:
    """One slot of an intent: its type, whether Lex must fill it, and how it is asked for."""

    name: str
    slot_type: str  # a built-in (AMAZON.*) or the name of a custom SlotType of the locale
    prompt: str
    constraint: SlotConstraint = "Optional"
    description: str = ""


@dataclass(frozen=True)
class Intent:
    name: str
    description: str
    utterances: tuple[str, ...]  # sample utterances; {Slot} names a slot of this intent
    slots: tuple[Slot, ...] = ()
    parent_signature: str | None = None  # AMAZON.FallbackIntent for the fallback

    def slot(self, name: str) -> Slot | None:
        return next((s for s in self.slots if s.name == name), None)


@dataclass(frozen=True)
class BotLocale:
    """One language of the bot: Lex locale id, the Careloop language, Polly voice, intents."""

    locale_id: Literal["en_US", "es_US"]
    language: Literal["en", "es"]
    voice_id: str
    intents: tuple[Intent, ...]
    slot_types: tuple[SlotType, ...]
    confidence_threshold: float = 0.4  # below it Lex picks the FallbackIntent (the classifier decides)

    def intent(self, name: str) -> Intent | None:
        return next((i for i in self.intents if i.name == name), None)

    def slot_type(self, name: str) -> SlotType | None:
        return next((t for t in self.slot_types if t.name == name), None)


@dataclass(frozen=True)
class BotDefinition:
    name: str
    description: str
    locales: tuple[BotLocale, ...]
    idle_session_ttl_seconds: int = 300
    child_directed: bool = False  # COPPA: the bot is not directed at children

    def locale(self, locale_id: str) -> BotLocale:
        for loc in self.locales:
            if loc.locale_id == locale_id:
                return loc
        raise KeyError(f"the bot has no locale {locale_id!r} (it has {', '.join(loc.locale_id for loc in self.locales)})")

    def for_language(self, language: str) -> BotLocale:
        return next((loc for loc in self.locales if loc.language == language), self.locales[0])


def fold(text: str) -> str:
    """Lower case, no accents, no punctuation, single spaces: how phrases are compared."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9ñ]+", " ", plain).split())


# --- SMS classifier labels -> intents of the bot ----------------------------------------------

# What the local Lex stand-in picks for the SMS classifier's label (spec/intents.md). Labels with
# no intent of their own go to the FallbackIntent, where the code hook runs the classifier again
# on the transcript, as it does for an unmatched utterance in AWS.
SMS_INTENT_TO_LEX = {
    "book": "BookAppointment",
    "confirm": "ConfirmAppointment",
    "cancel": "CancelAppointment",
    "reschedule": "RescheduleAppointment",
    "hours": "OfficeHours",
    "location": "Directions",
    "refill": "RefillRequest",
    "human": "SpeakToStaff",
    "urgent": "UrgentHelp",
}


def lex_intent_for_sms_intent(sms_intent: str) -> str:
    """The bot's intent for an SMS classifier label; FallbackIntent for the rest."""
    return SMS_INTENT_TO_LEX.get(sms_intent, FALLBACK_INTENT)


# --- prompts -----------------------------------------------------------------------------------

PROMPTS: dict[str, dict[str, str]] = {
    "VisitType": {"en": "What kind of visit would you like, for example a cleaning or an exam?",
                  "es": "¿Qué tipo de cita desea, por ejemplo una limpieza o un examen?"},
    "Date": {"en": "What day works best for you?", "es": "¿Qué día le queda mejor?"},
    "Time": {"en": "What time of day would you prefer?", "es": "¿A qué hora le gustaría?"},
    "FirstName": {"en": "To protect your privacy, what is the patient's first name?",
                  "es": "Para proteger su privacidad, ¿cuál es el nombre del paciente?"},
    "LastName": {"en": "And the patient's last name?", "es": "¿Y el apellido del paciente?"},
    "BirthDate": {"en": "And the patient's date of birth?", "es": "¿Y la fecha de nacimiento del paciente?"},
    "Medication": {"en": "Which medication would you like refilled?",
                   "es": "¿Qué medicamento necesita que le renueven?"},
}


def _slot(name: str, slot_type: str, lang: str, constraint: SlotConstraint = "Optional", description: str = "") -> Slot:
    return Slot(name=name, slot_type=slot_type, prompt=PROMPTS[name][lang], constraint=constraint,
                description=description)


def _identity_slots(lang: str) -> tuple[Slot, ...]:
    # Elicited by the code hook only when the caller's number does not identify one patient.
    return (_slot("FirstName", FIRST_NAME, lang, description="the patient's first name, to verify who is calling"),
            _slot("BirthDate", DATE, lang, description="the patient's date of birth, to verify who is calling"))


# --- sample utterances ---------------------------------------------------------------------------

UTTERANCES: dict[str, dict[str, tuple[str, ...]]] = {
    "BookAppointment": {
        "en": (
            "i'd like to make an appointment", "i want to book an appointment", "i need an appointment",
            "can i schedule an appointment", "i need to see the dentist", "i'd like to come in",
            "do you have any openings", "do you have anything available", "i want to schedule a visit",
            "can i get in this week", "i need to get in soon", "book me in please",
            "i'd like to book a {VisitType}", "i need a {VisitType}", "can i schedule a {VisitType}",
            "i want to come in for a {VisitType}", "i'm due for a {VisitType}", "i'd like a {VisitType} on {Date}",
            "can i book a {VisitType} for {Date}", "i need a {VisitType} {Date} at {Time}",
            "do you have anything on {Date}", "can i come in {Date}", "is {Date} at {Time} available",
            "i'd like an appointment on {Date}", "i'd like an appointment at {Time}",
            "can i make an appointment for {Date} at {Time}", "i'm a new patient and want to come in",
            "i'd like to become a patient", "my son needs a {VisitType}", "i need to make an appointment for my daughter",
            "schedule a {VisitType}", "new appointment",
        ),
        "es": (
            "quiero hacer una cita", "necesito una cita", "quisiera agendar una cita", "quiero sacar una cita",
            "me gustaría hacer una cita", "puedo hacer una cita", "necesito ver al dentista",
            "tienen citas disponibles", "tienen algo disponible esta semana", "quiero programar una cita",
            "quisiera ir a la clínica", "necesito una {VisitType}", "quiero una cita para una {VisitType}",
            "quisiera agendar una {VisitType}", "me toca mi {VisitType}", "necesito un {VisitType}",
            "quiero una {VisitType} el {Date}", "puedo hacer una cita para el {Date}",
            "tienen algo el {Date}", "puedo ir el {Date} a las {Time}", "quiero una cita el {Date} a las {Time}",
            "necesito una {VisitType} el {Date} a las {Time}", "hay espacio el {Date}",
            "una cita a las {Time}", "soy paciente nuevo y quiero una cita", "quiero ser paciente nuevo",
            "mi hijo necesita una {VisitType}", "necesito una cita para mi hija", "agendar una {VisitType}",
            "cita nueva", "quiero apartar una cita",
        ),
    },
    "ConfirmAppointment": {
        "en": (
            "i'm calling to confirm my appointment", "i want to confirm my appointment", "confirm my appointment",
            "i'll be there", "yes i'll be there", "i'm confirming", "i'm coming to my appointment",
            "i'd like to confirm", "just confirming my visit", "confirming my appointment for tomorrow",
            "when is my appointment", "what time is my appointment", "do i have an appointment",
            "can you tell me when my next appointment is", "i forgot when my appointment is",
            "is my appointment still on", "i got a reminder and want to confirm", "confirm please",
            "i'm calling about my appointment reminder", "we'll be there", "i'll be there on thursday",
            "i'm confirming for monday", "i want to make sure my appointment is still scheduled",
            "check my appointment", "what day is my appointment",
        ),
        "es": (
            "llamo para confirmar mi cita", "quiero confirmar mi cita", "confirmar mi cita", "ahí estaré",
            "sí voy a ir", "confirmo mi cita", "voy a ir a mi cita", "quisiera confirmar", "solo para confirmar",
            "confirmo la cita de mañana", "cuándo es mi cita", "a qué hora es mi cita", "tengo una cita",
            "me puede decir cuándo es mi próxima cita", "se me olvidó cuándo es mi cita", "sigue en pie mi cita",
            "me llegó un recordatorio y quiero confirmar", "confirmar por favor", "llamo por el recordatorio de mi cita",
            "ahí estaremos", "ahí estaré el jueves", "confirmo para el lunes", "quiero revisar mi cita",
            "qué día es mi cita", "sí confirmo",
        ),
    },
    "CancelAppointment": {
        "en": (
            "i need to cancel my appointment", "cancel my appointment", "i want to cancel", "i can't make it",
            "i won't be able to make it", "i can't come to my appointment", "please cancel my visit",
            "i have to cancel", "cancel my appointment for friday", "i can't come on wednesday",
            "i won't make it tomorrow", "i'm not going to be able to come in", "take me off the schedule",
            "i don't need the appointment anymore", "i need to cancel for my son", "cancel my daughter's appointment",
            "something came up and i can't come", "i'm sick and can't come in", "i'd like to cancel my cleaning",
            "we need to cancel", "please cancel it", "i'm calling to cancel", "i'm not coming",
            "i want to cancel and i'll call back later to rebook",
        ),
        "es": (
            "necesito cancelar mi cita", "cancelar mi cita", "quiero cancelar", "no puedo ir", "no voy a poder ir",
            "no puedo llegar a mi cita", "por favor cancele mi cita", "tengo que cancelar",
            "cancelar mi cita del viernes", "no puedo ir el miércoles", "mañana no voy a poder ir",
            "no voy a poder asistir", "quíteme de la agenda", "ya no necesito la cita",
            "necesito cancelar la cita de mi hijo", "cancele la cita de mi hija", "me surgió algo y no puedo ir",
            "estoy enfermo y no puedo ir", "quiero cancelar mi limpieza", "tenemos que cancelar",
            "cancélela por favor", "llamo para cancelar", "no voy a ir", "quiero cancelar y luego llamo para otra cita",
        ),
    },
    "RescheduleAppointment": {
        "en": (
            "i need to reschedule", "i want to reschedule my appointment", "can i move my appointment",
            "can i change my appointment", "i need a different time", "i need a different day",
            "can we do another day", "can i come in later", "can i come in earlier",
            "move my appointment to {Date}", "can i change it to {Date}", "can i reschedule for {Date} at {Time}",
            "i'd like to move my appointment to {Time}", "can we push it to next week",
            "i can't make that time can we change it", "is there something later in the day",
            "do you have anything earlier", "i need to change my appointment for my son",
            "reschedule my cleaning", "switch my appointment to {Date}", "i want a new time for my appointment",
            "could we move it to the afternoon", "is {Date} open instead", "i need to move my visit",
        ),
        "es": (
            "necesito cambiar mi cita", "quiero reprogramar mi cita", "puedo mover mi cita",
            "puedo cambiar la fecha de mi cita", "necesito otra hora", "necesito otro día", "podemos hacerlo otro día",
            "puedo ir más tarde", "puedo ir más temprano", "cambiar mi cita para el {Date}",
            "puedo cambiarla para el {Date}", "puedo cambiarla para el {Date} a las {Time}",
            "quiero mover mi cita a las {Time}", "podemos pasarla a la próxima semana",
            "no puedo a esa hora podemos cambiarla", "hay algo más tarde", "tienen algo más temprano",
            "necesito cambiar la cita de mi hijo", "reprogramar mi limpieza", "pasar mi cita al {Date}",
            "quiero otra hora para mi cita", "la podemos mover a la tarde", "el {Date} está libre",
            "necesito mover mi cita",
        ),
    },
    "OfficeHours": {
        "en": (
            "what are your hours", "when are you open", "what time do you open", "what time do you close",
            "are you open today", "are you open tomorrow", "are you open on saturday", "are you open on weekends",
            "what are your office hours", "how late are you open", "when do you open in the morning",
            "are you open right now", "are you closed today", "are you open on monday", "what are your hours on friday",
            "are you open for lunch", "when does the office close", "what days are you open",
            "are you open on the holiday", "what time does the front desk open",
            "until what time are you open", "are you open sundays",
        ),
        "es": (
            "cuál es su horario", "a qué hora abren", "a qué hora cierran", "están abiertos hoy",
            "abren mañana", "abren los sábados", "abren los fines de semana", "cuál es el horario de la oficina",
            "hasta qué hora están abiertos", "a qué hora abren en la mañana", "están abiertos ahorita",
            "están cerrados hoy", "abren el lunes", "qué horario tienen el viernes", "cierran para almorzar",
            "a qué hora cierra la oficina", "qué días abren", "abren el día festivo",
            "a qué hora abre la recepción", "abren los domingos", "horario de atención",
            "cuándo están abiertos",
        ),
    },
    "Directions": {
        "en": (
            "what is your address", "where are you located", "how do i get there", "can i get directions",
            "where is the office", "what's the address", "where do i park", "is there parking",
            "what floor are you on", "what suite are you in", "which building are you in",
            "are you near the train", "how do i find you", "where's your office",
            "is there a parking lot", "where is the entrance", "what street are you on",
            "i'm lost how do i get to the office", "directions please", "what's the cross street",
        ),
        "es": (
            "cuál es la dirección", "dónde están ubicados", "cómo llego", "me puede dar direcciones",
            "dónde queda la oficina", "cuál es su dirección", "dónde me estaciono", "hay estacionamiento",
            "en qué piso están", "en qué suite están", "en qué edificio están", "están cerca del tren",
            "cómo los encuentro", "dónde está su oficina", "hay donde parquear", "dónde está la entrada",
            "en qué calle están", "estoy perdido cómo llego a la oficina", "direcciones por favor",
            "dónde queda la clínica",
        ),
    },
    "RefillRequest": {
        "en": (
            "i need a refill", "i need a prescription refill", "can i get a refill", "i need my prescription renewed",
            "i'm out of my medication", "i ran out of my medicine", "can the doctor call in a prescription",
            "i need more of my medication", "refill my prescription please", "i need a new prescription",
            "can you send a prescription to my pharmacy", "my pharmacy needs a refill authorization",
            "i'm calling about a refill", "i need a refill for my mouthwash", "can i renew my prescription",
            "i need my pain medication refilled", "the pharmacy said i need a new prescription",
            "i'm almost out of my pills", "prescription refill", "i need a refill for my son",
        ),
        "es": (
            "necesito un resurtido", "necesito que me renueven la receta", "me pueden dar más medicina",
            "necesito renovar mi receta", "se me acabó el medicamento", "se me acabó la medicina",
            "el doctor puede mandar una receta", "necesito más de mi medicamento", "renueven mi receta por favor",
            "necesito una receta nueva", "pueden mandar la receta a mi farmacia",
            "la farmacia necesita una autorización", "llamo por una receta", "necesito más enjuague bucal recetado",
            "puedo renovar mi receta", "necesito más medicina para el dolor", "la farmacia dice que necesito receta nueva",
            "ya casi no me quedan pastillas", "renovar receta", "necesito una receta para mi hijo",
        ),
    },
    "SpeakToStaff": {
        "en": (
            "i want to talk to a person", "can i speak to someone", "representative", "operator",
            "let me talk to a real person", "can i talk to the front desk", "i need to speak with the receptionist",
            "transfer me please", "i'd like to speak to a human", "agent", "can someone call me back",
            "please have someone call me", "i need to talk to the office manager", "connect me to the office",
            "i want to leave a message", "can i speak to the hygienist", "i need to talk to someone about my bill",
            "is there anyone there", "can i talk to the doctor", "person please", "talk to staff",
            "i have a question for the staff",
        ),
        "es": (
            "quiero hablar con una persona", "puedo hablar con alguien", "representante", "operadora",
            "quiero hablar con una persona real", "puedo hablar con la recepción", "necesito hablar con la recepcionista",
            "comuníqueme por favor", "quisiera hablar con un humano", "agente", "alguien me puede llamar",
            "que alguien me llame por favor", "necesito hablar con la gerente", "páseme con la oficina",
            "quiero dejar un mensaje", "puedo hablar con la higienista", "necesito hablar con alguien sobre mi factura",
            "hay alguien ahí", "puedo hablar con el doctor", "una persona por favor", "hablar con el personal",
            "tengo una pregunta para el personal",
        ),
    },
    "UrgentHelp": {
        "en": (
            "this is an emergency", "i have an emergency", "i'm in a lot of pain", "my face is swollen",
            "i can't stop the bleeding", "the bleeding won't stop", "i have a fever after my extraction",
            "i can't breathe", "i'm having chest pain", "my tooth was knocked out", "i broke my tooth and it really hurts",
            "the pain is unbearable", "i'm having an allergic reaction", "my throat is swelling",
            "i want to hurt myself", "i don't want to live anymore", "i think i'm going to pass out",
            "my jaw is swollen and i have a fever", "severe toothache", "emergency please",
            "my child has a high fever", "i need help right now",
        ),
        "es": (
            "es una emergencia", "tengo una emergencia", "tengo mucho dolor", "tengo la cara hinchada",
            "no para de sangrar", "no puedo parar el sangrado", "tengo fiebre después de la extracción",
            "no puedo respirar", "tengo dolor de pecho", "se me cayó un diente por un golpe",
            "se me rompió un diente y me duele mucho", "el dolor es insoportable", "tengo una reacción alérgica",
            "se me está hinchando la garganta", "quiero hacerme daño", "ya no quiero vivir", "creo que me voy a desmayar",
            "tengo la mandíbula hinchada y fiebre", "dolor de muela muy fuerte", "emergencia por favor",
            "mi hijo tiene fiebre muy alta", "necesito ayuda ahora mismo",
        ),
    },
}

DESCRIPTIONS = {
    "BookAppointment": "a new appointment through the slot engine",
    "ConfirmAppointment": "confirm the caller's next appointment",
    "CancelAppointment": "cancel the caller's next appointment after a ConfirmIntent",
    "RescheduleAppointment": "move the caller's next appointment to an offered slot",
    "OfficeHours": "opening hours from the practice's facts",
    "Directions": "address, directions and parking from the practice's facts",
    "RefillRequest": "a prescription refill: a task for the clinical team",
    "SpeakToStaff": "a person: transfer in office hours, otherwise a callback task",
    "UrgentHelp": "an emergency: 911 / 988 and an urgent page",
    FALLBACK_INTENT: "anything else: the SMS agent's classifier reads the transcript",
}

INTENT_NAMES = tuple(UTTERANCES) + (FALLBACK_INTENT,)

# Generic ways callers name common visits, added to the practice's own names when a type's
# English name or id contains the key word (the longest key that matches) (a practice names its types its own way; callers do not).
VISIT_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "cleaning": {"en": ("cleaning", "teeth cleaning", "dental cleaning", "hygiene visit", "hygiene appointment"),
                 "es": ("limpieza", "limpieza de dientes", "limpieza dental")},
    "exam": {"en": ("exam", "checkup", "check up", "dental exam"),
             "es": ("examen", "revisión", "chequeo", "revisión dental")},
    "new-patient": {"en": ("new patient exam", "new patient visit", "first visit"),
                    "es": ("examen de paciente nuevo", "primera cita", "primera visita")},
    "whitening": {"en": ("whitening", "teeth whitening", "whitening consultation"),
                  "es": ("blanqueamiento", "blanqueamiento dental", "consulta de blanqueamiento")},
    "consult": {"en": ("consult", "consultation"), "es": ("consulta",)},
}


def _name_variants(name: str) -> list[str]:
    """"Exam / check-up" -> exam / check-up, exam, check-up, check up: the parts callers say."""
    parts = [name] + [p for p in re.split(r"[/(),]", name) if p.strip()]
    out: list[str] = []
    for part in parts:
        for variant in (part, part.replace("-", " ")):
            spoken = " ".join(variant.lower().replace("/", " ").split())
            if spoken and spoken not in out:
                out.append(spoken)
    return out


def visit_type_values(practice: PracticeProfile, lang: Language) -> tuple[SlotValue, ...]:
    """One value per appointment type patients may book themselves (`online`), resolving to the
    type's id, with its name in `lang`, the generic synonyms and the profile's own voice synonyms."""
    if practice.booking is None:
        return ()
    extra = practice.voice.visit_type_synonyms if practice.voice is not None else {}
    values = []
    for kind in practice.booking.types:
        if not kind.online:
            continue
        said = _name_variants(kind.name[lang])
        english = f' {fold(kind.name["en"])} {kind.id.replace("-", " ")} '
        # the most specific key word only: a "new-patient exam" is not every exam
        keys = sorted((k for k in VISIT_SYNONYMS if f' {k.replace("-", " ")} ' in english), key=len, reverse=True)
        if keys:
            said += [w for w in VISIT_SYNONYMS[keys[0]][lang] if w not in said]
        said += [w for w in extra.get(kind.id, {}).get(lang, ()) if w not in said]
        values.append(SlotValue(value=kind.id, synonyms=tuple(s for s in said if s != kind.id)))
    return tuple(_unshared(values))


def _unshared(values: list[SlotValue]) -> list[SlotValue]:
    # Lex rejects a synonym that two values share; a phrase two types share names neither.
    counts: dict[str, int] = {}
    for item in values:
        for s in {fold(x) for x in item.synonyms}:
            counts[s] = counts.get(s, 0) + 1
    return [SlotValue(item.value, tuple(s for s in item.synonyms if counts[fold(s)] == 1)) for item in values]


def _intents(lang: Language, bookable: bool) -> tuple[Intent, ...]:
    def says(name: str, keep_visit_type: bool = True) -> tuple[str, ...]:
        return tuple(u for u in UTTERANCES[name][lang] if keep_visit_type or "{VisitType}" not in u)

    book_slots: tuple[Slot, ...] = ((_slot("VisitType", VISIT_TYPE, lang, "Required", "which appointment type"),) if bookable else ())
    book_slots += (_slot("Date", DATE, lang, "Required", "the day the caller asks for"),
                   _slot("Time", TIME, lang, description="the time of day the caller asks for"),
                   *_identity_slots(lang),
                   _slot("LastName", LAST_NAME, lang, description="a new patient's last name"))
    moving = (_slot("Date", DATE, lang, "Required", "the new day"), _slot("Time", TIME, lang, description="the new time"))
    slots: dict[str, tuple[Slot, ...]] = {
        "BookAppointment": book_slots,
        "ConfirmAppointment": _identity_slots(lang),
        "CancelAppointment": _identity_slots(lang),
        "RescheduleAppointment": (*moving, *_identity_slots(lang)),
        "RefillRequest": (_slot("Medication", FREE_TEXT, lang, "Required", "the medication, as the caller says it"),),
    }
    intents = [Intent(name=name, description=DESCRIPTIONS[name], utterances=says(name, bookable),
                      slots=slots.get(name, ())) for name in UTTERANCES]
    intents.append(Intent(name=FALLBACK_INTENT, description=DESCRIPTIONS[FALLBACK_INTENT], utterances=(),
                          parent_signature=FALLBACK_SIGNATURE))
    return tuple(intents)


def bot_definition(practice: PracticeProfile) -> BotDefinition:
    """The practice's bot: en_US and es_US, the spec's intents, VisitType from its appointment types."""
    locales = []
    languages: tuple[tuple[Literal["en_US", "es_US"], Language, str], ...] = (
        ("en_US", "en", "Joanna"), ("es_US", "es", "Lupe"))
    for locale_id, lang, voice in languages:
        values = visit_type_values(practice, lang)
        types = (SlotType(VISIT_TYPE, "the practice's appointment types patients may book; resolves to the type id",
                          values),) if values else ()
        locales.append(BotLocale(locale_id=locale_id, language=lang, voice_id=voice,
                                 intents=_intents(lang, bool(values)), slot_types=types))
    return BotDefinition(name=f"{BOT_NAME_PREFIX}-{practice.id}",
                         description=f"{practice.name}: the automated phone assistant (Careloop)",
                         locales=tuple(locales))


__all__ = [
    "BUILT_IN_SLOT_TYPES", "FALLBACK_INTENT", "INTENT_NAMES", "VISIT_TYPE", "BotDefinition", "BotLocale", "Intent",
    "Slot", "SlotType", "SlotValue", "bot_definition", "fold", "lex_intent_for_sms_intent",
]
