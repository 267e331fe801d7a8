"""What the demo community writes, in English and (for its Spanish-speaking neighbors) in Spanish."""

# Members of the demo community who use the site in Spanish and post in Spanish.
SPANISH_SPEAKERS = {"Hector", "Ines", "Luis", "Rosa", "Carla", "Ana"}

NEEDS = {
    "rides": [("Ride to a medical appointment in Stillwater", "medical"), ("Ride to a job interview", "work"),
              ("Lift to my Tuesday support meeting", "support_meeting"), ("Ride to the pharmacy and grocery store", "errands")],
    "food": [("Groceries for my family this week", None), ("Hot meals for a few days after surgery", None),
             ("Baby formula for my infant", None)],
    "skills": [("Help writing my resume", None), ("Learn to set up email on my phone", None),
               ("Help making a monthly budget", None)],
    "peer_support": [("Looking for a recovery support group", None), ("Single parent looking for support", None)],
    "household_items": [("Need a bed frame", None), ("Winter coat and boots", None), ("Pots and pans for a new apartment", None)],
}
OFFERS = {
    "rides": ["Can drive people to medical appointments", "Weekday morning rides to work or interviews",
              "Evening rides to support meetings", "Weekend errand and grocery runs"],
    "food": ["Home-cooked meals to share", "Garden produce to give away", "Grocery runs from the food shelf"],
    "skills": ["Resume writing and interview practice", "Computer and phone basics tutoring",
               "Budgeting workshop for beginners", "Sewing and mending lessons"],
    "peer_support": ["Peer-led recovery support group", "Parents peer support circle"],
    "household_items": ["Bed frame and dresser to give away", "Winter coats to donate", "Kitchen starter kits"],
}

NEEDS_ES = {
    "rides": [("Raite a una cita médica en Stillwater", "medical"), ("Aventón a una entrevista de trabajo", "work"),
              ("Transporte a mi reunión de apoyo del martes", "support_meeting"),
              ("Llevarme a la farmacia y al supermercado", "errands")],
    "food": [("Despensa para mi familia esta semana", None), ("Comidas calientes unos días después de una cirugía", None),
             ("Fórmula para mi bebé", None)],
    "skills": [("Ayuda para escribir mi currículum", None), ("Aprender a configurar el correo en mi teléfono", None),
               ("Ayuda para hacer un presupuesto mensual", None)],
    "peer_support": [("Busco un grupo de apoyo para la recuperación", None), ("Madre soltera buscando apoyo", None)],
    "household_items": [("Necesito una base de cama", None), ("Abrigo y botas de invierno", None),
                        ("Ollas y sartenes para un apartamento nuevo", None)],
}
OFFERS_ES = {
    "rides": ["Puedo llevar a citas médicas", "Raites entre semana por la mañana al trabajo o a entrevistas",
              "Transporte por la tarde a reuniones de apoyo", "Mandados y compras el fin de semana"],
    "food": ["Comida casera para compartir", "Verduras de mi huerta para regalar", "Compras del banco de alimentos"],
    "skills": ["Ayuda con el currículum y práctica para entrevistas", "Clases básicas de computadora y teléfono",
               "Taller de presupuesto para principiantes", "Clases de costura y arreglos"],
    "peer_support": ["Grupo de apoyo entre pares para la recuperación", "Círculo de apoyo para madres y padres"],
    "household_items": ["Base de cama y cómoda para regalar", "Abrigos de invierno para donar", "Kits básicos de cocina"],
}
_POSTS = {("en", "need"): NEEDS, ("en", "offer"): OFFERS, ("es", "need"): NEEDS_ES, ("es", "offer"): OFFERS_ES}

DETAILS = {
    ("en", "need"): {
        "rides": "I don't drive right now. Happy to chip in for gas.",
        "food": "Anything helps; no allergies in the house.",
        "skills": "An hour or two would make a big difference.",
        "emergency_funds": "A coordinator can confirm the bill.",
        "peer_support": "Evenings work best for me.",
        "household_items": "I can pick up if it's not too far.",
    },
    ("en", "offer"): {
        "rides": "Clean car, no smoking. Let me know about wheelchairs or car seats.",
        "food": "Made fresh; tell me about allergies.",
        "skills": "Patient and friendly, beginners welcome.",
        "emergency_funds": "Paid to the landlord or company through the fund.",
        "peer_support": "Confidential, peer-led, everyone welcome.",
        "household_items": "Pick up or I can drop off nearby.",
    },
    ("es", "need"): {
        "rides": "Ahora no manejo. Con gusto ayudo con la gasolina.",
        "food": "Cualquier cosa ayuda; en casa nadie tiene alergias.",
        "skills": "Una o dos horas harían una gran diferencia.",
        "emergency_funds": "Una coordinadora puede confirmar la factura.",
        "peer_support": "Por la tarde me queda mejor.",
        "household_items": "Puedo recogerlo si no está muy lejos.",
    },
    ("es", "offer"): {
        "rides": "Carro limpio, no se fuma. Avíseme si necesita silla de ruedas o asiento para niños.",
        "food": "Hecho el mismo día; avíseme de cualquier alergia.",
        "skills": "Con paciencia y buen trato; principiantes bienvenidos.",
        "emergency_funds": "Se paga al arrendador o a la compañía a través del fondo.",
        "peer_support": "Confidencial, dirigido por pares, todos son bienvenidos.",
        "household_items": "Puede recogerlo o se lo llevo si está cerca.",
    },
}


def _language(owner) -> str:
    return "es" if getattr(owner, "language", "en") == "es" else "en"


def post_title(owner, kind: str, category: str, index: int):
    """The title of demo post `index` of `kind` in `category`, as its owner writes it (their
    language); a need comes with its kind of destination."""
    return _POSTS[(_language(owner), kind)][category][index]


def details_for(owner, kind: str, category: str) -> str:
    return DETAILS[(_language(owner), kind)][category]
