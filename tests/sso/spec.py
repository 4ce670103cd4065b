"""The access spec rows of single sign-on (see tests/access_spec.py, whose SPEC they join): who may call each route
and one valid request to it. References name the objects of ``tests/sso/seed.py``: each organisation's provider
(``sso_key`` org-<slug>, its ``sso_issuer`` and ``sso_domain``), its owner's identity, and a confirmation link made
in A's owner's browser (``token("sso_confirm")``). Nothing here calls a provider: starting a flow only builds the
address of the seeded provider's authorisation endpoint, and the callback's valid request is a reload (no answer)."""
from app.sso.forms import ConfirmForm, FindForm, ProviderForm
from tests.access_spec import ANONYMOUS, DELETE, EVENT, INSERT, USER, Case, Ref, _global, _tenant, role, token, user

KEY = Ref("sso_key")
CALLBACK_PARAMS = ("state", "code", "error", "error_description", "iss")

SSO_SPEC = (
    _global("sso.find", "/auth/sso/", ["GET", "POST"], Case(fragment=True, actor=ANONYMOUS,
        form={"email": Ref("sso_email")}, form_class=FindForm)),
    _global("sso.start", "/auth/sso/<key>/start", ["GET"], Case(actor=ANONYMOUS, args={"key": KEY},
        query={"next": "/orgs", "hint": Ref("sso_email")}), query_params=("next", "hint")),
    _global("sso.link", "/auth/sso/<key>/link", ["GET"], Case(actor=USER, args={"key": KEY}), login=True),
    _global("sso.callback", "/auth/sso/<key>/callback", ["GET"], Case(actor=ANONYMOUS, args={"key": KEY}),
            query_params=CALLBACK_PARAMS),
    # The e-mailed confirmation of a link A's owner asked for from their account page, opened in their browser.
    _global("sso.confirm", "/auth/sso/confirm/<token>", ["GET", "POST"], Case(fragment=True, actor=USER,
        args={"token": token("sso_confirm")}, form_class=ConfirmForm, writes={"sso_identity": {INSERT}, **EVENT},
        pinned={"sso_identity": {"user_id": user("owner"), "provider_key": KEY}})),
    _global("sso.unlink", "/auth/sso/identities/<uuid:identity_id>/unlink", ["POST"], Case(actor=USER,
        args={"identity_id": Ref("sso_identity")}, writes={"sso_identity": {DELETE}, **EVENT}), login=True),
    # The issuer is the stored one (its discovery is not read again), so the valid save calls no provider.
    _tenant("sso_admin.edit", "/admin/sso", ["GET", "POST"], "admin.settings", Case(fragment=True,
        form={"enabled": "y", "issuer": Ref("sso_issuer"), "client_id": "renamed-client", "client_secret": "",
              "allowed_domains": Ref("sso_domain"), "auto_join": "y", "default_role_id": role("support")},
        form_class=ProviderForm,
        writes={"sso_provider": {"client_id", "auto_join", "default_role_id", "enabled", "updated_at"},
                "sso_domain": {INSERT, DELETE},
                **EVENT},
        pinned={"sso_provider": {"client_id": "renamed-client", "default_role_id": role("support")}})),
)
