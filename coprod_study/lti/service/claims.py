"""Names of LTI 1.3 claims and roles, and reading them from a launch."""

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

# Context roles that teach: instructors, and those who build or run the course.
EDUCATOR_ROLES = {"Instructor", "ContentDeveloper", "Administrator", "Mentor"}
LEARNER_ROLES = {"Learner"}


def course_role(roles) -> str | None:
    """LMS context roles -> "educator", "learner" or None (no place in a course here).

    Full URIs (".../membership#Instructor"), sub-roles (".../membership/Instructor#TeachingAssistant",
    counted as their parent) and the short names; institution and system roles are ignored.
    """
    names = set()
    for role in roles if isinstance(roles, list) else []:
        if not isinstance(role, str) or "/institution/" in role or "/system/" in role:
            continue
        tail = role.split("membership", 1)[-1].strip("#/")
        names.add(tail.split("#")[0].split("/")[0])
    if names & EDUCATOR_ROLES:
        return "educator"
    if names & LEARNER_ROLES:
        return "learner"
    return None
