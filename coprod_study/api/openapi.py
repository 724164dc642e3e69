"""The OpenAPI 3.1 document of /api/v1, kept beside the code (a test checks it matches the routes)."""

from copy import deepcopy

from flask import jsonify

from coprod_study.api import bp
from coprod_study.api.groups import EDIT, NEW_ANSWER, NEW_POST
from coprod_study.api.support import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT

SLUG = {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 80}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}
MAYBE_TEXT = {"type": ["string", "null"]}
TEXT = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def page_of(item: str, **extra) -> dict:
    return obj(
        {
            "items": array(ref(item)),
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as ?cursor= for the next page; null on the last page.",
            },
            **extra,
        }
    )


AUTHOR = obj(
    {
        "name": {"type": "string", "description": "As the site shows it to you."},
        "id": {"type": ["integer", "null"], "description": "Null when the name is withheld."},
        "you": BOOLEAN,
    }
)
POST_TEXT = {
    "author": ref("Author"),
    "anonymous": BOOLEAN,
    "body": {**MAYBE_TEXT, "description": "Markdown; null when deleted or hidden from you."},
    "body_html": MAYBE_TEXT,
    "deleted": BOOLEAN,
    "hidden": BOOLEAN,
    "hidden_reason": MAYBE_TEXT,
    "created_at": TIME,
    "edited_at": MAYBE_TIME,
    "can_edit": BOOLEAN,
}
DIMENSION_REF = obj({"slug": TEXT, "name": TEXT})
EPISODE_SUMMARY = {
    "slug": TEXT,
    "number": INTEGER,
    "title": TEXT,
    "dimension": ref("DimensionRef"),
    "related_dimensions": array(ref("DimensionRef")),
    "published": {"type": ["string", "null"], "format": "date"},
    "audio_url": MAYBE_TEXT,
    "duration_seconds": {"type": ["integer", "null"]},
    "host": MAYBE_TEXT,
    "guests": array(obj({"name": TEXT, "bio": TEXT})),
    "is_sample": BOOLEAN,
    "transcript_languages": array(TEXT),
}
ASSIGNMENT = obj(
    {
        "assignment_id": INTEGER,
        "course": TEXT,
        "episode": obj({"slug": TEXT, "number": INTEGER, "title": TEXT}),
        "opens_at": TIME,
        "due_at": {**TIME, "description": "With the caller's extension, if any."},
        "extended": BOOLEAN,
        "listened": BOOLEAN,
        "questions_answered": INTEGER,
        "questions_required": INTEGER,
        "replies_written": INTEGER,
        "complete": BOOLEAN,
        "completed_at": MAYBE_TIME,
        "status": {
            "type": "string",
            "enum": ["on_time", "late", "overdue", "due_soon", "open", "not_open"],
        },
    }
)

SCHEMAS = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "properties": {
            "type": TEXT,
            "title": TEXT,
            "status": INTEGER,
            "detail": TEXT,
            "errors": array(obj({"field": MAYBE_TEXT, "message": TEXT})),
        },
        "required": ["type", "title", "status"],
    },
    "Author": AUTHOR,
    "DimensionRef": DIMENSION_REF,
    "Dimension": obj(
        {
            "slug": TEXT,
            "name": TEXT,
            "description": TEXT,
            "description_html": TEXT,
            "related": array(ref("DimensionRef")),
        }
    ),
    "EpisodeSummary": obj(EPISODE_SUMMARY),
    "Episode": obj(
        {
            **EPISODE_SUMMARY,
            "summary": TEXT,
            "summary_html": TEXT,
            "takeaways": array(
                obj(
                    {
                        "kind": {
                            "type": "string",
                            "enum": ["key_lesson", "idea_to_ponder", "start_applying"],
                        },
                        "text": TEXT,
                    }
                )
            ),
            "questions": array(
                obj({"number": INTEGER, "prompt": TEXT, "audiences": array(TEXT)})
            ),
            "references": array(obj({"citation": TEXT, "url": MAYBE_TEXT, "doi": MAYBE_TEXT})),
            "chapters": array(obj({"title": TEXT, "start_seconds": INTEGER})),
        }
    ),
    "Me": obj(
        {
            "id": INTEGER,
            "display_name": TEXT,
            "role": {"type": "string", "enum": ["learner", "facilitator", "educator", "admin"]},
            "language": TEXT,
            "time_zone": TEXT,
            "token": obj(
                {
                    "name": TEXT,
                    "scope": {"type": "string", "enum": ["read", "write"]},
                    "prefix": TEXT,
                    "expires_at": MAYBE_TIME,
                }
            ),
        }
    ),
    "Membership": {
        "type": ["object", "null"],
        "properties": {
            "role": {"type": "string", "enum": ["member", "facilitator"]},
            "status": {"type": "string", "enum": ["pending", "active", "removed", "banned"]},
        },
        "required": ["role", "status"],
    },
    "Group": obj(
        {
            "slug": TEXT,
            "name": TEXT,
            "description": TEXT,
            "description_html": TEXT,
            "join_policy": {"type": "string", "enum": ["open", "request", "invite"]},
            "post_first": BOOLEAN,
            "allow_anonymous": BOOLEAN,
            "course": MAYBE_TEXT,
            "membership": ref("Membership"),
            "can_view_content": BOOLEAN,
            "can_moderate": BOOLEAN,
            "member_count": INTEGER,
        },
        required=[
            "slug", "name", "description", "description_html", "join_policy", "post_first",
            "allow_anonymous", "course", "membership", "can_view_content", "can_moderate",
        ],
    ),
    "Member": obj({"id": INTEGER, "name": TEXT, "role": TEXT, "joined_at": TIME}),
    "Question": obj(
        {
            "number": INTEGER,
            "prompt": TEXT,
            "audiences": array(TEXT),
            "group_question": {
                "type": "boolean",
                "description": "A question the group's facilitators added.",
            },
            "answer_count": INTEGER,
            "answered_by_you": BOOLEAN,
        }
    ),
    "Answer": obj(
        {
            "id": INTEGER,
            "group": TEXT,
            "episode": TEXT,
            "question_number": INTEGER,
            **POST_TEXT,
            "endorsed": BOOLEAN,
            "reply_count": INTEGER,
            "answered_wording": {
                "type": ["string", "null"],
                "description": "For facilitators: the earlier wording of the question "
                "this answer was written to, when it has changed since.",
            },
        }
    ),
    "Reply": obj({"id": INTEGER, "answer_id": INTEGER, **POST_TEXT}),
    "Post": obj(
        {"id": INTEGER, "thread_id": INTEGER, "quote_post_id": {"type": ["integer", "null"]},
         **POST_TEXT}
    ),
    "Revision": obj({"id": INTEGER, "body": TEXT, "written_at": TIME, "replaced_at": TIME}),
    "Thread": obj(
        {
            "id": INTEGER,
            "group": TEXT,
            "title": TEXT,
            "episode": MAYBE_TEXT,
            "moment_seconds": {"type": ["integer", "null"]},
            "pinned": BOOLEAN,
            "locked": BOOLEAN,
            "lock_reason": MAYBE_TEXT,
            "announcement": BOOLEAN,
            "author": ref("Author"),
            "created_at": TIME,
            "last_activity_at": TIME,
            "post_count": INTEGER,
            "unread_count": INTEGER,
        }
    ),
    "Notification": obj(
        {
            "id": INTEGER,
            "kind": TEXT,
            "message": TEXT,
            "url": {"type": "string", "description": "A path on the site."},
            "created_at": TIME,
            "read_at": MAYBE_TIME,
        }
    ),
    "Course": obj(
        {"code": TEXT, "title": TEXT, "term": TEXT,
         "role": {"type": "string", "enum": ["educator", "learner"]}}
    ),
    "Assignment": ASSIGNMENT,
    "LearnerProgress": obj(
        {
            "learner": obj({"id": INTEGER, "name": TEXT}),
            "group": MAYBE_TEXT,
            "assignments_done": INTEGER,
            "late": INTEGER,
            "overdue": INTEGER,
            "questions_answered": INTEGER,
            "questions_required": INTEGER,
            "replies_written": INTEGER,
            "episodes_listened": INTEGER,
            "assignments": array(ref("Assignment")),
        }
    ),
    "NewAnswer": NEW_ANSWER,
    "NewPost": NEW_POST,
    "Edit": EDIT,
}

ERRORS = {
    400: "Bad request: a malformed query parameter, cursor or JSON body.",
    401: "No token, or one that is unknown, expired or revoked.",
    403: "Not allowed: a read-only token writing, or content the caller may not read.",
    404: "No such thing, or one the caller may not know of.",
    409: "Conflicts with the current state (already answered, thread locked).",
    413: "The body is larger than 1 MB.",
    415: "The body is not application/json.",
    422: "The JSON body does not match the schema, or a rule refuses it.",
    429: "Too many requests for this token; see Retry-After.",
}


def _problem(status: int) -> dict:
    response = {
        "description": ERRORS[status],
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait.",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def _parameter(name: str, where: str, schema: dict, description: str, required=None) -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path" if required is None else required,
        "description": description,
        "schema": schema,
    }


PATH = {
    "slug": _parameter("slug", "path", SLUG, "The group's slug."),
    "episode": _parameter("slug", "path", SLUG, "The episode's slug."),
    "episode_slug": _parameter("episode_slug", "path", SLUG, "The episode's slug."),
    "number": _parameter("number", "path", ID, "The question's number in the group (from 1)."),
    "answer_id": _parameter("answer_id", "path", ID, "An answer's id."),
    "reply_id": _parameter("reply_id", "path", ID, "A reply's id."),
    "thread_id": _parameter("thread_id", "path", ID, "A thread's id."),
    "post_id": _parameter("post_id", "path", ID, "A post's id."),
    "notification_id": _parameter("notification_id", "path", ID, "A notification's id."),
    "code": _parameter(
        "code",
        "path",
        {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$"},
        "The course's code.",
    ),
}
LIST = [
    _parameter(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        "Items per page.",
    ),
    _parameter(
        "cursor", "query", {"type": "string", "maxLength": 500},
        "next_cursor of the previous page.",
    ),
]


def op(
    operation_id: str,
    summary: str,
    tag: str,
    *,
    ok: tuple[int, str, str],
    params=(),
    body: str | None = None,
    public: bool = False,
    errors=(),
    description: str | None = None,
) -> dict:
    status, schema, ok_description = ok
    success = {"description": ok_description, "content": {"application/json": {"schema": ref(schema)}}}
    if status == 201:
        success["headers"] = {
            "Location": {"description": "Where to read it.", "schema": {"type": "string"}}
        }
    codes = {400, 401, 429, *errors}
    if body is not None:
        codes |= {403, 413, 415, 422}
    if any(p["in"] == "path" for p in params):
        codes.add(404)
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "parameters": list(params),
        "responses": {str(status): success, **{str(c): _problem(c) for c in sorted(codes)}},
    }
    if description:
        operation["description"] = description
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    # Public endpoints work without a token; every other one needs it.
    operation["security"] = [{}, {"token": []}] if public else [{"token": []}]
    return operation


GROUP = "groups"
P = PATH

PATHS = {
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "tags": ["meta"],
            "security": [{}, {"token": []}],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": _problem(401),
                "429": _problem(429),
            },
        }
    },
    "/api/v1/me": {
        "get": op("me", "Who the token belongs to", "me", ok=(200, "Me", "The caller."))
    },
    "/api/v1/dimensions": {
        "get": op(
            "dimensions", "The dimensions of coproduction", "catalog", public=True, params=LIST,
            ok=(200, "DimensionPage", "A page of dimensions, in the series' order."),
        )
    },
    "/api/v1/episodes": {
        "get": op(
            "episodes", "The episode catalog", "catalog", public=True, params=LIST,
            ok=(200, "EpisodePage", "A page of episodes by number."),
        )
    },
    "/api/v1/episodes/{slug}": {
        "get": op(
            "episode", "One episode with everything about it", "catalog", public=True,
            params=[P["episode"]],
            ok=(200, "Episode", "The episode with guests, takeaways, questions, references, "
                "chapters and the languages of its transcripts."),
        )
    },
    "/api/v1/groups": {
        "get": op(
            "my_groups", "The caller's groups", GROUP, params=LIST,
            ok=(200, "GroupPage", "Groups the caller is in or asked to join."),
        )
    },
    "/api/v1/groups/{slug}": {
        "get": op(
            "group", "A group's public description", GROUP, params=[P["slug"]],
            ok=(200, "Group", "The group, as far as the caller may know it."),
        )
    },
    "/api/v1/groups/{slug}/members": {
        "get": op(
            "group_members", "A group's members", GROUP, params=[P["slug"], *LIST], errors=[403],
            ok=(200, "MemberPage", "Active members (members and admins only)."),
        )
    },
    "/api/v1/groups/{slug}/episodes/{episode_slug}/questions": {
        "get": op(
            "group_questions", "An episode's questions in a group", GROUP,
            params=[P["slug"], P["episode_slug"], *LIST], errors=[403],
            ok=(200, "QuestionPage", "The catalog's questions, then the group's own."),
        )
    },
    "/api/v1/groups/{slug}/episodes/{episode_slug}/questions/{number}/answers": {
        "get": op(
            "question_answers", "The answers to a question the caller may read", GROUP,
            params=[P["slug"], P["episode_slug"], P["number"], *LIST], errors=[403],
            ok=(200, "AnswerPage", "Answers in the order they were written."),
            description="With “post before you see others” on, peers' answers appear "
            "once the caller has answered (facilitators always see them).",
        ),
        "post": op(
            "post_answer", "Answer a question", GROUP,
            params=[P["slug"], P["episode_slug"], P["number"]], body="NewAnswer", errors=[409],
            ok=(201, "Answer", "The answer."),
        ),
    },
    "/api/v1/groups/{slug}/answers/{answer_id}": {
        "get": op(
            "answer", "One answer", GROUP, params=[P["slug"], P["answer_id"]], errors=[403],
            ok=(200, "Answer", "The answer."),
        ),
        "patch": op(
            "edit_answer", "Edit your answer", GROUP, params=[P["slug"], P["answer_id"]],
            body="Edit", ok=(200, "Answer", "The edited answer (the old text goes to history)."),
        ),
    },
    "/api/v1/groups/{slug}/answers/{answer_id}/revisions": {
        "get": op(
            "answer_revisions", "An answer's edit history (its author and the facilitators)", GROUP,
            params=[P["slug"], P["answer_id"], *LIST], errors=[403],
            ok=(200, "RevisionPage", "Earlier texts, newest first."),
        )
    },
    "/api/v1/groups/{slug}/answers/{answer_id}/replies": {
        "get": op(
            "replies", "Replies to an answer", GROUP, params=[P["slug"], P["answer_id"], *LIST],
            errors=[403], ok=(200, "ReplyPage", "Replies, oldest first."),
        ),
        "post": op(
            "post_reply", "Reply to an answer", GROUP, params=[P["slug"], P["answer_id"]],
            body="NewAnswer", errors=[409], ok=(201, "Reply", "The reply."),
        ),
    },
    "/api/v1/groups/{slug}/replies/{reply_id}": {
        "get": op(
            "reply", "One reply", GROUP, params=[P["slug"], P["reply_id"]], errors=[403],
            ok=(200, "Reply", "The reply."),
        ),
        "patch": op(
            "edit_reply", "Edit your reply", GROUP, params=[P["slug"], P["reply_id"]],
            body="Edit", ok=(200, "Reply", "The edited reply."),
        ),
    },
    "/api/v1/groups/{slug}/threads": {
        "get": op(
            "threads", "A group's threads", GROUP, params=[P["slug"], *LIST], errors=[403],
            ok=(200, "ThreadPage", "Pinned threads first, then by last activity."),
        )
    },
    "/api/v1/groups/{slug}/threads/{thread_id}": {
        "get": op(
            "thread", "One thread", GROUP, params=[P["slug"], P["thread_id"]], errors=[403],
            ok=(200, "Thread", "The thread."),
        )
    },
    "/api/v1/groups/{slug}/threads/{thread_id}/posts": {
        "get": op(
            "thread_posts", "A thread's posts", GROUP,
            params=[P["slug"], P["thread_id"], *LIST], errors=[403],
            ok=(200, "PostPage", "Posts, oldest first; the first one opens the thread."),
        ),
        "post": op(
            "post_in_thread", "Post in a thread", GROUP, params=[P["slug"], P["thread_id"]],
            body="NewPost", errors=[409], ok=(201, "Post", "The post."),
        ),
    },
    "/api/v1/groups/{slug}/posts/{post_id}": {
        "get": op(
            "post", "One thread post", GROUP, params=[P["slug"], P["post_id"]], errors=[403],
            ok=(200, "Post", "The post."),
        ),
        "patch": op(
            "edit_post", "Edit your post", GROUP, params=[P["slug"], P["post_id"]], body="Edit",
            ok=(200, "Post", "The edited post."),
        ),
    },
    "/api/v1/notifications": {
        "get": op(
            "notifications", "The caller's notifications", "me",
            params=[
                *LIST,
                _parameter("unread", "query", {"type": "string", "enum": ["true", "false"]},
                           "Only unread (true) or only read (false) ones."),
            ],
            ok=(200, "NotificationPage", "Newest first."),
        )
    },
    "/api/v1/notifications/{notification_id}/read": {
        "post": op(
            "read_notification", "Mark a notification read", "me",
            params=[P["notification_id"]], errors=[403],
            ok=(200, "Notification", "The notification, now read."),
        )
    },
    "/api/v1/notifications/read-all": {
        "post": op(
            "read_all_notifications", "Mark every notification read", "me", errors=[403],
            ok=(200, "ReadAll", "How many were marked."),
        )
    },
    "/api/v1/courses": {
        "get": op(
            "courses", "The caller's courses", "courses", params=LIST,
            ok=(200, "CoursePage", "Courses the caller teaches or takes."),
        )
    },
    "/api/v1/assignments": {
        "get": op(
            "assignments", "The caller's assignments and where they stand", "courses",
            params=LIST, ok=(200, "AssignmentPage", "Soonest due first."),
        )
    },
    "/api/v1/courses/{code}/progress": {
        "get": op(
            "course_progress", "Every learner's progress in a course (educators)", "courses",
            params=[
                P["code"],
                *LIST,
                _parameter("group", "query", {"type": "string", "maxLength": 80},
                           "A course group's slug, or none for learners not placed yet."),
            ],
            errors=[403],
            ok=(200, "ProgressPage", "Learners by name."),
        )
    },
}

PAGES = {
    "DimensionPage": page_of("Dimension"),
    "EpisodePage": page_of("EpisodeSummary"),
    "GroupPage": page_of("Group"),
    "MemberPage": page_of("Member"),
    "QuestionPage": page_of(
        "Question", episode=obj({"slug": TEXT, "number": INTEGER, "title": TEXT})
    ),
    "AnswerPage": page_of(
        "Answer",
        question=obj({"number": INTEGER, "prompt": TEXT}),
        answer_count=INTEGER,
        sees_peers=BOOLEAN,
        revealed=BOOLEAN,
    ),
    "RevisionPage": page_of("Revision"),
    "ReplyPage": page_of("Reply"),
    "ThreadPage": page_of("Thread"),
    "PostPage": page_of("Post"),
    "NotificationPage": page_of("Notification", unread_count=INTEGER),
    "CoursePage": page_of("Course"),
    "AssignmentPage": page_of("Assignment"),
    "ProgressPage": page_of("LearnerProgress", course=obj({"code": TEXT, "title": TEXT})),
    "ReadAll": obj({"marked_read": INTEGER}),
}


def document() -> dict:
    return deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Coproduction Study Companion API",
                "version": "1",
                "description": "Read the catalog, your groups, answers, threads, "
                "notifications and assignments; post and edit answers, replies and "
                "posts. Authenticate with a personal access token from /account: "
                "`Authorization: Bearer <token>`. Lists are paged with opaque cursors; "
                "errors are application/problem+json (RFC 9457).",
            },
            "servers": [{"url": "/"}],
            "tags": [{"name": name} for name in ("meta", "me", "catalog", "groups", "courses")],
            "paths": PATHS,
            "components": {
                "schemas": {**SCHEMAS, **PAGES},
                "securitySchemes": {
                    "token": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "A personal access token (cps_…) made at /account.",
                    }
                },
            },
        }
    )


@bp.route("/openapi.json")
def openapi():
    return jsonify(document())
