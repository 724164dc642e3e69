"""One load-test client (run in its own process): sign in, then post answers, replies and thread posts."""

import re

import requests

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
MARKER = re.compile(r"load-[a-z0-9]+-c\d+-n\d+")


def body_for(marker: str) -> str:
    return f"Load test **{marker}** says hello."


def plan(operations: int, questions: int, answer_ids: list[int]) -> list[tuple[str, int]]:
    """What the client sends, in order: (kind, target). Answers one question in five
    requests (each question once), then replies and thread posts in turn."""
    steps = []
    answered = 0
    for number in range(operations):
        if number % 5 == 0 and answered < questions:
            steps.append(("answer", answered))
            answered += 1
        elif number % 2:
            steps.append(("reply", answer_ids[number % len(answer_ids)]))
        else:
            steps.append(("post", 0))
    return steps


def run(job: dict) -> list[dict]:
    """Send the client's plan to `job["base"]`; one result per request."""
    base = job["base"]
    session = requests.Session()
    page = session.get(base + "/auth/login", timeout=60)
    token = CSRF_META.search(page.text).group(1)
    response = session.post(
        base + "/auth/login",
        data={"email": job["email"], "password": job["password"], "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    if response.status_code != 302:
        return [{"marker": None, "kind": "login", "status": response.status_code, "error": None}]
    token = CSRF_META.search(session.get(base + "/contact/sent", timeout=60).text).group(1)
    results = []
    for number, (kind, target) in enumerate(job["plan"]):
        marker = f"load-{job['run']}-c{job['client']}-n{number}"
        if kind == "answer":
            episode, question = job["questions"][target]
            path = f"/groups/{job['group']}/episodes/{episode}/questions/{question}"
        elif kind == "reply":
            path = f"/groups/{job['group']}/answers/{target}/replies"
        else:
            path = f"/groups/{job['group']}/threads/{job['thread']}"
        result = {"marker": marker, "kind": kind, "status": None, "error": None}
        try:
            response = session.post(
                base + path,
                data={"body": body_for(marker), "csrf_token": token},
                allow_redirects=False,
                timeout=120,
            )
            result["status"] = response.status_code
            if response.status_code >= 400:
                result["error"] = response.text[:300]
        except requests.RequestException as error:
            result["error"] = f"{type(error).__name__}: {error}"[:300]
        results.append(result)
    return results
