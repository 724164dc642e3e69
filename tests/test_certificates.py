"""Certificates of participation: who may have one, the PDF read back, verifying and revoking."""

import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from coprod_study.certificates import service as certificates
from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.models import Certificate, Episode, ListeningProgress
from coprod_study.reflections import service as reflections
from tests import factories as f
from tests.conftest import login, post_form


def first_episode() -> Episode:
    return db.session.scalar(select(Episode).order_by(Episode.number))


def signed_in(app, user):
    client = app.test_client()
    login(client, user)
    return client


def do_episode(user, episode, *, answer_all=True, reflect=True) -> None:
    group = f.make_group(name=f"Study {user.id}")
    questions = episode.questions if answer_all else episode.questions[:1]
    for number, _question in enumerate(questions, start=1):
        f.make_answer(group, user, group_service.get_question(group, episode, number))
    db.session.add(ListeningProgress(user_id=user.id, episode_id=episode.id, listened=True))
    db.session.commit()
    if reflect:
        reflections.save_reflection(user, episode, {"learned": "Much", "will_try": "", "for_whom": ""})


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_only_listened_answered_and_reflected_episodes_qualify(app, sample_catalog):
    episode = first_episode()
    nearly = f.make_user()
    do_episode(nearly, episode, answer_all=False)
    assert certificates.eligible_episodes(nearly) == []
    no_reflection = f.make_user()
    do_episode(no_reflection, episode, reflect=False)
    assert certificates.eligible_episodes(no_reflection) == []
    client = signed_in(app, no_reflection)
    response = post_form(client, "/certificates/new", {"episode": episode.slug},
                         token_from="/certificates")
    assert response.status_code == 302
    assert "write your reflection first" in client.get("/certificates").get_data(as_text=True)
    assert db.session.scalar(select(Certificate)) is None
    done = f.make_user()
    do_episode(done, episode)
    assert certificates.eligible_episodes(done) == [episode]


def test_the_pdf_says_who_what_when_and_how_to_check_it(app, sample_catalog):
    episode = first_episode()
    learner = f.make_user(name="Åsa Öberg")
    do_episode(learner, episode)
    client = signed_in(app, learner)
    assert episode.slug in client.get("/certificates").get_data(as_text=True)
    response = post_form(client, "/certificates/new", {"episode": episode.slug},
                         token_from="/certificates")
    assert response.status_code == 302
    certificate = db.session.scalar(select(Certificate))
    # Asking again gives the same certificate, not a second one.
    post_form(client, "/certificates/new", {"episode": episode.slug}, token_from="/certificates")
    assert len(db.session.scalars(select(Certificate)).all()) == 1

    download = client.get(f"/certificates/{certificate.id}.pdf")
    assert download.status_code == 200 and download.content_type == "application/pdf"
    text = pdf_text(download.data)
    code = certificates.code_of(certificate)
    assert "Åsa Öberg" in text
    assert "Certificate of participation" in text
    assert app.config["SITE_NAME"] in text
    assert f"Episode {episode.number}: {episode.title}"[:60] in text
    minutes = episode.duration_seconds // 60
    assert f"Total audio time: {minutes}:" in text or f"Total audio time: 0:{minutes:02d}" in text
    assert code in text.replace("\n", "")
    assert f"/verify/{code}" in text.replace("\n", "")
    assert learner.email not in text

    # Someone else, admin or not, gets nothing.
    for other in (f.make_user(), f.make_user(role="admin")):
        assert signed_in(app, other).get(f"/certificates/{certificate.id}.pdf").status_code == 404


def test_verify_says_genuine_revoked_or_unknown_and_shows_no_more_than_name_and_episodes(
    app, sample_catalog
):
    episode = first_episode()
    learner = f.make_user(name="Verified Person", email="private@example.org")
    do_episode(learner, episode)
    certificate = certificates.issue(learner, episode=episode)
    code = certificates.code_of(certificate)
    visitor = app.test_client()
    page = visitor.get(f"/verify/{code}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Genuine." in body
    assert "Verified Person" in body and episode.title in body
    assert "private@example.org" not in body and "Much" not in body

    public_id, _, signature = code.partition(".")
    forged = visitor.get(f"/verify/{public_id}.{signature[::-1]}")
    assert forged.status_code == 404 and "Unknown." in forged.get_data(as_text=True)
    assert "Verified Person" not in forged.get_data(as_text=True)
    assert visitor.get("/verify/nothing").status_code == 404

    client = signed_in(app, learner)
    assert post_form(client, f"/certificates/{certificate.id}/revoke",
                     token_from="/certificates").status_code == 302
    revoked = visitor.get(f"/verify/{code}").get_data(as_text=True)
    assert "Revoked." in revoked and "Genuine." not in revoked
    assert client.get(f"/certificates/{certificate.id}.pdf").status_code == 404
    # Only the holder revokes.
    other = signed_in(app, f.make_user(role="admin"))
    assert post_form(other, f"/certificates/{certificate.id}/revoke",
                     token_from="/certificates").status_code == 404


def test_a_course_certificate_needs_every_assignment(app, sample_catalog):
    episodes = db.session.scalars(select(Episode).order_by(Episode.number)).all()[:2]
    course = f.make_course(title="Course for credit", code="CREDIT")
    learner = f.enrol(course, f.make_user())
    for episode in episodes:
        f.make_assignment(course, episode)
    do_episode(learner, episodes[0])
    assert certificates.eligible_courses(learner) == []
    do_episode(learner, episodes[1])
    assert certificates.eligible_courses(learner) == [course]
    client = signed_in(app, learner)
    post_form(client, "/certificates/new", {"course": "credit"}, token_from="/certificates")
    certificate = db.session.scalar(select(Certificate).where(Certificate.course_id == course.id))
    assert certificate.audio_seconds == sum(e.duration_seconds or 0 for e in episodes)
    text = pdf_text(client.get(f"/certificates/{certificate.id}.pdf").data)
    assert "Course for credit" in text
    for episode in episodes:
        assert re.search(rf"Episode {episode.number}:", text)
