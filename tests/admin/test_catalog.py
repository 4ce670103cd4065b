"""Tags, custom fields and the customer code pattern, as an administrator sets them up."""
import html
import re

from sqlalchemy import select

from app.extensions import db
from app.models import Counter, CustomField, Tag
from app.tenancy import tenant_context
from tests.factories import add_member
from tests.helpers import Browser


def _rows(app, tenant, model):
    with app.app_context(), tenant_context(tenant.id):
        return db.session.scalars(select(model)).all()


def test_a_tag_is_created_and_listed(app, owner, tenant):
    assert owner.post(f"/{tenant.slug}/admin/tags", {"name": "VIP", "colour": "purple"}).status_code == 303
    assert [(t.name, t.colour) for t in _rows(app, tenant, Tag)] == [("VIP", "purple")]
    assert "VIP" in owner.get(f"/{tenant.slug}/admin/catalog").get_data(as_text=True)


def test_a_duplicate_tag_name_is_refused_with_the_input_kept(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/tags", {"name": "VIP", "colour": "purple"})
    response = owner.post(f"/{tenant.slug}/admin/tags", {"name": "vip", "colour": "red"}, htmx=True)
    assert response.status_code == 422
    assert 'value="vip"' in response.get_data(as_text=True)
    assert len(_rows(app, tenant, Tag)) == 1


def test_a_tag_is_deleted(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/tags", {"name": "Old", "colour": "grey"})
    tag_id = _rows(app, tenant, Tag)[0].id
    assert owner.post(f"/{tenant.slug}/admin/tags/{tag_id}/delete").status_code == 303
    assert _rows(app, tenant, Tag) == []


def test_a_choice_field_needs_choices(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/fields", {"entity": "thirdparty", "label": "Sector", "field_type": "choice",
                                                            "choices": "  "}, htmx=True)
    assert response.status_code == 422
    assert _rows(app, tenant, CustomField) == []


def test_editing_a_field_shows_its_choices_one_per_line_and_keeps_them(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/fields", {"entity": "thirdparty", "label": "Sector", "field_type": "choice",
                                                "choices": "Retail\nCrafts\nRetail"})
    field = _rows(app, tenant, CustomField)[0]
    assert (field.key, field.choices) == ("sector", ["Retail", "Crafts"])
    page = owner.get(f"/{tenant.slug}/admin/fields/{field.id}/edit").get_data(as_text=True)
    textarea = re.search(r"<textarea[^>]*name=\"choices\"[^>]*>(.*?)</textarea>", page, re.S).group(1)
    assert html.unescape(textarea).strip().splitlines() == ["Retail", "Crafts"]
    owner.post(f"/{tenant.slug}/admin/fields/{field.id}/edit", {"label": "Sector", "choices": html.unescape(textarea)})
    assert _rows(app, tenant, CustomField)[0].choices == ["Retail", "Crafts"]


def test_a_field_keeps_its_type_and_entity_when_edited(app, owner, tenant):
    owner.post(f"/{tenant.slug}/admin/fields", {"entity": "contact", "label": "Birthday", "field_type": "date"})
    field = _rows(app, tenant, CustomField)[0]
    owner.post(f"/{tenant.slug}/admin/fields/{field.id}/edit", {"label": "Date of birth", "entity": "thirdparty",
                                                                  "field_type": "number"})
    changed = _rows(app, tenant, CustomField)[0]
    assert (changed.label, changed.entity, changed.field_type) == ("Date of birth", "contact", "date")


def test_the_code_pattern_must_contain_the_number(app, owner, tenant):
    response = owner.post(f"/{tenant.slug}/admin/numbering", {"pattern": "CU-{yy}"}, htmx=True)
    assert response.status_code == 422
    assert _rows(app, tenant, Counter) == []


def test_a_valid_code_pattern_is_saved(app, owner, tenant):
    assert owner.post(f"/{tenant.slug}/admin/numbering", {"pattern": "C{yyyy}-{n:05}"}).status_code == 303
    assert [c.pattern for c in _rows(app, tenant, Counter)] == ["C{yyyy}-{n:05}"]


def test_the_catalog_needs_the_settings_right(app, tenant):
    member = add_member(app, tenant, role="sales")
    theirs = Browser(app.test_client())
    theirs.login(member.email)
    assert theirs.get(f"/{tenant.slug}/admin/catalog").status_code == 403
    assert theirs.post(f"/{tenant.slug}/admin/tags", {"name": "Sneaky", "colour": "red"}).status_code == 403
    assert _rows(app, tenant, Tag) == []
