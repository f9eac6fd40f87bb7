"""Reading received mail: the corpus of real-shaped messages and the hostile ones.

Every check of a cut, a decode or a cleanup also shows the thing was in the raw message, so a
parser that skipped the step would fail rather than pass by accident.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest
from tnefparse.tnef import TNEF

from chat.email.html_sanitize import email_html_has_remote_images
from chat.email.parsing import TEXT_LIMIT, TRUNCATION_MARKER, ParsedEmail, email_parse
from chat.email.reply_text import reply_text_split
from chat.email.tnef import TnefError, tnef_extract
from tests.chat.email import make_tnef
from tests.chat.email.corpus import corpus_names, corpus_raw, corpus_with_headers

WELL_FORMED = [name for name in corpus_names() if name != "malformed_mime.eml"]
DANGEROUS_IN_HTML = (
    "<script", "onerror", "onload", "onclick", "javascript:", "vbscript:", "data:", "<svg",
    "<iframe", "<style", "<base", "http-equiv", "<meta", "<form", "<input", "<object", "<embed",
    "<link", "style=", "srcdoc",
)  # fmt: skip


def parsed(name: str) -> ParsedEmail:
    return email_parse(corpus_raw(name))


def header_fields(mail: ParsedEmail) -> list[str]:
    values = [mail.subject, mail.from_name, mail.from_address, mail.reply_to, mail.bounce_reason]
    values += [mail.message_id or "", mail.language_hint, mail.parse_error or ""]
    values += mail.in_reply_to + mail.references + mail.to + mail.cc + mail.delivered_to
    values += mail.bounced_recipients
    for attachment in mail.attachments:
        values += [attachment.filename, attachment.content_type, attachment.content_id or ""]
    return values


def test_the_corpus_has_every_client_the_issue_names():
    assert set(corpus_names()) >= {
        "gmail_reply.eml", "outlook_reply.eml", "apple_mail_reply.eml",
        "multipart_alternative.eml", "iso_2022_jp.eml", "gb2312_subject_body.eml",
        "windows_1252.eml", "tnef_winmail.eml", "dsn_bounce.eml", "out_of_office.eml",
        "mailing_list.eml", "inline_image.eml", "hostile_html.eml", "svg_attachment.eml",
        "header_injection.eml", "malformed_mime.eml",
    }  # fmt: skip


# --- every fixture ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", corpus_names())
def test_no_header_derived_value_holds_a_line_break_or_nul(name):
    for value in header_fields(parsed(name)):
        assert "\r" not in value and "\n" not in value and "\x00" not in value, value


@pytest.mark.parametrize("name", WELL_FORMED)
def test_well_formed_mail_reports_no_parse_error(name):
    assert parsed(name).parse_error is None


@pytest.mark.parametrize("name", corpus_names())
def test_html_of_every_fixture_is_inert(name):
    html = parsed(name).html.lower()
    for dangerous in DANGEROUS_IN_HTML:
        assert dangerous not in html, dangerous


@pytest.mark.parametrize("name", corpus_names())
def test_crlf_as_over_smtp_reads_the_same_as_the_stored_lf(name):
    stored, sent = email_parse(corpus_raw(name)), email_parse(corpus_raw(name, crlf=True))
    for field in ParsedEmail.__dataclass_fields__:
        if field != "attachments":
            assert getattr(sent, field) == getattr(stored, field), field
    assert [(a.filename, a.content_type) for a in sent.attachments] == [
        (a.filename, a.content_type) for a in stored.attachments
    ]


@pytest.mark.parametrize("name", corpus_names())
def test_a_cut_off_message_never_raises(name):
    raw = corpus_raw(name)
    for end in range(0, len(raw), max(1, len(raw) // 23)):
        result = email_parse(raw[:end])
        assert isinstance(result, ParsedEmail)


# --- replies from each client -----------------------------------------------------------------


def test_gmail_reply():
    mail = parsed("gmail_reply.eml")

    assert mail.subject == "Re: [#1001] Where is my order #4711?"
    assert (mail.from_name, mail.from_address) == ("Anna Schmidt", "anna.schmidt.1987@gmail.com")
    assert mail.to == ["support@shop.example"]
    assert mail.message_id == "CAJx9pLr3kT6yW9bQ1n8sVd2Fh0cXe4uM7zRg5oPq@mail.gmail.com"
    assert mail.in_reply_to == ["20250106094512.1001.a1b2c3d4e5f6@mail.localhost"]
    assert mail.references == [
        "CAJx9pLq8vV0h2K=r5m_1yN7GZ0bqYx3Tg5hW2uE1oA@mail.gmail.com",
        "20250106094512.1001.a1b2c3d4e5f6@mail.localhost",
    ]
    assert mail.delivered_to == ["demo@mail.localhost", "support@shop.example"]
    assert mail.date == datetime(2025, 1, 6, 10, 31, tzinfo=UTC)
    assert mail.visible_text == (
        "Hi,\n\nthe parcel still hasn’t arrived. The tracking page says “delivered” but nothing "
        "is here.\n\nThanks,\nAnna"
    )
    for cut in ("-- \nAnna Schmidt\nBerlin", "wrote:", "> 00340434161094042557."):
        assert cut in mail.text and cut in mail.quoted_text and cut not in mail.visible_text
    assert mail.quoted_text.startswith("-- \nAnna Schmidt")
    assert '<div class="gmail_quote">' in mail.html and "<blockquote" in mail.html
    assert not mail.auto_submitted and mail.attachments == []


def test_outlook_web_reply():
    mail = parsed("outlook_reply.eml")

    assert mail.subject == "RE: [#1002] Your invoice for order #4712"
    assert mail.language_hint == "en-US"
    assert mail.visible_text == (
        "Hello,\n\nI still need the invoice as a PDF for my tax return. Could you send it again?"
        "\n\nKind regards\nJohn Miller\nContoso Ltd."
    )
    assert mail.quoted_text.startswith(
        "________________________________\nFrom: Shop Support <support@shop.example>\nSent:"
    )
    assert "the invoice for order #4712 is attached" in mail.text
    assert "the invoice for order #4712 is attached" not in mail.visible_text
    assert 'id="divRplyFwdMsg"' in mail.html and "<b>From:</b>" in mail.html


def test_outlook_desktop_plain_text_reply():
    mail = parsed("outlook_original_message.eml")

    assert mail.visible_text == (
        "Hi,\n\nyes, please ship it to 12 Elm Street, Springfield instead.\n\nThanks,\nSarah"
    )
    assert mail.quoted_text.startswith("-----Original Message-----\nFrom: Shop Support")
    assert "should we ship order #4720" in mail.text
    assert "should we ship order #4720" in mail.quoted_text


def test_apple_mail_reply_in_french():
    mail = parsed("apple_mail_reply.eml")

    assert b"=?utf-8?Q?Re=3A_=5B=231003=5D_=C3=89change_de_taille?=" in corpus_raw(
        "apple_mail_reply.eml"
    )
    assert mail.subject == "Re: [#1003] Échange de taille"
    assert mail.visible_text == (
        "Bonjour,\n\nle pull est trop petit, je voudrais l’échanger contre une taille M.\n\n"
        "Merci d’avance,\nClaire"
    )
    assert mail.quoted_text.startswith(
        "> Le 6 janv. 2025 à 10:45, Shop Support <support@shop.example> a écrit :"
    )
    assert "commande n° 4713" in mail.text and "commande n° 4713" not in mail.visible_text
    assert '<blockquote type="cite">' in mail.html


def test_iphone_reply_in_german_drops_the_sent_from_line():
    mail = parsed("iphone_reply_de.eml")

    assert mail.subject == "Re: [#1008] Rücksendung"
    assert mail.visible_text == (
        "Hallo,\n\nich habe die Rücksendung heute bei der Post abgegeben.\n\nViele Grüße\nJonas"
    )
    assert "Von meinem iPhone gesendet" in mail.text
    assert mail.quoted_text.startswith("Von meinem iPhone gesendet\n\n> Am 06.01.2025 um 10:45")
    assert "Rücksendeetikett" in mail.quoted_text


def test_multipart_alternative_takes_text_from_the_plain_part_and_keeps_the_html():
    raw = corpus_raw("multipart_alternative.eml")
    mail = email_parse(raw)

    # format=flowed: the soft line breaks in the raw paragraph are joined again.
    assert b"are customs \nduties included" in raw
    assert mail.text == (
        "Hello,\n\nhow long does delivery to Switzerland usually take, and are customs duties "
        "included in the price shown in the shop? I would like to order the walnut desk "
        "(item 88-204) before the end of the month.\n\nBest,\nPeter\n\n-- \nPeter Novak\nZürich"
    )
    assert mail.visible_text == mail.text.split("\n\n-- \n")[0]
    assert mail.quoted_text == "-- \nPeter Novak\nZürich"
    assert "<b>walnut desk</b>" in mail.html
    assert mail.cc == ["eva.novak@example.net"]
    assert mail.language_hint == "en-US"


# --- charsets ---------------------------------------------------------------------------------


def test_iso_2022_jp_subject_name_and_body():
    raw = corpus_raw("iso_2022_jp.eml")
    mail = email_parse(raw)

    assert b"charset=ISO-2022-JP" in raw and b"\x1b$B" in raw  # really JIS-encoded
    assert mail.subject == "Re: [#1004] 注文番号4714の配送について"
    assert mail.from_name == "山田 太郎"
    assert mail.visible_text == (
        "山田です。\nいつもお世話になっております。\n\n注文した商品がまだ届いていません。\n"
        "配送状況を確認していただけますか。\n\nよろしくお願いいたします。\n山田太郎"
    )
    assert mail.quoted_text.startswith("2025/01/06 10:45 に Shop Support")
    assert "> ご注文の商品は本日発送いたしました。" in mail.quoted_text


def test_gb2312_subject_and_body_including_a_gbk_only_character():
    raw = corpus_raw("gb2312_subject_body.eml")
    mail = email_parse(raw)

    assert b'charset="gb2312"' in raw and b"=?gb2312?B?" in raw
    assert mail.subject == "关于订单4715的退款问题"
    # 喆 is not in GB2312; mailers labelled GB2312 really write GBK, read as GB18030.
    assert mail.from_name == "张喆"
    assert mail.visible_text == (
        "您好，\n\n我在1月3日申请了退款，但是到现在还没有收到。请帮我查一下。\n\n谢谢！\n张喆"
    )
    assert mail.quoted_text.startswith("发件人： Shop Support\n发送时间：")
    assert mail.parse_error is None


def test_windows_1252_text_and_subject():
    raw = corpus_raw("windows_1252.eml")
    mail = email_parse(raw)

    assert b"49,90 =80 twice" in raw  # the euro sign as cp1252 byte 0x80
    assert mail.subject == "Double charge – order #4716"
    assert mail.from_name == "José García"
    assert mail.text == (
        "Hello,\n\nI was charged 49,90 € twice for order #4716 – could you please refund the "
        "duplicate payment?\n\nIt was for the “Café Crème” mug, qty 1.\n\nRegards,\nJosé García"
    )


CHARSET_SAMPLES = [
    ("utf-8", "utf-8", "Grüße – 你好 – こんにちは"),
    ("iso-8859-1", "latin-1", "Grüße aus Köln, à bientôt"),
    ("windows-1252", "cp1252", "“Smart quotes” cost 5 € – dash"),
    ("gb2312", "gb2312", "你好，世界"),
    ("gbk", "gbk", "张喆的订单"),
    ("gb18030", "gb18030", "你好𠀀"),
    ("big5", "big5", "繁體中文測試"),
    ("iso-2022-jp", "iso2022_jp", "日本語のテキスト"),
    ("shift_jis", "shift_jis", "日本語のテキスト"),
    ("euc-jp", "euc_jp", "日本語のテキスト"),
    ("euc-kr", "euc_kr", "안녕하세요"),
    ("koi8-r", "koi8_r", "Привет, мир"),
]


@pytest.mark.parametrize(("label", "codec", "text"), CHARSET_SAMPLES)
def test_declared_charsets_decode_exactly(label, codec, text):
    encoded = text.encode(codec)
    subject = f"=?{label}?B?{base64.b64encode(encoded).decode()}?="
    raw = (
        f"From: a@example.com\nSubject: {subject}\nMIME-Version: 1.0\n"
        f"Content-Type: text/plain; charset={label}\nContent-Transfer-Encoding: base64\n\n"
    ).encode() + base64.encodebytes(encoded)

    mail = email_parse(raw)

    assert (mail.subject, mail.text, mail.parse_error) == (text, text, None)


def test_utf8_labelled_as_latin1_is_read_as_utf8():
    raw = "Content-Type: text/plain; charset=iso-8859-1\n\nGrüße".encode()
    assert email_parse(raw).text == "Grüße"


def test_invalid_bytes_in_a_declared_charset_are_guessed_and_reported():
    raw = b"Content-Type: text/plain; charset=utf-8\n\nOrder 4711: Gr\xfc\xdfe aus K\xf6ln"
    mail = email_parse(raw)

    assert mail.text.startswith("Order 4711: Gr")
    assert "not valid utf-8" in mail.parse_error


def test_an_unknown_charset_is_reported_and_the_text_still_shown():
    raw = b"Content-Type: text/plain; charset=x-made-up\n\nPlease call me back."
    mail = email_parse(raw)

    assert mail.text == "Please call me back."
    assert "Undecodable charset x-made-up" in mail.parse_error


def test_a_character_split_across_two_encoded_words_is_joined():
    encoded = "中文主题".encode()
    first, second = encoded[:4], encoded[4:]  # cuts the second character in half
    raw = (
        f"Subject: =?utf-8?B?{base64.b64encode(first).decode()}?=\n"
        f" =?utf-8?B?{base64.b64encode(second).decode()}?=\n\nx"
    ).encode()
    assert email_parse(raw).subject == "中文主题"


def test_raw_utf8_headers_are_decoded():
    raw = "From: Zoë Müller <zoe@example.de>\nSubject: Rückfrage zu Größe\n\nx".encode()
    mail = email_parse(raw)
    assert (mail.from_name, mail.subject) == ("Zoë Müller", "Rückfrage zu Größe")


def test_raw_8bit_headers_are_read_in_the_charset_of_the_body():
    raw = "Subject: 关于订单的问题\nFrom: 张喆 <z@example.cn>\n".encode("gbk")
    raw += b"Content-Type: text/plain; charset=gb2312\n\n" + "你好".encode("gbk")
    mail = email_parse(raw)
    assert (mail.subject, mail.from_name, mail.text) == ("关于订单的问题", "张喆", "你好")


def test_format_flowed_with_delsp():
    raw = (
        b"Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n\n"
        b"This line was wrapped by the sen \nder's client.\n> quoted and  \n> joined\n"
    )
    assert (
        email_parse(raw).text
        == "This line was wrapped by the sender's client.\n> quoted and joined"
    )


# --- attachments ------------------------------------------------------------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR42mN4zCYMRAwQCgAe3gPx9HcLCAAAAABJRU5ErkJggg=="
)


def test_inline_image_is_kept_with_its_content_id():
    mail = parsed("inline_image.eml")

    [image] = mail.attachments
    assert (image.filename, image.content_type, image.content) == ("image001.png", "image/png", PNG)
    assert image.content_id == "image001.png@01DB6021.5C6D7E80"
    assert image.is_inline
    assert 'src="cid:image001.png@01DB6021.5C6D7E80"' in mail.html
    assert not email_html_has_remote_images(mail.html)
    assert mail.text.startswith("Hello,\n\nthe parcel arrived damaged")


def test_tnef_winmail_dat_is_unpacked_into_its_files():
    raw = corpus_raw("tnef_winmail.eml")
    [winmail] = [
        part
        for part in message_from_bytes(raw, policy=policy.default).walk()
        if part.get_content_type() == "application/ms-tnef"
    ]
    blob = winmail.get_payload(decode=True)
    assert blob == make_tnef.winmail_dat()
    assert [a.long_filename() for a in TNEF(blob).attachments] == [
        make_tnef.INVOICE_NAME,
        make_tnef.PRICE_LIST_NAME,
    ]

    mail = email_parse(raw)

    assert [(a.filename, a.content_type, a.content, a.is_inline) for a in mail.attachments] == [
        ("Invoice 4711.pdf", "application/pdf", make_tnef.INVOICE, False),
        ("Preisübersicht März.xlsx", make_tnef.PRICE_LIST_TYPE, make_tnef.price_list(), False),
    ]
    assert mail.text == "Hello,\n\nplease find the invoice and the price list attached.\n\nJohn"
    assert mail.parse_error is None


def winmail_only(blob: bytes) -> bytes:
    return (
        b'Subject: RTF mail\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b"Content-Type: application/ms-tnef; name=winmail.dat\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(blob) + b"\n--b--\n"
    )


def test_the_body_inside_winmail_dat_is_used_when_the_mail_has_no_text():
    mail = email_parse(winmail_only(make_tnef.winmail_dat()))

    assert mail.text == make_tnef.BODY.replace("\r\n", "\n").strip()
    assert len(mail.attachments) == 2


def test_an_undecodable_winmail_dat_is_kept_as_it_is():
    # Claims four billion MAPI properties in a few bytes: tnefparse would loop for hours.
    bomb = bytes.fromhex("789f3e220100") + bytes.fromhex("01039006000800000000ffffffff")
    bomb += bytes(26)

    mail = email_parse(winmail_only(bomb))

    [kept] = mail.attachments
    assert (kept.filename, kept.content) == ("winmail.dat", bomb)
    assert "winmail.dat could not be decoded" in mail.parse_error


def test_tnef_extract_refuses_what_is_not_tnef():
    for data in (b"", b"PK\x03\x04 not tnef", make_tnef.winmail_dat()[:4]):
        with pytest.raises(TnefError):
            tnef_extract(data)


def test_svg_and_html_attachments_are_kept_byte_for_byte_and_typed_by_their_content():
    mail = parsed("svg_attachment.eml")

    names = {a.filename: a for a in mail.attachments}
    assert set(names) == {"logo.svg", "invoice.html", "photo.png"}
    assert names["logo.svg"].content_type == "image/svg+xml"
    assert b"<script" in names["logo.svg"].content and b'onload="' in names["logo.svg"].content
    assert names["invoice.html"].content_type == "text/html"
    # Declared image/png, but the bytes are HTML: typed as what they are.
    assert names["photo.png"].content_type == "text/html"
    assert names["photo.png"].content.startswith(b"<html><body><script>")


@pytest.mark.parametrize(
    ("declared", "content", "expected"),
    [
        ("application/octet-stream", PNG, "image/png"),
        ("image/gif", b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        ("application/octet-stream", b"GIF89a\x01\x00", "image/gif"),
        ("application/octet-stream", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        ("image/png", b"%PDF-1.7\n", "application/pdf"),
        ("application/octet-stream", b"PK\x03\x04rest", "application/zip"),
        ("text/plain", b'<?xml version="1.0"?>\n<!-- x --><svg xmlns="x"/>', "image/svg+xml"),
        ("image/jpeg", b"\xef\xbb\xbf  <!DOCTYPE html><p>x", "text/html"),
        ("application/pdf", b"just text", "application/pdf"),
    ],
)
def test_attachment_types_are_corrected_by_magic_bytes(declared, content, expected):
    raw = (
        (
            f'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: {declared}\n'
            "Content-Disposition: attachment; filename=file.bin\n"
            "Content-Transfer-Encoding: base64\n\n"
        ).encode()
        + base64.encodebytes(content)
        + b"\n--b--\n"
    )

    [attachment] = email_parse(raw).attachments

    assert (attachment.content_type, attachment.content) == (expected, content)


def test_attachment_names_fall_back_and_long_ones_keep_their_extension():
    long_name = "a" * 300 + ".pdf"
    raw = (
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: application/pdf\n'
        f'Content-Disposition: attachment; filename="{long_name}"\n\n%PDF-1.4\n'
        "--b\nContent-Type: image/png\nContent-Disposition: inline\n"
        "Content-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(PNG).decode()
        + "\n--b\nContent-Type: application/x-thing\n"
        'Content-Disposition: attachment; filename=" ./"\n\nx\n--b--\n'
    ).encode()

    names = [a.filename for a in email_parse(raw).attachments]

    assert names == ["a" * 196 + ".pdf", "image.png", "attachment"]


# --- noise, loops and bounces -----------------------------------------------------------------


def test_dsn_bounce_names_the_failed_recipient_and_why():
    mail = parsed("dsn_bounce.eml")

    assert mail.is_bounce and mail.auto_submitted
    assert mail.bounced_recipients == ["nobody@customer.example"]
    assert mail.bounce_reason == (
        "550 5.1.1 <nobody@customer.example>: Recipient address rejected: User unknown in "
        "virtual mailbox table"
    )
    assert mail.from_address == "mailer-daemon@mail.shop.example"
    [returned] = mail.attachments
    assert returned.content_type == "message/rfc822"
    # The returned mail is ours: its Message-ID says which ticket bounced.
    assert email_parse(returned.content).message_id == "20250106104600.1005.c0ffee00@mail.localhost"


def test_a_delayed_delivery_report_is_not_a_bounce():
    raw = corpus_raw("dsn_bounce.eml")
    assert b"Action: failed" in raw

    mail = email_parse(raw.replace(b"Action: failed", b"Action: delayed"))

    assert not mail.is_bounce and mail.bounced_recipients == [] and mail.bounce_reason == ""


def test_out_of_office_reply_is_automatic_because_of_its_headers():
    assert parsed("out_of_office.eml").auto_submitted
    plain = corpus_with_headers(
        "out_of_office.eml", {"Auto-Submitted": "", "X-Auto-Response-Suppress": ""}
    )
    assert not email_parse(plain).auto_submitted


def test_mailing_list_post_is_automatic_because_of_its_headers():
    assert parsed("mailing_list.eml").auto_submitted
    plain = corpus_with_headers(
        "mailing_list.eml", {"List-Id": "", "Precedence": "", "Return-Path": ""}
    )
    assert not email_parse(plain).auto_submitted


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ({}, False),
        ({"Auto-Submitted": "auto-replied"}, True),
        ({"Auto-Submitted": "auto-generated"}, True),
        ({"Auto-Submitted": "no"}, False),
        ({"Precedence": "bulk"}, True),
        ({"Precedence": "list"}, True),
        ({"Precedence": "junk"}, True),
        ({"Precedence": "first-class"}, False),
        ({"X-Auto-Response-Suppress": "All"}, True),
        ({"List-Id": "<news.shop.example>"}, True),
        ({"Return-Path": "<>"}, True),
        ({"Return-Path": "<postmaster@example.com>"}, True),
        ({"From": "MAILER-DAEMON@mx.example.com (Mail Delivery System)"}, True),
        ({"X-Autoreply": "yes"}, True),
        ({"X-Autorespond": "Thanks for your mail"}, True),
    ],
)
def test_auto_submitted_rules(headers, automatic):
    raw = corpus_with_headers("gmail_reply.eml", headers)
    assert email_parse(raw).auto_submitted is automatic


# --- hostile mail -----------------------------------------------------------------------------


def test_hostile_html_renders_inert_and_its_text_is_readable():
    raw = corpus_raw("hostile_html.eml").decode()
    mail = email_parse(raw.encode())

    for present in ("<script", "onerror=", "javascript:", "<svg", "<iframe", "<base", "http-equiv"):
        assert present in raw.lower()
    html = mail.html.lower()
    for dangerous in DANGEROUS_IN_HTML:
        assert dangerous not in html, dangerous
    assert mail.text.startswith("Dear customer, please verify your account.")
    assert "Order #4718 & friends" in mail.text
    assert "document.cookie" not in mail.text and "alert" not in mail.text
    assert email_html_has_remote_images(mail.html)  # the tracking pixel, blocked until asked


def test_header_injection_stays_on_one_line_and_reaches_no_recipient_list():
    raw = corpus_raw("header_injection.eml")
    subject_line = next(line for line in raw.split(b"\n") if line.startswith(b"Subject:"))
    assert "\r\nBcc:" in str(make_header(decode_header(subject_line[9:].decode())))

    mail = email_parse(raw)

    assert mail.subject == "Refund Bcc: victim@evil.example X-Injected: yes"
    assert mail.from_name == "Mallory Bcc: victim@evil.example"
    assert mail.from_address == "mallory@evil.example"
    assert (mail.to, mail.cc) == (["support@shop.example"], [])
    names = [a.filename for a in mail.attachments]
    assert names == [
        "passwd Bcc: x@evil.example.txt",
        "notes Bcc: x@evil.example.txt",
        "invoicefdp.exe",  # the right-to-left override that showed it as "invoiceexe.pdf" is gone
    ]
    for name in names:
        assert not set(name) & {"/", "\\", "\r", "\n", "\x00", "\u202e"}


def test_malformed_mime_reports_what_is_wrong_and_keeps_what_it_can():
    mail = parsed("malformed_mime.eml")

    assert "missing closing boundary" in mail.parse_error
    assert "x-foo-bar" in mail.parse_error
    assert "base64" in mail.parse_error
    assert mail.text.startswith(
        "Hello, I ordered the blue jacket (order #4724) but received a green one."
    )
    assert [a.filename for a in mail.attachments] == ["order.pdf"]


def test_a_20_mb_body_is_cut_with_a_marker():
    line = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"
    body = (line * (20_000_000 // len(line))).encode()
    raw = b"From: a@example.com\nSubject: huge\nContent-Type: text/plain; charset=utf-8\n\n" + body

    mail = email_parse(raw)

    assert len(raw) > 20_000_000
    assert mail.text.endswith(TRUNCATION_MARKER)
    assert len(mail.text) == TEXT_LIMIT + len(TRUNCATION_MARKER)
    assert mail.text.startswith(line)
    assert "truncated" in mail.parse_error or "dropped" in mail.parse_error


def test_a_huge_html_only_body_is_cut_before_sanitizing():
    paragraph = "<p>Hello <b>world</b> &amp; <a href='https://example.com/a?b=1&amp;c=2'>x</a></p>"
    html = paragraph * (5_000_000 // len(paragraph))
    raw = b"Subject: big\nContent-Type: text/html; charset=utf-8\n\n" + html.encode()

    mail = email_parse(raw)

    assert len(mail.html) < len(html)
    assert "HTML longer than 2,000,000 characters" in mail.parse_error
    assert mail.text.startswith("Hello world & x")


def nested_multiparts(depth: int) -> bytes:
    raw = b'Subject: deep\nContent-Type: multipart/mixed; boundary="b0"\n\n'
    for level in range(1, depth):
        raw += b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (level - 1, level)
    return raw + b"--b%d\nContent-Type: text/plain\n\ndeep text\n" % (depth - 1)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00" * 1000,
        bytes(random.Random(4).randrange(256) for _ in range(50_000)),
        nested_multiparts(60),
        nested_multiparts(3000),
        b"From: " + b'"a\\"' * 20_000 + b" <a@b.example>\n\nx",
        b"To: " + b"," * 60_000 + b"\n\nx",
        b"References: " + b" ".join(b"<id%d@x>" % i for i in range(5000)) + b"\n\nx",
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        + b"--b\nContent-Type: image/png\n\nx\n" * 600,
        b"Content-Type: text/plain; charset=base64\n\nhello",
        b'Content-Type: text/plain; charset="\x00\xff"; ;;; name*0*=x\n\nhello',
        b"Date: Mon, 1 Jan 0001 00:00:00 -1200\nMessage-ID:   \n\nx",
    ],
    ids=[
        "empty", "nul", "random", "nested-60", "nested-3000", "quotes", "commas", "references",
        "600-parts", "codec-not-charset", "garbage-params", "dates-and-blank-id",
    ],
)  # fmt: skip
def test_hostile_structure_never_raises(raw):
    mail = email_parse(raw)

    assert isinstance(mail, ParsedEmail)
    for value in header_fields(mail):
        assert "\r" not in value and "\n" not in value


def test_structure_limits_are_reported():
    assert "nested more than" in email_parse(nested_multiparts(60)).parse_error
    many = (
        b'Content-Type: multipart/mixed; boundary="b"\n\n' + b"--b\nContent-Type: a/b\n\nx\n" * 600
    )
    assert "More than 500 MIME parts" in email_parse(many).parse_error
    unreadable = email_parse(nested_multiparts(3000))
    assert unreadable.parse_error and "deep text" in unreadable.text


def test_ids_dates_and_references_are_normalised():
    raw = (
        b"Message-ID:  < abc@ex\n ample.com >\nIn-Reply-To: <p@x> (Anna's message of Monday)\n"
        b"References: " + b" ".join(b"<r%d@x>" % i for i in range(150)) + b"\n"
        b"Date: Mon, 6 Jan 2025 10:00:00 -0000\n\nx"
    )
    mail = email_parse(raw)

    assert mail.message_id == "abc@example.com"
    assert mail.in_reply_to == ["p@x"]
    assert mail.references == [f"r{i}@x" for i in range(50, 150)]  # the newest 100, in order
    assert mail.date == datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert email_parse(b"Message-ID:   \nDate: yesterday\n\nx").message_id is None
    assert email_parse(b"Date: yesterday\n\nx").date is None


# --- quoted history in each language ----------------------------------------------------------

REPLIES = [
    ("en-gmail", "On Mon, Jan 6, 2025 at 10:14 AM Support <support@shop.example> wrote:\n> hi"),
    (
        "en-gmail-wrapped",
        "On Mon, Jan 6, 2025 at 10:14 AM Shop Support Team <support@shop.example>\nwrote:\n> hi",
    ),
    ("en-apple", "> On Jan 6, 2025, at 10:14, Support <support@shop.example> wrote:\n> \n> hi"),
    ("de-gmail", "Am Mo., 6. Jan. 2025 um 10:14 Uhr schrieb Support <s@shop.example>:\n> hallo"),
    ("de-apple", "> Am 06.01.2025 um 10:14 schrieb Support <support@shop.example>:\n> hallo"),
    ("fr-gmail", "Le lun. 6 janv. 2025 à 10:14, Support <s@shop.example> a écrit :\n> bonjour"),
    ("es-gmail", "El lun, 6 ene 2025 a las 10:14, Support (<s@shop.example>) escribió:\n> hola"),
    ("es-apple", "> El 6 ene 2025, a las 10:14, Support <s@shop.example> escribió:\n> hola"),
    ("pt-gmail", "Em seg., 6 de jan. de 2025 às 10:14, Support <s@shop.example> escreveu:\n> olá"),
    ("zh-gmail", "Support <support@shop.example> 于2025年1月6日周一 10:14写道：\n> 你好"),
    ("zh-apple", "> 2025年1月6日 10:14，Support <support@shop.example> 写道：\n> 你好"),
    ("ja-gmail", "2025年1月6日(月) 10:14 Support <support@shop.example>:\n> こんにちは"),
    ("ja-apple", "> 2025/01/06 10:14、Support <support@shop.example>のメール：\n> こんにちは"),
    ("ja-old-gmail", "2025/01/06 10:14 に Support <s@shop.example> さんは書きました:\n> やあ"),
    (
        "outlook-en",
        "________________________________\nFrom: Support <support@shop.example>\n"
        "Sent: Monday, January 6, 2025 10:14 AM\nTo: Anna\nSubject: RE: Order\n\nHello",
    ),
    (
        "outlook-en-plain",
        "-----Original Message-----\nFrom: Support <support@shop.example>\n"
        "Sent: Monday, January 6, 2025 10:14 AM\nTo: Anna\nSubject: RE: Order\n\nHello",
    ),
    (
        "outlook-de",
        "Von: Support <support@shop.example>\nGesendet: Montag, 6. Januar 2025 10:14\n"
        "An: Anna\nBetreff: AW: Bestellung\n\nHallo",
    ),
    (
        "outlook-fr",
        "De : Support <support@shop.example>\nEnvoyé : lundi 6 janvier 2025 10:14\n"
        "À : Anna\nObjet : RE: Commande\n\nBonjour",
    ),
    (
        "outlook-es",
        "De: Support <support@shop.example>\nEnviado: lunes, 6 de enero de 2025 10:14\n"
        "Para: Anna\nAsunto: RE: Pedido\n\nHola",
    ),
    (
        "outlook-zh",
        "发件人: Support <support@shop.example>\n发送时间: 2025年1月6日 10:14\n收件人: Anna\n"
        "主题: 回复: 订单\n\n你好",
    ),
    (
        "outlook-ja",
        "差出人: Support <support@shop.example>\n送信日時: 2025年1月6日 10:14\n宛先: Anna\n"
        "件名: RE: 注文\n\nこんにちは",
    ),
    ("unknown-language", "пн, 6 янв. 2025 г. в 10:14, Support <s@shop.example>:\n\n> привет"),
]


@pytest.mark.parametrize(("case", "history"), REPLIES, ids=[case for case, _ in REPLIES])
def test_quoted_history_is_cut_in_each_language(case, history):
    split = reply_text_split(f"Thanks, the new part.\n\n{history}\n")

    assert split.visible == "Thanks, the new part."
    assert split.quoted == history


@pytest.mark.parametrize(
    "text",
    [
        "Order details:\nDate: 2025-01-05\nTo: Berlin\nSubject: the blue one",
        "> Which size?\nM please\n> Which colour?\nBlue",
        "On Mon, Jan 6, 2025 Support <s@shop.example> wrote:\n> question?\n\nMy answer below it",
        "Items:\n- one\n- two\nThanks,\nAnna",
    ],
    ids=["fields-without-from", "interleaved", "bottom-posted", "list-and-sign-off"],
)
def test_what_only_looks_like_quoting_stays_visible(text):
    split = reply_text_split(text)
    assert (split.visible, split.quoted) == (text, "")


@pytest.mark.parametrize(
    ("text", "visible", "quoted"),
    [
        ("Hi,\nlate order.\n\nThanks,\nAnna\n-- \nAnna Schmidt\n+49 30 1234", "Hi,\nlate order."
         "\n\nThanks,\nAnna", "-- \nAnna Schmidt\n+49 30 1234"),
        ("Where is it?\n\nSent from my iPhone", "Where is it?", "Sent from my iPhone"),
        ("Wo ist es?\n\nVon meinem iPhone gesendet", "Wo ist es?", "Von meinem iPhone gesendet"),
        ("Où est-il ?\n\nEnvoyé de mon iPhone", "Où est-il ?", "Envoyé de mon iPhone"),
        ("¿Dónde está?\n\nEnviado desde mi iPhone", "¿Dónde está?", "Enviado desde mi iPhone"),
        ("在哪里？\n\n发自我的iPhone", "在哪里？", "发自我的iPhone"),
        ("どこですか？\n\niPhoneから送信", "どこですか？", "iPhoneから送信"),
        ("Where?\n\nGet Outlook for iOS", "Where?", "Get Outlook for iOS"),
    ],
)  # fmt: skip
def test_signatures_are_cut(text, visible, quoted):
    split = reply_text_split(text)
    assert (split.visible, split.quoted) == (visible, quoted)


def test_a_reply_parsed_from_html_only_mail_cuts_the_outlook_block():
    original = message_from_bytes(corpus_raw("outlook_reply.eml"), policy=policy.default)
    html = original.get_body(preferencelist=("html",)).get_content()
    assert 'id="divRplyFwdMsg"' in html

    mail = email_parse(b"Subject: x\nContent-Type: text/html; charset=utf-8\n\n" + html.encode())

    assert mail.visible_text.startswith("Hello,")
    assert mail.visible_text.endswith("Contoso Ltd.")
    assert mail.quoted_text.startswith("From: Shop Support <support@shop.example>")
