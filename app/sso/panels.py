"""What the sign-in, sign-up and account pages show of single sign-on (template globals: their views stay as they are)."""
from flask_login import current_user

from app.sso import services
from app.sso.providers import global_keys, org_key
from app.web import nav_organisations


def sign_in_buttons() -> dict:
    """The Google and Microsoft buttons configured, and whether any organisation has its own provider."""
    return {"providers": global_keys(), "organisations": services.any_organisation_provider()}


def account_panel() -> dict:
    """The signed-in person's linked identities, and the providers they may link: Google, Microsoft, and those of
    their organisations."""
    organisations = services.linkable_organisations(nav_organisations())
    identities = services.identities_of(current_user.id)
    linked = {identity.provider_key for identity in identities}
    return {"identities": identities,
            "linkable": [(key, label) for key, label in [*global_keys(), *((org_key(t.slug), t.name) for t in organisations)]
                         if key not in linked]}
