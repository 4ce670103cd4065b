"""Hostile input: the stored-XSS corpus of QUALITY T10 (first slice; the target is 150 payloads).

Every XSS payload carries a marker ``xss!`` + two digits (so an element or attribute it produced can
be told apart from ours) and fits an 80-character name field.
"""
import re

XSS_MARKER = re.compile(r"xss!\d\d")  # "!" is in no token, id or URL-safe alphabet: only payloads carry it
TEMPLATE_RESULTS = ("xss1337xss", "xss49xss")  # what the template payloads give if evaluated

XSS_PAYLOADS = [
    # Script elements and closing the element we are in.
    "<script>alert('xss!01')</script>",
    "</title><script>alert('xss!03')</script>",
    "<scr<script>ipt>alert('xss!05')</scr</script>ipt>",
    # Event handlers, old and new.
    "<img src=x onerror=alert('xss!07')>",
    "<body onload=alert('xss!10')>",
    "<details open ontoggle=alert('xss!11')>",
    "<p oncontentvisibilityautostatechange=xss!12() style=content-visibility:auto>",
    "<input autofocus onfocus=alert('xss!15')>",
    "<x onclick=alert('xss!16')>click</x>",
    "<img src=x onerror=&#97;lert('xss!17')>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('xss!19')>",
    "<!--<img src=\"--><img src=x onerror=alert('xss!20')//\">",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('xss!21')>\">",
    # Breaking out of a quoted or unquoted attribute.
    "\"><script>alert('xss!23')</script>",
    "'><img src=x onerror=alert('xss!24')>",
    "\" onmouseover=\"alert('xss!25')",
    "' onfocus='alert(`xss!26`)' autofocus='",
    "x onmouseover=alert('xss!28') y",
    # URLs that run script.
    "javascript:alert('xss!29')",
    "<a href=\"javascript:alert('xss!30')\">x</a>",
    "<a href=\" jav&#x09;ascript:alert('xss!31')\">x</a>",
    "<iframe src=\"javascript:alert('xss!33')\"></iframe>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">xss!34</a>",
    "<form action=\"javascript:alert('xss!37')\"><button>x</button></form>",
    "<svg><a xlink:href=\"javascript:alert('xss!38')\"><text>x</text></a></svg>",
    # Other elements that change the page.
    "<meta http-equiv=\"refresh\" content=\"0;url=https://xss!39.example\">",
    "<base href=\"https://xss!40.example/\">",
    "<style>@import 'https://xss!42.example/x.css';</style>",
    # htmx attributes: a live element would fetch, post or run code without any script tag.
    "<div hx-get=\"/xss!43\" hx-trigger=\"load\">x</div>",
    "<div hx-on:click=\"alert('xss!44')\">x</div>",
    "<button hx-post=\"/auth/logout\" hx-trigger=\"load\">xss!45</button>",
    "\" hx-get=\"/xss!46\" hx-trigger=\"load\" x=\"",
    "' hx-on::load='alert(`xss!47`)' x='",
    "<div hx-vals='{\"xss!49\": 1}' hx-post=/auth/logout hx-trigger=load>",
    # Template injection: must show as typed, never evaluated.
    "xss{{7*7}}xss xss!50",
    "xss{{7*191}}xss xss!51",
    "xss{% print(7*191) %}xss xss!52",
    "{{config.SECRET_KEY}} xss!54",
    "{{''.__class__.__mro__}} xss!55",
    # Encodings and unicode tricks.
    "&lt;script&gt;alert('xss!56')&lt;/script&gt;",
    "%3Cscript%3Ealert('xss!57')%3C/script%3E",
    "\uff1cscript\uff1ealert('xss!58')\uff1c/script\uff1e",
    "<scr\u200bipt>alert('xss!59')</script>",
    "\u202e<img src=x onerror=alert('xss!60')>",
    "\u00a0<svg\u000conload=alert('xss!61')>",
    # Line breaks that would forge server-sent-event fields if a stream wrote user text unprefixed.
    "a\r\nevent: close\r\ndata: <img src=x onerror=alert('xss!66')>",
    "\n\nid: 1\ndata: <svg onload=alert('xss!67')>\n\n",
    # Valid e-mail addresses that are also markup or templates (the invitation field validates).
    "'/onfocus='xss!63'/autofocus='@example.com",
    "xss{{7*191}}xss.xss!64@example.com",
    "xss!65&#39/onfocus=&#39x@example.com",
]
