"""Mail HTML as the agent sees it: inert markup, links that open safely, and readable text."""

from __future__ import annotations

import pytest

from chat.email.html_sanitize import (
    HTML_SIZE_LIMIT,
    NESTING_LIMIT,
    email_html_has_remote_images,
    email_html_sanitize,
    email_html_sanitize_noted,
    email_html_to_text,
)

ATTACKS = [
    ("<script>alert(1)</script>hi", "<script"),
    ("<img src=x onerror=alert(1)>", "onerror"),
    ("<svg onload=alert(1)><circle r=1 /></svg>", "<svg"),
    ("<svg><script>alert(1)</script></svg>", "alert"),
    ('<iframe srcdoc="<script>alert(1)</script>"></iframe>', "srcdoc"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', "javascript:"),
    ('<a href="java&#x09;script:alert(1)">x</a>', "script:"),
    ('<a href="&#106;avascript:alert(1)">x</a>', "avascript:"),
    ('<a href="javascript&colon;alert(1)">x</a>', "alert"),
    ('<a href="vbscript:msgbox(1)">x</a>', "vbscript:"),
    ('<a href="data:text/html,<script>alert(1)</script>">x</a>', "data:"),
    ("<style>body{background:url(https://t.example/x)}</style>", "<style"),
    ('<p style="position:fixed;background:url(https://t.example/x)">x</p>', "style="),
    ('<base href="https://evil.example/">', "<base"),
    ('<meta http-equiv="refresh" content="0;url=https://evil.example">', "http-equiv"),
    ('<link rel="stylesheet" href="https://evil.example/x.css">', "<link"),
    ('<form action="https://evil.example"><input name="pw"></form>', "<input"),
    ('<object data="https://evil.example/x.swf"></object>', "<object"),
    ('<embed src="https://evil.example/x.swf">', "<embed"),
    ("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "onerror"),
    ('<div onclick="alert(1)" onmouseover="alert(2)">x</div>', "alert"),
    ("<!-- <script>alert(1)</script> -->x", "<!--"),
    ('<img src="data:image/png;base64,AAAA">', "data:"),
    ('<table background="https://t.example/x.png"><tr><td>x</td></tr></table>', "background"),
    ('<div class="modal-backdrop" id="login">x</div>', "modal"),
    ('<a href="/account/delete">relative</a>', "/account"),
    ('<a href="//evil.example/x">protocol-relative</a>', "evil.example"),
]


@pytest.mark.parametrize(("html", "dangerous"), ATTACKS, ids=[d for _, d in ATTACKS])
def test_attacks_come_out_inert(html, dangerous):
    assert dangerous in html.lower() or dangerous == "alert"
    assert dangerous not in email_html_sanitize(html).lower()


def test_links_open_in_a_new_tab_without_referrer_or_opener():
    out = email_html_sanitize(
        '<a href="https://shop.example/track?id=1&amp;x=2" rel="opener">t</a>'
    )
    assert out == (
        '<a href="https://shop.example/track?id=1&amp;x=2" target="_blank" '
        'rel="noopener noreferrer nofollow">t</a>'
    )


@pytest.mark.parametrize(
    ("html", "kept"),
    [
        ('<a href="mailto:help@shop.example">m</a>', 'href="mailto:help@shop.example"'),
        ('<a href="http://shop.example/">h</a>', 'href="http://shop.example/"'),
        ('<img src="cid:image001.png@01DB6021">', 'src="cid:image001.png@01DB6021"'),
        (
            '<img src="https://cdn.shop.example/a.png" alt="a">',
            'src="https://cdn.shop.example/a.png"',
        ),
    ],
)
def test_allowed_url_schemes_are_kept(html, kept):
    assert kept in email_html_sanitize(html)


def test_cid_is_only_for_images_and_mailto_only_for_links():
    assert "href" not in email_html_sanitize('<a href="cid:x@y">x</a>')
    assert "src" not in email_html_sanitize('<img src="mailto:a@b">')


def test_mail_layout_survives():
    html = (
        '<table width="600" cellpadding="0" border="0"><tr><td colspan="2" align="center" '
        'bgcolor="#ffffff" style="padding:0">Hi</td></tr></table><font color="red" face="Arial">'
        'x</font><ol start="3"><li>three</li></ol><blockquote type="cite">q</blockquote>'
    )
    assert email_html_sanitize(html) == (
        '<table width="600" cellpadding="0" border="0"><tbody><tr><td colspan="2" '
        'align="center" bgcolor="#ffffff">Hi</td></tr></tbody></table><font color="red" '
        'face="Arial">x</font><ol start="3"><li>three</li></ol><blockquote type="cite">q'
        "</blockquote>"
    )


def test_only_the_quote_markers_of_mail_clients_keep_a_class_or_id():
    html = (
        '<div class="gmail_quote gmail_quote_container">a</div>'
        '<div id="divRplyFwdMsg" class="x">b</div><div id="app">c</div>'
    )
    assert email_html_sanitize(html) == (
        '<div class="gmail_quote">a</div><div id="divRplyFwdMsg">b</div><div>c</div>'
    )


def test_escaped_markup_stays_text():
    html = (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; a&nbsp;b &copy; a &lt 3</p>"
        '<a title="x&quot; onmouseover=&quot;alert(1)" href="https://x.example/?a=1&amp;b=2">l</a>'
    )
    out = email_html_sanitize(html)

    assert out == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; a&nbsp;b © a &lt; 3</p>"
        # The quotes stay inside the title: no onmouseover attribute appears.
        '<a title="x&quot; onmouseover=&quot;alert(1)" href="https://x.example/?a=1&amp;b=2" '
        'target="_blank" rel="noopener noreferrer nofollow">l</a>'
    )
    assert email_html_to_text(out) == "<script>alert(1)</script> &amp; a b © a < 3\n\nl"


def test_private_use_characters_in_the_mail_are_not_turned_into_markup():
    # The sanitizer carries "&" "<" through html5ever as private-use placeholders.
    out = email_html_sanitize("<p>\ue000\ue001script\ue002</p>")
    assert "script" in out and "&" not in out.replace("\ufffd", "")


def test_oversized_html_is_cut_and_says_so():
    html = "<p>" + "x" * (HTML_SIZE_LIMIT + 10) + "</p>"
    out, note = email_html_sanitize_noted(html)

    assert len(out) <= HTML_SIZE_LIMIT + len("<p></p>")
    assert note and "2,000,000" in note
    assert email_html_sanitize_noted("<p>small</p>") == ("<p>small</p>", None)


@pytest.mark.parametrize("unit", ["<div>", "<blockquote>", "<b><div></b>", "<li><ul>", "<b></p>"])
def test_nesting_beyond_the_limit_is_cut_and_says_so(unit):
    out, note = email_html_sanitize_noted("<p>before</p>" + unit * (NESTING_LIMIT * 4) + "after")

    assert out.startswith("<p>before</p>")
    assert "after" not in out
    assert note and "nested" in note


def test_nesting_that_closes_again_is_not_cut():
    html = ("<div>" * 100 + "x" + "</div>" * 100) * 20
    out, note = email_html_sanitize_noted(html)
    assert note is None and out.count("x") == 20


@pytest.mark.parametrize(
    ("unit", "text"),
    [
        ("&", "&"),
        ("x&nbsp;", "x "),
        ("x\u00a0", "x "),
        ("a&b ", "a&b "),
        ("&no", "&no"),
        ("&not;", "¬"),
        ("a < b ", "a < b "),
    ],
)
def test_entity_heavy_input_is_sanitized_exactly(unit, text):
    # These shapes make html5ever quadratic when fed to it directly; the result stays exact.
    count = 400_000 // len(unit)
    assert email_html_to_text(email_html_sanitize(unit * count)) == (text * count).strip()


@pytest.mark.parametrize(
    ("html", "remote"),
    [
        ('<img src="https://tracker.example/p.gif">', True),
        ('<img alt="a>b" width="1" src="http://x.example/p.gif">', True),
        ('<img src="cid:image001.png@01DB">', False),
        ('<img src="data:image/png;base64,AAAA">', False),
        ('<a href="https://x.example/">no image</a>', False),
        ("<p>src=&quot;https://x.example/&quot;</p>", False),
    ],
)
def test_remote_images_are_detected_in_sanitized_html(html, remote):
    assert email_html_has_remote_images(email_html_sanitize(html)) is remote


def test_text_from_html_puts_blocks_on_lines_and_marks_quotes():
    html = email_html_sanitize(
        "<div>Hi&nbsp;there,</div><div><br></div><p>See   the\n<b>list</b>:</p>"
        "<ul><li>one</li><li>two &amp; three</li></ul>"
        "<table><tr><td>Size</td><td>M</td></tr></table>"
        '<div class="gmail_quote">On Mon, Jan 6, 2025 Shop &lt;s@shop.example&gt; wrote:<br>'
        "<blockquote>Hello,<br><br>it shipped.<blockquote>older</blockquote></blockquote></div>"
        "<pre>  keep\n    this</pre>"
    )
    assert email_html_to_text(html) == (
        "Hi there,\n\nSee the list:\n\n- one\n- two & three\n\nSize M\n\n"
        "On Mon, Jan 6, 2025 Shop <s@shop.example> wrote:\n\n> Hello,\n>\n> it shipped.\n>\n"
        "> > older\n>\n  keep\n    this"
    )


def test_text_from_html_stops_near_the_limit():
    html = email_html_sanitize("<p>word</p>" * 10_000)
    assert len(email_html_to_text(html, limit=100)) < 200
