"""Page classification: `hospital_ranking`, `policy` or `other`, from the title first.

Rules (in order; documented in docs/notes/entities.md):
1. A title asking for one hospital's own facts (…医院几甲, …医院是公立吗) is `other`: it names a
   single hospital, it does not rank hospitals for a condition.
2. A title shaped like a ranking question (…医院排名, 哪个/哪家/什么医院…, 去哪家医院好, 医院有哪些)
   is `hospital_ranking`.
   Unless it is about insurance rules for hospitals (异地就医哪些医院可以直接结算): `policy`.
3. A title naming the insurance/social-security domain (医保, 社保, 养老金, 报销, 缴费, insurance…)
   is `policy`.
4. Otherwise the body decides, cheaply: at least POLICY_BODY_MIN_KEYWORDS distinct policy keywords
   in its first BODY_EVIDENCE_CHARS characters → `policy`; a ranking phrase there → ranking.
   A price mentioned in passing (癌症3000元一针的止痛针) does not make a page a policy.
"""

from __future__ import annotations

from pipelines.patterns import entities as P

__all__ = ["classify", "KINDS"]

KINDS = ("policy", "hospital_ranking", "other")


def classify(title: str, text: str = "") -> str:
    """Kind of a page/related item from its title and (secondary) its text."""
    title = (title or "").lower()  # English pages: patterns are lower-case (no slow IGNORECASE)
    if P.HOSPITAL_FACT_TITLE.search(title):
        return "other"
    if P.RANKING_TITLE.search(title) or (title.isascii() and P.RANKING_TITLE_EN.search(title)) or (
            "医院" in title and any(word in title for word in P.RANKING_TOP_WORDS)) or (
            "哪" in title and P.RANKING_TITLE_MORE.search(title)):
        return "policy" if P.POLICY_OVER_RANKING.search(title) else "hospital_ranking"
    if P.POLICY_KEYWORDS.search(title) or P.POLICY_TITLE_MORE.search(title):
        return "policy"
    head = (text or "")[: P.BODY_EVIDENCE_CHARS].lower()
    if not head:
        return "other"
    if len({m.group().lower() for m in P.POLICY_KEYWORDS.finditer(head)}) >= P.POLICY_BODY_MIN_KEYWORDS:
        return "policy"
    if P.RANKING_TITLE.search(head[:120]) and not P.HOSPITAL_FACT_TITLE.search(head[:120]):
        return "hospital_ranking"
    return "other"
