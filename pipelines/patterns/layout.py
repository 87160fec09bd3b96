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

# Heading that opens the related-items list. Decorations around it (`【相关推荐】`, `— 相关阅读 —`,
# `▍猜你喜欢`) and a `更多>>` / `More` link glued to it are allowed.
_HEADING_LEAD = r"^[\s【\[《「『▌▍▎▏|#>»—–\-=*·•]*"
_HEADING_TAIL = r"[\s】\]》」』|—–\-=*·•]*(?::\s*)?(?:(?:查看)?更多\S{0,3}|(?i:more|view all)\S{0,3})?$"
RELATED_HEADING = re.compile(
    _HEADING_LEAD
    + r"(?:相关(?:推荐|文章|阅读|问题|问答|资讯|新闻|知识|内容|链接|话题|专题|疾病|问题推荐|文章推荐|阅读推荐)"
    r"|相關(?:推薦|文章|閱讀|問題|問答|資訊|新聞)|延伸閱讀|推薦閱讀|猜你喜歡"
    r"|推荐(?:阅读|文章|问答|内容)|延伸阅读|扩展阅读|拓展阅读|猜你喜欢|猜你想看|你可能(?:还)?(?:喜欢|感兴趣|想看)"
    r"|相似(?:问题|问答|文章|推荐)|(?:其他|其它|更多)?类似(?:问题|问答)|相关(?:视频|医生|药品|科室|百科)|热门推荐|为你推荐|精彩推荐|(?:大家|网友|其他人)还(?:看了|在看)|看了本文的人还看了|本文相关|(?:喜欢|看过|读过|阅读)(?:此|本|这篇)(?:内容|文章|文)的人还(?:喜欢|看了|在看|看过)"
    r"|(?i:related(?: articles| posts| questions| reading| stories| topics| content| news)?"
    r"|you (?:may|might) also (?:like|be interested in)|recommended(?: reading| for you| articles)?"
    r"|see also|read next|more (?:on this topic|questions|articles|like this)|further reading|people also (?:read|asked)))"
    + _HEADING_TAIL
)
# Headings of OTHER page sections (comments, other answers, hot / latest lists, tag clouds): they
# end the answer and the related list, and a dated link list under them is not a related list.
SECTION_HEADING = re.compile(
    _HEADING_LEAD
    + r"(?:(?:网友|精彩|热门|最新|全部|用户|读者)?(?:评论|留言|回复|点评)(?:区|列表)?(?:\s*[(\[]?\d+[)\]]?(?:条|个)?)?"
    r"|\d+\s*(?:条)?(?:评论|回复|留言)|发表(?:评论|回复|留言)|我要(?:评论|留言)|我来说两句|评论区"
    r"|(?:其他|其它|更多|全部)(?:回答|答案|回复|医生回答|网友回答)(?:\s*[(\[]?\d+[)\]]?)?|\d+\s*(?:个|条)回答"
    r"|热门(?:文章|问答|问题|资讯|新闻|排行|标签|阅读|话题|搜索|专题)|(?:最新|近期|最近)(?:文章|问答|问题|资讯|发布|更新|动态)"
    r"|(?:24|48)小时热[点门榜]|今日热[点门榜]|本周热[点门榜]|热点(?:推荐|资讯|新闻|文章)?|热榜|排行榜|点击排行|阅读排行"
    r"|热门|最新|标签|热门标签|友情链接|精选专题|栏目导航|网站导航|熱門(?:文章|問答)|網友評論|其他回答"
    r"|(?i:\d*\s*(?:comments?|responses?|replies|reviews)(?:\s*\(\d+\))?|leave a (?:comment|reply)"
    r"|(?:most )?popular(?: posts| articles| questions)?|trending(?: now)?|(?:latest|recent)(?: posts| articles| news)?"
    r"|other answers?|more answers|tags))"
    + r"[\s】\]》」』|—–\-=*·•]*(?::\s*)?(?:(?:查看)?更多\S{0,3}|(?i:more|view all)\S{0,3})?$"
)
# A reprint notice (`本文为健康网原创,转载请注明出处`): page furniture wherever it stands.
REPRINT_NOTICE = re.compile(r"转载请注明|禁止转载|谢绝转载|未经(?:许可|授权|允许).{0,6}(?:转载|复制|使用)")
# A tag cloud / keyword line (`标签:门诊报销 检查费`, `热门标签:…`, `Tags: …`): page chrome.
TAG_LINE = re.compile(r"^(?:热门)?(?:标签|关键词|关键字|tags?|keywords?)\s*:", re.I)

# "People also search" block; everything from it to the related heading is boilerplate.
ALSO_SEARCHED = re.compile(r"^(?:大家都在搜|大家还在搜|相关搜索|热门搜索)\s*:?")

# Medical disclaimer line: it and every line after it (up to the related list) is boilerplate.
# The content words are required so that an answer line like `温馨提示:办理时请带身份证` survives.
DISCLAIMER = re.compile(
    r"^(?:温馨|特别|重要|版权|郑重)?(?:提示|声明|免责声明|免責聲明)\s*:?\s*.{0,20}?"
    r"(?:本内容|本內容|本文|本信息|本站|仅供参考|僅供參考|不能代替|不能替代|面诊|面診)"
)
# The same disclaimer glued to the end of an answer paragraph (no line break before it).
DISCLAIMER_INLINE = re.compile(r"(?:温馨|特别|重要)?(?:提示|免责声明)\s*:\s*本(?:内容|文|信息)(?:不能|不可|仅供)")
# English pages: `Disclaimer: … not a substitute for professional medical advice`, `Medical disclaimer`.
DISCLAIMER_EN = re.compile(
    r"^(?:(?:medical |important )?disclaimer\b|(?:please )?note:.{0,80}?(?:not (?:a )?substitute|does not replace|"
    r"cannot replace|not intended to replace)|this (?:article|content|information|page) (?:is|was) "
    r"(?:provided )?for (?:general )?information(?:al)?(?: purposes)? only)",
    re.I,
)

# Source preamble ("compiled from public internet sources ...") opening the answer.
PREAMBLE_START = re.compile(
    r"^(?:本(?:信息|内容|文|文信息|文内容|页信息|页内容|站信息)|以下(?:信息|内容))"
    r"(?:均|系|是)?(?:整理|来源|来自|收集|摘编|转载|综合)(?:自|于)?(?:网络|互联网|公开)?"
)
# Sentences that belong to such a preamble (dropped sentence by sentence from the block start).
PREAMBLE_SENTENCE = re.compile(
    r"整理自|来源于网络|来源于互联网|网络公开|公开资料|公开渠道|仅供参考|不准确|滞后|核实|官方渠道|联系反馈|反馈至"
    r"|核查并更新|以官方.*为准|以当地.*为准|以.{0,12}公布为准"
)
SENTENCE_END = re.compile(r"(?<=[。!?;])")

# Navigation / footer / widget lines that are noise wherever they appear (whole line only).
NOISE_LINE = re.compile(
    r"^(?:(?:首页|顶部|返回顶部|回到顶部|返回首页|网站首页|上一篇|下一篇|上一页|下一页|登录|注册|"
    r"分享|收藏|举报|打印|关闭|展开阅读全文|展开全部|展开更多|收起|收起全文|打印本页|打印本文|关闭窗口|关闭本页|尾页|末页|第\d+页|共\d+页|"
    r"播放|暂停|全屏|退出全屏|倍速|静音|重播|清晰度|高清|标清|画中画|目录|文章目录|本文目录|内容目录|更多|查看更多|展开全文|阅读全文|点赞|评论|广告|推广|赞助|"
    r"当前位置|导航|菜单|搜索|返回|点击咨询|在线咨询|立即咨询|免费咨询|向医生提问|我要提问|在线问诊|"
    r"有用|没用|有帮助|没有帮助|赞同|反对|回复|引用|只看该作者|只看楼主|返回列表|发新帖|发帖|回帖|"
    r"已赞过|已踩过|你对这个回答的评价是\??|加载中|正在加载|加载更多|点击加载更多|点击查看更多|查看全部|阅读原文|在看|赞赏|喜欢作者|赞|"
    r"Home|Top|Back to top|Menu|Search|Share|Advertisement|Sponsored|Helpful|Reply"
    r"|Previous|Next|Print|Sign in|Log in)"
    r"[\s:<>»›|/·∨▼↓+()\[\]\d.…]*)+$",  # ONE separator class per word: nested `\s*` backtracked exponentially
    re.I,
)
# What a pager row may start with before its first word (`1 2 3 下一页`): `is_noise` strips it and
# tries NOISE_LINE again, only for lines that start with a digit and mention 页 (keeps the gate tight).
PAGER_LEAD = "0123456789 |.·"
# Other page-chrome lines, matched on their start: previous/next article links (`上一篇:标题`,
# `下一篇:没有了`), an inline "see also" link inside the body (`相关阅读:标题`), app prompts
# (`打开APP,阅读全文`), share bars, tag clouds, an editor / source credit standing alone (`(责任编辑:周敏)`).
CHROME_LINE = re.compile(
    r"^(?:(?:上一篇|下一篇|上一条|下一条|上一章|下一章|上篇|下篇)\s*[:>]"
    r"|(?:打开|下载|安装)\S{0,6}(?:APP|客户端)|(?:APP|客户端)内?(?:打开|阅读|查看)"
    r"|(?:相关(?:阅读|推荐|文章|链接)|延伸阅读|推荐阅读|(?i:related|see also|read more))\s*:\s*\S"
    r"|分享到\s*:?|(?:一键)?分享(?:至|给)\s*:|(?:热门|相关|本文)?(?:标签|关键词|关键字|tags?|keywords?)\s*:"
    r"|(?:previous|next)(?: article| post| question)?\s*:|share (?:this|on)\b"
    r"|(?:medically |fact[- ]checked and |expert[- ])?(?:reviewed|written|answered|fact[- ]checked) by\b"
    r"|(?:filed|posted) (?:under|in)\s*:|categor(?:y|ies)\s*:|\d+\s*min(?:ute)?s? read$"
    r"|(?:本文|全文)共\s*[\d,]+\s*字|预计阅读(?:时间)?\s*:?\s*\d+\s*分钟|阅读(?:需要|约需|约)\s*\d+\s*分钟"
    r"|(?:(?:文|图|文图|图文)\s*/|本报记者|(?:本报)?(?:记者|通讯员)\s)[^,。;!?]{1,40}$"
    r"|[(\[【-]?\s*(?:完|全文完|本文完|(?i:end|the end))\s*[)\]】-]?$"
    r"|#[^#\s]{1,16}(?:\s+\d+个)?(?:\s+#[^#\s]{1,16}(?:\s+\d+个)?)*$"
    r"|(?:阅读|浏览|点击|播放|在看|点赞)(?:量|数|次数)?\s*:?\s*\d+(?:\.\d+)?\s*[万千wWkK]?\+?\s*次?$"
    r"|(?:楼主|沙发|板凳|地板|\d{1,5}\s*[楼#])(?:\s+(?:发表于|发布于|回复于|于)\s*\S.*)?$"
    r"|(?:本文|原文|本页|文章)(?:链接|地址|网址)\s*:|(?:附件|相关附件|附件下载)\s*\d*\s*:|(?:微信|手机|用微信)?扫一扫|扫描二维码|(?:长按|点击)?(?:关注|订阅)(?:该|本|我们的)?(?:微信)?(?:公众号|微信号)\s*$|[<>‹›«»←→\s]+$|扫码(?:关注|下载|阅读)"
    r"|[(\[]?\s*(?:图片来源|图片来自|图源|图片|配图|摄影|视频来源|视频|原标题|原文标题)\s*:\s*[^,。;!?]{1,30}?\s*[)\]]?$"
    r"|[(\[]?\s*(?:责任编辑|责编|编辑|作者|审核|审核专家|审核医生|医学审核|专家审核|校对|文章来源|本文来源|来源)"
    r"\s*:\s*[^,。;!?]{1,30}?\s*[)\]]?$)",
    re.I,
)
# An attachment link standing alone (`2.政策问答.docx`, `附件1 缴费标准.pdf`): a download, not answer text.
ATTACHMENT_LINE = re.compile(r"^[^。,!?;]{1,80}\.(?:pdf|docx?|xlsx?|pptx?|wps|et|ofd|zip|rar|7z|txt)$", re.I)
ATTACHMENT_LAST_CHARS = frozenset("fcxsptrzdFCXSPTRZD")  # last letter of every extension above
# An empty list's notice (a channel page past its end, a calendar month or search without results):
# with nothing but links around it, the page is navigation (`PageSplit.looks_like_navigation`).
EMPTY_LIST_NOTICE = re.compile(
    r"^[•·]?\s*(?:(?:暂无|暂时没有|本月无|本页无|没有找到|未找到|无)(?:相关|更多|符合条件的)?"
    r"(?:内容|文章|数据|结果|记录|资讯|信息|问答)|no (?:results|articles|posts|entries)(?: found)?)\W*$",
    re.I,
)
# Breadcrumb trail (`首页 > 医保问答 > …`, `当前位置:首页 » 问答`): navigation, never a title.
BREADCRUMB = re.compile(
    r"^(?:当前位置|您的位置|您现在的位置|现在的位置|所在位置|位置|you are here)?\s*:?\s*"
    r"(?:首页|主页|网站首页|Home)\s*(?:[>»›/→]|-{1,2}>?|&gt;)",
    re.I,
)
# A related item on ONE line: linked title directly followed by its date (`<a>标题</a><span>2025-05-16</span>`,
# `<a>Title</a> May 16, 2025`); read the date with `pipelines.text.date_of_match`.
TRAILING_DATE = re.compile(
    r"^(?P<title>.+?)\s*[|·•(\[]?\s*(?:" + DATE_PATTERN + "|" + EN_DATE_PATTERN + r")\s*[)\]]?$"
)
# Footer lines (copyright, ICP licence, contact) - end of the content area.
FOOTER_LINE = re.compile(
    r"^(?:copyright|©|\(c\)|版权所有|all rights reserved|关于我们|联系我们|网站地图|隐私政策|用户协议|广告服务|商务合作"
    r"|about us\b|contact us\b|privacy policy\b|terms of (?:use|service)\b|site ?map\b)",
    re.I,
)
# Licence numbers may sit anywhere in a footer line (`京ICP备12345号 京公网安备…`).
FOOTER_ANYWHERE = re.compile(r"ICP备|ICP证|公网安备")

# A related item's meta line: `<category> <date>` (category optional, either order), read by
# `pipelines.lines.match_meta`: the date is found with DATE_PATTERN, what surrounds it must be a
# short category label (no digits / sentence punctuation) and/or a time of day.
META_CATEGORY = re.compile(r"^[^\d|·•:,.。,!?;]{1,16}(?:·[^\d|·•:,.。,!?;]{1,16})?$")
META_SEPARATORS = " |·•/-:"
# The most common meta line, `健康新闻 2025-05-16`: one fullmatch instead of the general search +
# strip + category check (same result; anything else takes the general path in lines.match_meta).
META_ISO_LINE = re.compile(r"([^\d|·•:,.。,!?;\s/-]{1,16}) ((?:19|20)\d\d)-(\d\d)-(\d\d)")
META_TIME = re.compile(r"^\s*\d{1,2}:\d{2}(?::\d{2})?")
# A date glued to a number before it, the text of two adjacent elements (`<span>03:12</span><span>2025-05-06</span>`,
# `<span>阅读 8625</span><span>2025-04-26</span>`): the year is the four digits before the first `-`.
GLUED_META_DATE = re.compile(r"(?<=\d)(?P<y>(?:19|20)\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
# Field labels around a meta line's parts: `来源:健康新闻 | 时间:2025-05-16`, `Source: X · Date: …`.
META_LABEL_LEAD = re.compile(r"^(?:来源|分类|栏目|频道|出处|标签|source|category)\s*:\s*", re.I)
META_LABEL_TAIL = re.compile(r"\s*(?:(?:发布|更新)?(?:时间|日期)|(?:发布|发表|更新)于|published|updated|posted|date)\s*:?$", re.I)
# Weekday and view / comment counters beside a meta line's date (`星期五`, `阅读 1234`, `568次浏览`).
META_EXTRA = re.compile(
    r"(?:星期|周)[一二三四五六日天]|\d+(?:\.\d+)?\s*[万千wWkK]?\+?\s*(?:次|人)?(?:阅读|浏览|点击|看过|评论|播放)"
    r"|(?:阅读|浏览|点击|评论|播放)(?:量|数|次数)?\s*:?\s*\d+(?:\.\d+)?\s*[万千wWkK]?\+?"
    r"|(?i:\d+\s*(?:views?|reads?|comments?)|(?:views?|reads?)\s*:?\s*\d+)"
)
# A short category label standing alone on the line before a date-only line.
CATEGORY_ONLY = re.compile(r"^[^\d\s|·•:,.。,!?][^\d|·•:,.。,!?]{0,9}$")

# The page's own publication date right under the title (`发布时间:2025-05-16`, `健康新闻 2025-05-16`).
PUBLISHED_LINE = re.compile(
    r"^(?:(?:发布|更新|发表|编辑|提问|回答|上传|创建|修改)?(?:时间|日期|于)|published|updated|posted|date)?"
    r"(?:\s+on)?\s*:?\s*(?:" + DATE_PATTERN + "|" + EN_DATE_PATTERN + ")",
    re.I,
)
# A date line whose other parts are article fields (`作者:李明 发布日期:2025-05-16 点击:905`,
# `来源:某网 2025-05-16 10:30`): also the page's own date when right under the title.
PUBLISHED_FIELD = re.compile(
    r"(?:发布|发表|更新|提问|回答|时间|日期|来源|作者|编辑|责编|浏览|阅读|点击|出处)\s*(?:时间|日期|人|量|数)?\s*:"
    r"|\d{1,2}:\d{2}|\b(?:by|published|updated|posted)\b",
    re.I,
)
# A labelled date standing alone (`回答时间:2025-04-20 18:32`, `更新于 2025/5/16`): meta, not answer text.
DATE_FIELD_LINE = re.compile(
    r"^(?:(?:发布|更新|发表|编辑|提问|回答|回复|上传|创建|修改)(?:时间|日期|于)|时间|日期"
    r"|published|updated|posted|answered|asked)(?:\s+on)?\s*:?\s*"
    r"(?:" + DATE_PATTERN + "|" + EN_DATE_PATTERN + r")\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?$",
    re.I,
)

# Q&A pages: a question-description block above the answer, and the heading of the answer itself
# (a `weak` generic one such as `回答` restarts the answer only after a question description).
QUESTION_LABEL = re.compile(r"^(?:问题描述|问题补充|病情描述|详细描述|健康咨询描述|提问描述|问题详情)\s*:?")
ANSWER_HEADING = re.compile(
    _HEADING_LEAD
    + r"(?:最佳答案|最佳回答|满意答案|推荐答案|精选回答|优质回答|采纳答案|已采纳|医生回答|医生解答|医师回答|医师解答"
    r"|专家回答|专家解答|专家观点|律师解答|权威解答|医生回复|医师回复|专家回复|医生建议|专家建议|(?P<weak>答案|回答|解答|答|网友回答|热心网友回答|用户回答)"
    r"|(?i:best answer|accepted answer|doctor'?s answer|expert answer|(?P<weak_en>answers?)))"
    r"(?:\s*[(\[]?\d+[)\]]?(?:条|个)?)?[\s】\]》」』|—–\-=*·•]*:?$"
)
# The answerer's byline inside an answer block: `<name> <professional title> <hospital / department>`
# (`王建华 主治医师 邢台市人民医院 医保科`), space-separated, no sentence punctuation. A bare doctor
# list line (`张友胜 主任医师`) or a sentence (`建议咨询主治医师`) is answer text.
ANSWERER_LINE = re.compile(
    r"^(?:(?:回答|解答|答疑)?(?:医生|医师|专家|律师|药师)\s*:\s*)?[^\s。,!?;:]{2,12}\s+(?:主任医师|副主任医师|主治医师|住院医师|执业医师|医师|主任药师|主管药师|药师|护师"
    r"|营养师|心理咨询师|律师)\s+[^。,!?;:]{2,40}$"
    r"|^[^\s。,!?;:]{2,12}\s+[^\s。,!?;:]{0,6}(?:咨询师|规划师)$"
    r"|^[^\s。,!?;:]{2,12}\s+(?:采纳率\s*:?\s*\d+(?:\.\d+)?%|擅长\s*:|回答数\s*:?\s*\d)[^。!?;]*$"
)

# One site-name / channel suffix of a <title> ("question - 某某健康网", "question_频道_某某网");
# stripped repeatedly, each shorter form is a title candidate the page body must confirm.
TITLE_SUFFIX = re.compile(r"\s*[-_|–—]+\s*[^-_|–—]{1,30}$")
# ... and a short site / mode name in FRONT of the question (`打印 - 问题`, `健康网 | 问题`).
TITLE_LEAD = re.compile(r"^[^-_|–—]{1,12}?\s+[-_|–—]+\s+(?=\S)")
# A question badge in front of the visible title (`<span>问</span>医保…`, `问:`, `Q:`, `Question:`).
TITLE_LABEL = re.compile(r"^(?:问题?|提问|Q|Question)\s*[:.]?\s*(?=\S)", re.I)
# ... and the matching badge in front of the answer's first paragraph (`<span>答</span>医保…`, `A:`).
ANSWER_LABEL = re.compile(r"^(?:答|回答|A|Answer)\s*[:.]?\s*(?=\S)", re.I)
# A channel tag in front of a <title> (`【问答】…`, `[医保]…`); the stripped form is a candidate too.
TITLE_PREFIX = re.compile(r"^\s*(?:【[^】]{1,10}】|\[[^\]]{1,10}\])\s*")
# A channel tag in front of a related title (`[医保]医保钱不够自费能报销吗`): the item's category.
# A reply / view counter glued after a related title (`<a>标题</a><span>12个回答</span>`): not part of the title.
ITEM_COUNTER = re.compile(
    r"[(\[]?\s*(?:\d+(?:\.\d+)?\s*[万千wWkK]?\+?\s*(?:个|条|次|人)?\s*(?:回答|答案|回复|评论|浏览|阅读|点击|关注|看过|播放)"
    r"|(?:回答|回复|评论|浏览|阅读)\s*:?\s*\d+(?:\.\d+)?\s*[万千wWkK]?)\s*[)\]]?"
)
# A link to a member's profile page (forum / Q&A user names): a block that is only such a link is page furniture.
PROFILE_HREF = re.compile(r"space-uid-\d|mod=space|[?&](?:uid|user_?id)=\d|/(?:user|users|u|member|members|people|profile|space)/[\w.-]+/?$")
# Markdown-flavoured text dumps (`pipelines/markdown.py`): heading hashes, quote marks, bullets, link items.
MD_HEADING = re.compile(r"^#{1,6}\s+")
MD_QUOTE = re.compile(r"^>\s?")
MD_BULLET = re.compile(r"^[-*+]\s+")
MD_LINK_ITEM = re.compile(r"^[-*+]\s+\[(?P<title>[^\]]+)\]\((?P<url>[^)\s]+)\)(?P<rest>.*)$")
ITEM_CATEGORY_PREFIX = re.compile(r"^\s*[\[【]([^\]】\d]{1,8})[\]】]\s*")

# class/id tokens marking whole subtrees as ads (dropped) or as page chrome (kept, but never answer).
AD_TOKEN = re.compile(r"(?:^|[\s_-])(?:ad|ads|advert\w*|adsbygoogle|sponsor\w*|promo\w*|banner)(?:$|[\s_-])", re.I)
CHROME_TOKEN = re.compile(
    r"(?:^|[\s_-])(?:nav\w*|menu|header|footer|foot|sidebar|side|aside|breadcrumbs?|crumbs?|toolbar|"
    r"share|social|comments?|copyright|topbar|masthead|widget|logo|tabbar|bottombar|footbar|toc|pagination|pager)(?:$|[\s_-])",
    re.I,
)

# Related-item dates without a year (`05-16`, `5月16日`; the year comes from the page's own date)
# or relative to the reader's clock (`3天前`, `昨天`, `2 days ago`: no calendar date can be known).
YEARLESS_DATE = re.compile(r"(?<![\d.:/-])(?P<m>0?[1-9]|1[0-2])(?:-|/|月)(?P<d>0?[1-9]|[12]\d|3[01])日?(?![\d:/-])")
RELATIVE_DATE = re.compile(
    r"(?:\d+\s*(?:秒|分钟|小时|天|日|周|个月|月|年)前|刚刚|今天|昨天|前天|半小时前"
    r"|(?i:\d+\s*(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago|just now|today|yesterday))"
)
# A whole line that is only such a loose date (with an optional short category / time of day).
LOOSE_META_LINE = re.compile(
    r"^(?:(?P<cat>[^\d|·•:,.。,!?;\s][^\d|·•:,.。,!?;]{0,15}?)\s*[|·•/-]?\s*)?"
    r"(?P<date>(?:0?[1-9]|1[0-2])(?:-|/|月)(?:0?[1-9]|[12]\d|3[01])日?|" + RELATIVE_DATE.pattern + r")"
    r"(?:\s+\d{1,2}:\d{2})?$"
)
# A linked related title with such a loose date glued to its end (`标题04-18`, `标题 3天前`).
TRAILING_LOOSE_DATE = re.compile(
    r"^(?P<title>.{4,}?)\s*[|·•(\[]?\s*(?P<date>(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])|"
    + RELATIVE_DATE.pattern + r")\s*[)\]]?$"
)


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Every character a match of `pattern` (used with `.match`) can start with, or None when it
    could start with almost anything (a negated class, `.`, a category other than digits/space).

    Lets the splitter skip a marker regex with one set lookup on the line's first character: most
    answer lines and related titles start with a character no marker can start with. Derived from
    the compiled pattern's parse tree so it can never drift from the pattern itself.
    """
    try:
        from re import _constants as c  # noqa: PLC0415 - stdlib internals, 3.11+
        from re import _parser as parser

        found: set[str] = set()
        ok = _first(parser.parse(pattern.pattern, pattern.flags).data, bool(pattern.flags & re.I), found, c)
    except Exception:  # noqa: BLE001 - unknown parse tree shape: no gate, the regex runs as before
        return None
    return frozenset(found) if ok is False else None


_DIGITS_AND_SPACE = {"digit": "0123456789", "space": " \t\n\r\f\v\u3000\xa0"}


def _first(items, ignore_case: bool, found: set[str], c) -> bool | None:
    """Add the first characters of the sequence `items` to `found`. Returns True when the whole
    sequence can match the empty string (the caller must look further), False when not, None when
    the first character is unbounded."""
    for op, av in items:
        if op is c.AT:
            continue
        if op is c.LITERAL:
            ch = chr(av)
            found.update({ch, ch.lower(), ch.upper()} if ignore_case else {ch})
            return False
        if op is c.IN:
            for kind, value in av:
                if kind is c.LITERAL:
                    ch = chr(value)
                    found.update({ch, ch.lower(), ch.upper()} if ignore_case else {ch})
                elif kind is c.RANGE and value[1] - value[0] < 256:
                    chars = {chr(x) for x in range(value[0], value[1] + 1)}
                    found.update(chars | {x.lower() for x in chars} | {x.upper() for x in chars} if ignore_case else chars)
                elif kind is c.CATEGORY and str(value) in ("CATEGORY_DIGIT", "CATEGORY_SPACE"):
                    found.update(_DIGITS_AND_SPACE["digit" if "DIGIT" in str(value) else "space"])
                else:
                    return None  # negated class, wide range, word category
            return False
        if op is c.BRANCH:
            empty = False
            for branch in av[1]:
                sub = _first(branch, ignore_case, found, c)
                if sub is None:
                    return None
                empty = empty or sub
            if not empty:
                return False
            continue
        if op is c.SUBPATTERN:
            add_flags = av[1]
            sub = _first(av[3], ignore_case or bool(add_flags & re.I), found, c)
            if sub is None:
                return None
            if not sub:
                return False
            continue
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, _, body = av
            sub = _first(body, ignore_case, found, c)
            if sub is None:
                return None
            if low > 0 and not sub:
                return False
            continue
        if op is c.CATEGORY and str(av) in ("CATEGORY_DIGIT", "CATEGORY_SPACE"):
            found.update(_DIGITS_AND_SPACE["digit" if "DIGIT" in str(av) else "space"])
            return False
        return None  # ANY, NOT_LITERAL, GROUPREF, assertions...: unbounded
    return True
