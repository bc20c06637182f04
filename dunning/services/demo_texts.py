"""The demo municipality's message texts: every step kind x tone x channel, in Dutch and English.

Written in plain language (B1): short sentences, one thing per sentence, the action first. Each text
uses only the variables `campaigns.variables.allowed_variables(kind)` allows for its step kind (a test
parses every template and checks). SMS texts stay within two GSM-7 parts (306 septets) when rendered
with realistic values, and use no characters outside the GSM-7 alphabet ("vóór" is written "voor").

A template is put together from parts: subject and opening per kind and tone, details and legal
consequences per kind, a help paragraph per tone, a closing per tone. `template_text` returns the
finished (subject, body) for one combination.
"""

from campaigns.models import StepKind, Tone
from customers.models import Channel

REMINDER = StepKind.REMINDER
FORMAL = StepKind.FORMAL_REMINDER
FINAL = StepKind.FINAL_NOTICE
ESCALATION = StepKind.ESCALATION
CONFIRMATION = StepKind.PAYMENT_CONFIRMATION
DEMAND_KINDS = (FORMAL, FINAL, ESCALATION)

# (subject, opening paragraph, sms) per language, kind and tone.
_TEXTS: dict[str, dict[str, dict[str, tuple[str, str, str]]]] = {
    "nl": {
        REMINDER: {
            Tone.FRIENDLY: (
                "Even een herinnering: {{ claim_description }}",
                "Misschien is het u ontgaan: wij hebben uw betaling voor {{ claim_description }} nog niet "
                "ontvangen. Wilt u het bedrag vóór {{ pay_before }} betalen? Dat kan in een paar klikken.",
                "{{ municipality_name }}: een vriendelijke herinnering. Wij missen nog {{ total_due }} "
                "(kenmerk {{ claim_reference }}). Betaal voor {{ pay_before }}: {{ payment_link }}",
            ),
            Tone.NEUTRAL: (
                "Herinnering: betaling {{ claim_description }}",
                "Wij hebben uw betaling voor {{ claim_description }} nog niet ontvangen. De betaaldatum was "
                "{{ due_date }}. Wilt u het bedrag vóór {{ pay_before }} betalen?",
                "{{ municipality_name }}: herinnering. Betaal {{ total_due }} (kenmerk {{ claim_reference }}) "
                "voor {{ pay_before }}: {{ payment_link }}",
            ),
            Tone.FORMAL: (
                "Betalingsherinnering {{ claim_reference }}",
                "Volgens onze administratie staat het bedrag voor {{ claim_description }} nog open. De "
                "betaaldatum was {{ due_date }}. Wij verzoeken u het bedrag vóór {{ pay_before }} te betalen.",
                "{{ municipality_name }}: betalingsherinnering. {{ total_due }} staat nog open (kenmerk "
                "{{ claim_reference }}). Betaal voor {{ pay_before }}: {{ payment_link }}",
            ),
            Tone.EMPATHETIC: (
                "Herinnering {{ claim_description }}: wij denken graag mee",
                "Wij hebben uw betaling voor {{ claim_description }} nog niet ontvangen. Misschien lukt "
                "betalen nu even niet. Dat begrijpen wij. Kunt u wel betalen? Doe dat dan vóór "
                "{{ pay_before }}. Lukt het niet? Neem contact met ons op. Samen zoeken we een oplossing.",
                "{{ municipality_name }}: {{ total_due }} staat nog open (kenmerk {{ claim_reference }}). "
                "Betalen: {{ payment_link }} Lukt dat niet? Bel {{ municipality_phone }}, we helpen graag.",
            ),
        },
        FORMAL: {
            Tone.FRIENDLY: (
                "Aanmaning: {{ claim_description }}",
                "U kreeg eerder een herinnering van ons, maar wij hebben nog geen betaling ontvangen. "
                "Daarom krijgt u nu deze aanmaning. Betaal binnen {{ term_days }} dagen, dus uiterlijk "
                "{{ pay_before }}.",
                "{{ municipality_name }}: aanmaning. Betaal {{ total_due }} (kenmerk {{ claim_reference }}) "
                "binnen {{ term_days }} dagen: {{ payment_link }} Anders kost het {{ costs_if_unpaid }} extra.",
            ),
            Tone.NEUTRAL: (
                "Aanmaning: betaal {{ claim_description }}",
                "Wij hebben uw betaling voor {{ claim_description }} nog niet ontvangen, ook niet na onze "
                "herinnering. Dit is een aanmaning. Betaal het bedrag binnen {{ term_days }} dagen, dus "
                "uiterlijk {{ pay_before }}.",
                "{{ municipality_name }}: aanmaning. Betaal {{ total_due }} (kenmerk {{ claim_reference }}) "
                "binnen {{ term_days }} dagen: {{ payment_link }} Anders kost het {{ costs_if_unpaid }} extra.",
            ),
            Tone.FORMAL: (
                "Aanmaning {{ claim_reference }}",
                "Ondanks onze herinnering hebben wij uw betaling voor {{ claim_description }} niet "
                "ontvangen. Hierbij manen wij u aan het openstaande bedrag binnen {{ term_days }} dagen te "
                "betalen, uiterlijk op {{ pay_before }}.",
                "{{ municipality_name }}: aanmaning {{ claim_reference }}. Betaal {{ total_due }} binnen "
                "{{ term_days }} dagen: {{ payment_link }} Daarna volgen kosten: {{ costs_if_unpaid }}.",
            ),
            Tone.EMPATHETIC: (
                "Aanmaning {{ claim_description }}: neem contact op als betalen niet lukt",
                "Wij hebben uw betaling voor {{ claim_description }} nog niet ontvangen. Wij begrijpen dat "
                "betalen soms moeilijk is. Toch moeten wij u deze aanmaning sturen. Betaal binnen "
                "{{ term_days }} dagen, uiterlijk {{ pay_before }}. Lukt dat niet? Bel ons. Dan zoeken we "
                "samen een oplossing.",
                "{{ municipality_name }}: aanmaning. Betaal {{ total_due }} binnen {{ term_days }} dagen: "
                "{{ payment_link }} Anders {{ costs_if_unpaid }} kosten. Lukt het niet? Bel "
                "{{ municipality_phone }}.",
            ),
        },
        FINAL: {
            Tone.FRIENDLY: (
                "Laatste herinnering: {{ claim_description }}",
                "Wij hebben u al eerder geschreven over {{ claim_description }}. Het bedrag staat nog open. "
                "Dit is onze laatste herinnering. Betaal binnen {{ term_days }} dagen, uiterlijk "
                "{{ pay_before }}.",
                "{{ municipality_name }}: laatste herinnering. Betaal {{ total_due }} (kenmerk "
                "{{ claim_reference }}) binnen {{ term_days }} dagen: {{ payment_link }} Anders "
                "{{ costs_if_unpaid }} kosten.",
            ),
            Tone.NEUTRAL: (
                "Laatste herinnering: {{ claim_description }}",
                "Het bedrag voor {{ claim_description }} staat nog steeds open. Dit is onze laatste "
                "herinnering. Betaal binnen {{ term_days }} dagen, uiterlijk {{ pay_before }}.",
                "{{ municipality_name }}: laatste herinnering. Betaal {{ total_due }} (kenmerk "
                "{{ claim_reference }}) binnen {{ term_days }} dagen: {{ payment_link }} Anders "
                "{{ costs_if_unpaid }} kosten.",
            ),
            Tone.FORMAL: (
                "Laatste herinnering {{ claim_reference }}",
                "Ondanks onze herinnering en aanmaning staat het bedrag voor {{ claim_description }} nog "
                "open. Wij geven u een laatste termijn van {{ term_days }} dagen. Betaal uiterlijk op "
                "{{ pay_before }}.",
                "{{ municipality_name }}: laatste herinnering {{ claim_reference }}. Betaal {{ total_due }} "
                "binnen {{ term_days }} dagen: {{ payment_link }} Daarna {{ costs_if_unpaid }} kosten.",
            ),
            Tone.EMPATHETIC: (
                "Laatste herinnering {{ claim_description }}: wij helpen u graag",
                "Het bedrag voor {{ claim_description }} staat nog open. Wij willen extra kosten voor u "
                "voorkomen. Betaal daarom binnen {{ term_days }} dagen, uiterlijk {{ pay_before }}. Lukt "
                "dat niet? Bel ons. Dan kijken we samen wat wel kan.",
                "{{ municipality_name }}: laatste herinnering. Betaal {{ total_due }} binnen {{ term_days }} "
                "dagen: {{ payment_link }} Lukt het niet? Bel {{ municipality_phone }}. Zo voorkomt u "
                "{{ costs_if_unpaid }} kosten.",
            ),
        },
        ESCALATION: {
            Tone.FRIENDLY: (
                "Wij starten de invordering: {{ claim_description }}",
                "U heeft ondanks onze brieven het bedrag voor {{ claim_description }} niet betaald. Daarom "
                "nemen wij nu de volgende stap om het bedrag te innen.",
                "{{ municipality_name }}: wij starten de invordering van {{ total_due }} (kenmerk "
                "{{ claim_reference }}). Kosten: {{ costs_if_unpaid }}. Betaal binnen {{ term_days }} "
                "dagen: {{ payment_link }}",
            ),
            Tone.NEUTRAL: (
                "Invordering: {{ claim_description }}",
                "Het bedrag voor {{ claim_description }} is niet betaald, ook niet na onze aanmaning. "
                "Daarom nemen wij nu de volgende stap om het bedrag te innen.",
                "{{ municipality_name }}: wij starten de invordering van {{ total_due }} (kenmerk "
                "{{ claim_reference }}). Kosten: {{ costs_if_unpaid }}. Betaal binnen {{ term_days }} "
                "dagen: {{ payment_link }}",
            ),
            Tone.FORMAL: (
                "Invordering {{ claim_reference }}",
                "Ondanks herinnering en aanmaning heeft u het bedrag voor {{ claim_description }} niet "
                "betaald. Wij gaan daarom over tot invordering van het openstaande bedrag.",
                "{{ municipality_name }}: invordering {{ claim_reference }}. Kosten: {{ costs_if_unpaid }}. "
                "Betaal {{ total_due }} binnen {{ term_days }} dagen: {{ payment_link }}",
            ),
            Tone.EMPATHETIC: (
                "Invordering {{ claim_description }}: neem contact met ons op",
                "Het bedrag voor {{ claim_description }} is nog niet betaald. Wij moeten nu de volgende "
                "stap nemen om het bedrag te innen. Dat vinden wij vervelend, want het kost u extra geld. "
                "Neem contact met ons op. Misschien is een betalingsregeling mogelijk.",
                "{{ municipality_name }}: wij starten de invordering van {{ total_due }}. Kosten: "
                "{{ costs_if_unpaid }}. Bel {{ municipality_phone }}, misschien kan een regeling. Betalen: "
                "{{ payment_link }}",
            ),
        },
        CONFIRMATION: {
            Tone.FRIENDLY: (
                "Bedankt voor uw betaling!",
                "Bedankt! Wij hebben uw betaling voor {{ claim_description }} (kenmerk "
                "{{ claim_reference }}) ontvangen.",
                "{{ municipality_name }}: bedankt! Wij hebben uw betaling voor kenmerk {{ claim_reference }} "
                "ontvangen.",
            ),
            Tone.NEUTRAL: (
                "Betaling ontvangen: {{ claim_description }}",
                "Wij hebben uw betaling voor {{ claim_description }} (kenmerk {{ claim_reference }}) "
                "ontvangen. Dank u wel.",
                "{{ municipality_name }}: uw betaling voor kenmerk {{ claim_reference }} is ontvangen. Dank u wel.",
            ),
            Tone.FORMAL: (
                "Bevestiging van uw betaling {{ claim_reference }}",
                "Hierbij bevestigen wij dat wij uw betaling voor {{ claim_description }} (kenmerk "
                "{{ claim_reference }}) hebben ontvangen.",
                "{{ municipality_name }}: wij bevestigen de ontvangst van uw betaling voor kenmerk "
                "{{ claim_reference }}.",
            ),
            Tone.EMPATHETIC: (
                "Bedankt voor uw betaling",
                "Wij hebben uw betaling voor {{ claim_description }} (kenmerk {{ claim_reference }}) "
                "ontvangen. Fijn dat het gelukt is. Heeft u vragen? Wij helpen u graag.",
                "{{ municipality_name }}: wij hebben uw betaling voor kenmerk {{ claim_reference }} "
                "ontvangen. Fijn dat het gelukt is!",
            ),
        },
    },
    "en": {
        REMINDER: {
            Tone.FRIENDLY: (
                "A quick reminder: {{ claim_description }}",
                "Maybe you missed it: we have not yet received your payment for {{ claim_description }}. "
                "Please pay before {{ pay_before }}. It only takes a few clicks.",
                "{{ municipality_name }}: a friendly reminder. We have not yet received {{ total_due }} "
                "(reference {{ claim_reference }}). Please pay before {{ pay_before }}: {{ payment_link }}",
            ),
            Tone.NEUTRAL: (
                "Reminder: payment for {{ claim_description }}",
                "We have not yet received your payment for {{ claim_description }}. It was due on "
                "{{ due_date }}. Please pay before {{ pay_before }}.",
                "{{ municipality_name }}: reminder. Please pay {{ total_due }} (reference "
                "{{ claim_reference }}) before {{ pay_before }}: {{ payment_link }}",
            ),
            Tone.FORMAL: (
                "Payment reminder {{ claim_reference }}",
                "According to our records, the amount for {{ claim_description }} is still open. It was due "
                "on {{ due_date }}. We ask you to pay it before {{ pay_before }}.",
                "{{ municipality_name }}: payment reminder. {{ total_due }} is still open (reference "
                "{{ claim_reference }}). Pay before {{ pay_before }}: {{ payment_link }}",
            ),
            Tone.EMPATHETIC: (
                "Reminder {{ claim_description }}: we are happy to help",
                "We have not yet received your payment for {{ claim_description }}. Maybe paying is hard "
                "right now. We understand. If you can pay, please do so before {{ pay_before }}. If you "
                "cannot, please contact us. We will look for a solution together.",
                "{{ municipality_name }}: {{ total_due }} is still open (reference {{ claim_reference }}). "
                "Pay: {{ payment_link }} Can't pay? Call {{ municipality_phone }}, we are happy to help.",
            ),
        },
        FORMAL: {
            Tone.FRIENDLY: (
                "Formal reminder: {{ claim_description }}",
                "We sent you a reminder earlier, but we have not received your payment. That is why you "
                "now receive this formal reminder. Please pay within {{ term_days }} days, by "
                "{{ pay_before }} at the latest.",
                "{{ municipality_name }}: formal reminder. Pay {{ total_due }} (ref {{ claim_reference }}) "
                "within {{ term_days }} days: {{ payment_link }} Otherwise costs: {{ costs_if_unpaid }}.",
            ),
            Tone.NEUTRAL: (
                "Formal reminder: please pay {{ claim_description }}",
                "We have not received your payment for {{ claim_description }}, not even after our "
                "reminder. This is a formal reminder. Pay within {{ term_days }} days, by {{ pay_before }} "
                "at the latest.",
                "{{ municipality_name }}: formal reminder. Pay {{ total_due }} (ref {{ claim_reference }}) "
                "within {{ term_days }} days: {{ payment_link }} Otherwise costs: {{ costs_if_unpaid }}.",
            ),
            Tone.FORMAL: (
                "Formal reminder {{ claim_reference }}",
                "Despite our reminder, we have not received your payment for {{ claim_description }}. We "
                "hereby demand that you pay the open amount within {{ term_days }} days, by "
                "{{ pay_before }} at the latest.",
                "{{ municipality_name }}: formal reminder {{ claim_reference }}. Pay {{ total_due }} within "
                "{{ term_days }} days: {{ payment_link }} After that, costs: {{ costs_if_unpaid }}.",
            ),
            Tone.EMPATHETIC: (
                "Formal reminder {{ claim_description }}: contact us if you cannot pay",
                "We have not received your payment for {{ claim_description }}. We understand that paying "
                "can be hard. Still, we have to send you this formal reminder. Please pay within "
                "{{ term_days }} days, by {{ pay_before }}. If you cannot, call us. We will look for a "
                "solution together.",
                "{{ municipality_name }}: formal reminder. Pay {{ total_due }} within {{ term_days }} days: "
                "{{ payment_link }} Otherwise costs: {{ costs_if_unpaid }}. Can't pay? Call "
                "{{ municipality_phone }}.",
            ),
        },
        FINAL: {
            Tone.FRIENDLY: (
                "Final reminder: {{ claim_description }}",
                "We have written to you before about {{ claim_description }}. The amount is still open. "
                "This is our final reminder. Please pay within {{ term_days }} days, by {{ pay_before }}.",
                "{{ municipality_name }}: final reminder. Pay {{ total_due }} (ref {{ claim_reference }}) "
                "within {{ term_days }} days: {{ payment_link }} Otherwise costs: {{ costs_if_unpaid }}.",
            ),
            Tone.NEUTRAL: (
                "Final reminder: {{ claim_description }}",
                "The amount for {{ claim_description }} is still open. This is our final reminder. Pay "
                "within {{ term_days }} days, by {{ pay_before }} at the latest.",
                "{{ municipality_name }}: final reminder. Pay {{ total_due }} (ref {{ claim_reference }}) "
                "within {{ term_days }} days: {{ payment_link }} Otherwise costs: {{ costs_if_unpaid }}.",
            ),
            Tone.FORMAL: (
                "Final reminder {{ claim_reference }}",
                "Despite our reminder and formal reminder, the amount for {{ claim_description }} is still "
                "open. We give you a final term of {{ term_days }} days. Pay by {{ pay_before }} at the "
                "latest.",
                "{{ municipality_name }}: final reminder {{ claim_reference }}. Pay {{ total_due }} within "
                "{{ term_days }} days: {{ payment_link }} After that, costs: {{ costs_if_unpaid }}.",
            ),
            Tone.EMPATHETIC: (
                "Final reminder {{ claim_description }}: we are happy to help",
                "The amount for {{ claim_description }} is still open. We want to prevent extra costs for "
                "you. So please pay within {{ term_days }} days, by {{ pay_before }}. If you cannot, call "
                "us. We will see together what is possible.",
                "{{ municipality_name }}: final reminder. Pay {{ total_due }} within {{ term_days }} days: "
                "{{ payment_link }} Can't pay? Call {{ municipality_phone }} and avoid "
                "{{ costs_if_unpaid }} costs.",
            ),
        },
        ESCALATION: {
            Tone.FRIENDLY: (
                "We are starting collection: {{ claim_description }}",
                "Despite our letters, you have not paid the amount for {{ claim_description }}. That is "
                "why we are now taking the next step to collect it.",
                "{{ municipality_name }}: we are starting to collect {{ total_due }} (ref "
                "{{ claim_reference }}). Costs: {{ costs_if_unpaid }}. Pay within {{ term_days }} days: "
                "{{ payment_link }}",
            ),
            Tone.NEUTRAL: (
                "Collection: {{ claim_description }}",
                "The amount for {{ claim_description }} has not been paid, not even after our formal "
                "reminder. That is why we are now taking the next step to collect it.",
                "{{ municipality_name }}: we are starting to collect {{ total_due }} (ref "
                "{{ claim_reference }}). Costs: {{ costs_if_unpaid }}. Pay within {{ term_days }} days: "
                "{{ payment_link }}",
            ),
            Tone.FORMAL: (
                "Collection {{ claim_reference }}",
                "Despite our reminder and formal reminder, you have not paid the amount for "
                "{{ claim_description }}. We will therefore proceed to collect the open amount.",
                "{{ municipality_name }}: collection {{ claim_reference }}. Costs: {{ costs_if_unpaid }}. "
                "Pay {{ total_due }} within {{ term_days }} days: {{ payment_link }}",
            ),
            Tone.EMPATHETIC: (
                "Collection {{ claim_description }}: please contact us",
                "The amount for {{ claim_description }} has not been paid yet. We now have to take the "
                "next step to collect it. We regret this, because it costs you extra money. Please "
                "contact us. A payment plan may be possible.",
                "{{ municipality_name }}: we are starting to collect {{ total_due }}. Costs: "
                "{{ costs_if_unpaid }}. Call {{ municipality_phone }}, a payment plan may be possible. Pay: "
                "{{ payment_link }}",
            ),
        },
        CONFIRMATION: {
            Tone.FRIENDLY: (
                "Thank you for your payment!",
                "Thank you! We have received your payment for {{ claim_description }} (reference "
                "{{ claim_reference }}).",
                "{{ municipality_name }}: thank you! We have received your payment for reference "
                "{{ claim_reference }}.",
            ),
            Tone.NEUTRAL: (
                "Payment received: {{ claim_description }}",
                "We have received your payment for {{ claim_description }} (reference "
                "{{ claim_reference }}). Thank you.",
                "{{ municipality_name }}: your payment for reference {{ claim_reference }} has been "
                "received. Thank you.",
            ),
            Tone.FORMAL: (
                "Confirmation of your payment {{ claim_reference }}",
                "We hereby confirm that we have received your payment for {{ claim_description }} "
                "(reference {{ claim_reference }}).",
                "{{ municipality_name }}: we confirm receipt of your payment for reference {{ claim_reference }}.",
            ),
            Tone.EMPATHETIC: (
                "Thank you for your payment",
                "We have received your payment for {{ claim_description }} (reference "
                "{{ claim_reference }}). We are glad it worked out. Any questions? We are happy to help.",
                "{{ municipality_name }}: we have received your payment for reference "
                "{{ claim_reference }}. Glad it worked out!",
            ),
        },
    },
}

_GREETING = {
    "nl": {
        Tone.FRIENDLY: "Beste {{ salutation }},",
        Tone.NEUTRAL: "Geachte {{ salutation }},",
        Tone.FORMAL: "Geachte {{ salutation }},",
        Tone.EMPATHETIC: "Beste {{ salutation }},",
    },
    "en": {
        Tone.FRIENDLY: "Dear {{ salutation }},",
        Tone.NEUTRAL: "Dear {{ salutation }},",
        Tone.FORMAL: "Dear {{ salutation }},",
        Tone.EMPATHETIC: "Dear {{ salutation }},",
    },
}

# What is owed and how to pay. Bundled messages (several claims of one debtor) list every claim.
_DETAILS = {
    "nl": {
        "reminder": (
            "Betalingskenmerk: {{ claim_reference }}\n"
            "Omschrijving: {{ claim_description }}\n"
            "Te betalen: {{ total_due }}\n"
            "Betaaldatum was: {{ due_date }}\n"
            "Betaal vóór: {{ pay_before }}"
        ),
        "demand": (
            "Betalingskenmerk: {{ claim_reference }}\n"
            "Omschrijving: {{ claim_description }}\n"
            "Oorspronkelijk bedrag: {{ principal }}\n"
            "Nog open: {{ open_amount }}\n"
            "Kosten tot nu toe: {{ costs_amount }}\n"
            "Totaal te betalen: {{ total_due }}\n"
            "Betaal uiterlijk: {{ pay_before }}"
        ),
        "claims": (
            "{% if claims|length > 1 %}\n\nDit bericht gaat over deze bedragen:"
            "{% for item in claims %}\n- {{ item.reference }}  {{ item.description }}  {{ item.open_amount }}"
            "{% endfor %}{% endif %}"
        ),
        "pay": (
            "Betaal eenvoudig online met iDEAL: {{ payment_link }}\n"
            "Of maak het bedrag over naar {{ municipality_iban }} ten name van {{ municipality_name }}. "
            "Vermeld dan het betalingskenmerk {{ claim_reference }}."
        ),
        "already_paid": "Heeft u al betaald? Dan kunt u dit bericht vergeten.",
    },
    "en": {
        "reminder": (
            "Payment reference: {{ claim_reference }}\n"
            "Description: {{ claim_description }}\n"
            "Amount to pay: {{ total_due }}\n"
            "Was due on: {{ due_date }}\n"
            "Pay before: {{ pay_before }}"
        ),
        "demand": (
            "Payment reference: {{ claim_reference }}\n"
            "Description: {{ claim_description }}\n"
            "Original amount: {{ principal }}\n"
            "Still open: {{ open_amount }}\n"
            "Costs so far: {{ costs_amount }}\n"
            "Total to pay: {{ total_due }}\n"
            "Pay by: {{ pay_before }}"
        ),
        "claims": (
            "{% if claims|length > 1 %}\n\nThis message is about these amounts:"
            "{% for item in claims %}\n- {{ item.reference }}  {{ item.description }}  {{ item.open_amount }}"
            "{% endfor %}{% endif %}"
        ),
        "pay": (
            "Pay online with iDEAL: {{ payment_link }}\n"
            "Or transfer the amount to {{ municipality_iban }} in the name of {{ municipality_name }}. "
            "Please state the payment reference {{ claim_reference }}."
        ),
        "already_paid": "Already paid? Then you can ignore this message.",
    },
}

# The consequence of not paying, which formal, final and escalation steps must state.
_CONSEQUENCE = {
    "nl": {
        FORMAL: "Betaalt u niet binnen {{ term_days }} dagen? Dan brengen wij kosten in rekening: "
        "{{ costs_if_unpaid }}. Ook kunnen wij dan verdere stappen nemen.",
        FINAL: "Betaalt u niet binnen {{ term_days }} dagen? Dan nemen wij verdere stappen om het bedrag te "
        "innen. Dat kost u extra: {{ costs_if_unpaid }}.",
        ESCALATION: "De kosten van deze stap zijn {{ costs_if_unpaid }}. Betaal het totale bedrag binnen "
        "{{ term_days }} dagen, uiterlijk {{ pay_before }}. Dan voorkomt u verdere maatregelen en kosten.",
    },
    "en": {
        FORMAL: "If you do not pay within {{ term_days }} days, we will charge costs: {{ costs_if_unpaid }}. "
        "We may also take further steps.",
        FINAL: "If you do not pay within {{ term_days }} days, we will take further steps to collect the "
        "amount. This costs you extra: {{ costs_if_unpaid }}.",
        ESCALATION: "The costs of this step are {{ costs_if_unpaid }}. Pay the total amount within "
        "{{ term_days }} days, by {{ pay_before }}. That way you avoid further measures and costs.",
    },
}

_HELP = {
    "nl": {
        "empathetic": "Lukt betalen niet? Dat kan iedereen overkomen. Bel ons, dan zoeken we samen een "
        "oplossing, bijvoorbeeld een betalingsregeling. Hulp bij geldzaken krijgt u gratis bij: "
        "{{ debt_help_contact }}.",
        "other": "Kunt u niet in één keer betalen? Bel ons op {{ municipality_phone }}. Dan kijken we "
        "samen naar een betalingsregeling.",
    },
    "en": {
        "empathetic": "Can't pay? That can happen to anyone. Call us and we will find a solution together, "
        "for example a payment plan. You can get free help with money matters from: "
        "{{ debt_help_contact }}.",
        "other": "Can't pay all at once? Call us on {{ municipality_phone }}. We will look at a payment plan together.",
    },
}

# Empathetic text messages also say where to get free help (it fits within two SMS parts).
_SMS_HELP = {
    "nl": "Gratis hulp bij geldzaken: {{ debt_help_contact }}",
    "en": "Free help with money: {{ debt_help_contact }}",
}

_CONTACT = {
    "nl": "Vragen? Bel {{ municipality_phone }} of mail naar {{ municipality_email }}.",
    "en": "Questions? Call {{ municipality_phone }} or e-mail {{ municipality_email }}.",
}
_CLOSING = {
    "nl": {
        Tone.FRIENDLY: "Hartelijke groet,",
        Tone.NEUTRAL: "Met vriendelijke groet,",
        Tone.FORMAL: "Hoogachtend,",
        Tone.EMPATHETIC: "Met vriendelijke groet,",
    },
    "en": {
        Tone.FRIENDLY: "Kind regards,",
        Tone.NEUTRAL: "Kind regards,",
        Tone.FORMAL: "Yours sincerely,",
        Tone.EMPATHETIC: "Kind regards,",
    },
}


def template_text(*, kind: str, tone: str, channel: str, language: str) -> tuple[str, str]:
    """The (subject, body) of the demo template for one combination."""
    subject, opening, sms = _TEXTS[language][kind][tone]
    if channel == Channel.SMS:
        if tone == Tone.EMPATHETIC and kind != CONFIRMATION:
            sms = f"{sms} {_SMS_HELP[language]}"
        return "", sms
    parts = [_GREETING[language][tone], opening]
    details = _DETAILS[language]
    if kind != CONFIRMATION:
        block = details["demand"] if kind in DEMAND_KINDS else details["reminder"]
        parts.append(block + details["claims"])
        if kind in DEMAND_KINDS:
            parts.append(_CONSEQUENCE[language][kind])
        parts.append(details["pay"])
        parts.append(_HELP[language]["empathetic" if tone == Tone.EMPATHETIC else "other"])
        if kind in (REMINDER, FORMAL):
            parts.append(details["already_paid"])
    parts.append(_CONTACT[language])
    signature = "{{ municipality_name }}"
    if channel == Channel.LETTER and kind != CONFIRMATION:
        signature += "\n{{ municipality_address }}"
    parts.append(f"{_CLOSING[language][tone]}\n{signature}")
    return subject, "\n\n".join(parts) + "\n"


# The demo experiment's variant B: the friendly Dutch e-mail reminder, shorter, with the payment link
# first (variant A is the regular template above). Same variables, same obligations (reference, amount,
# pay-before date, link, phone), half the words.
EXPERIMENT_B_SUBJECT = "Betaal {{ total_due }} in 1 minuut: {{ claim_description }}"
EXPERIMENT_B_BODY = (
    "Beste {{ salutation }},\n\n"
    "Betaal direct met iDEAL: {{ payment_link }}\n\n"
    "Wij missen nog {{ total_due }} voor {{ claim_description }}. Betaal vóór {{ pay_before }}.\n\n"
    "Betalingskenmerk: {{ claim_reference }}\n"
    "Betaaldatum was: {{ due_date }}"
    + _DETAILS["nl"]["claims"]
    + "\n\nLiever overmaken? Gebruik {{ municipality_iban }} ten name van {{ municipality_name }} en het "
    "betalingskenmerk. Lukt betalen niet? Bel {{ municipality_phone }}. Al betaald? Dan kunt u dit bericht "
    "vergeten.\n\n"
    "Hartelijke groet,\n{{ municipality_name }}\n"
)


def experiment_variant_b_text() -> tuple[str, str]:
    """(subject, body) of variant B of the demo experiment (reminder, friendly, e-mail, Dutch)."""
    return EXPERIMENT_B_SUBJECT, EXPERIMENT_B_BODY
