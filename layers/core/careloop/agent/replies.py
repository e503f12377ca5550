"""What the SMS agent says, in English and Spanish, and when staff will answer.

Answers quote only the practice profile's facts; nothing here invents a fact.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from careloop.practice import WEEKDAYS, PracticeProfile
from careloop.templates import format_time

REPLIES: dict[str, dict[str, str]] = {
    "confirm": {
        "en": "Thanks {first_name}, you're confirmed for {date_time}. See you then!",
        "es": "Gracias {first_name}, su cita del {date_time} está confirmada. ¡Hasta pronto!",
    },
    "opt_out": {
        "en": "{practice_name}: you will no longer receive texts from us. Reply START to resubscribe.",
        "es": "{practice_name}: ya no recibirá mensajes nuestros. Responda START para volver a recibirlos.",
    },
    "opt_in": {
        "en": "{practice_name}: you will receive appointment texts again. Reply STOP to opt out, HELP for help.",
        "es": "{practice_name}: volverá a recibir mensajes sobre sus citas. Responda ALTO para cancelarlos.",
    },
    "help": {
        "en": "{practice_name} appointment messages. Questions? Call {practice_phone}. Reply STOP to opt out. Msg & data rates may apply.",
        "es": "Mensajes de citas de {practice_name}. ¿Preguntas? Llame al {practice_phone}. Responda ALTO para no recibir mensajes.",
    },
    "knowledge": {"en": "{fact} Questions? Call {practice_phone}.", "es": "{fact} ¿Preguntas? Llame al {practice_phone}."},
    "fact_hours": {"en": "Our hours: {fact}. Questions? Call {practice_phone}.",
                   "es": "Nuestro horario: {fact}. ¿Preguntas? Llame al {practice_phone}."},
    "fact_location": {"en": "{practice_name} is at {fact}.", "es": "{practice_name} está en {fact}."},
    "fact_parking": {"en": "Parking: {fact}.", "es": "Estacionamiento: {fact}."},
    "fact_insurance": {"en": "{fact}. For coverage details, reply here and our team will check.",
                       "es": "{fact}. Para detalles de cobertura, responda aquí y nuestro equipo lo revisará."},
    "book": {
        "en": "We'd love to see you, {first_name}. Book a time here: {booking_url} or call {practice_phone}.",
        "es": "Con gusto le atendemos, {first_name}. Reserve aquí: {booking_url} o llame al {practice_phone}.",
    },
    "reschedule": {
        "en": "No problem, {first_name}. Pick a new time here: {booking_url} or call {practice_phone}.",
        "es": "Con gusto, {first_name}. Elija otra hora aquí: {booking_url} o llame al {practice_phone}.",
    },
    # rescheduling by text (careloop.booking.offers): {options} "1) Tue Dec 8 10:00 AM 2) ...",
    # {zone} " (EST)" (empty when each time names its own), {choices} "1, 2 or 3"
    "slot_offer": {
        "en": "{first_name}, open times{zone}: {options}. Reply {choices}, or pick another time: {booking_url}",
        "es": "{first_name}, horas libres{zone}: {options}. Responda {choices}, o elija otra hora: {booking_url}",
    },
    "slot_taken": {
        "en": "Sorry, that time was just taken. Open times{zone}: {options}. Reply {choices}, or pick another: {booking_url}",
        "es": "Esa hora ya se ocupó. Horas libres{zone}: {options}. Responda {choices}, o elija otra: {booking_url}",
    },
    "slot_taken_none": {
        "en": "Sorry, {first_name}, that time was just taken. Pick another here: {booking_url} or call {practice_phone}.",
        "es": "Lo sentimos, {first_name}, esa hora se acaba de ocupar. Elija otra aquí: {booking_url} o llame al {practice_phone}.",
    },
    "cancel": {
        "en": "Thanks for letting us know, {first_name}. We've told the front desk. When you're ready to rebook: {booking_url}",
        "es": "Gracias por avisarnos, {first_name}. Ya informamos a recepción. Cuando quiera otra cita: {booking_url}",
    },
    "running_late": {
        "en": "Thanks for the heads-up, {first_name}. We've let the team know you're on your way.",
        "es": "Gracias por avisar, {first_name}. Ya le dijimos al equipo que viene en camino.",
    },
    "results": {
        "en": "For your privacy we don't share results by text, {first_name}. Our clinical team will contact you {when}.",
        "es": "Por su privacidad no compartimos resultados por mensaje, {first_name}. Nuestro equipo clínico le contactará {when}.",
    },
    "refill": {
        "en": "Got it, {first_name}. We've sent your refill request to our clinical team; they'll follow up {when}.",
        "es": "Recibido, {first_name}. Enviamos su solicitud de receta al equipo clínico; le contactarán {when}.",
    },
    "billing": {
        "en": "Thanks, {first_name}. Our billing team will get back to you {when}.",
        "es": "Gracias, {first_name}. Nuestro equipo de facturación le responderá {when}.",
    },
    "urgent": {
        "en": "If this is an emergency, call 911 now. We've alerted our team and someone will contact you as soon as possible. You can also call us at {practice_phone}.",
        "es": "Si es una emergencia, llame al 911 ahora. Ya avisamos a nuestro equipo y alguien le contactará lo antes posible. También puede llamarnos al {practice_phone}.",
    },
    "urgent_self_harm": {
        "en": "You matter, and you're not alone. If you might act on thoughts of hurting yourself, call 911 now, or call or text 988 (Suicide & Crisis Lifeline) any time. We've alerted our team.",
        "es": "Usted importa y no está solo. Si podría hacerse daño, llame al 911 ahora, o llame o envíe un mensaje al 988 (Línea de Crisis y Suicidio), disponible siempre. Ya avisamos a nuestro equipo.",
    },
    "handoff": {
        "en": "Thanks, {first_name}. A member of our team will get back to you {when}.",
        "es": "Gracias, {first_name}. Una persona de nuestro equipo le responderá {when}.",
    },
    # filling gaps from the waitlist (careloop.booking.gaps)
    "waitlist_join": {
        "en": "{practice_name}: you're on our waitlist, {first_name}. We'll text you if an earlier time opens. "
              "Reply NO SOONER to stop.",
        "es": "{practice_name}: ya está en la lista de espera, {first_name}. Le avisaremos si se abre un horario "
              "antes. Responda NO ANTES para salir.",
    },
    "waitlist_leave": {
        "en": "{practice_name}: you're off the waitlist, {first_name}. Your appointments stay as they are. "
              "To stop all texts, reply STOP.",
        "es": "{practice_name}: ya no está en la lista de espera, {first_name}. Sus citas quedan igual. "
              "Para no recibir más textos, responda STOP.",
    },
    "gap_taken": {
        "en": "{practice_name}: that time was just taken; you stay on the waitlist. Reply NO SOONER to leave it.",
        "es": "{practice_name}: ese horario ya fue tomado; sigue en la lista de espera. Responda NO ANTES para salir.",
    },
    "gap_declined": {
        "en": "OK, {first_name}. You stay on the waitlist; we'll text you if another time opens.",
        "es": "De acuerdo, {first_name}. Sigue en la lista de espera; le avisaremos si se abre otro horario.",
    },
}

# The same replies for a sender without a first name (an unknown number, a record with no name):
# said plainly, never "Thanks, there." or "Gracias, ." (render_reply picks them)
ANONYMOUS: dict[str, dict[str, str]] = {
    "confirm": {
        "en": "Thanks, you're confirmed for {date_time}. See you then!",
        "es": "Gracias, su cita del {date_time} está confirmada. ¡Hasta pronto!",
    },
    "book": {
        "en": "We'd love to see you. Book a time here: {booking_url} or call {practice_phone}.",
        "es": "Con gusto le atendemos. Reserve aquí: {booking_url} o llame al {practice_phone}.",
    },
    "reschedule": {
        "en": "No problem. Pick a new time here: {booking_url} or call {practice_phone}.",
        "es": "Con gusto. Elija otra hora aquí: {booking_url} o llame al {practice_phone}.",
    },
    "slot_offer": {
        "en": "Open times{zone}: {options}. Reply {choices}, or pick another time: {booking_url}",
        "es": "Horas libres{zone}: {options}. Responda {choices}, o elija otra hora: {booking_url}",
    },
    "slot_taken_none": {
        "en": "Sorry, that time was just taken. Pick another here: {booking_url} or call {practice_phone}.",
        "es": "Lo sentimos, esa hora se acaba de ocupar. Elija otra aquí: {booking_url} o llame al {practice_phone}.",
    },
    "cancel": {
        "en": "Thanks for letting us know. We've told the front desk. When you're ready to rebook: {booking_url}",
        "es": "Gracias por avisarnos. Ya informamos a recepción. Cuando quiera otra cita: {booking_url}",
    },
    "running_late": {
        "en": "Thanks for the heads-up. We've let the team know you're on your way.",
        "es": "Gracias por avisar. Ya le dijimos al equipo que viene en camino.",
    },
    "results": {
        "en": "For your privacy we don't share results by text. Our clinical team will contact you {when}.",
        "es": "Por su privacidad no compartimos resultados por mensaje. Nuestro equipo clínico le contactará {when}.",
    },
    "refill": {
        "en": "Got it. We've sent your refill request to our clinical team; they'll follow up {when}.",
        "es": "Recibido. Enviamos su solicitud de receta al equipo clínico; le contactarán {when}.",
    },
    "billing": {
        "en": "Thanks for your message. Our billing team will get back to you {when}.",
        "es": "Gracias por su mensaje. Nuestro equipo de facturación le responderá {when}.",
    },
    "handoff": {
        "en": "Thanks for your message. A member of our team will get back to you {when}.",
        "es": "Gracias por su mensaje. Una persona de nuestro equipo le responderá {when}.",
    },
    "waitlist_join": {
        "en": "{practice_name}: you're on our waitlist. We'll text you if an earlier time opens. Reply NO SOONER to stop.",
        "es": "{practice_name}: ya está en la lista de espera. Le avisaremos si se abre un horario antes. "
              "Responda NO ANTES para salir.",
    },
    "waitlist_leave": {
        "en": "{practice_name}: you're off the waitlist. Your appointments stay as they are. To stop all texts, reply STOP.",
        "es": "{practice_name}: ya no está en la lista de espera. Sus citas quedan igual. "
              "Para no recibir más textos, responda STOP.",
    },
    "gap_declined": {
        "en": "OK. You stay on the waitlist; we'll text you if another time opens.",
        "es": "De acuerdo. Sigue en la lista de espera; le avisaremos si se abre otro horario.",
    },
}


def render_reply(key: str, language: str, ctx: dict[str, str]) -> str:
    """The reply `key` in the patient's language, filled from `ctx`; without a first name, its
    nameless form (every reply that greets by name has one)."""
    lang = "es" if language == "es" else "en"
    nameless = not (ctx.get("first_name") or "").strip() and key in ANONYMOUS
    text = (ANONYMOUS if nameless else REPLIES)[key][lang].format(**ctx)
    return " ".join(text.split())


# The offer of a freed slot (an automated text, careloop.booking.gaps): one GSM-7 part, except a
# Spanish Saturday ("sáb": á is not GSM-7), which is UCS-2 and two parts
GAP_OFFER = {
    "en": "{practice}: an earlier time opened: {when} ({zone}) with {provider}. Reply YES to take it.",
    "es": "{practice}: hay un horario antes: {when} ({zone}) con {provider}. Responda SI para tomarlo.",
}

_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}


def _spans(practice: PracticeProfile, weekday: int) -> tuple[time, time] | None:
    span = practice.hours.get(WEEKDAYS[weekday])
    if not span or span == "closed":
        return None
    start, end = span.split("-")
    return time.fromisoformat(start), time.fromisoformat(end)


def when_staff_answer(practice: PracticeProfile, now: datetime, language: str) -> str:
    """"shortly" in office hours, else the next opening ("tomorrow after 8:00 AM")."""
    lang = "es" if language == "es" else "en"
    if not practice.hours:
        return "lo antes posible" if lang == "es" else "as soon as possible"
    local = now.astimezone(practice.zone)
    today = _spans(practice, local.weekday())
    if today and today[0] <= local.time() < today[1]:
        return "en breve, en horario de oficina" if lang == "es" else "shortly, during office hours"
    for days in range(0, 8):
        day = local.date() + timedelta(days=days)
        span = _spans(practice, day.weekday())
        if span is None or (days == 0 and local.time() >= span[0]):
            continue
        opening = format_time(datetime.combine(day, span[0]), lang)
        if days == 0:
            return f"hoy después de las {opening}" if lang == "es" else f"today after {opening}"
        if days == 1:
            return f"mañana después de las {opening}" if lang == "es" else f"tomorrow after {opening}"
        name = _DAY_NAMES[lang][day.weekday()]
        return f"el {name} después de las {opening}" if lang == "es" else f"on {name} after {opening}"
    return "lo antes posible" if lang == "es" else "as soon as possible"
