"""Words for the search index: Swedish stems, and the nearest indexed word to a typo."""

import functools
import re

import snowballstemmer

WORD_RE = re.compile(r"\w+", re.UNICODE)
# Languages a document may be indexed in; anything else is indexed as English,
# the language of the catalog.
INDEX_LANGUAGES = ("en", "sv")
DEFAULT_LANGUAGE = "en"
# PostgreSQL's text search configuration per language.
REGCONFIGS = {"en": "english", "sv": "swedish"}


def document_language(language: str | None) -> str:
    return language if language in INDEX_LANGUAGES else DEFAULT_LANGUAGE


# Words too common to narrow a search. PostgreSQL's configurations drop their own
# lists; SQLite's tokenizers keep every word, so the query drops these before it
# reaches either engine (never all of a query's words).
STOP_WORDS = frozenset(
    """a an and are as at be but by for from how i in into is it its my of on onto or
    our so than that the their them there they this to was we what when where which
    who why with you your
    att av de den det du en ett för han hon i jag med men och om på som till under vad
    var vi är""".split()
)


def without_stop_words(words: list[str]) -> list[str]:
    kept = [word for word in words if word not in STOP_WORDS]
    return kept or words


@functools.cache
def _stemmer(language: str):
    # One per process and language; stemWord keeps a small cache of its own.
    return snowballstemmer.stemmer({"en": "english", "sv": "swedish"}[language])


def stem(word: str, language: str) -> str:
    return _stemmer(language).stemWord(word.lower())


def swedish_stems(*texts: str) -> str:
    """The Swedish stems of every word in `texts`, for the stems column SQLite
    indexes (FTS5 has no Swedish tokenizer; PostgreSQL stems in the database)."""
    words = WORD_RE.findall(" ".join(t for t in texts if t).lower())
    return " ".join(_stemmer("sv").stemWords(words))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def allowed_typos(word: str) -> int:
    """Typing errors forgiven in a word: none under 4 letters, then one per 4."""
    return 0 if len(word) < 4 else min(3, len(word) // 4)


def nearest(word: str, texts) -> str | None:
    """The word of `texts` closest to `word` within its allowed typos, the more
    frequent one on a tie; None when `word` itself (or a form of it) is there."""
    limit = allowed_typos(word)
    if not limit:
        return None
    stems = {stem(word, language) for language in INDEX_LANGUAGES}
    counts: dict[str, int] = {}
    for text in texts:
        for token in WORD_RE.findall((text or "").lower()):
            counts[token] = counts.get(token, 0) + 1
    best, best_key = None, None
    for token, count in counts.items():
        if len(token) < 3:
            continue
        if token == word or any(stem(token, lang) in stems for lang in INDEX_LANGUAGES):
            return None
        distance = edit_distance(word, token, limit)
        if distance > limit:
            continue
        key = (distance, -count, token)
        if best_key is None or key < best_key:
            best, best_key = token, key
    return best
