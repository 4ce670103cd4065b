"""Customer history for the demo organisations: French and Italian customers, people, notes, changes."""
import random
import unicodedata
from datetime import timedelta

from sqlalchemy import select

from app.agenda.services import record_interaction, record_plan
from app.audit.chain import clear_actor, set_actor
from app.extensions import db
from app.models import Address, Channel, Contact, CustomField, Membership, Note, SalesRep, Tag, ThirdParty, ThirdPartyTag, utcnow
from app.numbering import next_code
from app.tenancy import tenant_context
from app.timeline.services import record_event

FRENCH = {
    "companies": [
        ("Boulangerie Martin", "Paris", "75011", "12 rue Oberkampf"),
        ("Garage Lefèvre", "Lyon", "69003", "8 cours Gambetta"),
        ("Cabinet Moreau Avocats", "Bordeaux", "33000", "21 allées de Tourny"),
        ("Fleurs de Provence", "Aix-en-Provence", "13100", "4 place des Prêcheurs"),
        ("Menuiserie Girard", "Nantes", "44000", "17 quai de la Fosse"),
        ("Pharmacie du Centre", "Lille", "59000", "2 rue Faidherbe"),
        ("Hôtel Bellevue", "Annecy", "74000", "9 avenue d'Albigny"), ("Imprimerie Roux", "Toulouse", "31000", "33 rue d'Alsace-Lorraine"),
        ("Cave Dubois & Fils", "Reims", "51100", "6 rue de Vesle"), ("Agence Lumière", "Marseille", "13001", "45 La Canebière"),
        ("Librairie Fontaine", "Rennes", "35000", "1 place des Lices"),
        ("Transports Mercier", "Strasbourg", "67000", "14 rue du Jeu-des-Enfants"),
    ],
    "people": [("Jeanne", "Martin"), ("Luc", "Lefèvre"), ("Claire", "Moreau"), ("Hugo", "Girard"), ("Émilie", "Roux"),
               ("Antoine", "Dubois"), ("Camille", "Mercier"), ("Julien", "Fontaine"), ("Sophie", "Bernard"), ("Nicolas", "Petit")],
    "jobs": ["Gérante", "Directeur", "Comptable", "Responsable achats", "Assistante de direction", "Chef d'atelier"],
    "notes": [
        "Préfère être contacté par e-mail, jamais avant 10 h.",
        "Appel : intéressé par la formule Premium, rappeler en fin de mois.",
        "Litige sur la livraison de mars réglé par un avoir de 120 €.",
        "A souscrit à l'offre annuelle en mai ; très satisfait du suivi.",
        "Rendez-vous sur place : visite de l'atelier, besoin d'un devis pour 3 postes.",
        "Consigne interne : toujours mettre la comptabilité en copie des factures.",
    ],
    "calls": [
        "Souhaite recevoir le devis avant vendredi.",
        "Questions sur la facture de février ; réponse envoyée par e-mail.",
        "Satisfait de la livraison ; pense à commander de nouveau en septembre.",
        "Absent ; sa collègue transmettra le message.",
    ],
    "outcomes": ["Joint", "Message laissé", "À rappeler", "Intéressé"],
    "tasks": ["Envoyer le devis", "Relancer pour la facture", "Préparer la présentation", "Confirmer la livraison"],
    "appointments": ["Rendez-vous sur place", "Point mensuel", "Démonstration du produit"],
    "tags": [("VIP", "purple"), ("Fidèle", "green"), ("Prospect chaud", "orange"), ("À relancer", "red")],
    "sector": ("Secteur", ["Commerce", "Artisanat", "Services", "Hôtellerie", "Industrie"]),
    "phone": "+33 {a} {b} {c} {d} {e}", "domain": "exemple.fr",
}
ITALIAN = {
    "companies": [
        ("Forno Bianchi", "Milano", "20121", "Via Brera 12"), ("Officina Ricci", "Torino", "10121", "Corso Vittorio Emanuele II 40"),
        ("Studio Legale Romano", "Roma", "00186", "Via del Corso 101"), ("Enoteca Colombo", "Firenze", "50122", "Borgo degli Albizi 7"),
        ("Falegnameria Greco", "Napoli", "80134", "Via Toledo 256"), ("Hotel Belvedere", "Como", "22100", "Lungo Lario Trento 3"),
        ("Tipografia Conti", "Bologna", "40121", "Via dell'Indipendenza 18"), ("Trasporti Gallo", "Verona", "37121", "Corso Porta Nuova 9"),
    ],
    "people": [("Giulia", "Bianchi"), ("Marco", "Ricci"), ("Francesca", "Romano"), ("Luca", "Colombo"), ("Chiara", "Greco"),
               ("Alessandro", "Conti"), ("Sara", "Gallo"), ("Matteo", "Esposito")],
    "jobs": ["Titolare", "Direttore", "Responsabile acquisti", "Contabile", "Segretaria di direzione"],
    "notes": [
        "Preferisce essere contattato via e-mail.",
        "Chiamata: interessato al preventivo per il rinnovo, richiamare lunedì.",
        "Ha sottoscritto l'offerta Premium a maggio.",
        "Incontro in sede: servono tre postazioni entro settembre.",
        "Nota interna: mettere sempre in copia l'amministrazione.",
    ],
    "calls": [
        "Vuole ricevere il preventivo entro venerdì.",
        "Domande sulla fattura di febbraio; risposta inviata via e-mail.",
        "Soddisfatto della consegna; pensa di riordinare a settembre.",
        "Assente; la collega riferirà il messaggio.",
    ],
    "outcomes": ["Raggiunto", "Lasciato un messaggio", "Da richiamare", "Interessato"],
    "tasks": ["Inviare il preventivo", "Sollecitare la fattura", "Preparare la presentazione", "Confermare la consegna"],
    "appointments": ["Incontro in sede", "Riunione mensile", "Dimostrazione del prodotto"],
    "tags": [("VIP", "purple"), ("Cliente fedele", "green"), ("Da ricontattare", "red")],
    "sector": ("Settore", ["Commercio", "Artigianato", "Servizi", "Turismo", "Industria"]),
    "phone": "+39 0{a} {b}{c} {d}{e}", "domain": "esempio.it",
}


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _phone(template: str, rng: random.Random) -> str:
    return template.format(**{k: f"{rng.randint(10, 99)}" for k in "abcde"})


def load_history(tenant_id, data: dict, seed: int) -> int:
    """Give one demo organisation its customers and their history (skipped if it has customers)."""
    rng = random.Random(seed)
    with tenant_context(tenant_id):
        if db.session.scalar(select(ThirdParty.id).limit(1)):
            return 0
        members = db.session.scalars(select(Membership)).all()
        set_actor(members[0].user_id, "127.0.0.1")
        tags = [Tag(name=name, colour=colour) for name, colour in data["tags"]]
        sector_label, sectors = data["sector"]
        db.session.add_all([*tags, CustomField(entity="thirdparty", key="sector", label=sector_label, field_type="choice",
                                               choices=sectors, show_in_list=True, position=1)])
        db.session.flush()
        now = utcnow()
        for index, (name, city, postcode, street) in enumerate(data["companies"]):
            created = now - timedelta(days=rng.randint(60, 700))
            tp = ThirdParty(code=next_code("customer"), name=name, is_customer=index % 4 != 3, is_prospect=index % 4 == 3,
                            is_supplier=index % 5 == 4, custom={"sector": rng.choice(sectors)}, created_at=created,
                            updated_at=created, vat_number=f"{'FR' if data is FRENCH else 'IT'}{rng.randint(10**10, 10**11 - 1)}")
            tp.addresses = [Address(label="", street=street, postcode=postcode, city=city, country="FR" if data is FRENCH else "IT")]
            domain = "".join(ch for ch in _ascii(name) if ch.isalnum())[:14] + "." + data["domain"].split(".")[-1]
            tp.channels = [Channel(kind="phone", label="", value=_phone(data["phone"], rng), position=0),
                           Channel(kind="email", label="", value=f"contact@{domain}", position=1)]
            tp.search_text = " ".join([name, tp.code, city, postcode, tp.channels[0].value, tp.channels[1].value]).lower()
            rep = members[index % len(members)]
            tp.reps = [SalesRep(membership_id=rep.id)]
            db.session.add(tp)
            db.session.flush()
            db.session.add(ThirdPartyTag(thirdparty_id=tp.id, tag_id=tags[index % len(tags)].id))
            record_event(thirdparty_id=tp.id, kind="thirdparty_created", subject_type="thirdparty", subject_id=tp.id,
                         actor_id=rep.user_id, title=tp.name, payload={"code": tp.code, "kinds": tp.kinds}, occurred_at=created)
            contacts = _people_and_notes(tp, data, rng, members, created, now)
            _interactions(tp, contacts, data, rng, members, created, now)
            _plans(tp, contacts, data, rng, members, now)
        clear_actor()
        db.session.commit()
        return len(data["companies"])


def _people_and_notes(tp, data, rng, members, created, now):
    people = rng.sample(data["people"], k=rng.randint(1, 3))
    contacts = []
    for first, last in people:
        when = created + timedelta(days=rng.randint(0, 20))
        contact = Contact(thirdparty_id=tp.id, first_name=first, last_name=last, job_title=rng.choice(data["jobs"]),
                          preferred_channel=rng.choice(["any", "email", "phone"]), consent_email=rng.random() < .6,
                          created_at=when, updated_at=when)
        address = f"{_ascii(first)}.{_ascii(last)}@{tp.channels[1].value.split('@')[1]}"
        contact.channels = [Channel(kind="email", label="", value=address, position=0)]
        contact.search_text = f"{first} {last} {contact.job_title}".lower()
        db.session.add(contact)
        db.session.flush()
        contacts.append(contact)
        record_event(thirdparty_id=tp.id, contact_id=contact.id, kind="contact_added", subject_type="contact",
                     subject_id=contact.id, actor_id=members[0].user_id, title=contact.full_name, occurred_at=when)
    moments = sorted(created + timedelta(days=rng.randint(1, max(2, (now - created).days - 1)), minutes=rng.randint(0, 600))
                     for _ in range(rng.randint(2, 6)))
    for when in moments:
        author = rng.choice(members)
        body = rng.choice(data["notes"])
        contact = rng.choice(contacts) if rng.random() < .5 else None
        note = Note(thirdparty_id=tp.id, contact_id=contact.id if contact else None, body=body, author_id=author.user_id,
                    pinned=rng.random() < .1, created_at=when, updated_at=when)
        db.session.add(note)
        db.session.flush()
        record_event(thirdparty_id=tp.id, contact_id=note.contact_id, kind="note_added", subject_type="note", subject_id=note.id,
                     actor_id=author.user_id, title=body.splitlines()[0][:200], body=body, occurred_at=when)
    return contacts


def _interactions(tp, contacts, data, rng, members, created, now):
    """A few calls, meetings and e-mails logged over the customer's life, through the agenda's own function."""
    for _ in range(rng.randint(1, 4)):
        when = created + timedelta(days=rng.randint(1, max(2, (now - created).days - 1)), minutes=rng.randint(0, 600))
        kind = rng.choice(["call", "call", "call", "meeting", "email"])
        values = {"kind": kind, "direction": rng.choice(["outbound", "outbound", "inbound"]), "starts_at": when,
                  "duration_minutes": rng.randint(3, 25) if kind == "call" else rng.randint(30, 90) if kind == "meeting" else None,
                  "outcome": rng.choice(data["outcomes"]) if kind == "call" else "", "title": "", "body": rng.choice(data["calls"]),
                  "meeting_mode": "in_person" if kind == "meeting" else None,
                  "location": tp.addresses[0].city if kind == "meeting" else ""}
        record_interaction(rng.choice(members).user_id, thirdparty_id=tp.id, contact_id=rng.choice(contacts).id,
                           values=values)


def _plans(tp, contacts, data, rng, members, now):
    """What is planned on the customer, around today: a task (sometimes overdue or done) and maybe an appointment,
    for the customer's sales rep, in the organisation's zone."""
    rep = next(m for m in members if m.id == tp.reps[0].membership_id)
    zone = "Europe/Paris" if data is FRENCH else "Europe/Rome"
    due = (now + timedelta(days=rng.randint(-3, 10))).replace(minute=0, second=0, microsecond=0)
    task = record_plan(rep.user_id, thirdparty_id=tp.id, contact_id=rng.choice(contacts).id, assignee_ids=[rep.user_id],
                       values={"kind": "task", "title": rng.choice(data["tasks"]), "body": "", "starts_at": due,
                               "ends_at": None, "all_day": False, "priority": rng.choice(["normal", "normal", "high"]),
                               "location": "", "zone": zone, "recurrence": ""})
    if due < now and rng.random() < .5:
        task.done_at = due
    if rng.random() < .5:
        starts = (now + timedelta(days=rng.randint(0, 20))).replace(hour=8, minute=30, second=0, microsecond=0)
        weekly = rng.random() < .3
        record_plan(rep.user_id, thirdparty_id=tp.id, contact_id=rng.choice(contacts).id, assignee_ids=[rep.user_id],
                    values={"kind": "appointment", "title": rng.choice(data["appointments"]), "body": "", "starts_at": starts,
                            "ends_at": starts + timedelta(hours=1), "all_day": False, "priority": "normal",
                            "location": tp.addresses[0].city, "zone": zone, "recurrence": "FREQ=WEEKLY;COUNT=4" if weekly else ""})
