"""What a fresh-eyes review of texts and imports found, each pinned by a test: quiet hours hold a
text about something already past, and a retry, as they hold the first try; a batch that outlived
its lease does not send a row another sender took; erasing one account leaves the texts of whoever
holds a number now; a verification code is not kept once sent; a coordinator imports posts only
for residents and imported members; an imported member who has not chosen a password is reached
at their own address, and nobody answers for them."""
import dataclasses
from datetime import datetime, time, timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models import OutboxText, PhoneCode, User
from app.services import csv_import, erasure, outbox, texts
from app.services.disclosure import answers_for_others, notice_recipient
from app.services.outbox import Outgoing
from app.services.texts import TEXT, queue_text
from app.timeutil import local_to_utc, utcnow
from tests.services.test_csv_import import _problems, coord, posts_file  # noqa: F401


def _local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return local_to_utc(datetime.now().date() + timedelta(days=day_offset), time(hour, minute))


def test_a_text_about_something_already_past_waits_for_the_morning(app):
    night, morning = _local(1, 22, 30), _local(2, 8)
    assert texts.due_at(night, happens_at=_local(1, 20)) == morning  # "did it happen?" after an evening ride
    assert texts.due_at(night, happens_at=_local(1, 23)) == night  # a ride tonight still goes now


def test_a_retry_waits_out_quiet_hours_unless_the_help_comes_first(app):
    night, morning = _local(1, 23), _local(2, 8)
    plain = Outgoing(1, 1, {"happens_at": None})
    tonight = Outgoing(2, 1, {"happens_at": _local(1, 23, 45)})
    assert TEXT.retry_at(plain, night) == morning
    assert TEXT.retry_at(tonight, night) == night
    assert TEXT.retry_at(plain, _local(2, 12)) == _local(2, 12)


def _member(make_user, n: int):
    user = make_user(name=f"Texter {n}", email=f"texter{n}@example.org")
    user.mobile, user.mobile_verified_at = f"+1651555{n:04d}", utcnow()
    db.session.commit()
    return user


def test_a_row_another_sender_took_after_the_lease_is_not_sent_again(app, texts, make_user):
    first, second = _member(make_user, 1), _member(make_user, 2)
    queue_text(first, "One", quiet=False)
    queue_text(second, "Two", quiet=False)
    db.session.commit()
    ids = [r.id for r in db.session.scalars(select(OutboxText).order_by(OutboxText.id))]

    def slow_send(conn, row):
        if row.id == ids[0]:  # while the first goes out, the lease runs out and another sender claims the second
            db.session.execute(update(OutboxText).where(OutboxText.id == ids[1]).values(claim_token="someone-else"))
            db.session.commit()
        return TEXT.send(conn, row)

    assert outbox.send_pending(dataclasses.replace(TEXT, send=slow_send)) == (1, 0)
    assert [m["body"] for m in texts.messages] == ["One"]
    db.session.expire_all()
    taken = db.session.get(OutboxText, ids[1])
    assert (taken.status, taken.claim_token) == ("sending", "someone-else")


def test_erasing_one_account_leaves_the_texts_of_whoever_holds_the_number_now(app, make_user):
    old, new = make_user(name="Old Owner", email="old@example.org"), _member(make_user, 7)
    db.session.add(PhoneCode(user_id=old.id, number=new.mobile, code_hash="x", expires_at=utcnow()))
    db.session.add(OutboxText(user_id=None, to_number=new.mobile, body="code 123456", kind="phone_code"))
    db.session.commit()
    queue_text(new, "Your ride is confirmed.", quiet=False)
    db.session.commit()
    erasure.delete_account(old, old, password="correct horse battery")
    left = [(r.user_id, r.body) for r in db.session.scalars(select(OutboxText))]
    assert left == [(new.id, "Your ride is confirmed.")]


def test_a_verification_code_is_not_kept_once_sent(app, texts):
    queue_text(None, "Mutual Aid Exchange code: 123456.", kind="phone_code", to_number="+16515550100", quiet=False)
    db.session.commit()
    from app.services.texts import send_pending

    assert send_pending() == (1, 0)
    [row] = db.session.scalars(select(OutboxText)).all()
    db.session.refresh(row)
    assert row.status == "sent" and "123456" not in row.body
    assert texts.messages[-1]["body"] == "Mutual Aid Exchange code: 123456."


def test_posts_are_imported_only_for_residents_and_imported_members(coord, make_user):  # noqa: F811
    make_user(name="Plain Member", email="plain@example.org")
    make_user("resident", name="Rae Resident", email="rae@example.org")
    make_user("admin", name="Ada Admin", email="admin@example.org")
    job = csv_import.preview(coord, None, posts_file(["offer,food,Soup,,54016,1,plain@example.org,,,",
                                                      "offer,food,Soup,,54016,2,rae@example.org,,,",
                                                      "offer,food,Soup,,54016,3,admin@example.org,,,"]))
    assert _problems(job) == [("posts", 2, "owner email"), ("posts", 4, "owner email")]
    assert job.good_rows == 1


def test_an_imported_member_without_a_password_is_reached_directly_and_nobody_answers_for_them(coord, make_user):  # noqa: F811
    imported = User(name="Ida Imported", email="ida@example.org", role="member", created_by_id=coord.id,
                    email_confirmed_at=utcnow())
    resident = User(name="Rae Resident", role="resident", created_by_id=coord.id, email_confirmed_at=utcnow())
    db.session.add_all([imported, resident])
    db.session.commit()
    assert not imported.can_log_in and not imported.acted_for and resident.acted_for
    assert not answers_for_others(coord, imported) and answers_for_others(coord, resident)
    from app.models import Post

    post = Post(owner_id=imported.id, created_by_id=coord.id, kind="need", category="food", title="x")
    assert notice_recipient(post) == (imported, imported)
