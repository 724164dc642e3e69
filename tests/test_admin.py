"""Administration: who may enter, changing roles, the audit log, finding people."""

import re

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.models import AuditEntry, User
from tests.conftest import csrf_token, login, post_form

ADMIN_PAGES = {
    "/admin/": "Administration",
    "/admin/users": "People and roles",
    "/admin/audit": "Audit log",
}


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.fixture
def admin_client(app, make_user):
    admin = make_user(role="admin", name="Ada Admin", email="ada@example.org")
    client = app.test_client()
    login(client, admin)
    client.admin = admin
    return client


def change_role(client, user_id, role, **extra):
    return post_form(
        client,
        f"/admin/users/{user_id}/role",
        {"role": role, **extra},
        token_from="/admin/users",
    )


@pytest.mark.parametrize("path", list(ADMIN_PAGES))
@pytest.mark.parametrize(
    ("role", "status"),
    [
        (None, 302),
        ("learner", 403),
        ("facilitator", 403),
        ("educator", 403),
        ("admin", 200),
    ],
)
def test_admin_access_by_role(client, make_user, path, role, status):
    if role is not None:
        login(client, make_user(role=role))
    response = client.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/auth/login?next=")
    elif status == 403:
        assert "Not allowed" in page
        assert ADMIN_PAGES[path] not in page
    else:
        assert f"<h1>{ADMIN_PAGES[path]}</h1>" in page


@pytest.mark.parametrize("role", ["learner", "facilitator", "educator"])
def test_admin_link_in_navigation_only_for_admins(client, make_user, role):
    login(client, make_user(role=role))
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)


def test_admin_link_in_navigation_for_admin(admin_client):
    assert 'href="/admin/"' in admin_client.get("/").get_data(as_text=True)


def test_admin_changes_a_role_and_it_is_audited(admin_client, make_user):
    subject = make_user(name="Sam Subject")
    response = change_role(admin_client, subject.id, "facilitator")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    db.session.refresh(subject)
    assert subject.role == "facilitator"

    entry = db.session.scalar(select(AuditEntry))
    assert entry.action == "user.role_changed"
    assert entry.actor_id == admin_client.admin.id
    assert entry.subject_user_id == subject.id
    assert entry.details == {"from": "learner", "to": "facilitator"}
    assert entry.created_at is not None

    users_page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Sam Subject is now facilitator." in users_page

    audit_page = admin_client.get("/admin/audit").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td>.*?</tr>", audit_page.split("<tbody>")[1], re.S).group(0)
    assert "Ada Admin" in row
    assert "Sam Subject" in row
    assert "Changed a site role" in row and "user.role_changed" not in row
    assert "from: learner" in row
    assert "to: facilitator" in row


def test_setting_the_same_role_writes_no_audit_entry(admin_client, make_user):
    subject = make_user(role="educator", name="Ed Same")
    change_role(admin_client, subject.id, "educator")
    assert audit_count() == 0
    assert "Ed Same already was educator." in admin_client.get("/admin/users").get_data(
        as_text=True
    )


def test_role_change_keeps_the_search_and_page(admin_client, make_user):
    subject = make_user()
    response = change_role(admin_client, subject.id, "educator", next="/admin/users?q=per&page=1")
    assert response.headers["Location"] == "/admin/users?q=per&page=1"


def test_role_change_ignores_a_next_outside_the_user_list(admin_client, make_user):
    subject = make_user()
    response = change_role(admin_client, subject.id, "educator", next="https://evil.example/")
    assert response.headers["Location"] == "/admin/users"


def test_an_admin_cannot_demote_themselves(admin_client):
    admin = admin_client.admin
    change_role(admin_client, admin.id, "learner")
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "You may not change this role." in page
    db.session.refresh(admin)
    assert admin.role == "admin"
    assert audit_count() == 0


def test_an_invalid_role_value_is_refused(admin_client, make_user):
    subject = make_user()
    change_role(admin_client, subject.id, "overlord")
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Choose one of the listed roles." in page
    db.session.refresh(subject)
    assert subject.role == "learner"
    assert audit_count() == 0


def test_role_change_for_an_unknown_person_is_404(admin_client):
    response = change_role(admin_client, 99999, "educator")
    assert response.status_code == 404
    assert audit_count() == 0


def test_role_change_without_csrf_token_is_refused(admin_client, make_user):
    subject = make_user()
    response = admin_client.post(f"/admin/users/{subject.id}/role", data={"role": "admin"})
    assert response.status_code == 400
    db.session.refresh(subject)
    assert subject.role == "learner"
    assert audit_count() == 0


@pytest.mark.parametrize("role", ["learner", "facilitator", "educator"])
def test_non_admins_cannot_change_roles(client, make_user, role):
    actor = make_user(role=role)
    subject = make_user()
    login(client, actor)
    response = client.post(
        f"/admin/users/{subject.id}/role",
        data={"role": "admin", "csrf_token": csrf_token(client, "/")},
    )
    assert response.status_code == 403
    db.session.refresh(subject)
    db.session.refresh(actor)
    assert subject.role == "learner"
    assert actor.role == role
    assert audit_count() == 0


def test_search_by_name_and_email(admin_client, make_user):
    make_user(name="Beatrice Nilsson", email="bea@hospital.example")
    make_user(name="Carl Olsen", email="carl@clinic.example")

    by_name = admin_client.get("/admin/users?q=beaTRICE").get_data(as_text=True)
    assert "Beatrice Nilsson" in by_name
    assert "Carl Olsen" not in by_name
    assert "1 person matching" in by_name

    by_email = admin_client.get("/admin/users?q=clinic.example").get_data(as_text=True)
    assert "Carl Olsen" in by_email
    assert "Beatrice Nilsson" not in by_email

    nothing = admin_client.get("/admin/users?q=zzz-nobody").get_data(as_text=True)
    assert "Nobody matches." in nothing


def test_search_treats_wildcards_literally(admin_client, make_user):
    make_user(name="Plain Name")
    make_user(name="100% Sure")
    page = admin_client.get("/admin/users?q=%25").get_data(as_text=True)
    assert "<td>100% Sure</td>" in page
    assert "Plain Name" not in page
    assert "<td>Ada Admin</td>" not in page


def test_user_list_is_paginated(admin_client, make_user):
    for number in range(30):
        make_user(name=f"Paged Person {number:02d}")
    first = admin_client.get("/admin/users").get_data(as_text=True)
    second = admin_client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in second
    assert 'rel="next" href="/admin/users?page=2' in first
    names_first = set(re.findall(r"Paged Person \d\d", first))
    names_second = set(re.findall(r"Paged Person \d\d", second))
    assert names_second
    assert not names_first & names_second
    assert len(names_first) + len(names_second) == 30
    assert len(re.findall(r"<tr>\s*<td>", first)) == 25


def test_search_results_are_paginated_with_the_query(admin_client, make_user):
    for number in range(27):
        make_user(name=f"Needle {number:02d}")
    make_user(name="Haystack")
    page = admin_client.get("/admin/users?q=needle").get_data(as_text=True)
    assert "27 people" in page
    assert re.search(r'rel="next" href="/admin/users\?(?=[^"]*q=needle)(?=[^"]*page=2)', page)
    second = admin_client.get("/admin/users?q=needle&page=2").get_data(as_text=True)
    assert "Haystack" not in second
    assert re.findall(r"<td>(Needle \d\d)</td>", second) == ["Needle 25", "Needle 26"]


def test_a_bad_page_number_shows_the_first_page(admin_client, make_user):
    make_user(name="Only Person")
    page = admin_client.get("/admin/users?page=abc").get_data(as_text=True)
    assert "Only Person" in page


def test_audit_log_with_no_entries(admin_client):
    assert "Nothing has been recorded yet." in admin_client.get("/admin/audit").get_data(
        as_text=True
    )


def test_user_count_unchanged_by_admin_pages(admin_client):
    before = db.session.scalar(select(func.count()).select_from(User))
    for path in ADMIN_PAGES:
        admin_client.get(path)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def _deleted_account(make_user, name="Gone Person"):
    from coprod_study.account import personal_data
    from tests.factories import DEFAULT_PASSWORD

    person = make_user(name=name)
    personal_data.delete_account(person, DEFAULT_PASSWORD)
    db.session.refresh(person)
    return person


def test_a_deleted_account_keeps_no_role_to_change(admin_client, make_user):
    from coprod_study import policy
    from coprod_study.account import service as accounts
    from coprod_study.errors import DomainError

    gone = _deleted_account(make_user)
    assert not policy.can_change_role(admin_client.admin, gone, "admin")
    with pytest.raises(DomainError):
        accounts.set_role(admin_client.admin, gone, "admin")
    with pytest.raises(DomainError):
        accounts.set_role(None, gone, "admin")  # the shell is refused too
    before = audit_count()
    response = change_role(admin_client, gone.id, "admin")
    assert response.status_code == 302
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "deleted account" in page
    db.session.refresh(gone)
    assert gone.role == "learner"
    assert audit_count() == before


def test_the_user_list_leaves_deleted_accounts_out_of_the_role_table(admin_client, make_user):
    make_user(name="Still Here")
    gone = _deleted_account(make_user)
    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "Still Here" in page
    assert f'id="role-{gone.id}"' not in page
    assert gone.email not in page
    assert "2 people." in page  # the admin and Still Here
    assert "1 deleted account is not listed" in page
