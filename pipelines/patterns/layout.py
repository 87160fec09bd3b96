"""Page-structure markers: every regex the splitter uses to find the parts of a page.

All patterns run on text ALREADY passed through `pipelines.text.normalize_text`, so they only
need the half-width forms (`提示:` also covers `提示：`). They describe the section markers of
this family of Q&A pages in general (disclaimer, "people also search", related list, footer
noise), not any one page, so unseen pages and layouts with the same conventions parse too.
"""

from __future__ import annotations

import re

from pipelines.text import DATE_PATTERN, EN_DATE_PATTERN

# A robots.txt file (RFC 9309) parsed as a text page: its first line is a directive.
ROBOTS_DIRECTIVE = re.compile(r"^\s*(?:user-agent|disallow|allow|sitemap|crawl-delay)\s*:", re.I)

# Heading that opens the related-items list.
RELATED_HEADING = re.compile(
    r"^(?:相关推荐|相关文章|相关阅读|相关问题|推荐阅读|延伸阅读|猜你喜欢|热门推荐|为你推荐"
    r"|(?i:related(?: articles| posts| questions| reading| stories| topics)?|you (?:may|might) also like"
    r"|recommended(?: reading| for you| articles)?|see also|read next))\s*:?$"
)

# "People also search" block; everything from it to the related heading is boilerplate.
ALSO_SEARCHED = re.compile(r"^(?:大家都在搜|大家还在搜|相关搜索|热门搜索)\s*:?")

# Medical disclaimer line: it and every line after it (up to the related list) is boilerplate.
# The content words are required so that an answer line like `温馨提示:办理时请带身份证` survives.
DISCLAIMER = re.compile(
    r"^(?:温馨|特别|重要)?(?:提示|声明|免责声明)\s*:?\s*.{0,20}?(?:本内容|本文|本信息|本站|仅供参考|不能代替|不能替代|面诊)"
)
# The same disclaimer glued to the end of an answer paragraph (no line break before it).
DISCLAIMER_INLINE = re.compile(r"(?:温馨|特别|重要)?(?:提示|免责声明)\s*:\s*本(?:内容|文|信息)(?:不能|不可|仅供)")

# Source preamble ("compiled from public internet sources ...") opening the answer.
PREAMBLE_START = re.compile(r"^本(?:信息|内容|文|文信息)(?:整理|来源|收集)自")
# Sentences that belong to such a preamble (dropped sentence by sentence from the block start).
PREAMBLE_SENTENCE = re.compile(
    r"整理自|仅供参考|不准确|滞后|核实|官方渠道|联系反馈|反馈至|核查并更新|以官方.*为准"
)
SENTENCE_END = re.compile(r"(?<=[。!?;])")

# Navigation / footer / widget lines that are noise wherever they appear (whole line only).
NOISE_LINE = re.compile(
    r"^(?:(?:首页|顶部|返回顶部|回到顶部|返回首页|网站首页|上一篇|下一篇|上一页|下一页|登录|注册|"
    r"分享|收藏|举报|打印|关闭|更多|查看更多|展开全文|阅读全文|点赞|评论|广告|推广|赞助|"
    r"当前位置|导航|菜单|Home|Top|Back to top|Menu|Search|Share|Advertisement|Sponsored)"
    r"\s*[:>»|/·]?\s*)+$",
    re.I,
)
# Breadcrumb trail (`首页 > 医保问答 > …`, `当前位置:首页 » 问答`): navigation, never a title.
BREADCRUMB = re.compile(r"^(?:当前位置|您的位置|位置)?\s*:?\s*(?:首页|主页|网站首页|Home)\s*(?:[>»›/]|&gt;)", re.I)
# A related item on ONE line: linked title directly followed by its date (`<a>标题</a><span>2025-05-16</span>`,
# `<a>Title</a> May 16, 2025`); read the date with `pipelines.text.date_of_match`.
TRAILING_DATE = re.compile(
    r"^(?P<title>.+?)\s*[|·•(\[]?\s*(?:" + DATE_PATTERN + "|" + EN_DATE_PATTERN + r")\s*[)\]]?$"
)
# Footer lines (copyright, ICP licence, contact) - end of the content area.
FOOTER_LINE = re.compile(r"^(?:copyright|©|\(c\)|版权所有|all rights reserved|关于我们|联系我们|网站地图)", re.I)
# Licence numbers may sit anywhere in a footer line (`京ICP备12345号 京公网安备…`).
FOOTER_ANYWHERE = re.compile(r"ICP备|ICP证|公网安备")

# A related item's meta line: `<category> <date>` (category optional, either order), read by
# `pipelines.split.match_meta`: the date is found with DATE_PATTERN, what surrounds it must be a
# short category label (no digits / sentence punctuation) and/or a time of day.
META_CATEGORY = re.compile(r"^[^\d|·•:,.。,!?;]{1,16}$")
META_SEPARATORS = " |·•/-:"
# The most common meta line, `健康新闻 2025-05-16`: one fullmatch instead of the general search +
# strip + category check (same result; anything else takes the general path in split.match_meta).
META_ISO_LINE = re.compile(r"([^\d|·•:,.。,!?;\s/-]{1,16}) ((?:19|20)\d\d)-(\d\d)-(\d\d)")
META_TIME = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?")
# Field labels around a meta line's parts: `来源:健康新闻 | 时间:2025-05-16`, `Source: X · Date: …`.
META_LABEL_LEAD = re.compile(r"^(?:来源|分类|栏目|频道|出处|标签|source|category)\s*:\s*", re.I)
META_LABEL_TAIL = re.compile(r"\s*(?:(?:发布|更新)?(?:时间|日期)|published|updated|posted|date)\s*:?$", re.I)
# A short category label standing alone on the line before a date-only line.
CATEGORY_ONLY = re.compile(r"^[^\d\s|·•:,.。,!?][^\d|·•:,.。,!?]{0,9}$")

# The page's own publication date right under the title (`发布时间:2025-05-16`, `健康新闻 2025-05-16`).
PUBLISHED_LINE = re.compile(
    r"^(?:(?:发布|更新|发表|编辑)?(?:时间|日期)|published|updated|posted|date)?(?:\s+on)?\s*:?\s*"
    r"(?:" + DATE_PATTERN + "|" + EN_DATE_PATTERN + ")",
    re.I,
)

# One site-name / channel suffix of a <title> ("question - 某某健康网", "question_频道_某某网");
# stripped repeatedly, each shorter form is a title candidate the page body must confirm.
TITLE_SUFFIX = re.compile(r"\s*[-_|–—]+\s*[^-_|–—]{1,30}$")

# class/id tokens marking whole subtrees as ads (dropped) or as page chrome (kept, but never answer).
AD_TOKEN = re.compile(r"(?:^|[\s_-])(?:ad|ads|advert\w*|adsbygoogle|sponsor\w*|promo\w*|banner)(?:$|[\s_-])", re.I)
CHROME_TOKEN = re.compile(
    r"(?:^|[\s_-])(?:nav\w*|menu|header|footer|foot|sidebar|side|aside|breadcrumbs?|crumbs?|toolbar|"
    r"share|social|comments?|copyright|topbar|masthead|widget)(?:$|[\s_-])",
    re.I,
)
