"""The forms that log a call, a meeting, an e-mail or a letter, and plan a task or an appointment."""
import uuid
from datetime import date, datetime, time, timedelta

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.agenda import recurrence
from app.agenda.labels import DIRECTION_LABELS, KIND_LABELS, MODE_LABELS, PLAN_LABELS, PRIORITY_LABELS, REPEAT_LABELS
from app.agenda.reminders import LEAD_LABELS
from app.forms import MultiCheckboxField, as_choices, local_to_utc, parse_uuid, viewer_zone
from app.idempotency import new_key
from app.models import DIRECTIONS, LOGGED_KINDS, MEETING_MODES, PLANNED_KINDS, PRIORITIES, utcnow

MAX_BODY = 20000


class InteractionForm(FlaskForm):
    kind = SelectField(_l("What"), choices=as_choices(KIND_LABELS.items()), default="call")
    direction = SelectField(_l("Who started it"), choices=as_choices(DIRECTION_LABELS.items()), default="outbound")
    when = DateTimeLocalField(_l("When"), format="%Y-%m-%dT%H:%M", validators=[DataRequired(message=_l("Say when it happened."))])
    duration = IntegerField(_l("Duration (minutes)"), validators=[Optional(), NumberRange(min=0, max=24 * 60)],
                            render_kw={"inputmode": "numeric", "min": 0, "max": 24 * 60})
    outcome = StringField(_l("Outcome"), validators=[Length(max=80)], render_kw={"list": "outcomes", "autocomplete": "off"})
    meeting_mode = SelectField(_l("How"), choices=as_choices(MODE_LABELS.items()), default="in_person")
    location = StringField(_l("Place or link"), validators=[Length(max=200)])
    title = StringField(_l("Subject"), validators=[Length(max=200)])
    body = TextAreaField(_l("Summary"), validators=[Length(max=MAX_BODY)], render_kw={"rows": 5})
    # The customer's contacts (offer_contacts); an id that is not one of them is "not found" (404) in the view.
    contact_id = SelectField(_l("With"), choices=[], default="", validate_choice=False)
    # Who else took part: the customer's other people (one of someone else is "not found", 404, in the view),
    # and colleagues (it then shows in their agendas too).
    others = MultiCheckboxField(_l("Also with"), choices=[], validate_choice=False)
    team = MultiCheckboxField(_l("Colleagues who took part"), choices=[])
    follow_up = DateField(_l("Follow up on"), validators=[Optional()])
    idempotency_key = HiddenField()

    def validate_contact_id(self, field):
        _check_contact(field)

    def validate_others(self, field):
        _check_others(field)

    def validate_follow_up(self, field):
        if field.data and field.data < datetime.now(viewer_zone()).date():
            raise ValidationError(_l("A follow-up is for today or later."))

    def other_ids(self) -> list[uuid.UUID]:
        return other_ids(self)

    def team_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(value) for value in self.team.data]

    def follow_up_values(self) -> dict | None:
        """The follow-up task asked for: due at 09:00 that day in the viewer's zone."""
        if not self.follow_up.data:
            return None
        subject = (self.title.data or "").strip() or (self.body.data or "").strip().split("\n")[0][:150]
        title = str(_l("Follow up: %(subject)s", subject=subject)) if subject else str(_l("Follow up"))
        due = local_to_utc(datetime.combine(self.follow_up.data, time(9)))
        return {"kind": "task", "title": title[:200], "starts_at": due, "priority": "normal",
                "zone": viewer_zone().key}

    def validate_when(self, field):
        if field.data and local_to_utc(field.data) > utcnow():
            raise ValidationError(_l("This is for what already happened; planning comes with appointments."))

    def values(self) -> dict:
        kind = self.kind.data if self.kind.data in LOGGED_KINDS else "call"
        return {
            "kind": kind, "direction": self.direction.data if self.direction.data in DIRECTIONS else "outbound",
            "starts_at": local_to_utc(self.when.data), "duration_minutes": self.duration.data,
            "outcome": (self.outcome.data or "").strip(), "title": (self.title.data or "").strip(),
            "body": (self.body.data or "").strip(),
            "meeting_mode": self.meeting_mode.data if kind == "meeting" and self.meeting_mode.data in MEETING_MODES else None,
            "location": (self.location.data or "").strip() if kind == "meeting" else "",
        }


def _check_contact(field):
    if field.data and parse_uuid(field.data) is None:
        raise ValidationError(_l("Not a valid choice."))


class PlanForm(FlaskForm):
    kind = SelectField(_l("What"), choices=as_choices(PLAN_LABELS.items()), default="task")
    title = StringField(_l("Subject"), validators=[DataRequired(message=_l("Say what is planned.")), Length(max=200)])
    starts = DateTimeLocalField(_l("When"), format="%Y-%m-%dT%H:%M", validators=[DataRequired(message=_l("Say when."))])
    ends = DateTimeLocalField(_l("Ends"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    all_day = BooleanField(_l("All day"))
    priority = SelectField(_l("Priority"), choices=as_choices(PRIORITY_LABELS.items()), default="normal")
    # Active members of the team (offer_members); an unknown id is refused like any bad choice.
    assignees = MultiCheckboxField(_l("For"), choices=[])
    contact_id = SelectField(_l("With"), choices=[], default="", validate_choice=False)
    others = MultiCheckboxField(_l("Also with"), choices=[], validate_choice=False)
    location = StringField(_l("Place or link"), validators=[Length(max=200)])
    body = TextAreaField(_l("Details"), validators=[Length(max=MAX_BODY)], render_kw={"rows": 4})
    repeat = SelectField(_l("Repeats"), choices=as_choices(REPEAT_LABELS.items()), default="")
    repeat_count = IntegerField(_l("How many times"), validators=[Optional(), NumberRange(min=2, max=recurrence.MAX_COUNT)],
                                render_kw={"inputmode": "numeric", "min": 2, "max": recurrence.MAX_COUNT})
    repeat_until = DateField(_l("Until"), validators=[Optional()])
    reminder = SelectField(_l("Reminder"), choices=as_choices([("", _l("As each person chose"))] + list(LEAD_LABELS.items())),
                           default="")
    idempotency_key = HiddenField()

    def validate_contact_id(self, field):
        _check_contact(field)

    def validate_others(self, field):
        _check_others(field)

    def validate_assignees(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one person."))

    def validate_ends(self, field):
        if self.kind.data == "appointment" and field.data and self.starts.data and field.data < self.starts.data:
            raise ValidationError(_l("The end comes after the start."))

    def validate_repeat(self, field):
        if not field.data or self.kind.data != "appointment":
            return
        if not self.repeat_count.data and not self.repeat_until.data:
            raise ValidationError(_l("Say how many times, or until when."))
        first = self.starts.data.date() if self.starts.data else None
        if self.repeat_until.data and first and not first <= self.repeat_until.data <= first + timedelta(
                days=365 * recurrence.MAX_YEARS):
            raise ValidationError(_l("The last day is after the first and within %(years)d years.",
                                     years=recurrence.MAX_YEARS))

    def values(self) -> dict:
        kind = self.kind.data if self.kind.data in PLANNED_KINDS else "task"
        zone = viewer_zone()
        if self.all_day.data:
            first = self.starts.data.date()
            last = self.ends.data.date() if kind == "appointment" and self.ends.data else first
            starts = local_to_utc(datetime.combine(first, time()))
            ends = local_to_utc(datetime.combine(max(first, last) + timedelta(days=1), time())) if kind == "appointment" else None
        else:
            starts = local_to_utc(self.starts.data)
            ends = (local_to_utc(self.ends.data) if self.ends.data else starts + timedelta(hours=1)) if kind == "appointment" else None
        repeat = self.repeat.data if kind == "appointment" else ""
        return {
            "kind": kind, "title": self.title.data.strip(), "body": (self.body.data or "").strip(),
            "starts_at": starts, "ends_at": ends, "all_day": bool(self.all_day.data),
            "priority": self.priority.data if self.priority.data in PRIORITIES else "normal",
            "location": (self.location.data or "").strip(), "zone": zone.key,
            "recurrence": recurrence.make_rule(repeat, count=self.repeat_count.data,
                                               until=None if self.repeat_count.data else self.repeat_until.data, zone=zone),
            "reminder_minutes": int(self.reminder.data) if self.reminder.data else None,
        }

    def assignee_ids(self) -> list[uuid.UUID]:
        return [uuid.UUID(value) for value in self.assignees.data]

    def other_ids(self) -> list[uuid.UUID]:
        return other_ids(self)


def other_ids(form) -> list[uuid.UUID]:
    """The other people ticked, without the main one (the view checks they are the customer's)."""
    return [uuid.UUID(value) for value in form.others.data if value != form.contact_id.data]


def _check_others(field):
    if any(parse_uuid(value) is None for value in field.data or []):
        raise ValidationError(_l("Not a valid choice."))


class ReminderSettingsForm(FlaskForm):
    """A person's own reminder defaults in this organisation."""

    lead = SelectField(_l("Remind me"), choices=[])
    by_email = BooleanField(_l("Also by e-mail"))

    def offer(self, organisation_default: int) -> "ReminderSettingsForm":
        default = _l("As the organisation chose (%(lead)s)", lead=LEAD_LABELS.get(organisation_default, ""))
        self.lead.choices = as_choices([("", default)] + list(LEAD_LABELS.items()))
        return self


def plan_form(members, contacts, *, me: uuid.UUID, contact_id=None, kind: str = "task", due: date | None = None) -> PlanForm:
    """A blank plan: tomorrow 09:00 (or ``due``) in the viewer's zone, for the viewer, a fresh idempotency key."""
    day = due or datetime.now(viewer_zone()).date() + timedelta(days=1)
    form = PlanForm(formdata=None, kind=kind if kind in PLANNED_KINDS else "task", contact_id=str(contact_id or ""),
                    starts=datetime.combine(day, time(9)), assignees=[str(me)], idempotency_key=new_key())
    offer_people(form, members, contacts)
    return form


class PlanEditForm(PlanForm):
    """Changing a planned item: the version it was read at and what it showed (merged with concurrent edits)."""

    version = HiddenField()
    base = HiddenField()


def edit_form(item, members, contacts, formdata=None) -> PlanEditForm:
    """The plan form filled with ``item`` as the viewer sees it (their zone; an all-day end is the last day)."""
    zone = viewer_zone()
    starts = item.starts_at.astimezone(zone).replace(tzinfo=None)
    ends = item.ends_at.astimezone(zone).replace(tzinfo=None) if item.ends_at else None
    if item.all_day and ends:
        ends -= timedelta(days=1)
    repeat, count, until = recurrence.describe(item.recurrence, zone)
    form = PlanEditForm(formdata=formdata, kind=item.kind, title=item.title, starts=starts, ends=ends, all_day=item.all_day,
                        priority=item.priority, assignees=[str(i) for i in item.assignee_ids],
                        contact_id=str(item.contact_id or ""), others=[str(a.contact_id) for a in item.attendees],
                        location=item.location, body=item.body, repeat=repeat, repeat_count=count, repeat_until=until,
                        reminder="" if item.reminder_minutes is None else str(item.reminder_minutes), version=item.version)
    offer_people(form, members, contacts)
    return form


def offer_people(form: PlanForm | InteractionForm, members, contacts) -> None:
    """The choices of people: the active members of the team, and the customer's contacts."""
    team = as_choices((m.user_id, m.user.name) for m in members if m.active)
    if isinstance(form, PlanForm):
        form.assignees.choices = team
    else:
        form.team.choices = [choice for choice in team if choice.value != str(g.viewer.user_id)]  # who logs it took part
    offer_contacts(form, contacts)


def interaction_form(members, contacts, contact_id=None, kind: str = "call") -> InteractionForm:
    """A blank form: now in the viewer's zone, the person preselected, a fresh idempotency key."""
    form = InteractionForm(formdata=None, kind=kind if kind in LOGGED_KINDS else "call", contact_id=str(contact_id or ""),
                           when=datetime.now(viewer_zone()).replace(second=0, microsecond=0, tzinfo=None),
                           idempotency_key=new_key())
    offer_people(form, members, contacts)
    return form


def offer_contacts(form: InteractionForm | PlanForm, contacts) -> None:
    form.contact_id.choices = as_choices([("", _l("No one in particular"))] + [(c.id, c.full_name) for c in contacts])
    form.others.choices = as_choices((c.id, c.full_name) for c in contacts)
