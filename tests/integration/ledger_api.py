#!/usr/bin/env python3
"""The checks of ledger_api.sh (TAP). argv: TMPDIR HOST PORT BUILD_DIR.

The console listener is HOST:PORT (zone lgwan). Users and their TOTP secrets are in
TMPDIR/users.tsv, passwords in TMPDIR/pw.NAME. Sections: somu (staff1, staff2, kacho),
johoseisaku (kacho2, admin, director, ciso, audit)."""
import io
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import zipfile
from urllib.parse import quote

from api_tap import done, https, js, load_users, ok

T, HOST, PORT, B = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
CTX = ssl.create_default_context(cafile=T + "/cert.pem")


def req(method, path, body=None, who=None, headers=None, ctype=None, csrf=True):
    h = dict(headers or {})
    if who:
        tok, sess = SESS[who]
        h["Cookie"] = "sk_session=" + tok
        if csrf and method != "GET":
            h["X-CSRF-Token"] = sess["csrf"]
    if ctype:
        h["Content-Type"] = ctype
    return https(CTX, HOST, PORT, method, path, body, h)


def call(method, path, body=None, who=None, **kw):
    st, h, d = req(method, path, body, who, **kw)
    return st, js(d) or {}, d


USERS = load_users(T)
SESS = {}


def login(name):
    code = subprocess.check_output(["oathtool", "--totp", "-b", USERS[name][1]], text=True).strip()
    st, h, d = req("POST", "/api/session", {"user": name, "password": USERS[name][2], "totp": code})
    m = re.match(r"sk_session=([A-Za-z0-9_-]+);", h.get("Set-Cookie") or "")
    j = js(d) or {}
    ok(st == 200 and m, "login %s (%s)" % (name, USERS[name][0]), (st, d[:200]))
    SESS[name] = (m.group(1) if m else "", j)


for u in USERS:
    login(u)


def err(j):
    return (j.get("error") or {}).get("code")


def audit_records(**q):
    """Audit records (newest first) through the API, as the director (audit)."""
    from urllib.parse import urlencode
    st, j, _ = call("GET", "/api/audit?per_page=200&" + urlencode(q), who="director")
    return j.get("records", []) if st == 200 else []


def count(table, who="director"):
    st, j, _ = call("GET", "/api/ledgers/%s?per_page=500" % table, who=who)
    return j.get("total") if st == 200 else None


# ---- at start, the http role removed the export folder a killed role had left
ok(not os.path.exists(os.path.join(T, "state", ".ledger-export-left")),
   "a left-over .ledger-export-* folder is removed when the http role starts",
   sorted(os.listdir(os.path.join(T, "state"))))

# ---- the schema
st, j, _ = call("GET", "/api/ledgers", who="director")
names = [l["name"] for l in j.get("ledgers", [])]
ok(st == 200 and names == ["assets", "incidents", "exceptions", "training", "entries",
                           "contractors", "inspections", "laws"],
   "GET /api/ledgers (ledger-all): the eight ledgers in order", (st, names))
tables = {t["token"]: t for l in j.get("ledgers", []) for t in l["tables"]}
ok(set(tables) >= {"assets", "incidents", "training-plans", "training-sessions",
                   "training-attendance", "inspections-checklists", "inspections-answers",
                   "inspections-findings", "laws"} and all(t["can_add"] for t in tables.values()),
   "tables by token (training-plans …), every one addable by ledger-all", sorted(tables))
af = {f["key"]: f for f in tables.get("assets", {}).get("fields", [])}
ok(af.get("confidentiality", {}).get("type") == "level"
   and af["confidentiality"].get("levels") == ["3A", "3B", "3C", "2", "1"]
   and af.get("integrity", {}).get("levels") == ["2", "1"]
   and af.get("kind", {}).get("type") == "choice"
   and {"code": "system", "ja": "システム", "en": "system"} in af["kind"].get("choices", [])
   and af.get("section", {}).get("type") == "section" and af.get("zone", {}).get("type") == "zone"
   and af.get("handling", {}).get("type") == "computed" and af.get("name", {}).get("required") is True
   and af["name"].get("ja") == "資産名",
   "assets fields: types as words, choices, the policy's levels per dimension", af.get("confidentiality"))
sf = {f["key"]: f for f in tables.get("training-sessions", {}).get("fields", [])}
ok(sf.get("plan", {}).get("type") == "ref" and sf["plan"].get("ref") == "training-plans",
   "a reference names its table's token", sf.get("plan"))
ok([c["role"] for c in j.get("chain", [])] == ["staff", "sysadmin", "security-director", "ciso"]
   and j["chain"][1].get("name") == "システム管理者",
   "chain: the policy's escalation order with the roles' names", j.get("chain"))
ok({"id": "somu", "name": "総務課", "name_en": "General Affairs"} in j.get("sections", [])
   and set(j.get("zones", [])) == {"mynumber", "lgwan", "internet"}
   and j.get("me", {}).get("user") == "director" and j["me"].get("section") == "johoseisaku"
   and re.match(r"^\d{4}-\d\d-\d\d$", j.get("today", "")) and j.get("zone") == "JST",
   "sections, zones, me, today", {k: j.get(k) for k in ("sections", "zones", "me", "today")})
st, j, _ = call("GET", "/api/ledgers", who="staff1")
ok(st == 200 and [l["name"] for l in j.get("ledgers", [])] == ["incidents"]
   and j["ledgers"][0]["tables"][0]["can_add"] is True,
   "staff (incident-report only) sees the incidents ledger alone, and may add", j.get("ledgers"))
st, j, _ = call("GET", "/api/ledgers", who="audit")
ok(st == 200 and len(j.get("ledgers", [])) == 8
   and not any(t["can_add"] for l in j["ledgers"] for t in l["tables"]),
   "auditor: every ledger, can add to none", st)
st, j, _ = call("GET", "/api/ledgers", who="kacho")
ct = {t["token"]: t["can_add"] for l in j.get("ledgers", []) for t in l["tables"]}
ok(ct.get("assets") is True and ct.get("laws") is True and ct.get("training-attendance") is True
   and ct.get("incidents") is True and ct.get("exceptions") is False
   and ct.get("training-plans") is False,
   "section head: adds to tables with a section field (and incidents), not to others", ct)

# ---- add, get, update, history, each audited with the user
ASSET = {"name": "住民記録システム", "kind": "system", "section": "somu", "manager": "総務 一郎",
         "confidentiality": "3A", "integrity": "2", "availability": "2", "zone": "lgwan"}
st, j, d = call("POST", "/api/ledgers/assets", {"values": ASSET}, who="kacho")
a1 = j.get("id")
ok(st == 201 and a1 == "AS-0001" and j.get("version") == 1 and j.get("created_by") == "kacho"
   and j.get("values", {}).get("section") == "somu" and j.get("text", {}).get("section") == "総務課"
   and j["text"].get("kind") == "システム" and j.get("can_edit") is True
   and "+09:00" in (j.get("created") or "") and j.get("values", {}).get("handling"),
   "section head adds an asset of the own section → 201 record (values, text, computed handling)",
   (st, d[:400]))
recs = audit_records(action="ledger.add", object="assets/" + str(a1))
ok(len(recs) == 1 and recs[0]["actor"] == "kacho", "... audited as ledger.add by kacho", recs)
st, j, _ = call("GET", "/api/ledgers/assets/" + str(a1) + "?lang=en", who="audit")
ok(st == 200 and j.get("text", {}).get("section") == "General Affairs" and j["text"].get("kind") == "system"
   and len(j.get("history", [])) == 1 and j["history"][0].get("by") == "kacho"
   and j["history"][0].get("action") == "ledger.add",
   "auditor reads it: text in the session's language (en), history of one", (st, j))
st, j, d = call("POST", "/api/ledgers/assets/" + str(a1),
                {"version": 1, "values": {"保管場所": "本庁舎 3階", "manager": "総務 二郎"}}, who="kacho")
ok(st == 200 and j.get("version") == 2 and j.get("updated_by") == "kacho"
   and j.get("values", {}).get("location") == "本庁舎 3階",
   "section head updates the own section's asset (a header as key) → 200, version 2", (st, d[:300]))
h = j.get("history", [])
ok(len(h) == 2 and h[1].get("version") == 2 and h[1].get("changes", {}).get("manager") == ["総務 一郎", "総務 二郎"]
   and h[1].get("audit_seq", 0) > 0 and h[1].get("by") == "kacho",
   "history: oldest first, the changed fields with old and new value, the audit record's seq", h)
recs = audit_records(action="ledger.update", object="assets/" + str(a1))
ok(len(recs) == 1 and recs[0]["actor"] == "kacho" and h and recs[0]["seq"] == h[-1].get("audit_seq"),
   "... audited as ledger.update by kacho (the history names that record)", recs)
st, j, _ = call("POST", "/api/ledgers/assets/" + str(a1), {"version": 1, "values": {"location": "別館"}},
                who="kacho")
ok(st == 409 and err(j) == "conflict" and j["error"].get("message") and j["error"].get("message_en")
   and j["error"].get("version") == 2,
   "an update from version 1 after version 2 → 409 conflict (both languages)", j)
st, j, _ = call("GET", "/api/ledgers/assets/" + str(a1), who="kacho")
ok(j.get("values", {}).get("location") == "本庁舎 3階", "... and nothing changed", j.get("values"))
st, j, _ = call("POST", "/api/ledgers/assets/" + str(a1), {"values": {"location": "別館"}}, who="kacho")
ok(st == 400, "an update without version → 400", st)

# section rights
OTHER = dict(ASSET, name="庁内LAN", section="johoseisaku", kind="system")
st, j, _ = call("POST", "/api/ledgers/assets", {"values": OTHER}, who="kacho")
ok(st == 403 and err(j) == "forbidden", "section head adds an asset of another section → 403", (st, j))
st, j, _ = call("POST", "/api/ledgers/assets", {"values": dict(OTHER, section="情報政策課")}, who="kacho")
ok(st == 403, "... also when the section is named by its Japanese name", st)
st, j, _ = call("POST", "/api/ledgers/assets", {"values": OTHER}, who="director")
a2 = j.get("id")
ok(st == 201 and a2 == "AS-0002", "ledger-all adds an asset of any section → 201", (st, j))
st, j, _ = call("POST", "/api/ledgers/assets/" + str(a2), {"version": 1, "values": {"location": "x"}},
                who="kacho")
ok(st == 403 and err(j) == "forbidden", "section head edits another section's asset → 403", (st, j))
st, j, _ = call("POST", "/api/ledgers/assets/" + str(a1),
                {"version": 2, "values": {"section": "johoseisaku"}}, who="kacho")
ok(st == 403, "section head moves an own asset to another section → 403", (st, j))
st, j, _ = call("POST", "/api/ledgers/assets/" + str(a1),
                {"version": 2, "values": {"所管課": " Information Policy "}}, who="kacho")
ok(st == 403, "... also by header and English name with spaces", (st, j))
st, j, _ = call("GET", "/api/ledgers/assets/" + str(a1), who="kacho")
ok(j.get("version") == 2 and j.get("values", {}).get("section") == "somu", "... nothing changed", j)
st, j, _ = call("GET", "/api/ledgers/assets/" + str(a2), who="kacho")
ok(st == 200 and j.get("can_edit") is False, "section head reads another section's asset, can_edit false", j)
st, j, _ = call("POST", "/api/ledgers/assets/" + str(a2), {"version": 1, "values": {"location": "サーバ室"}},
                who="director")
ok(st == 200 and j.get("version") == 2, "ledger-all edits any asset → 200", (st, j))
st, j, _ = call("POST", "/api/ledgers/assets/" + str(a1), {"version": 2, "values": {"location": "書庫"}},
                who="director")
ok(st == 200 and j.get("updated_by") == "director", "... also the other section's", (st, j))
st, j, _ = call("POST", "/api/ledgers/exceptions",
                {"values": {"what": "x", "why": "y", "requested_by": "a", "approved_by": "b",
                            "from": "2026-04-01", "until": "2026-05-01"}}, who="kacho")
ok(st == 403, "section head adds to a table without a section field (exceptions) → 403", st)
st, j, _ = call("POST", "/api/ledgers/assets", {"values": dict(ASSET, section=None, name="無所属")},
                who="kacho")
ok(st == 201 and j.get("values", {}).get("section") == "somu",
   "section head adds without a section: the own section is used", (st, j))
st, j, d = call("POST", "/api/ledgers/assets", {"values": dict(ASSET, confidentiality="9", zone="mars")},
                who="kacho")
probs = j.get("error", {}).get("problems", [])
ok(st == 400 and err(j) == "invalid" and any(p["field"] == "confidentiality" and p["message"]
                                             and p["message_en"] for p in probs)
   and any(p["field"] == "zone" for p in probs) and all(p["line"] == 0 for p in probs),
   "a bad level and an unknown zone → 400 invalid with problems in both languages", (st, d[:400]))
st, j, d = call("POST", "/api/ledgers/assets", {"values": dict(ASSET, color="red")}, who="kacho")
probs = j.get("error", {}).get("problems", [])
ok(st == 400 and err(j) == "invalid" and [p["field"] for p in probs] == ["color"],
   "an unknown field → 400 invalid naming it", (st, d[:300]))
st, j, _ = call("POST", "/api/ledgers/assets", {"values": dict(ASSET, name=5)}, who="kacho")
ok(st == 400 and err(j) == "bad-request", "a value that is not a string → 400", (st, j))
st, j, _ = call("POST", "/api/ledgers/nothing", {"values": ASSET}, who="director")
ok(st == 404, "an unknown table → 404", st)

# the auditor changes nothing
st1, j1, _ = call("POST", "/api/ledgers/assets", {"values": ASSET}, who="audit")
st2, j2, _ = call("POST", "/api/ledgers/assets/" + str(a1), {"version": 3, "values": {"note": "x"}}, who="audit")
st3, j3, _ = call("POST", "/api/ledgers/assets/import", b"name\n", who="audit", ctype="text/csv")
ok(st1 == 403 and st2 == 403 and st3 == 403 and err(j1) == err(j2) == err(j3) == "forbidden",
   "auditor: add, update and import → 403", (st1, st2, st3))
recs = audit_records(action="console-refused", actor="audit")
ok(len(recs) >= 3, "... each refusal on record (console-refused)", len(recs))

# ---- incidents: staff see their own
INC = {"what": "USB メモリの紛失", "severity": "medium"}
st, j, d = call("POST", "/api/ledgers/incidents", {"values": INC}, who="staff1")
i1 = j.get("id")
ok(st == 201 and i1 and j.get("values", {}).get("found_by") == "staff1"
   and re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d$", j["values"].get("found_at", "")),
   "staff reports an incident: found_by is the user, found_at now", (st, d[:300]))
st, j, _ = call("POST", "/api/ledgers/incidents", {"values": dict(INC, what="誤送信")}, who="staff2")
i2 = j.get("id")
ok(st == 201 and i2 and i2 != i1, "another staff member reports one", (st, j))
st, j, _ = call("GET", "/api/ledgers/incidents", who="staff1")
ok(st == 200 and [r["id"] for r in j.get("records", [])] == [i1] and j.get("total") == 1
   and j["records"][0].get("can_edit") is False,
   "staff lists incidents: only their own", j)
st, j, _ = call("GET", "/api/ledgers/incidents/" + str(i2), who="staff1")
ok(st == 404, "staff reads another's incident → 404", st)
st, j, _ = call("POST", "/api/ledgers/incidents/%s/step" % i2, {}, who="staff1")
ok(st == 404, "staff signs a step of another's incident → 404", st)
st, j, _ = call("GET", "/api/ledgers/assets", who="staff1")
ok(st == 403, "staff lists assets → 403", st)
st, j, _ = call("POST", "/api/ledgers/incidents/" + str(i1), {"version": 1, "values": {"result": "x"}},
                who="staff1")
ok(st == 403, "staff updates an incident directly → 403 (the chain goes through the step route)", st)
st, j, _ = call("POST", "/api/ledgers/incidents",
                {"values": dict(INC, **{"chain.ciso.at": "2026-01-01 10:00", "chain.ciso.by": "staff1"})},
                who="staff1")
ok(st == 403, "staff cannot sign steps while adding → 403", (st, j))
st, j, _ = call("GET", "/api/ledgers/incidents", who="admin")
ok(st == 200 and j.get("total") == 2, "a reader of every ledger lists both incidents", j.get("total"))

# ---- the chain, walked by four users
def step(who, note=None, iid=None):
    return call("POST", "/api/ledgers/incidents/%s/step" % (iid or i1), {"note": note} if note else {},
                who=who)


st, j, d = step("director")
ok(st == 403 and err(j) == "forbidden" and j["error"].get("step") == "staff",
   "director first → 403 with step staff", (st, d[:300]))
st, j, d = step("staff1", "USB を探しましたが見つかりません")
v = j.get("values", {})
ok(st == 200 and v.get("chain.staff.by") == "staff1"
   and re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d$", v.get("chain.staff.at", ""))
   and "[職員] USB を探しましたが見つかりません" in v.get("actions", ""),
   "staff signs the first step (time, name, the note in actions)", (st, d[:400]))
st, j, d = step("director")
ok(st == 403 and j.get("error", {}).get("step") == "sysadmin", "director before the sysadmin → 403 step sysadmin",
   (st, d[:300]))
st, j, d = step("kacho")
ok(st == 403, "a section head (not in the chain) → 403", st)
st, j, _ = step("admin", "端末の利用停止")
ok(st == 200 and j.get("values", {}).get("chain.sysadmin.by") == "admin"
   and j["values"].get("actions", "").count("\n") == 1, "sysadmin signs the second step", (st, j.get("values")))
st, j, _ = step("director")
ok(st == 200 and j.get("values", {}).get("chain.security-director.by") == "director",
   "security director signs the third", st)
st, j, _ = step("ciso")
ok(st == 200 and j.get("values", {}).get("chain.ciso.by") == "ciso" and j.get("version") == 5,
   "CISO signs the last (version 5)", (st, j.get("version")))
st, j, _ = step("ciso")
ok(st == 409 and err(j) == "conflict", "every step signed → 409", (st, j))
recs = audit_records(action="ledger.update", object="incidents/" + str(i1))
ok(sorted(r["actor"] for r in recs) == ["admin", "ciso", "director", "staff1"],
   "each step is an audit record naming its signer", [r["actor"] for r in recs])
st, j, _ = call("GET", "/api/ledgers/incidents/" + str(i1), who="staff1")
ok(st == 200 and [x["by"] for x in j.get("history", [])] == ["staff1", "staff1", "admin", "director", "ciso"],
   "the reporter still reads it, with the history of the chain", [x.get("by") for x in j.get("history", [])])
st, j, _ = step("audit", iid=i2)
ok(st == 403, "auditor signs a step → 403", st)

# ---- search, sort, filters, paging
for nm, sec, kind in (("財務会計システム", "johoseisaku", "system"), ("文書管理システム", "somu", "system"),
                      ("Web サイト", "johoseisaku", "information")):
    st, j, _ = call("POST", "/api/ledgers/assets", {"values": dict(ASSET, name=nm, section=sec, kind=kind)},
                    who="director")
    ok(st == 201, "add asset %s" % nm, st)
st, j, _ = call("GET", "/api/ledgers/assets?q=" + quote("システム") + "&sort=name", who="audit")
got = [r["values"]["name"] for r in j.get("records", [])]
ok(st == 200 and got == sorted(got) and set(got) >= {"住民記録システム", "財務会計システム", "文書管理システム"}
   and "Web サイト" not in got, "q searches values and their text; sort by a field", got)
st, j, _ = call("GET", "/api/ledgers/assets?q=" + quote("情報政策") + "&desc=1&sort=name", who="audit")
got = [r["values"]["name"] for r in j.get("records", [])]
ok(st == 200 and got == sorted(got, reverse=True) and "Web サイト" in got and "住民記録システム" not in got,
   "q matches a section's name (text); desc=1 reverses", got)
st, j, _ = call("GET", "/api/ledgers/assets?f.section=somu&f.kind=system", who="audit")
got = {r["values"]["section"] for r in j.get("records", [])}
ok(st == 200 and got == {"somu"} and j.get("total") == 3, "f.KEY=VALUE filters on stored values", (got, j.get("total")))
st, j, _ = call("GET", "/api/ledgers/assets?per_page=2&page=2", who="audit")
ok(st == 200 and [r["id"] for r in j.get("records", [])] == ["AS-0003", "AS-0004"] and j.get("total") == 6
   and j.get("page") == 2 and j.get("per_page") == 2, "paging by id", j)
st, j, _ = call("GET", "/api/ledgers/assets?sort=id&desc=1&per_page=1", who="audit")
ok([r["id"] for r in j.get("records", [])] == ["AS-0006"], "newest id first with desc=1", j.get("records"))
st, j, _ = call("GET", "/api/ledgers/assets?sort=updated&desc=1&per_page=1", who="audit")
ok(st == 200 and j.get("records", [{}])[0].get("id") == "AS-0006", "sort by updated", st)
for bad in ("per_page=501", "sort=nothing", "f.nothing=1", "page=0"):
    st, j, _ = call("GET", "/api/ledgers/assets?" + bad, who="audit")
    ok(st == 400, "list with %s → 400" % bad, st)
many = "&".join("f.name=x%d" % i for i in range(17))
st, j, _ = call("GET", "/api/ledgers/assets?" + many, who="audit")
ok(st == 400, "17 filters (at most 16) → 400", st)
st, j, _ = call("GET", "/api/ledgers/assets?" + many.rsplit("&", 1)[0], who="audit")
ok(st == 200 and j.get("total") == 0, "16 filters → 200", st)
st, j, _ = call("POST", "/api/ledgers/assets", {"values": {"k%d" % i: "v" for i in range(97)}}, who="director")
ok(st == 400 and err(j) == "bad-request", "97 values in one request (at most 96) → 400", (st, j))
st, j, _ = call("POST", "/api/ledgers/assets", {"values": {"k%d" % i: "v" for i in range(96)}}, who="director")
ok(st == 400 and err(j) == "invalid" and len(j["error"].get("problems", [])) >= 96,
   "96 unknown values → 400 invalid naming each", (st, len(j.get("error", {}).get("problems", []))))
st, j, _ = call("GET", "/api/ledgers/assets?per_page=500", who="audit")
ok(st == 200 and j.get("per_page") == 500, "per_page 500 is allowed", st)

# ---- user text comes back escaped
XSS = "<img src=x onerror=alert(1)>"
st, j, d = call("POST", "/api/ledgers/assets", {"values": dict(ASSET, name=XSS, note="a & b")}, who="kacho")
xid = j.get("id")
st2, h2, d2 = req("GET", "/api/ledgers/assets?q=" + quote("onerror"), who="audit")
ok(st == 201 and b"<" not in d and b"<" not in d2 and b"\\u003c" in d2
   and (js(d2) or {}).get("records", [{}])[0].get("values", {}).get("name") == XSS,
   "user text comes back JSON-escaped (\\u003c, never a raw '<')", d2[:300])

# ---- import (raw CSV; nothing imported when a row is bad)
before = count("assets")
bad_csv = ("資産名,種別,所管課,管理者,機密性,完全性,可用性,ゾーン\r\n"
           "庁舎入退室システム,システム,総務課,総務 三郎,2,1,1,lgwan\r\n"
           "人事給与システム,システム,総務課,総務 四郎,9,2,2,lgwan\r\n").encode("utf-8-sig")
st, j, d = call("POST", "/api/ledgers/assets/import", bad_csv, who="director", ctype="text/csv")
probs = j.get("error", {}).get("problems", [])
ok(st == 400 and err(j) == "invalid" and probs and all(p["line"] == 3 for p in probs)
   and probs[0]["field"] == "confidentiality",
   "import with a bad row → 400 invalid naming line 3", (st, d[:400]))
ok(count("assets") == before, "... and nothing was imported", (before, count("assets")))
good_csv = bad_csv.replace("総務 四郎,9".encode(), "総務 四郎,3B".encode())
st, j, d = call("POST", "/api/ledgers/assets/import", good_csv, who="director", ctype="text/csv")
ok(st == 200 and j == {"added": 2, "updated": 0} and count("assets") == before + 2,
   "import of good rows → 200 added 2", (st, d[:300]))
recs = audit_records(action="ledger.import")
ok(len(recs) == 2 and all(r["actor"] == "director" for r in recs), "... one audit record a row, by the user",
   [(r["actor"], r["object"]) for r in recs])
for what, body in (("JSON", b"{}"), ("an empty body", b"")):
    st, j, d = call("POST", "/api/ledgers/laws/import", body, who="director", ctype="application/json")
    ok(st == 400 and err(j) in ("invalid", "bad-request"), "import of %s → 400" % what, (st, d[:300]))
st, j, _ = call("POST", "/api/ledgers/assets/import", good_csv, who="kacho", ctype="text/csv")
ok(st == 403, "a section head imports → 403", st)

# the import's limit (SK_LEDGER_IMPORT_BYTES_MAX, 64 MiB): refused before the body is read
tok, sess = SESS["director"]
s = CTX.wrap_socket(socket.create_connection((HOST, PORT), timeout=60), server_hostname=HOST)
s.sendall(("POST /api/ledgers/assets/import HTTP/1.1\r\nHost: %s\r\nCookie: sk_session=%s\r\n"
           "X-CSRF-Token: %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n"
           % (HOST, tok, sess["csrf"], (64 << 20) + 1)).encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = s.recv(4096)
    if not chunk:
        break
    head += chunk
s.close()
ok(head.startswith(b"HTTP/1.1 413"), "an import over 64 MiB → 413 before the body is sent", head[:80])

# ---- the xlsx
st, h, d = req("GET", "/api/ledgers/assets.xlsx", who="audit")
today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 9 * 3600))
cd = h.get("Content-Disposition") or ""
ok(st == 200 and cd == "attachment; filename*=UTF-8''" + quote("情報資産管理台帳-" + today + ".xlsx")
   and "spreadsheetml" in (h.get("Content-Type") or ""),
   "GET /api/ledgers/assets.xlsx → 200, file name RFC 5987 encoded", (st, cd))
try:
    z = zipfile.ZipFile(io.BytesIO(d))
    xml = "".join(z.read(x).decode("utf-8") for x in z.namelist() if x.startswith("xl/") and x.endswith(".xml"))
    sheets = [x for x in z.namelist() if x.startswith("xl/worksheets/sheet")]
    good = "資産名" in xml and "住民記録システム" in xml and len(sheets) == 1
except Exception as e:  # noqa: BLE001
    good, xml = False, str(e)
ok(good, "... a real xlsx: the sheet holds the Japanese header and the records", xml[:200])
st, h, d = req("GET", "/api/ledgers/training.xlsx?lang=en", who="audit")
try:
    z = zipfile.ZipFile(io.BytesIO(d))
    sheets = [x for x in z.namelist() if x.startswith("xl/worksheets/sheet")]
    xml = "".join(z.read(x).decode("utf-8") for x in z.namelist() if x.endswith(".xml"))
    good = len(sheets) == 3 and "Course" in xml
except Exception:  # noqa: BLE001
    good = False
ok(st == 200 and good and quote("研修管理台帳") in (h.get("Content-Disposition") or ""),
   "training.xlsx: three sheets, English headers with lang=en", (st, h.get("Content-Disposition")))
st, _, _ = req("GET", "/api/ledgers/assets.xlsx", who="staff1")
ok(st == 403, "staff downloads the assets xlsx → 403", st)
st, _, _ = req("GET", "/api/ledgers/nothing.xlsx", who="audit")
ok(st == 404, "an unknown ledger's xlsx → 404", st)
recs = audit_records(action="ledger.export", actor="audit")
ok(len(recs) == 2, "each export is on record", len(recs))

# ---- the compliance cycle: checklists, answers, charts, missing training
st, j, d = call("POST", "/api/checklists", {"period": "2026年度", "kind": "self", "section": "somu"},
                who="director")
nreq = j.get("added", 0)
ok(st == 201 and nreq >= 30 and j.get("skipped") == 0, "POST /api/checklists (one section) → 201 added", (st, d[:200]))
st, j, _ = call("POST", "/api/checklists", {"period": "2026年度", "kind": "self"}, who="director")
ok(st == 201 and j == {"added": nreq, "skipped": nreq},
   "... every section: the other section's added, the first's skipped", j)
ok(count("inspections-checklists") == 2 * nreq, "the checklists are records", count("inspections-checklists"))
for bad in ({"period": "", "kind": "self"}, {"period": "2026年度", "kind": "monthly"},
            {"period": "2026年度", "section": "nowhere"}, {"period": "a\nb"}, {"kind": "self"}):
    st, j, _ = call("POST", "/api/checklists", bad, who="director")
    ok(st == 400, "checklists with %s → 400" % json.dumps(bad, ensure_ascii=False), (st, j))
st, _, _ = call("POST", "/api/checklists", {"period": "2026年度"}, who="kacho")
ok(st == 403, "a section head generates checklists → 403", st)
st, j, _ = call("GET", "/api/ledgers/inspections-checklists?f.section=somu&per_page=1", who="kacho")
ic = (j.get("records") or [{}])[0].get("id")
st, j, d = call("POST", "/api/ledgers/inspections-answers",
                {"values": {"item": ic, "answer": "実施", "comment": "規程を改定済み"}}, who="kacho")
ok(st == 201 and j.get("values", {}).get("section") == "somu" and j["values"].get("answer") == "done",
   "the section head answers a checklist item of the own section", (st, d[:300]))
ia = j.get("id")

# ---- evidence files: through the gate (no zone crossed), attached only when delivered
ev_path = "/api/ledgers/inspections-answers/%s/files" % ia
st, j, d = call("POST", ev_path + "?name=" + quote("点検記録.csv"), "月,件数\r\n4月,=1+1\r\n".encode(),
                who="kacho", ctype="application/octet-stream")
item = j.get("item") or {}
files = j.get("values", {}).get("evidence_files", "")
m = re.fullmatch(r"点検記録\.csv \((\d{8}-[0-9a-f]{8})\)", files)
ok(st == 201 and m and item.get("id") == m.group(1) and item.get("verdict") == "sanitized"
   and item.get("from") == "lgwan" and item.get("to") == "lgwan",
   "the section head attaches evidence: it went through the gate (sanitised, lgwan → lgwan) and is listed",
   (st, d[:500]))
qid = m.group(1) if m else "none"
ok(j.get("history", [{}])[-1].get("action") == "ledger.attach" and j.get("version") == 2,
   "... the attachment is a change of the record (ledger.attach, version 2)", j.get("history"))
st, h, d = req("GET", ev_path + "?item=" + qid, who="audit")
ok(st == 200 and "'=1+1" in d.decode("utf-8", "replace")
   and (h.get("Content-Disposition") or "").endswith(quote("点検記録.csv")),
   "the auditor (read-only) downloads the sanitised evidence (the formula neutralised)", (st, d[:200]))
recs = audit_records(action="console-download", actor="audit")
ok(any(qid in r["object"] and ia in r["object"] for r in recs), "... the download is on record",
   [r["object"] for r in recs])
st, _, _ = req("GET", ev_path + "?item=" + qid, who="staff1")
ok(st == 403, "staff without ledgers downloads evidence → 403", st)
st, _, _ = req("GET", ev_path + "?item=20200101-00000000", who="audit")
ok(st == 404, "an item the record does not list → 404", st)
st, _, _ = req("GET", ev_path, who="audit")
ok(st == 404, "no item → 404", st)
st, _, _ = req("GET", "/api/ledgers/assets/AS-0001/files?item=" + qid, who="audit")
ok(st == 404, "a table without a files field → 404", st)
st, j, d = call("POST", ev_path + "?name=tool.exe", b"MZ\x90\x00\x03" + b"\x00" * 200, who="kacho",
                ctype="application/octet-stream")
ok(st == 422 and err(j) == "blocked" and (j["error"].get("item") or {}).get("verdict") == "blocked",
   "a file the gate blocks → 422 blocked with the item (not attached)", (st, d[:400]))
bid = (j.get("error", {}).get("item") or {}).get("id", "none")
st, j, _ = call("GET", "/api/ledgers/inspections-answers/" + ia, who="kacho")
ok(st == 200 and j.get("values", {}).get("evidence_files") == files and bid not in json.dumps(j),
   "... the record still lists only the delivered file", j.get("values"))
st, j, _ = call("GET", "/api/items/" + bid, who="kacho")
ok(st == 200 and j.get("verdict") == "blocked" and j.get("state") == "held",
   "... the blocked original is kept in the quarantine, as the uploader's item", (st, j))
for who in ("audit", "kacho2", "staff1"):
    st, _, _ = call("POST", ev_path + "?name=a.txt", b"x", who=who, ctype="application/octet-stream")
    ok(st == 403, "%s attaches evidence to somu's answer → 403" % who, st)
st, _, _ = call("POST", ev_path + "?name=" + quote("../a.txt"), b"x", who="kacho",
                ctype="application/octet-stream")
ok(st == 400, "a file name with a folder → 400", st)
st, j, d = call("POST", "/api/ledgers/inspections-answers/" + ia,
                {"version": 2, "values": {"evidence_files": "x.pdf (20261207-00000000)"}}, who="kacho")
ok(st == 400 and err(j) == "invalid", "the files field cannot be set by an update → 400 invalid", (st, d[:300]))
st, j, d = call("POST", "/api/ledgers/inspections-answers/" + ia, {"version": 1, "values": {"comment": "x"}},
                who="kacho")
ok(st == 409 and err(j) == "conflict", "an update of the version before the attachment → 409", (st, d[:200]))
st, _, _ = call("DELETE", ev_path + "?item=" + qid, who="audit")
ok(st == 403, "the auditor removes evidence → 403", st)
st, j, d = call("DELETE", ev_path + "?item=" + qid, who="kacho")
ok(st == 200 and "evidence_files" not in j.get("values", {})
   and j.get("history", [{}])[-1].get("action") == "ledger.detach",
   "the section head removes the file from the record (ledger.detach)", (st, d[:300]))
st, _, _ = req("GET", ev_path + "?item=" + qid, who="audit")
ok(st == 404, "... then it is no longer served", st)
st, j, _ = call("POST", ev_path + "?name=" + quote("点検記録.csv"), "月,件数\r\n".encode(), who="kacho",
                ctype="application/octet-stream")
ok(st == 201 and j.get("values", {}).get("evidence_files", "").startswith("点検記録.csv ("),
   "evidence attached again (kept for the browser test)", st)

st, j, d = call("GET", "/api/ledger-charts?period=" + quote("2026年度"), who="audit")
bys = {x.get("section"): x for x in j.get("inspections", {}).get("by_section", [])}
ok(st == 200 and len(j.get("incidents_by_month", [])) == 12 and bys.get("somu", {}).get("done") == 1
   and bys["somu"].get("name") == "総務課" and len(j.get("findings_by_age", [])) == 4,
   "GET /api/ledger-charts: incidents per month, inspections per section, findings by age", (st, d[:400]))
today_s = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 9 * 3600))
st, j, _ = call("POST", "/api/ledgers/training-plans",
                {"values": {"course": "情報セキュリティ研修", "date": today_s, "trainer": "講師", "audience": "全職員",
                            "measure": "test", "required": "はい"}}, who="director")
tp = j.get("id")
st2, j2, _ = call("POST", "/api/ledgers/training-sessions", {"values": {"plan": tp, "date": today_s}},
                  who="director")
st3, j3, d3 = call("POST", "/api/ledgers/training-attendance",
                   {"values": {"session": j2.get("id"), "person": "staff1", "attended": "yes"}}, who="kacho")
ok(st == 201 and st2 == 201 and st3 == 201 and j3.get("values", {}).get("section") == "somu",
   "a required plan, its session, and staff1's attendance (entered by the section head)", (st, st2, st3, d3[:200]))
st, j, d = call("GET", "/api/training-missing", who="audit")
people = {p["user"]: p for p in j.get("people", [])}
ok(st == 200 and "staff1" not in people and "staff2" in people
   and people["staff2"].get("missing") == [{"plan": tp, "course": "情報セキュリティ研修"}]
   and people.get("somu-kacho", {}).get("name") == "総務課長" and "audit" in people,
   "GET /api/training-missing: the console's users and the policy's users:, who attended left out",
   (st, d[:400]))
st, j, _ = call("GET", "/api/ledger-charts", who="audit")
tbs = {x.get("section"): x for x in j.get("training_by_section", [])}
ok(st == 200 and tbs.get("somu", {}).get("people") == 4 and tbs["somu"].get("completed") == 1,
   "charts: training completion per section (4 people of somu, 1 completed)", j.get("training_by_section"))
for path in ("/api/ledger-charts", "/api/training-missing"):
    st, _, _ = call("GET", path, who="staff1")
    ok(st == 403, "staff: %s → 403" % path, st)

# ---- the yearly report (fiscal year: April to March)
lt = time.gmtime(time.time() + 9 * 3600)
fy = lt.tm_year if lt.tm_mon >= 4 else lt.tm_year - 1
st, h, d = req("GET", "/api/report/%d.xlsx" % fy, who="audit")
try:
    z = zipfile.ZipFile(io.BytesIO(d))
    xml = "".join(z.read(x).decode("utf-8") for x in z.namelist() if x.endswith(".xml"))
    good = "情報セキュリティ年次報告" in xml and "概要" in xml
except Exception as e:  # noqa: BLE001
    good, xml = False, str(e)
ok(st == 200 and good and (h.get("Content-Disposition") or "").endswith(
    quote("情報セキュリティ年次報告-%d年度.xlsx" % fy)),
   "GET /api/report/%d.xlsx → the yearly report (xlsx)" % fy, (st, h.get("Content-Disposition"), xml[:200]))
st, h, d = req("GET", "/api/report/%d.pdf" % fy, who="director")
ok(st == 200 and d.startswith(b"%PDF-") and h.get("Content-Type") == "application/pdf"
   and (h.get("Content-Disposition") or "").endswith(quote("情報セキュリティ年次報告-%d年度.pdf" % fy)),
   "GET /api/report/%d.pdf → the same as a PDF (LibreOffice)" % fy, (st, d[:200]))
st, _, _ = req("GET", "/api/report/%d.xlsx" % fy, who="staff1")
ok(st == 403, "staff asks for the report → 403", st)
for bad in ("26", "0999", "x2026", "9999", "20260"):
    st, _, _ = req("GET", "/api/report/%s.xlsx" % bad, who="audit")
    ok(st == 404, "report of year %r → 404" % bad, st)
ok(len(audit_records(action="report")) == 2, "each report is on record")

# ---- routes: static text over parameters, methods
st, _, _ = req("POST", "/api/ledgers/assets.xlsx", b"{}", who="director", ctype="application/json")
ok(st == 405, "POST to the xlsx path → 405", st)
st, j, _ = call("GET", "/api/ledgers/assets/import", who="director")
ok(st == 404, "GET /api/ledgers/assets/import → 404 (no such record)", st)
st, _, _ = req("GET", "/api/ledgers/assets/AS-0001/x", who="director")
ok(st == 404, "a deeper unknown path → 404", st)
st, _, _ = req("GET", "/api/ledgers/incidents", who=None)
ok(st == 401, "without a session → 401", st)

# ---- nothing secret in the events
events = open(T + "/events.log", encoding="utf-8", errors="replace").read()
ok(not any(u[2] in events for u in USERS.values()) and not any(s[0] in events for s in SESS.values()),
   "no password or session token in the events")

done()
