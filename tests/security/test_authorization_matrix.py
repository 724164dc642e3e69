"""Every URL rule x every role -> the expected answer, generated from app.url_map.

A row is one cell per role, in the order of ROLES below. A cell is
  <status>   the HTTP status, or L for a redirect to the sign-in page
  S          the group's private text (world.SECRET) is in the body
  C          the course's private text (world.COURSE_SECRET) is in the body
  N          the name of the author of the group's anonymous posts is in the body
  +          the request wrote to the database (write methods only)
A cell without S or C asserts that the text is NOT in the body; a write cell
without + asserts that no row of any table changed.

A route that is new, or a new method on a route, has no row and fails the
test: add its row to EXPECTED (the failure message prints what it answered).
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from coprod_study.extensions import db
from tests.api_support import bearer
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.security.conftest import differences, snapshot, url_rules
from tests.security.world import ANONYMOUS_NAME, COURSE_SECRET, ROLES, SECRET

READ = frozenset({"GET"})
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
DENIALS = {"L", "401", "403", "404"}
# Tables a GET may write to: how far each person has read each thread.
READ_MARKERS = {"thread_reads"}
# A small page that carries the session's CSRF token.
LIGHT_PAGE = "/contact/sent"

# Roles, in this order: visitor, learner (not a member), pending member, member,
# removed member, banned member, someone who joined and left, facilitator of another
# group, facilitator, educator of another course, an educator taken off the course,
# educator, co-educator (added once the course group existed: no membership row in
# it), admin. The course group holds an answer with the secret. The group has
# "request to join" and allows anonymous posts (an answer, a reply and a thread post
# whose author's name must reach only the facilitators and admins: N); the member is
# also a learner of the course; the course lets learners choose their group.
# The calendar feeds and the invite, reset and unsubscribe links are capabilities:
# whoever holds the token in the URL gets the same answer.
EXPECTED: dict[tuple[str, str], str] = {
    #                                                 visit learn pend  memb  remov bann  left  ofac  facil oedu  fedu  educ  coedu admin
    # --- catalog ---------------------------------------------------------------
    ("catalog.dimensions", "GET"):                   "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.episode", "GET"):                      "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.episode_chapters", "GET"):             "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.episodes", "GET"):                     "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.favicon", "GET"):                      "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.healthz", "GET"):                      "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.index", "GET"):                        "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.mark_listened", "POST"):               "L     302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+",
    ("catalog.moment", "GET"):                       "L     200   200   200S  200   200   200   200   200S  200   200   200   200   200",
    ("catalog.podcast_feed", "GET"):                 "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.set_language", "POST"):                "302   302   302   302   302   302   302   302   302   302   302   302   302   302",
    ("catalog.transcript", "GET"):                   "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.transcript_vtt", "GET"):               "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.episode_card", "GET"):                 "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.robots", "GET"):                       "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.site_card", "GET"):                    "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("catalog.sitemap", "GET"):                      "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    # Metrics answer to METRICS_TOKEN alone (tests/test_ops.py), never to a session: unset here.
    ("ops.metrics", "GET"):                          "404   404   404   404   404   404   404   404   404   404   404   404   404   404",
    # --- auth ------------------------------------------------------------------
    ("auth.change_password", "GET"):                 "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("auth.change_password", "POST"):                "L     400   400   400   400   400   400   400   400   400   400   400   400   400",
    ("auth.login", "GET"):                           "200   302   302   302   302   302   302   302   302   302   302   302   302   302",
    ("auth.login", "POST"):                          "400   302   302   302   302   302   302   302   302   302   302   302   302   302",
    ("auth.logout", "POST"):                         "302   302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+",
    ("auth.register", "GET"):                        "200   302   302   302   302   302   302   302   302   302   302   302   302   302",
    ("auth.register", "POST"):                       "302+  302   302   302   302   302   302   302   302   302   302   302   302   302",
    ("auth.reset_request", "GET"):                   "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("auth.reset_request", "POST"):                  "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("auth.reset_with_token", "GET"):                "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("auth.reset_with_token", "POST"):               "400   400   400   400   400   400   400   400   400   400   400   400   400   400",
    # --- account ---------------------------------------------------------------
    ("account.delete", "GET"):                       "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    # The educator is the course group's only facilitator, and it has a learner: refused.
    ("account.delete", "POST"):                      "L     302+  302+  302+  302+  302+  302+  302+  400   302+  302+  400   302+  400",
    ("account.export", "GET"):                       "L     200   200   200S  200   200   200   200   200S  200   200   200   200   200",
    ("account.new_token", "GET"):                    "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("account.new_token", "POST"):                   "L     200+  200+  200+  200+  200+  200+  200+  200+  200+  200+  200+  200+  200+",
    ("account.profile", "GET"):                      "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("account.profile", "POST"):                     "L     302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+",
    ("account.revoke_token", "POST"):                "L     404   404   302+  404   404   404   404   404   404   404   404   404   404",
    # --- inquiries -------------------------------------------------------------
    ("inquiries.contact", "GET"):                    "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("inquiries.contact", "POST"):                   "400   400   400   400   400   400   400   400   400   400   400   400   400   400",
    ("inquiries.sent", "GET"):                       "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    # --- search ----------------------------------------------------------------
    # S for educators: the course group's answer holds the secret too.
    ("search.index", "GET"):                         "200   200   200   200S  200   200   200   200   200SN 200   200   200S  200S  200SN",
    # --- notifications ---------------------------------------------------------
    ("notifications.index", "GET"):                  "L     200   200   200S  200   200   200   200   200S  200   200   200   200   200",
    # The two educators added to the course have its notice unread.
    ("notifications.read_all", "POST"):              "L     302   302   302+  302   302   302   302   302+  302   302+  302   302+  302",
    ("notifications.read_one", "POST"):              "L     404   404   302+  404   404   404   404   404   404   404   404   404   404",
    ("notifications.unsubscribe", "GET"):            "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("notifications.unsubscribe", "POST"):           "200+  200   200   200   200   200   200   200   200   200   200   200   200   200",
    # --- groups ----------------------------------------------------------------
    ("groups.add_question", "POST"):                 "L     403   403   403   403   403   403   403   302+  403   403   403   403   302+",
    ("groups.answer_history", "GET"):                "L     403   403   403   403   403   403   403   200S  403   403   403   403   200S",
    ("groups.answer_link", "GET"):                   "403   403   403   302   403   403   403   403   302   403   403   403   403   302",
    ("groups.delete_answer", "POST"):                "L     403   403   302+  403   403   403   403   302   403   403   403   403   302",
    ("groups.delete_reply", "POST"):                 "L     403   403   302+  403   403   403   403   302   403   403   403   403   302",
    ("groups.edit_answer", "GET"):                   "L     403   403   200   403   403   403   403   403   403   403   403   403   403",
    ("groups.edit_answer", "POST"):                  "L     403   403   302+  403   403   403   403   403   403   403   403   403   403",
    ("groups.edit_question", "GET"):                 "L     403   403   403   403   403   403   403   200   403   403   403   403   200",
    ("groups.edit_question", "POST"):                "L     403   403   403   403   403   403   403   302+  403   403   403   403   302",
    ("groups.edit_reply", "GET"):                    "L     403   403   200S  403   403   403   403   403   403   403   403   403   403",
    ("groups.edit_reply", "POST"):                   "L     403   403   302+  403   403   403   403   403   403   403   403   403   403",
    ("groups.endorse_answer", "POST"):               "L     403   403   403   403   403   403   403   302+  403   403   403   403   302+",
    ("groups.episode", "GET"):                       "403   403   403   200   403   403   403   403   200   403   403   403   403   200",
    ("groups.index", "GET"):                         "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    # The banned cannot join again (403), whatever the door.
    ("groups.join", "POST"):                         "L     302+  409   409   302+  403   302+  302+  409   302+  302+  302+  302+  302+",
    ("groups.join_by_invite", "GET"):                "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("groups.join_by_invite", "POST"):               "L     302+  302   302   302+  302   302+  302+  302   302+  302+  302+  302+  302+",
    # Removed and banned have no membership to leave: leaving would lift a ban.
    ("groups.leave", "POST"):                        "L     302   302+  302+  302   302   302   302   302   302   302   302   302   302",
    ("groups.member_action", "POST"):                "L     403   403   403   403   403   403   403   302+  403   403   403   403   302",
    # N on member lists: the anonymous posts' author is listed as a member, as everyone is.
    ("groups.members", "GET"):                       "403   403   403   200N  403   403   403   403   200N  403   403   403   403   200N",
    ("groups.move_question", "POST"):                "L     403   403   403   403   403   403   403   302   403   403   403   403   302",
    ("groups.new", "GET"):                           "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("groups.new", "POST"):                          "L     302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+",
    ("groups.question", "GET"):                      "403   403   403   200S  403   403   403   403   200SN 403   403   403   403   200SN",
    ("groups.question", "POST"):                     "403   403   403   409S  403   403   403   403   302+  403   403   403   403   403SN",
    ("groups.reply", "POST"):                        "L     403   403   302+  403   403   403   403   302+  403   403   403   403   403",
    ("groups.reply_history", "GET"):                 "L     403   403   200S  403   403   403   403   200S  403   403   403   403   200S",
    ("groups.reset_invite", "POST"):                 "L     403   403   403   403   403   403   403   302+  403   403   403   403   302+",
    ("groups.reveal", "POST"):                       "L     403   403   403   403   403   403   403   302+  403   403   403   403   302",
    ("groups.settings", "GET"):                      "L     403   403   403   403   403   403   403   200   403   403   403   403   200",
    ("groups.settings", "POST"):                     "L     403   403   403   403   403   403   403   302+  403   403   403   403   302",
    ("groups.show", "GET"):                          "200   200   200   200S  200   200   200   200   200S  200   200   200   200   200S",
    # --- discussion ------------------------------------------------------------
    ("discussion.change", "POST"):                   "L     403   403   403   403   403   403   403   302+  403   403   403   403   302",
    ("discussion.delete_post", "POST"):              "L     403   403   302+  403   403   403   403   302   403   403   403   403   302",
    ("discussion.edit_post", "GET"):                 "L     403   403   200   403   403   403   403   403   403   403   403   403   403",
    ("discussion.edit_post", "POST"):                "L     403   403   302+  403   403   403   403   403   403   403   403   403   403",
    ("discussion.follow", "POST"):                   "L     403   403   302+  403   403   403   403   302+  403   403   403   403   302+",
    ("discussion.new_thread", "GET"):                "L     403   403   403   403   403   403   403   200   403   403   403   403   200",
    ("discussion.new_thread", "POST"):               "L     403   403   403   403   403   403   403   302+  403   403   403   403   302+",
    ("discussion.post_history", "GET"):              "L     403   403   403   403   403   403   403   200S  403   403   403   403   200S",
    ("discussion.thread", "GET"):                    "403   403   403   200S  403   403   403   403   200SN 403   403   403   403   200SN",
    ("discussion.thread", "POST"):                   "403   403   403   302+  403   403   403   403   302+  403   403   403   403   403SN",
    # --- moderation ------------------------------------------------------------
    ("moderation.ban", "POST"):                      "L     403   403   403   403   403   403   403   302+  403   403   403   403   302",
    ("moderation.dismiss", "POST"):                  "L     403   403   403   403   403   403   403   302+  403   403   403   403   302+",
    ("moderation.flag", "POST"):                     "L     403   403   303   403   403   403   403   302+  403   403   403   403   403",
    ("moderation.hide", "POST"):                     "L     403   403   403   403   403   403   403   302+  403   403   403   403   302+",
    ("moderation.queue", "GET"):                     "L     403   403   403   403   403   403   403   200S  403   403   403   403   200S",
    ("moderation.restore", "POST"):                  "L     403   403   403   403   403   403   403   302   403   403   403   403   302",
    # --- courses ---------------------------------------------------------------
    ("courses.add_educator", "POST"):                "L     404   404   403   404   404   404   404   404   404   404   302+  409   409",
    ("courses.add_learners", "POST"):                "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.choose_group", "POST"):                "L     404   404   302+  404   404   404   404   404   404   404   403   403   403",
    ("courses.course_calendar", "GET"):              "200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C",
    ("courses.create_group", "POST"):                "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.edit_assignment", "GET"):              "L     404   404   403   404   404   404   404   404   404   404   200C  200C  200C",
    ("courses.edit_assignment", "POST"):             "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.enrol", "POST"):                       "L     302+  302+  302   302+  302+  302+  302+  302+  302+  302+  302   302   302+",
    ("courses.extensions", "GET"):                   "L     404   404   403   404   404   404   404   404   404   404   200   200   200",
    ("courses.extensions", "POST"):                  "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.index", "GET"):                        "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("courses.invite", "GET"):                       "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    # The invite is used once: the learner takes it first.
    ("courses.invite", "POST"):                      "400   302+  404   404   404   404   404   404   404   404   404   404   404   404",
    ("courses.leave", "GET"):                        "L     404   404   200   404   404   404   404   404   404   404   403   403   403",
    ("courses.leave", "POST"):                       "L     404   404   302+  404   404   404   404   404   404   404   403   403   403",
    ("courses.new", "GET"):                          "L     403   403   403   403   403   403   403   403   200   200   200   200   200",
    ("courses.new", "POST"):                         "L     403   403   403   403   403   403   403   403   302+  409   409   409   409",
    ("courses.new_assignment", "GET"):               "L     404   404   403   404   404   404   404   404   404   404   200   200   200",
    ("courses.new_assignment", "POST"):              "L     404   404   403   404   404   404   404   404   404   404   302+  409   409",
    ("courses.new_calendar_link", "POST"):           "L     200+  200+  200+  200+  200+  200+  200+  200+  200+  200+  200+  200+  200+",
    ("courses.personal_calendar", "GET"):            "200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C  200C",
    ("courses.place", "POST"):                       "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.placement", "POST"):                   "L     404   404   403   404   404   404   404   404   404   404   302   302   302",
    ("courses.progress", "GET"):                     "L     404   404   403   404   404   404   404   404   404   404   200   200   200",
    ("courses.progress_csv", "GET"):                 "L     404   404   403   404   404   404   404   404   404   404   200   200   200",
    ("courses.remove_extension", "POST"):            "L     404   404   403   404   404   404   404   404   404   404   302+  404   404",
    ("courses.remove_learner", "GET"):               "L     404   404   403   404   404   404   404   404   404   404   200   200   200",
    # The educator has removed the learner by the time the admin asks.
    ("courses.remove_learner", "POST"):              "L     404   404   403   404   404   404   404   404   404   404   302+  404   404",
    ("courses.reset_enrol_code", "POST"):            "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.revoke_calendar_link", "POST"):        "L     404   404   302+  404   404   404   404   404   404   404   404   404   404",
    ("courses.settings", "GET"):                     "L     404   404   403   404   404   404   404   404   404   404   200   200   200",
    ("courses.settings", "POST"):                    "L     404   404   403   404   404   404   404   404   404   404   302+  302   302",
    ("courses.show", "GET"):                         "L     404   404   200C  404   404   404   404   404   404   404   200   200   200",
    # --- learning: checkpoints, contributions, reflections, certificates, follow-ups
    ("courses.checkpoints", "GET"):                  "L     404   404   403   404   404   404   404   404   404   404   200   200   200",
    ("courses.checkpoints", "POST"):                 "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.checkpoint_extension", "POST"):        "L     404   404   403   404   404   404   404   404   404   404   302+  302+  302+",
    ("courses.remove_checkpoint_extension", "POST"): "L     404   404   403   404   404   404   404   404   404   404   302+  404   404",
    ("courses.contributions", "GET"):                "L     404   404   200   404   404   404   404   404   404   404   200   200   200",
    ("courses.contributions_csv", "GET"):            "L     404   404   200   404   404   404   404   404   404   404   200   200   200",
    ("reflections.index", "GET"):                    "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("reflections.new", "GET"):                      "L     200   200   302   200   200   200   200   200   200   200   200   200   200",
    # 409: not marked listened; the member has written theirs and is sent to it.
    ("reflections.new", "POST"):                     "L     409   409   302   409   409   409   409   409   409   409   409   409   409",
    # Private to its author: not even an admin reads another person's reflection.
    ("reflections.show", "GET"):                     "L     404   404   200S  404   404   404   404   404   404   404   404   404   404",
    ("reflections.show", "POST"):                    "L     404   404   302+  404   404   404   404   404   404   404   404   404   404",
    ("reflections.delete", "POST"):                  "L     404   404   302+  404   404   404   404   404   404   404   404   404   404",
    ("certificates.index", "GET"):                   "L     200   200   200   200   200   200   200   200   200   200   200   200   200",
    # Nobody here has done an episode whole: each is told so on the page, nothing is issued.
    ("certificates.new", "POST"):                    "L     302   302   302   302   302   302   302   302   302   302   302   302   302",
    ("certificates.download", "GET"):                "L     404   404   200   404   404   404   404   404   404   404   404   404   404",
    ("certificates.revoke", "POST"):                 "L     404   404   302+  404   404   404   404   404   404   404   404   404   404",
    ("certificates.verify", "GET"):                  "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("followups.setting", "POST"):                   "L     302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+  302+",
    # The member's link: whoever holds it turns the member's follow-ups off (once).
    ("followups.unsubscribe", "GET"):                "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("followups.unsubscribe", "POST"):               "200+  200   200   200   200   200   200   200   200   200   200   200   200   200",
    # --- admin -----------------------------------------------------------------
    ("admin.add_item", "POST"):                      "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.audit_log", "GET"):                      "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.change_role", "POST"):                   "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.delete_episode", "POST"):                "L     403   403   403   403   403   403   403   403   403   403   403   403   302",
    ("admin.delete_item", "POST"):                   "L     403   403   403   403   403   403   403   403   403   403   403   403   302",
    ("admin.delete_transcript", "POST"):             "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.edit_episode", "GET"):                   "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.edit_episode", "POST"):                  "L     403   403   403   403   403   403   403   403   403   403   403   403   400",
    ("admin.episodes", "GET"):                       "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.feed_import", "GET"):                    "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.feed_import", "POST"):                   "L     403   403   403   403   403   403   403   403   403   403   403   403   400",
    ("admin.index", "GET"):                          "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.inquiry", "GET"):                        "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.inquiry_list", "GET"):                   "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.inquiry_status", "POST"):                "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.move_item", "POST"):                     "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.new_episode", "GET"):                    "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.new_episode", "POST"):                   "L     403   403   403   403   403   403   403   403   403   403   403   403   400",
    ("admin.reply_inquiry", "POST"):                 "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.save_item", "POST"):                     "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.upload_transcript", "POST"):             "L     403   403   403   403   403   403   403   403   403   403   403   403   400",
    # N: every account is listed to admins.
    ("admin.users", "GET"):                          "L     403   403   403   403   403   403   403   403   403   403   403   403   200N",
    ("admin.outbox_list", "GET"):                    "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.retry_message", "POST"):                 "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.lti_platforms", "GET"):                  "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.lti_new_platform", "GET"):               "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.lti_new_platform", "POST"):              "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.lti_edit_platform", "GET"):              "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.lti_edit_platform", "POST"):             "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.lti_setup", "GET"):                      "L     403   403   403   403   403   403   403   403   403   403   403   403   200",
    ("admin.lti_delete_platform", "POST"):           "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    ("admin.lti_rotate_key", "POST"):                "L     403   403   403   403   403   403   403   403   403   403   403   403   302+",
    # --- api -------------------------------------------------------------------
    ("api.answer", "GET"):                           "401   403   403   200S  403   403   403   403   200S  403   403   403   403   200S",
    ("api.answer_revisions", "GET"):                 "401   403   403   403   403   403   403   403   200   403   403   403   403   200",
    ("api.assignments", "GET"):                      "401   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.course_progress", "GET"):                  "401   404   404   403   404   404   404   404   404   404   404   200   200   200",
    ("api.courses", "GET"):                          "401   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.dimensions", "GET"):                       "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.edit_answer", "PATCH"):                    "401   403   403   200+  403   403   403   403   403   403   403   403   403   403",
    ("api.edit_post", "PATCH"):                      "401   403   403   200+  403   403   403   403   403   403   403   403   403   403",
    ("api.edit_reply", "PATCH"):                     "401   403   403   200+  403   403   403   403   403   403   403   403   403   403",
    ("api.episode", "GET"):                          "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.episodes", "GET"):                         "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.group", "GET"):                            "401   200   200   200   200   200   200   200   200   200   200   200   200   200",
    # N: the member list, as on the page.
    ("api.group_members", "GET"):                    "401   403   403   200N  403   403   403   403   200N  403   403   403   403   200N",
    ("api.group_questions", "GET"):                  "401   403   403   200   403   403   403   403   200   403   403   403   403   200",
    ("api.me", "GET"):                               "401   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.my_groups", "GET"):                        "401   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.notifications", "GET"):                    "401   200   200   200S  200   200   200   200   200S  200   200   200   200   200",
    ("api.openapi", "GET"):                          "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("api.post", "GET"):                             "401   403   403   200S  403   403   403   403   200S  403   403   403   403   200S",
    ("api.post_answer", "POST"):                     "401   403   403   409   403   403   403   403   201+  403   403   403   403   403",
    ("api.post_in_thread", "POST"):                  "401   403   403   201+  403   403   403   403   201+  403   403   403   403   403",
    ("api.post_reply", "POST"):                      "401   403   403   201+  403   403   403   403   201+  403   403   403   403   403",
    ("api.question_answers", "GET"):                 "401   403   403   200S  403   403   403   403   200SN 403   403   403   403   200SN",
    # The two educators added to the course have its notice unread.
    ("api.read_all_notifications", "POST"):          "401   200   200   200+  200   200   200   200   200+  200   200+  200   200+  200",
    ("api.read_notification", "POST"):               "401   404   404   200S+ 404   404   404   404   404   404   404   404   404   404",
    ("api.replies", "GET"):                          "401   403   403   200S  403   403   403   403   200SN 403   403   403   403   200SN",
    ("api.reply", "GET"):                            "401   403   403   200S  403   403   403   403   200S  403   403   403   403   200S",
    ("api.thread", "GET"):                           "401   403   403   200S  403   403   403   403   200S  403   403   403   403   200S",
    ("api.thread_posts", "GET"):                     "401   403   403   200S  403   403   403   403   200SN 403   403   403   403   200SN",
    ("api.threads", "GET"):                          "401   403   403   200S  403   403   403   403   200S  403   403   403   403   200S",
    # --- lti -------------------------------------------------------------------
    # The launch steps are open to anyone (the LMS's signed token is the credential);
    # without a state this browser was given, or any login parameters, they refuse.
    ("lti.jwks", "GET"):                             "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ("lti.login", "GET"):                            "400   400   400   400   400   400   400   400   400   400   400   400   400   400",
    ("lti.login", "POST"):                           "400   400   400   400   400   400   400   400   400   400   400   400   400   400",
    ("lti.launch", "POST"):                          "400   400   400   400   400   400   400   400   400   400   400   400   400   400",
    # Only after a deep-linking launch from the LMS (none in the world's sessions).
    ("lti.deep_link", "GET"):                        "L     403   403   403   403   403   403   403   403   403   403   403   403   403",
    ("lti.deep_link", "POST"):                       "L     403   403   403   403   403   403   403   403   403   403   403   403   403",
    # The world's course is not linked to an LMS course: its educators are told so.
    ("lti.course", "GET"):                           "L     404   404   404   404   404   404   404   404   404   404   200   200   200",
    ("lti.sync_roster", "POST"):                     "L     404   404   404   404   404   404   404   404   404   404   302   302   302",
    ("lti.retry_grades", "POST"):                    "L     404   404   404   404   404   404   404   404   404   404   302   302   302",
    # --- static ----------------------------------------------------------------
    ("static", "GET"):                               "200   200   200   200   200   200   200   200   200   200   200   200   200   200",
}


def _rules():
    rules = url_rules()
    found = []
    for rule in rules:
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.append((rule, method))
    return found


RULES = _rules()
READ_RULES = [(rule, method) for rule, method in RULES if method in READ]
WRITE_RULES = [(rule, method) for rule, method in RULES if method not in READ]


def _cell(response, wrote: bool | None = None) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/auth/login" in location:
        cell = "L"
    else:
        cell = str(response.status_code)
    # Binary answers (the card images) are searched for the secrets all the same.
    body = response.get_data().decode("utf-8", "replace")
    if SECRET in body:
        cell += "S"
    if COURSE_SECRET in body:
        cell += "C"
    if ANONYMOUS_NAME in body:
        cell += "N"
    if wrote:
        cell += "+"
    return cell


def _row(cells: list[str]) -> str:
    return " ".join(f"{cell:<6}" for cell in cells).rstrip()


def _expected(endpoint: str, method: str) -> list[str] | None:
    row = EXPECTED.get((endpoint, method))
    return row.split() if row else None


def test_every_route_and_method_has_a_row(capsys):
    with capsys.disabled():
        print(
            f"\nauthorization matrix: {len(RULES)} route x method pairs ({len(READ_RULES)} read, "
            f"{len(WRITE_RULES)} write) x {len(ROLES)} roles = {len(RULES) * len(ROLES)} cells"
        )
    missing = sorted(
        f"{rule.endpoint} {method} {rule.rule}"
        for rule, method in RULES
        if _expected(rule.endpoint, method) is None
    )
    assert not missing, (
        "These routes have no row in EXPECTED of tests/security/test_authorization_matrix.py; "
        "decide who may use them and add a row:\n  " + "\n  ".join(missing)
    )
    stale = sorted(
        f"{endpoint} {method}"
        for endpoint, method in EXPECTED
        if not any(rule.endpoint == endpoint and m == method for rule, m in RULES)
    )
    assert not stale, "EXPECTED has rows for routes that no longer exist: " + ", ".join(stale)


def test_the_table_is_well_formed():
    for (endpoint, method), row in EXPECTED.items():
        cells = row.split()
        assert len(cells) == len(ROLES), (endpoint, method, "needs one cell per role")
        for role, cell in zip(ROLES, cells, strict=True):
            status = cell.rstrip("SCN+")
            assert status == "L" or status.isdigit(), (endpoint, method, role, cell)
            if method in READ:
                assert "+" not in cell, (endpoint, method, role, "a read never writes")
            elif status in DENIALS:
                # Refusing and writing at once would be a contradiction in the table.
                assert "+" not in cell, (endpoint, method, role, cell)


def _send(client, world, rule, method, role, path):
    headers = {}
    if rule.endpoint.startswith("api."):
        if world.user_ids[role] is not None:
            headers.update(bearer(world.tokens[role]))
        if method == "GET":
            return client.get(path, headers=headers)
        return client.open(path, method=method, json=_api_body(rule.endpoint), headers=headers)
    if method == "GET":
        return client.get(path)
    data = dict(_form(world, rule.endpoint))
    data["csrf_token"] = csrf_token(client, LIGHT_PAGE)
    return client.open(path, method=method, data=data)


def test_read_matrix(app, world, clients):
    """Every GET route for every role: the status, private text only where allowed, and
    no write (GET is safe: a link or an image cannot change anything)."""
    problems = []
    before = snapshot()
    for rule, method in READ_RULES:
        path = world.path(rule)
        cells = [_cell(_send(clients[role], world, rule, method, role, path)) for role in ROLES]
        after = snapshot()
        # A page view may note how far someone has read a thread; it changes nothing else.
        changed = {line.split(":")[0] for line in differences(before, after)} - READ_MARKERS
        if changed:
            problems.append(f"{rule.endpoint} GET {path} wrote to {sorted(changed)}")
        before = after
        expected = _expected(rule.endpoint, method)
        if cells != expected:
            problems.append(
                f"{rule.endpoint} {method} {path}\n"
                f"    expected: {_row(expected) if expected else '(no row)'}\n"
                f"    actual:   {_row(cells)}"
            )
    assert not problems, "roles: " + " ".join(ROLES) + "\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("rule", "method"), WRITE_RULES, ids=[f"{rule.endpoint}-{method}" for rule, method in WRITE_RULES]
)
def test_write_matrix(app, world, clients, rule, method):
    """Every write route for every role (on a fresh world): the status, and no write
    at all from a role that is refused."""
    path = world.path(rule)
    expected = _expected(rule.endpoint, method)
    cells = []
    before = snapshot()
    for role in ROLES:
        response = _send(clients[role], world, rule, method, role, path)
        after = snapshot()
        wrote = before != after
        cells.append(_cell(response, wrote))
        if expected and "+" not in expected[ROLES.index(role)] and wrote:
            pytest.fail(
                f"{role} {method} {path} answered {response.status_code} and wrote: "
                + "; ".join(differences(before, after))
            )
        before = after
    expected = _expected(rule.endpoint, method)
    assert cells == expected, (
        f"{rule.endpoint} {method} {path}\n    roles:    {_row(list(ROLES))}\n"
        f"    expected: {_row(expected) if expected else '(no row)'}\n    actual:   {_row(cells)}"
    )


# --- What each write route is sent -----------------------------------------------------


def _api_body(endpoint: str) -> dict:
    return {"body": f"Written through {endpoint}."}


def _form(world, endpoint: str) -> dict:
    """Form fields that make the request valid for someone who may send it."""
    soon = datetime.now(UTC) + timedelta(days=30)

    def local(days: int) -> str:
        return (soon + timedelta(days=days)).strftime("%Y-%m-%dT10:00")

    forms = {
        "account.profile": {
            "display_name": "Renamed", "language": "en", "time_zone": "UTC",
            "email_preference": "daily",
        },
        "account.delete": {"password": DEFAULT_PASSWORD},
        "account.new_token": {"name": "script", "scope": "read", "lifetime": "90"},
        "admin.change_role": {"role": "facilitator"},
        "admin.edit_episode": {"title": ""},
        "admin.new_episode": {"title": ""},
        "admin.add_item": {"questions-new-prompt": "A new study question?"},
        "admin.save_item": {"questions-1-prompt": "A reworded study question?"},
        "admin.move_item": {"direction": "down"},
        "admin.feed_import": {},
        "admin.reply_inquiry": {"reply": "Thank you for writing."},
        "admin.inquiry_status": {"status": "closed"},
        "admin.lti_new_platform": {
            "name": "Another LMS", "issuer": "https://other-lms.example.org", "client_id": "c2",
            "deployment_ids": "d2", "auth_url": "https://other-lms.example.org/auth",
            "token_url": "https://other-lms.example.org/token",
            "jwks_url": "https://other-lms.example.org/jwks",
        },
        "admin.lti_edit_platform": {
            "name": "Renamed LMS", "issuer": "https://lms.example.org", "client_id": "matrix-tool",
            "deployment_ids": "matrix-deployment\nsecond", "auth_url": "https://lms.example.org/auth",
            "token_url": "https://lms.example.org/token", "jwks_url": "https://lms.example.org/jwks",
        },
        "auth.login": {"email": "nobody@example.org", "password": "not the password"},
        "auth.register": {
            "email": "brand.new@example.org", "display_name": "Brand New",
            "password": "a brand new passphrase", "confirm": "a brand new passphrase",
        },
        "auth.reset_request": {"email": "nobody@example.org"},
        "auth.reset_with_token": {"password": "a brand new passphrase", "confirm": "different"},
        "auth.change_password": {
            "current_password": "not the password", "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
        "catalog.set_language": {"language": "en"},
        "catalog.mark_listened": {"listened": "1"},
        "inquiries.contact": {},
        "courses.new": {
            "title": "A new course", "code": "NEW1", "time_zone": "UTC", "placement": "educator",
        },
        "courses.enrol": {"code": world.ids["enrol_code"]},
        "courses.settings": {"title": "Renamed course", "time_zone": "UTC", "placement": "choice"},
        "courses.add_learners": {"emails": "someone.new@example.org"},
        "courses.add_educator": {"email": world.ids["other_educator_email"]},
        "courses.create_group": {"name": "Another course group"},
        "courses.placement": {"placement": "choice"},
        "courses.place": {"group_id": ""},
        "courses.choose_group": {"group_id": str(world.ids["course_group"])},
        "courses.new_assignment": {"episode_id": str(world.ids["other_episode"]),
                                   "opens_at": local(0), "due_at": local(10)},
        "courses.edit_assignment": {"episode_id": str(world.ids["episode"]),
                                    "opens_at": local(0), "due_at": local(11)},
        "courses.extensions": {"user_id": str(world.user_ids["member"]), "due_at": local(60)},
        "groups.new": {"name": "A new group", "join_policy": "open"},
        "groups.join": {"message": "Let me in, please."},
        "groups.settings": {"name": "Renamed group", "join_policy": "request"},
        "groups.member_action": {"message": "Welcome."},
        "groups.question": {"body": "An answer from the matrix."},
        "groups.add_question": {"prompt": "Another extra question?"},
        "groups.edit_question": {"prompt": "A reworded extra question?"},
        "groups.move_question": {"direction": "up"},
        "groups.edit_answer": {"body": "An edited answer."},
        "groups.edit_reply": {"body": "An edited reply."},
        "groups.reply": {"body": "A reply from the matrix."},
        "groups.endorse_answer": {"endorse": "1"},
        "discussion.new_thread": {"title": "A new thread", "body": "Its first post.",
                                  "episode": "0"},
        "discussion.thread": {"body": "A post from the matrix."},
        "discussion.edit_post": {"body": "An edited post."},
        "discussion.follow": {"level": "muted"},
        "discussion.change": {"reason": ""},
        "moderation.flag": {"reason": "other", "text": "Please look."},
        "moderation.hide": {"reason": "Off topic."},
        "moderation.ban": {"message": "Goodbye."},
        "reflections.new": {"learned": "A reflection from the matrix."},
        "reflections.show": {"learned": "A rewritten reflection."},
        "certificates.new": {"episode": world.values["reflections.new:slug"]},
        "courses.checkpoints": {"checkpoint-answers_due": local(1),
                                "checkpoint-replies_required": "2",
                                "checkpoint-replies_due": local(5)},
        "courses.checkpoint_extension": {"extension-user_id": str(world.user_ids["member"]),
                                         "extension-kind": "replies",
                                         "extension-due_at": local(90)},
    }
    return forms.get(endpoint, {})


# --- Links that carry a token ------------------------------------------------------------


def _tampered(token: str) -> str:
    """The token with one character of its signature changed: the first, since the last
    character of a base64 signature holds padding bits ("B" for "A" can be the same bytes)."""
    head, dot, signature = token.rpartition(".")
    return head + dot + ("A" if signature[0] != "A" else "B") + signature[1:]


def test_token_links_refuse_a_wrong_token(app, world, clients):
    """Calendar feeds, unsubscribe, password reset and course invite links with an unknown
    or tampered token: refused (400 or 404) for every role, no private text, no write."""
    links = [
        ("GET", "/courses/calendar.ics?token=unknown"),
        ("GET", "/courses/calendar.ics?token=" + _tampered(world.query["courses.personal_calendar"]["token"])),
        ("GET", f"/courses/{world.values['code']}/calendar.ics?token=unknown"),
        ("GET", "/email/unsubscribe/unknown"),
        ("POST", "/email/unsubscribe/unknown"),
        ("POST", "/email/unsubscribe/" + _tampered(world.values["notifications.unsubscribe:token"])),
        ("GET", "/auth/reset/unknown"),
        ("POST", "/auth/reset/" + _tampered(world.values["auth.reset_with_token:token"])),
        ("GET", "/courses/invite/unknown"),
        ("POST", "/courses/invite/unknown"),
        ("GET", "/follow-ups/unsubscribe/unknown"),
        ("POST", "/follow-ups/unsubscribe/" + _tampered(world.values["followups.unsubscribe:token"])),
        ("GET", "/verify/" + _tampered(world.values["certificates.verify:code"])),
    ]
    new_password = "a brand new passphrase"
    before = snapshot()
    for method, path in links:
        for role in ROLES:
            client = clients[role]
            data = {"password": new_password, "confirm": new_password,
                    "csrf_token": csrf_token(client, LIGHT_PAGE)}
            response = client.open(path, method=method, data=data if method == "POST" else None)
            cell = _cell(response)
            assert cell in ("400", "404"), (role, method, path, cell)
    after = snapshot()
    assert before == after, differences(before, after)


def test_another_persons_token_acts_for_that_person_only(app, world, clients):
    """A link's token names its owner, whoever sends it: the learner's calendar token
    opens the learner's own feed (without the course they are not in) and no course
    feed; the member's unsubscribe link, sent from the learner's session, stops the
    member's mail and not the learner's; the member's reset link changes the member's
    password once, and is spent after that."""
    from werkzeug.security import check_password_hash

    from coprod_study.courses import calendar
    from coprod_study.models import User

    learner, member = world.user("learner"), world.user("member")
    learner_token = calendar.create_token(learner)
    client = clients["learner"]
    own = client.get(f"/courses/calendar.ics?token={learner_token}")
    assert own.status_code == 200 and COURSE_SECRET not in own.get_data(as_text=True)
    course = client.get(f"/courses/{world.values['code']}/calendar.ics?token={learner_token}")
    assert course.status_code == 404 and COURSE_SECRET not in course.get_data(as_text=True)
    theirs = client.get(f"/courses/calendar.ics?{urlencode(world.query['courses.personal_calendar'])}")
    assert theirs.status_code == 200 and COURSE_SECRET in theirs.get_data(as_text=True)
    calendar.revoke_token(member, world.values["courses.revoke_calendar_link:token_id"])
    assert client.get(f"/courses/calendar.ics?{urlencode(world.query['courses.personal_calendar'])}").status_code == 404

    learner_preference = learner.email_preference
    response = client.post(f"/email/unsubscribe/{world.values['notifications.unsubscribe:token']}")
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(User, member.id).email_preference == "off"
    assert db.session.get(User, learner.id).email_preference == learner_preference

    reset = f"/auth/reset/{world.values['auth.reset_with_token:token']}"
    new_password = "the member's new passphrase"
    data = {"password": new_password, "confirm": new_password}
    response = client.post(reset, data={**data, "csrf_token": csrf_token(client, LIGHT_PAGE)})
    assert response.status_code == 302
    db.session.expire_all()
    assert check_password_hash(db.session.get(User, member.id).password_hash, new_password)
    assert check_password_hash(db.session.get(User, learner.id).password_hash, DEFAULT_PASSWORD)
    again = app.test_client()
    assert again.get(reset).status_code == 400
    before = snapshot()
    response = again.post(reset, data={**data, "csrf_token": csrf_token(again, LIGHT_PAGE)})
    assert response.status_code == 400 and snapshot() == before


# --- Signed-out writes ------------------------------------------------------------------


def test_every_write_after_signing_out_is_refused(app, world, clients):
    """A browser that was signed in as the member and signed out sends every write
    route: with the token its old session had, each is refused (400, the sign-in page,
    401, 403 or 404); with a fresh one, each answers as a visitor's does (the matrix's
    visitor cell). Nothing is written either way, except by the routes that are open to
    visitors and write for them (registering, unsubscribing by link), which are left out."""
    client = clients["member"]
    stale = csrf_token(client, LIGHT_PAGE)
    assert client.post("/auth/logout", data={"csrf_token": stale}).status_code == 302
    assert client.get("/account").status_code == 302  # signed out
    problems = []
    for rule, method in WRITE_RULES:
        visitor_cell = _expected(rule.endpoint, method)[ROLES.index("visitor")]
        if visitor_cell.endswith("+"):
            continue
        path = world.path(rule)
        for token in ("stale", "fresh"):
            before = snapshot()
            if rule.endpoint.startswith("api."):
                response = client.open(path, method=method, json=_api_body(rule.endpoint))
            else:
                data = dict(_form(world, rule.endpoint))
                data["csrf_token"] = stale if token == "stale" else csrf_token(client, LIGHT_PAGE)
                response = client.open(path, method=method, data=data)
            cell = _cell(response)
            if snapshot() != before:
                problems.append(f"{method} {path} with the {token} token wrote")
            if token == "stale" and cell.rstrip("SCN") not in DENIALS | {"400"}:
                problems.append(f"{method} {path} with the stale token: {cell}")
            if token == "fresh" and cell != visitor_cell:
                problems.append(f"{method} {path}: {cell}, a visitor gets {visitor_cell}")
    assert not problems, "\n".join(problems)


# --- A course group's co-educator ----------------------------------------------------------


def test_a_co_educator_runs_the_course_group_without_a_membership_row(app, world):
    """The co-educator of world.scenes["course"] (added through the service, no membership
    row) hides a learner's answer, pins a thread and starts one, as the
    educator who made the group could; the educator taken off the course cannot."""
    from sqlalchemy import func, select

    from coprod_study import policy
    from coprod_study.models import Answer, Membership, StudyGroup, Thread, User
    from tests.security.conftest import sign_in

    scene = world.scenes["course"]
    values = scene["values"]
    group = db.session.scalar(select(StudyGroup).where(StudyGroup.slug == scene["slug"]))
    co_educator = db.session.get(User, scene["user_ids"]["co_educator"])
    former = db.session.get(User, scene["user_ids"]["former_educator"])
    rows = select(func.count()).select_from(Membership).where(
        Membership.group_id == group.id, Membership.user_id.in_([co_educator.id, former.id])
    )
    assert db.session.scalar(rows) == 0
    assert policy.can_moderate(co_educator, group) and not policy.can_know_group(former, group)
    base = f"/groups/{scene['slug']}"
    writes = [
        (f"{base}/hide/answer/{values['answer_id']}", {"reason": "Off topic."}),
        (f"{base}/threads/{values['thread_id']}/pin", {"reason": ""}),
        (f"{base}/threads/new", {"title": "From the co-educator", "body": "Hello.", "episode": "0"}),
    ]
    clients = {}
    for role, person in (("former", former), ("co", co_educator)):
        clients[role] = app.test_client()
        sign_in(clients[role], person)
    for path, data in writes:
        before = snapshot()
        response = clients["former"].post(
            path, data={**data, "csrf_token": csrf_token(clients["former"], LIGHT_PAGE)}
        )
        assert response.status_code == 404 and snapshot() == before, path
        response = clients["co"].post(
            path, data={**data, "csrf_token": csrf_token(clients["co"], LIGHT_PAGE)}
        )
        assert response.status_code == 302 and snapshot() != before, path
    db.session.expire_all()
    assert db.session.get(Answer, values["answer_id"]).hidden_at is not None
    assert db.session.scalar(select(Thread).where(Thread.title == "From the co-educator"))
