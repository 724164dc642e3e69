"""What the API answers: the JSON objects api.serialize and the views build, as pydantic models.

The serializers build plain dicts; these models describe them for the OpenAPI
document (a test validates real responses against it). A field that may be
absent has a default of None; one that may be null says `| None`.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """RFC 9457 problem details."""

    class FieldProblem(BaseModel):
        field: str | None
        message: str

    type: str
    title: str
    status: int
    detail: str = None
    errors: list[FieldProblem] = None


class Author(BaseModel):
    name: str = Field(description="As the site shows it to you.")
    id: int | None = Field(description="Null when the name is withheld.")
    you: bool


class DimensionRef(BaseModel):
    slug: str
    name: str


class Dimension(DimensionRef):
    description: str
    description_html: str
    related: list[DimensionRef]


class Guest(BaseModel):
    name: str
    bio: str


class EpisodeSummary(BaseModel):
    slug: str
    number: int
    title: str
    dimension: DimensionRef
    related_dimensions: list[DimensionRef]
    published: date | None
    audio_url: str | None
    duration_seconds: int | None
    host: str | None
    guests: list[Guest]
    is_sample: bool
    transcript_languages: list[str]


class Takeaway(BaseModel):
    kind: Literal["key_lesson", "idea_to_ponder", "start_applying"]
    text: str


class StudyQuestion(BaseModel):
    number: int
    prompt: str
    audiences: list[str]


class Reference(BaseModel):
    citation: str
    url: str | None
    doi: str | None


class Chapter(BaseModel):
    title: str
    start_seconds: int


class Episode(EpisodeSummary):
    summary: str
    summary_html: str
    takeaways: list[Takeaway]
    questions: list[StudyQuestion]
    references: list[Reference]
    chapters: list[Chapter]


class Token(BaseModel):
    name: str
    scope: Literal["read", "write"]
    prefix: str
    expires_at: datetime | None


class Me(BaseModel):
    id: int
    display_name: str
    role: Literal["learner", "facilitator", "educator", "admin"]
    language: str
    time_zone: str
    token: Token


class Membership(BaseModel):
    role: Literal["member", "facilitator"]
    status: Literal["pending", "active", "removed", "banned"]


class Group(BaseModel):
    slug: str
    name: str
    description: str
    description_html: str
    join_policy: Literal["open", "request", "invite"]
    post_first: bool
    allow_anonymous: bool
    course: str | None
    membership: Membership | None
    can_view_content: bool
    can_moderate: bool
    member_count: int = Field(None, description="Only on a single group.")


class Member(BaseModel):
    id: int
    name: str
    role: str
    joined_at: datetime


class Question(BaseModel):
    number: int
    prompt: str
    audiences: list[str]
    group_question: bool = Field(description="A question the group's facilitators added.")
    answer_count: int
    answered_by_you: bool


class PostText(BaseModel):
    """What answers, replies and posts share."""

    author: Author
    anonymous: bool
    body: str | None = Field(description="Markdown; null when deleted or hidden from you.")
    body_html: str | None
    deleted: bool
    hidden: bool
    hidden_reason: str | None
    created_at: datetime
    edited_at: datetime | None
    can_edit: bool


class Answer(PostText):
    id: int
    group: str
    episode: str
    question_number: int
    endorsed: bool
    reply_count: int
    answered_wording: str | None = Field(
        description="For facilitators: the earlier wording of the question "
        "this answer was written to, when it has changed since."
    )


class Reply(PostText):
    id: int
    answer_id: int


class Post(PostText):
    id: int
    thread_id: int
    quote_post_id: int | None


class Revision(BaseModel):
    id: int
    body: str
    written_at: datetime
    replaced_at: datetime


class Thread(BaseModel):
    id: int
    group: str
    title: str
    episode: str | None
    moment_seconds: int | None
    pinned: bool
    locked: bool
    lock_reason: str | None
    announcement: bool
    author: Author
    created_at: datetime
    last_activity_at: datetime
    post_count: int
    unread_count: int


class Notification(BaseModel):
    id: int
    kind: str
    message: str
    url: str = Field(description="A path on the site.")
    created_at: datetime
    read_at: datetime | None


class Course(BaseModel):
    code: str
    title: str
    term: str
    role: Literal["educator", "learner"]


class EpisodeRef(BaseModel):
    slug: str
    number: int
    title: str


class Assignment(BaseModel):
    assignment_id: int
    course: str
    episode: EpisodeRef
    opens_at: datetime
    due_at: datetime = Field(description="With the caller's extension, if any.")
    extended: bool
    listened: bool
    questions_answered: int
    questions_required: int
    replies_written: int
    complete: bool
    completed_at: datetime | None
    status: Literal["on_time", "late", "overdue", "due_soon", "open", "not_open"]


class Learner(BaseModel):
    id: int
    name: str


class LearnerProgress(BaseModel):
    learner: Learner
    group: str | None
    assignments_done: int
    late: int
    overdue: int
    questions_answered: int
    questions_required: int
    replies_written: int
    episodes_listened: int
    assignments: list[Assignment]


class ReadAll(BaseModel):
    marked_read: int


# --- Pages: a list endpoint's items and the cursor of the next page -----------------------


class Page(BaseModel):
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page."
    )


class DimensionPage(Page):
    items: list[Dimension]


class EpisodePage(Page):
    items: list[EpisodeSummary]


class GroupPage(Page):
    items: list[Group]


class MemberPage(Page):
    items: list[Member]


class QuestionPage(Page):
    items: list[Question]
    episode: EpisodeRef


class AnswerPage(Page):
    class AnsweredQuestion(BaseModel):
        number: int
        prompt: str

    items: list[Answer]
    question: AnsweredQuestion
    answer_count: int
    sees_peers: bool
    revealed: bool


class RevisionPage(Page):
    items: list[Revision]


class ReplyPage(Page):
    items: list[Reply]


class ThreadPage(Page):
    items: list[Thread]


class PostPage(Page):
    items: list[Post]


class NotificationPage(Page):
    items: list[Notification]
    unread_count: int


class CoursePage(Page):
    items: list[Course]


class AssignmentPage(Page):
    items: list[Assignment]


class ProgressPage(Page):
    class CourseRef(BaseModel):
        code: str
        title: str

    items: list[LearnerProgress]
    course: CourseRef
