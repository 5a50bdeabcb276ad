"""Tests for voiceminer.collectors: formats, presets, encodings, dates, rejects, ids."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from voiceminer.collectors import PRESET_NAMES, ColumnMapping, collect, expand_inputs, sniff_file
from voiceminer.errors import InputError
from voiceminer.registry import presets as preset_registry
from voiceminer.types import Comment, Reject

UTC = timezone.utc


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def items(*args, **kwargs) -> list:
    return list(collect(*args, **kwargs))


def comments(*args, **kwargs) -> list[Comment]:
    out = items(*args, **kwargs)
    assert all(isinstance(x, Comment) for x in out), [x for x in out if isinstance(x, Reject)]
    return out


def only_reject(result: list) -> Reject:
    rejects = [x for x in result if isinstance(x, Reject)]
    assert len(rejects) == 1, result
    return rejects[0]


# --- formats ---------------------------------------------------------------------------

def test_csv_basic_fields(tmp_path):
    p = write(tmp_path / "shop.csv", "id,text,date,rating,store\n7,Too slow,2026-08-01,2,Leeds\n")
    (c,) = comments([p])
    assert c.id == "shop:7" and c.source == "shop" and c.text == "Too slow"
    assert c.created_at == datetime(2026, 8, 1, tzinfo=UTC)
    assert c.rating == 2.0 and c.metadata == {"store": "Leeds"}
    assert (c.source_file, c.source_line) == (str(p), 2)


def test_tsv(tmp_path):
    p = write(tmp_path / "a.tsv", "id\tcomment\n1\tfine, really\n2\tmeh\n")
    assert [c.text for c in comments([p])] == ["fine, really", "meh"]


def test_xlsx_rows_and_datetimes(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["id", "feedback", "date", "score"])
    ws.append([1, "Great app", datetime(2026, 3, 1, 12, 30), 9])
    ws.append([None, None, None, None])  # empty row: not a row
    ws.append([2, "   ", "2026-03-02", 3])
    p = tmp_path / "book.xlsx"
    wb.save(p)
    result = items([p])
    assert len(result) == 2
    assert result[0].id == "book:1" and result[0].source_line == 2
    assert result[0].created_at == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    rej = result[1]
    assert isinstance(rej, Reject) and (rej.line, rej.field, rej.reason) == (4, "feedback", "empty text")


def test_json_array_and_wrapped_list(tmp_path):
    records = [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}, 5]
    arr = write(tmp_path / "arr.json", json.dumps(records))
    wrapped = write(tmp_path / "wrapped.json", json.dumps({"meta": {"n": 3}, "data": records}))
    for path in (arr, wrapped):
        result = items([path])
        assert [getattr(x, "text", None) for x in result[:2]] == ["one", "two"]
        assert result[1].source_line == 2
        assert isinstance(result[2], Reject) and result[2].line == 3 and "not an object" in result[2].reason


def test_jsonl_lines_blank_and_invalid(tmp_path):
    p = write(tmp_path / "t.jsonl", '{"id": 1, "text": "a"}\n\n{bad json\n[1]\n{"id": 2, "text": "b"}\n')
    result = items([p])
    assert len(result) == 4  # the blank line is not a row
    assert result[0].source_line == 1 and result[3].source_line == 5
    assert result[1].line == 3 and result[1].reason.startswith("invalid JSON: ")
    assert result[2].line == 4 and "not an object" in result[2].reason


def test_txt_one_comment_per_line(tmp_path):
    p = write(tmp_path / "notes.txt", "Delivery late\n\n   \nLoved the <b>app</b>\n")
    result = comments([p])
    assert [(c.text, c.source_line) for c in result] == [("Delivery late", 1), ("Loved the <b>app</b>", 4)]
    assert result[0].source == "notes" and result[0].id.startswith("notes:h:")


# --- presets ----------------------------------------------------------------------------

APP_STORE = ("Review ID\tDate\tStar Rating\tTitle\tReview\tApp Version\tDevice\n"
             "r1\tAug 03, 2026 14:22\t5\tNice\tWorks well\t2.1\tiPhone\n")
REVIEW_SITE = ("review_id,date,rating,title,review_text,product,region,plan\n"
               "9,2026-09-01,4,Good,Solid product,Widget,EU,pro\n")
HELPDESK = json.dumps({"ticket_id": "T-1", "created_at": "2026-09-29T08:14:00+01:00",
                       "subject": "Refund", "description": "Where is my refund?", "channel": "email",
                       "priority": "high", "customer_id": "C9", "region": "US"}) + "\n"
NPS = "response_id;submitted;nps_score;comment;plan;region\n5;28/09/2026 09:15;9;Love it;pro;EU\n"
CSAT = "response_id,submitted,csat,comment,segment\n1,2026-01-02,4,Helpful agent,smb\n"


@pytest.mark.parametrize("name, filename, content, channel, scale", [
    ("app_store", "export.tsv", APP_STORE, "app_review", 5),
    ("review_site", "reviews.csv", REVIEW_SITE, "review", 5),
    ("helpdesk", "tickets.jsonl", HELPDESK, "email", None),
    ("nps_survey", "nps.csv", NPS, "survey", 10),
    ("csat_survey", "csat.csv", CSAT, "survey", 5),
])
def test_preset_auto_detection_and_explicit(tmp_path, name, filename, content, channel, scale):
    p = write(tmp_path / filename, content)
    (auto,) = comments([p])
    (explicit,) = comments([p], preset=name)
    assert auto == explicit
    assert auto.source == name and auto.id.startswith(f"{name}:")
    assert auto.channel == channel and auto.rating_scale == scale
    assert auto.created_at is not None and auto.text


def test_preset_field_details(tmp_path):
    (app,) = comments([write(tmp_path / "a.tsv", APP_STORE)])
    assert app.id == "app_store:r1" and app.rating == 5
    assert app.metadata == {"title": "Nice", "app_version": "2.1", "device": "iPhone"}
    assert app.created_at == datetime(2026, 8, 3, 14, 22, tzinfo=UTC)
    (ticket,) = comments([write(tmp_path / "t.jsonl", HELPDESK)])
    assert ticket.created_at == datetime(2026, 9, 29, 7, 14, tzinfo=UTC)
    assert ticket.metadata == {"title": "Refund", "priority": "high", "customer_id": "C9", "region": "US"}
    (nps,) = comments([write(tmp_path / "n.csv", NPS)])
    assert nps.created_at == datetime(2026, 9, 28, 9, 15, tzinfo=UTC) and nps.rating == 9


def test_helpdesk_default_channel_and_explicit_channel_wins(tmp_path):
    rec = json.loads(HELPDESK)
    del rec["channel"]
    p = write(tmp_path / "t.jsonl", json.dumps(rec) + "\n")
    assert comments([p])[0].channel == "support_ticket"
    assert comments([write(tmp_path / "u.jsonl", HELPDESK)], channel="web")[0].channel == "web"


def test_a_csv_without_a_header_row_keeps_its_first_row(tmp_path, caplog):
    """A first row with a number or a date in it is data (tweets exported as id,text,label,domain): it is
    line 1, not the column names, and the columns are column_1 ..."""
    p = write(tmp_path / "tweets.csv", "2555041,@FC_Help i need to check my order,0,apparel\n"
                                       '2949495,"@FC_Help Tried enquiries@ and web form, nothing",1,apparel\n')
    with caplog.at_level("WARNING"):
        got = comments([p])
    assert [(c.source_line, c.text) for c in got] == [(1, "@FC_Help i need to check my order"),
                                                       (2, "@FC_Help Tried enquiries@ and web form, nothing")]
    assert got[0].metadata == {"column_1": "2555041", "column_3": "0", "column_4": "apparel"}
    assert "tweets.csv has no header row" in caplog.text
    (mapped, _) = comments([p], mapping=ColumnMapping.parse("text=column_2,id=column_1"))
    assert mapped.id == "tweets:2555041"
    from openpyxl import Workbook  # the same in a workbook

    wb = Workbook()
    wb.active.append([2555041, "Where is my order?", datetime(2026, 3, 1, 12, 30)])
    wb.active.append([2555042, "Still waiting.", datetime(2026, 3, 2, 9, 0)])
    wb.save(tmp_path / "book.xlsx")
    assert [(c.source_line, c.text) for c in comments([tmp_path / "book.xlsx"])] == [
        (1, "Where is my order?"), (2, "Still waiting.")]
    # a header of names, even long survey questions, is still a header
    (survey,) = comments([write(tmp_path / "s.csv", "id,How likely are you to recommend us?,Q3 (2026)\n1,Great,9\n")])
    assert survey.source_line == 2


def test_an_ambiguous_layout_is_not_claimed_by_a_preset(tmp_path):
    """``review_id,review`` fits the app-store and the review-site presets equally: no channel is made up
    and the source is the file's name (restaurant reviews were shown as "app_review" from "app_store")."""
    (c,) = comments([write(tmp_path / "restaurant_reviews.csv", "review_id,review\n7,Lovely pasta.\n")])
    assert (c.source, c.channel, c.id, c.text) == ("restaurant_reviews", None, "restaurant_reviews:7", "Lovely pasta.")
    (named,) = comments([write(tmp_path / "r.csv", "Review ID,Review,Star Rating\n7,Fine.,4\n")])
    assert named.source == "app_store" and named.channel == "app_review"  # "Star Rating" is the app stores'


def test_a_plain_text_column_is_not_traded_for_a_presets_word(tmp_path):
    """``id,text,reason`` (tweets with a labelled reason) was read as an NPS survey whose comment is the
    ``reason`` column: every comment's text was "Customer Service Issue" and its themes were the label's."""
    (c,) = comments([write(tmp_path / "tweets.csv", "id,text,reason\n1,@airline my bag never arrived,Lost Luggage\n")])
    assert (c.text, c.source, c.channel) == ("@airline my bag never arrived", "tweets", None)
    assert c.metadata == {"reason": "Lost Luggage"}
    (survey,) = comments([write(tmp_path / "nps.csv", "response_id,nps_score,reason\n1,3,Too slow\n")])
    assert (survey.text, survey.source, survey.rating) == ("Too slow", "nps_survey", 3)


def test_presets_registered():
    assert set(PRESET_NAMES) == {"app_store", "review_site", "helpdesk", "nps_survey", "csat_survey"}
    assert all(preset_registry.get(n).name == n for n in PRESET_NAMES)


def test_generic_file_is_not_taken_for_a_preset(tmp_path):
    p = write(tmp_path / "plain.csv", "id,text,date,rating\n1,ok,2026-01-01,8\n")
    (c,) = comments([p])
    assert c.source == "plain" and c.rating == 8 and c.rating_scale is None


def test_a_help_desk_api_export_with_nested_fields(tmp_path):
    """Zendesk's ticket JSON: {"tickets": [...]} with the channel nested under "via". It was read without a preset,
    its channel lost inside a metadata object that no segment could use."""
    tickets = [{"id": 101, "created_at": "2026-11-02T09:15:00Z", "subject": "Order late",
                "description": "My order is three hours late.", "status": "open", "via": {"channel": "email"},
                "requester_id": 555, "tags": ["delivery"]}]
    p = write(tmp_path / "tickets.json", json.dumps({"tickets": tickets, "next_page": None, "count": 1}))
    (c,) = comments([p])
    assert (c.source, c.id, c.channel, c.text) == ("helpdesk", "helpdesk:101", "email", "My order is three hours late.")
    assert c.metadata == {"title": "Order late", "status": "open", "requester_id": 555, "tags": ["delivery"]}
    q = write(tmp_path / "n.jsonl", json.dumps({"text": "Late again.", "order": {"region": "north", "lines": 3}}) + "\n")
    assert comments([q])[0].metadata == {"order_region": "north", "order_lines": 3}  # JSON Lines too


def test_a_word_inside_a_column_name_does_not_make_it_the_date(tmp_path, caplog):
    """The airline export (tweet_id,airline_sentiment,...,tweet_created): "airline_sentiment" holds "time", was
    taken for the date, and every row was rejected as "unparseable date 'negative'"."""
    p = write(tmp_path / "Tweets.csv", "tweet_id,airline_sentiment,operating_system,text,tweet_created\n"
                                       "57,negative,ios,@united my bag is lost,2/24/2015 11:35\n")
    (c,) = comments([p])
    assert isinstance(c, Comment) and c.created_at.isoformat() == "2015-02-24T11:35:00+00:00" and c.rating is None
    assert c.metadata == {"airline_sentiment": "negative", "operating_system": "ios"}
    # a column named like a date whose values are no dates is not used (warned), rather than rejecting every row
    q = write(tmp_path / "q.csv", "id,text,created\n1,fine,by Sam\n2,bad,by Ann\n")
    assert all(isinstance(x, Comment) and x.created_at is None for x in comments([q]))
    assert "'created' is named like a date but its values are not dates (e.g. 'by Sam')" in caplog.text
    # named words still count whole and at their start: createdAt, date_opened, Timestamp (UTC)
    r = write(tmp_path / "r.csv", "id,text,createdAt\n1,fine,2026-03-01\n")
    assert comments([r])[0].created_at.isoformat().startswith("2026-03-01")


def test_generic_guess_longest_string_column_and_metadata(tmp_path):
    p = write(tmp_path / "x.csv", "ref,notes,kind\n1,this is the long customer text,a\n2,more words here too,b\n")
    c = comments([p])[0]
    assert c.text == "this is the long customer text"
    assert c.metadata == {"ref": "1", "kind": "a"}


def test_explicit_preset_missing_text_column(tmp_path):
    p = write(tmp_path / "x.csv", "id,body,score\n1,hi,3\n")
    with pytest.raises(InputError) as err:
        items([p], preset="nps_survey")
    msg = str(err.value)
    assert str(p) in msg and "nps_survey" in msg and "text" in msg and "'body'" in msg


def test_unknown_preset(tmp_path):
    p = write(tmp_path / "x.csv", "text\nhi\n")
    with pytest.raises(InputError, match="unknown preset 'nope'"):
        collect([p], preset="nope")


def test_mapping_explicit_and_missing_column(tmp_path):
    p = write(tmp_path / "x.csv", "key,head,body,when,stars,shop\nk1,Hi,There,2026-02-03,4,Leeds\n")
    m = ColumnMapping(text=("head", "body"), id="key", created_at="when", rating="stars",
                      rating_scale=5, rating_min=1, metadata=("shop",))
    (c,) = comments([p], mapping=m, source="web")
    assert c.text == "Hi\nThere" and c.id == "web:k1" and c.rating_scale == 5
    assert c.metadata == {"shop": "Leeds"}
    with pytest.raises(InputError) as err:
        items([p], mapping=ColumnMapping(text="comment"))
    assert str(p) in str(err.value) and "'comment'" in str(err.value) and "'body'" in str(err.value)


def test_mapping_overrides_preset_fields(tmp_path):
    p = write(tmp_path / "n.csv", "response_id;submitted;nps_score;comment;why_text\n1;2026-01-01;9;short;the real reason\n")
    (c,) = comments([p], preset="nps_survey", mapping=ColumnMapping(text="why_text"))
    assert c.text == "the real reason" and c.rating == 9 and c.rating_scale == 10


# --- encodings and delimiters --------------------------------------------------------------

TEXT_WITH_ACCENTS = "id,text\n1,\u201cCaf\u00e9\u201d was na\u00efve \u2013 cr\u00e8me br\u00fbl\u00e9e\n"


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252"),
])
def test_encodings_decoded(tmp_path, encoding, expected):
    p = write(tmp_path / "enc.csv", TEXT_WITH_ACCENTS, encoding)
    assert sniff_file(p).encoding == expected
    (c,) = comments([p])
    assert c.text == "\u201cCaf\u00e9\u201d was na\u00efve \u2013 cr\u00e8me br\u00fbl\u00e9e"
    assert c.id == "enc:1"  # BOM not glued to the header


def test_explicit_wrong_encoding_raises_with_path(tmp_path):
    p = write(tmp_path / "x.csv", "text\n\u201chi\u201d\n", "cp1252")
    with pytest.raises(InputError, match="x.csv"):
        items([p], encoding="utf-8")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_detection(tmp_path, delimiter):
    rows = [["id", "text", "rating"], ["1", "good stuff", "5"], ["2", "bad stuff", "1"]]
    p = write(tmp_path / "d.csv", "".join(delimiter.join(r) + "\n" for r in rows))
    assert sniff_file(p).delimiter == delimiter
    assert [c.text for c in comments([p])] == ["good stuff", "bad stuff"]


def test_quoted_newlines_keep_physical_line_numbers(tmp_path):
    p = write(tmp_path / "q.csv", 'id,text\n1,"line one\nline two, still"\n2,"a\r\nb\nc"\n3,plain\n')
    result = comments([p])
    assert [c.source_line for c in result] == [2, 4, 7]
    assert result[0].text == "line one\nline two, still"


# --- dates ---------------------------------------------------------------------------------

def test_dayfirst_detected_from_data(tmp_path):
    p = write(tmp_path / "d.csv", "text,date\na,03/04/2026\nb,25/04/2026\n")
    assert [c.created_at.month for c in comments([p])] == [4, 4]
    q = write(tmp_path / "m.csv", "text,date\na,03/04/2026\nb,04/25/2026\n")
    assert [(c.created_at.month, c.created_at.day) for c in comments([q])] == [(3, 4), (4, 25)]
    assert comments([p], dayfirst=False)[0].created_at.month == 3


def test_iso_dates_stay_year_first_in_dayfirst_files(tmp_path):
    p = write(tmp_path / "d.csv", "text,date\na,25/04/2026\nb,2026-09-05\n")
    assert comments([p])[1].created_at == datetime(2026, 9, 5, tzinfo=UTC)


def test_naive_dates_read_in_timezone(tmp_path):
    p = write(tmp_path / "d.csv", "text,date\nsummer,2026-07-01 10:00\nwinter,2026-01-15 10:00\naware,2026-07-01T10:00:00+02:00\n")
    got = [c.created_at for c in comments([p], timezone="Europe/London")]
    assert got == [datetime(2026, 7, 1, 9, tzinfo=UTC), datetime(2026, 1, 15, 10, tzinfo=UTC),
                   datetime(2026, 7, 1, 8, tzinfo=UTC)]
    with pytest.raises(InputError, match="time zone"):
        collect([p], timezone="Mars/Base")


def test_epoch_and_empty_dates(tmp_path):
    p = write(tmp_path / "d.csv", "text,date\na,1785000000\nb,1785000000000\nc,\n")
    a, b, c = comments([p])
    assert a.created_at == b.created_at == datetime.fromtimestamp(1785000000, UTC)
    assert c.created_at is None


# --- rejects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["31/02/2026", "not a date", "2026-13-45"])
def test_bad_date_rejected(tmp_path, value):
    p = write(tmp_path / "d.csv", f"text,created\nok,2026-01-01\nhi,{value}\n")
    rej = only_reject(items([p]))
    assert (rej.source_file, rej.line, rej.field) == (str(p), 3, "created")
    assert rej.reason == f"unparseable date '{value}'"


def test_rating_range_and_parsing(tmp_path):
    p = write(tmp_path / "n.csv", "response_id;submitted;nps_score;comment\n"
              "1;;11;too high\n2;;ten;words\n3;;;no score\n4;;7/10;slash\n5;;4.0;float\n")
    result = items([p])
    assert isinstance(result[0], Reject) and (result[0].line, result[0].field) == (2, "nps_score")
    assert result[0].reason == "rating 11 outside 0-10"
    assert isinstance(result[1], Reject) and "not a number" in result[1].reason
    assert result[2].rating is None and result[3].rating == 7 and result[4].rating == 4


def test_empty_text_and_wrong_field_count(tmp_path):
    p = write(tmp_path / "r.csv", "id,text,rating\n1,  ,3\n2,ok,3,extra\n3,short\n4,fine,2,\n")
    r1, r2, r3, c4 = items([p])
    assert (r1.line, r1.field, r1.reason) == (2, "text", "empty text")
    assert r2.line == 3 and r2.reason == "expected 3 fields, found 4"
    assert r3.line == 4 and r3.reason == "expected 3 fields, found 2"
    assert isinstance(c4, Comment)  # a trailing empty field is tolerated


def test_missing_field_in_json_record(tmp_path):
    p = write(tmp_path / "t.jsonl", '{"id": 1, "text": "a"}\n{"id": 2}\n')
    rej = only_reject(items([p]))
    assert (rej.source_file, rej.line, rej.field, rej.reason) == (str(p), 2, "text", "missing field 'text'")


def test_messy_file_balances(tmp_path):
    content = ("id,text,date,rating\n"
               "1,good,2026-01-01,5\n"
               "2,,2026-01-01,5\n"
               '3,"multi\nline",bad-date,5\n'
               "4,ok,2026-01-01,eleven\n"
               "\n"
               "5,too,many,fields,here\n"
               "1,good,2026-01-01,5\n")  # duplicate: still yielded
    result = items([write(tmp_path / "messy.csv", content)])
    # six data rows (the blank line is none), each either a comment or a reject with its own reason
    assert [(x.source_line, x.id) if isinstance(x, Comment) else (x.line, x.field, x.reason) for x in result] == [
        (2, "messy:1"),
        (3, "text", "empty text"),
        (4, "date", "unparseable date 'bad-date'"),
        (6, "rating", "rating 'eleven' is not a number"),
        (8, None, "expected 4 fields, found 5"),
        (9, "messy:1"),
    ]


# --- inputs ----------------------------------------------------------------------------------

def test_folder_and_glob_expansion(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.csv", "a.JSONL", "sub/c.txt", "readme.md", ".hidden.csv"):
        write(tmp_path / name, "text\nx\n")
    names = [p.name for p in expand_inputs([tmp_path])]
    assert names == ["a.JSONL", "b.csv", "c.txt"]
    assert [p.name for p in expand_inputs([str(tmp_path / "*.csv"), tmp_path / "b.csv"])] == ["b.csv"]
    assert len(expand_inputs([str(tmp_path / "**" / "*.txt")])) == 1


def test_bad_inputs_raise(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        expand_inputs([tmp_path / "missing.csv"])
    with pytest.raises(InputError, match=r"\.csv"):
        expand_inputs([write(tmp_path / "notes.md", "x")])
    with pytest.raises(InputError, match="save it as .xlsx"):
        expand_inputs([write(tmp_path / "old.xls", "x")])
    with pytest.raises(InputError, match="matched no"):
        expand_inputs([str(tmp_path / "*.tsv")])


# --- ids -------------------------------------------------------------------------------------

def test_content_ids_stable(tmp_path):
    p = write(tmp_path / "s.csv", "text,date\nSame words,2026-01-01\nSame words,2026-01-02\nSame words,2026-01-01\n")
    first = [c.id for c in comments([p])]
    # pinned (sha256 of source, text and time): the same id in every process and release, so an export
    # ingested again next week finds its comments already stored
    assert first == ["s:h:92c53fe67607dae34225", "s:h:4245d404493d5c680de7", "s:h:92c53fe67607dae34225"]
    assert comments([p], source="other")[0].id.startswith("other:h:")


# --- ColumnMapping.parse -----------------------------------------------------------------------

def test_mapping_parse_good():
    m = ColumnMapping.parse("text=body,id=review_id,created_at=date,rating=stars,meta=product;store")
    assert m == ColumnMapping(text="body", id="review_id", created_at="date", rating="stars",
                              metadata=("product", "store"))
    m2 = ColumnMapping.parse("text=title;body, scale=10, rating_min=0")
    assert m2.text_columns == ("title", "body") and m2.rating_scale == 10 and m2.rating_min == 0


@pytest.mark.parametrize("spec, bad", [("txt=body", "txt"), ("text", "text"), ("scale=big", "scale"),
                                        ("text=a,text=b", "text")])
def test_mapping_parse_bad(spec, bad):
    with pytest.raises(InputError) as err:
        ColumnMapping.parse(spec)
    assert err.value.field == bad and repr(bad) in str(err.value)


def test_html_character_references_become_characters_and_ids_stay(tmp_path):
    # Twitter's API and many web exports escape text: the models should read "&", the report show it
    from voiceminer.types import content_id

    raw = "Staff so rude &amp; they ignored us, it&#39;s &lt;3 hours late. AT&T &notice"
    path = write(tmp_path / "x.csv", f'id,text,date\n1,"{raw}",2026-09-01\n,"{raw}",2026-09-02\n')
    with_id, without_id = comments(path)
    want = "Staff so rude & they ignored us, it's <3 hours late. AT&T &notice"
    assert with_id.text == want and without_id.text == want
    # a row without an id keeps the id of its text as exported, so mining the file again is a duplicate
    assert without_id.id == content_id(without_id.source, raw, without_id.created_at)
