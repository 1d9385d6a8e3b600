"""The integrity check of post bodies: every body a poll already received (REST
`content.rendered`, a feed's `content:encoded` or description, an article page a connector
fetched) goes through the hidden-block / link-farm / injected-text detector, with no request
of its own. The watch (watch.py) only sees the home page and the two newest item pages; an
injection in an older post's body is found here, on the first poll that reads it.

Pure apart from the verdict memo: the poller runs `check_posts` between the connector and the
writer, then drops the bodies (`without_bodies`), so no body is kept past its poll or stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from aggregator.integrity import analyse_body, assess
from aggregator.integrity.detect import plainly_clean_body
from aggregator.integrity.normalise import clean_evidence
from aggregator.integrity.verdict import COMPROMISED, FINDING_EVIDENCE_LIMIT, SUSPICIOUS
from aggregator.integrity.watch import FindingReport
from aggregator.types import Harvest, ParsedItem

# The finding kind of a post body. Its own kind, not "judi_online": the watch's findings are
# resolved by two clean scans of the home page and the newest items, which never look at an
# older post, so they must not close this one (see aggregator.store.findings).
POST_KIND = "judi_online_post"
# Remembered body verdicts per process (a digest and usually None each). A feed entry
# stored by an earlier poll is not checked again at all (it is known by its fingerprint), so
# the memo only spares bodies read again without one (REST, arsip) and the same text on many
# villages' sites: a small one does, and a large one was tens of MB at 10,000 villages.
MEMO_MAX = 20_000
EVIDENCE_POSTS = 3  # posts quoted in one finding's evidence

Memo = MutableMapping[str, FindingReport | None]


@dataclass(frozen=True)
class PostCheck:
    """What the bodies of one poll showed. `findings`: one per post whose body makes a
    suspicious or compromised verdict, worst first. `clean`: urls of posts whose body was
    read in this poll and is clean (a look at that post, for resolving its finding)."""

    findings: tuple[FindingReport, ...] = ()
    clean: frozenset[str] = frozenset()

    def worth_recording(self, open_url: str | None) -> bool:
        """Whether the store has anything to do: a finding, or a clean look at the post the
        village's open post finding is about. Most polls have neither and cost no write."""
        return bool(self.findings) or (open_url is not None and open_url in self.clean)


def _key(url: str, body: str) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(url.encode("utf-8", "surrogatepass"))
    h.update(b"\x1f")
    h.update(body.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def body_verdict(body: str, url: str) -> FindingReport | None:
    """The finding one post body makes, or None when it is clean (notes included)."""
    host = (urlsplit(url).hostname or "").lower()
    if plainly_clean_body(body, url, site_host=host):
        return None  # most posts: a fifth of a first poll's CPU went to parsing them
    result = assess(analyse_body(body, url, site_host=host), url)
    if result.level not in (SUSPICIOUS, COMPROMISED):
        return None
    signals = tuple(sig for f in result.findings for sig in f.signals)
    evidence = clean_evidence(
        " | ".join(f.evidence for f in result.findings), FINDING_EVIDENCE_LIMIT
    )
    codes = tuple(dict.fromkeys(sig.code for sig in signals))
    return FindingReport(POST_KIND, result.level, evidence, url, result.score, codes)


def to_check(items: Iterable[ParsedItem]) -> list[tuple[str, str, str]]:
    """(memo key, url, body) of the items whose body is worth a look: new or changed ones
    with a body and a url. `known` items were checked when they were first read. Items flagged
    as spam are checked too: a real post whose excerpt carries the text of a hidden block at
    its start is flagged as spam by its excerpt, and the watch only reads the newest items'
    excerpts, so for an older post this check is the only one that sees it."""
    return [(_key(i.url, i.body), i.url, i.body) for i in items if i.body and i.url and not i.known]


def misses(wanted: list[tuple[str, str, str]], memo: Memo) -> list[tuple[str, str, str]]:
    return [w for w in wanted if w[0] not in memo]


def analyse_misses(wanted: list[tuple[str, str, str]]) -> dict[str, FindingReport | None]:
    """The CPU half (run in a thread by the poller): verdicts of bodies not seen before."""
    return {key: body_verdict(body, url) for key, url, body in wanted}


def check_posts(
    wanted: list[tuple[str, str, str]], memo: Memo, fresh: dict[str, FindingReport | None]
) -> PostCheck:
    """The poll's PostCheck from remembered and fresh verdicts; fresh ones are remembered.
    A body read again unchanged is not analysed again but still counts as a look."""
    if len(memo) + len(fresh) > MEMO_MAX:
        memo.clear()
    memo.update(fresh)
    findings: dict[str, FindingReport] = {}
    clean: set[str] = set()
    for key, url, _ in wanted:
        verdict = fresh[key] if key in fresh else memo.get(key)
        if verdict is None:
            clean.add(url)
        else:
            findings[url] = verdict
    clean -= findings.keys()
    ordered = sorted(findings.values(), key=lambda f: (f.level != COMPROMISED, -f.score, f.url))
    return PostCheck(tuple(ordered), frozenset(clean))


def with_look(check: PostCheck | None, url: str, verdict: FindingReport | None) -> PostCheck:
    """`check` plus one more look at a post: `verdict` None means it read clean (or is gone)."""
    check = check or PostCheck()
    if verdict is None:
        return PostCheck(check.findings, check.clean | {url})
    findings = sorted(
        (*check.findings, verdict), key=lambda f: (f.level != COMPROMISED, -f.score, f.url)
    )
    return PostCheck(tuple(findings), check.clean - {url})


def looked_at(check: PostCheck | None, url: str) -> bool:
    """Whether this poll already read the post at `url`."""
    return check is not None and (url in check.clean or any(f.url == url for f in check.findings))


def merged_evidence(findings: tuple[FindingReport, ...]) -> str:
    """One finding's evidence for several posts (each part names its post: "[post:url · …]")."""
    parts = [f.evidence for f in findings[:EVIDENCE_POSTS]]
    if len(findings) > EVIDENCE_POSTS:
        parts.append(f"+{len(findings) - EVIDENCE_POSTS} more posts")
    return clean_evidence(" | ".join(parts), FINDING_EVIDENCE_LIMIT)


def without_bodies(harvest: Harvest) -> Harvest:
    """The harvest with every body dropped: bodies live for one poll only."""
    if not any(i.body for i in harvest.items):
        return harvest
    return replace(
        harvest, items=tuple(replace(i, body="") if i.body else i for i in harvest.items)
    )
