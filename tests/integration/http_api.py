#!/usr/bin/env python3
"""The checks of http_api.sh (TAP). argv: TMPDIR PORT docs/api.md BUILD_DIR.

Listeners: internet 127.0.0.2:PORT, lgwan (the console) 127.0.0.3:PORT. Users and their
TOTP secrets are in TMPDIR/users.tsv, passwords in TMPDIR/pw.NAME, the route table (from
`sekishod --routes`) in TMPDIR/routes.tsv."""
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import zipfile

from api_tap import done, https, js, load_users, ok

T, PORT, APIMD, B = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
INET, LG = ("127.0.0.2", PORT), ("127.0.0.3", PORT)
CTX = ssl.create_default_context(cafile=T + "/cert.pem")


def req(host, method, path, body=None, cookie=None, csrf=None, headers=None, ctype=None):
    h = dict(headers or {})
    if cookie:
        h["Cookie"] = "sk_session=" + cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    if ctype:
        h["Content-Type"] = ctype
    return https(CTX, host[0], host[1], method, path, body, h)


def q(s):
    from urllib.parse import quote
    return quote(s, safe="")


USERS = load_users(T)
LAST_STEP = {}


def totp(name):
    """A code of a step the user has not used yet (the service refuses a replay)."""
    now = int(time.time()) // 30
    step = max(now, LAST_STEP.get(name, -1) + 1)
    while step > now + 1:  # more than the window allows: wait for the next step
        time.sleep(1)
        now = int(time.time()) // 30
    LAST_STEP[name] = step
    return subprocess.check_output(
        ["oathtool", "--totp", "-b", USERS[name][1], "--now", "@%d" % (step * 30 + 1)],
        text=True).strip()


TOKENS = []


def login(host, name, password=None, code=None, cookie=None):
    st, h, d = req(host, "POST", "/api/session",
                   {"user": name, "password": password or USERS[name][2], "totp": code or totp(name)},
                   cookie=cookie)
    m = re.match(r"sk_session=([A-Za-z0-9_-]+);", h.get("Set-Cookie") or "")
    tok = m.group(1) if m else None
    if tok:
        TOKENS.append(tok)
    j = js(d) or {}
    if j.get("csrf"):
        TOKENS.append(j["csrf"])
    return st, h, j, tok


SEC = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000",
}


def sec_ok(h, cache):
    return all(h.get(k) == v for k, v in SEC.items()) and h.get("Cache-Control") == cache


# ---- static files
for host, zone in ((LG, "lgwan"), (INET, "internet")):
    st, h, d = req(host, "GET", "/")
    ok(st == 200 and h.get("Content-Type", "").startswith("text/html") and b"<title>sekisho" in d
       and sec_ok(h, "no-cache"), "static: / is index.html with the security headers (%s)" % zone,
       (st, dict(h)))
st, h, d = req(LG, "GET", "/js/app.mjs")
ok(st == 200 and h.get("Content-Type") == "text/javascript; charset=utf-8", "static: .mjs as JavaScript")
for path in ("/leak.txt", "/../outside.txt", "/%2e%2e/outside.txt", "/js/../../outside.txt", "/js/",
             "/nothing.html"):
    st, h, d = req(LG, "GET", path)
    ok(st == 404 and b"secret" not in d, "static: %s refused (404)" % path, st)
st, _, _ = req(LG, "POST", "/", b"x", ctype="text/plain")
ok(st == 405, "static: POST / → 405")

# ---- login, cookie, errors
st, h, d = req(LG, "GET", "/api/session")
j = js(d) or {}
ok(st == 401 and j.get("error", {}).get("code") == "unauthenticated" and j["error"].get("message")
   and j["error"].get("message_en") and sec_ok(h, "no-store"),
   "no session → 401 unauthenticated, message in Japanese and English, security headers", (st, d))
st, h, j, tok = login(LG, "staff")
cookie = h.get("Set-Cookie") or ""
ok(st == 200 and tok and len(tok) == 43, "login (password + TOTP) → 200 and a session cookie", (st, j))
ok(all(a in cookie for a in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/")),
   "cookie flags HttpOnly; Secure; SameSite=Strict; Path=/", cookie)
ok(j.get("user") == "staff" and j.get("zone") == "lgwan" and j.get("console") is True
   and len(j.get("csrf", "")) == 43 and "+09:00" in (j.get("expires") or ""),
   "login answer: user, zone, console, csrf, expires in JST", j)
ok(j.get("section") == "somu" and j.get("section_name") == "総務課" and j.get("section_name_en") == "総務課",
   "... the section's id and its name from the policy (no English name: the Japanese one)", j)
SESS = {("staff", "lgwan"): (tok, j)}
st, h, d = req(LG, "GET", "/api/session", cookie=tok)
ok(st == 200 and "Set-Cookie" not in h and (js(d) or {}).get("user") == "staff",
   "GET /api/session with the cookie → 200, no new cookie")

for desc, body in (("wrong password", {"password": "Wrong-pass-123!x"}),
                   ("wrong TOTP code", {"code": "000000"}),
                   ("unknown user", {"user": "nobody-here"})):
    name = body.get("user", "staff2")
    st, h, d = req(LG, "POST", "/api/session",
                   {"user": name, "password": body.get("password", USERS["staff2"][2]),
                    "totp": body.get("code", "123456" if name != "staff2" else "000000")})
    ok(st == 401 and (js(d) or {}).get("error", {}).get("code") == "login-failed"
       and "Set-Cookie" not in h, "login with %s → 401 login-failed, no cookie" % desc, (st, d))
st, h, d = req(LG, "POST", "/api/session", b"user=staff", ctype="application/x-www-form-urlencoded")
ok(st == 415, "login as a form (not JSON) → 415", st)
st, h, d = req(LG, "POST", "/api/session", b"{\"user\":", ctype="application/json")
ok(st == 400, "login with broken JSON → 400", st)

# lockout after 3 failures (the policy's auth.lockout_after)
for i in range(3):
    login(LG, "locked", password="Wrong-pass-123!x", code="000000")
st, h, j, tok = login(LG, "locked")
ok(st == 401 and j.get("error", {}).get("code") == "locked" and not tok,
   "after 3 failures the right password and code → 401 locked", (st, j))

# session fixation: a cookie sent with the login is never adopted
chosen = "A" * 43
st, h, j, tok = login(LG, "fix", cookie=chosen)
ok(st == 200 and tok and tok != chosen, "login with a chosen cookie: a new token is set", tok)
st, _, _ = req(LG, "GET", "/api/session", cookie=chosen)
ok(st == 401, "the chosen token is not a session (401)")
st, h, j2, tok2 = login(LG, "fix", cookie=tok)
st1, _, _ = req(LG, "GET", "/api/session", cookie=tok)
ok(st == 200 and tok2 != tok and st1 == 401,
   "a new login with a live cookie ends the old session and gets a new token", (st, st1))

# CSRF
st, h, j, ctok = login(LG, "csrf")
for desc, hdr in (("missing", None), ("wrong", "B" * 43)):
    st, h, d = req(LG, "DELETE", "/api/session", cookie=ctok, csrf=hdr)
    ok(st == 403 and (js(d) or {}).get("error", {}).get("code") == "csrf",
       "DELETE /api/session with the CSRF token %s → 403 csrf" % desc, (st, d))
st, h, d = req(LG, "POST", "/api/items?name=a.txt", b"hello", cookie=ctok, ctype="text/plain")
ok(st == 403 and (js(d) or {}).get("error", {}).get("code") == "csrf", "upload without CSRF → 403")
st, h, d = req(LG, "DELETE", "/api/session", cookie=ctok, csrf=j["csrf"])
ok(st == 204 and "Max-Age=0" in (h.get("Set-Cookie") or ""), "logout → 204, cookie cleared")
st, _, _ = req(LG, "GET", "/api/session", cookie=ctok)
ok(st == 401, "after logout the token is gone (401)")

# ---- the role × route matrix
EXPECTED_PERMS = {
    "staff": {"upload", "download", "request", "incident-report"},
    "security-manager": {"upload", "download", "request", "incident-report", "approve",
                         "section-items", "ledgers", "ledger-section"},
    "security-director": {"upload", "download", "request", "incident-report", "approve",
                          "all-items", "release-original", "audit", "ledgers", "ledger-all"},
    "ciso": {"upload", "download", "request", "incident-report", "approve", "all-items",
             "release-original", "audit", "ledgers", "ledger-all"},
    "sysadmin": {"upload", "download", "request", "incident-report", "admin", "all-items",
                 "ledgers", "ledger-section"},
    "auditor": {"audit", "ledgers"},
}
ROLE_USER = {"staff": "staff", "security-manager": "kacho1", "security-director": "director",
             "ciso": "ciso", "sysadmin": "admin", "auditor": "audit"}
routes = [l.rstrip("\n").split("\t") for l in open(T + "/routes.tsv") if l.strip()]
ok(len(routes) >= 19, "sekishod --routes lists the route table (%d routes)" % len(routes))
api = open(APIMD, encoding="utf-8").read()


def doc_path(pattern):
    """A route's path as docs/api.md writes it (TABLE, ID, LEDGER, YEAR)."""
    if pattern.startswith("/api/ledgers/"):
        p = pattern.replace("{id}.xlsx", "LEDGER.xlsx").replace("{id}", "TABLE")
    elif pattern.startswith("/api/report/"):
        p = pattern.replace("{id}", "YEAR")
    else:
        p = pattern.replace("{id}", "ID")
    return p.replace("{rid}", "ID")


for method, pattern, *_ in routes:
    doc = "`%s %s" % (method, doc_path(pattern))
    ok(doc in api, "docs/api.md documents %s %s" % (method, pattern))
# and the other way: every route of the ledgers' table in docs/api.md is served
ledger_doc = api[api.index("## Ledgers"):]
served = {"%s %s" % (m, doc_path(p)) for m, p, *_ in routes}
for row in re.findall(r"^\| (`[^|]*`) \|", ledger_doc, re.M):
    for item in re.findall(r"`([A-Z]+ /api/[^`?]*)", row):
        ok(item in served, "the route %s of docs/api.md is in sekishod --routes" % item)

sessions = {}
for zone, host, suffix in (("lgwan", LG, ""), ("internet", INET, "i")):
    for role, user in ROLE_USER.items():
        if (user, zone) in SESS:
            tok, j = SESS[(user, zone)]
        else:
            st, h, j, tok = login(host, user + suffix)
        sessions[(role, zone)] = (tok, j)
    # the permissions a role carries (docs/policy.md) are what the session says
for role in ROLE_USER:
    got = set(sessions[(role, "lgwan")][1].get("perms", []))
    ok(got == EXPECTED_PERMS[role], "role %s has the documented permissions" % role, sorted(got))

# the ledger routes: a path and the answer of a role the route's permissions let through
# (the table and record rights come after: tests/integration/ledger_api.sh)
LEDGER_CELLS = {
    ("GET", "/api/ledgers"): ("/api/ledgers", 200),
    ("GET", "/api/ledgers/{id}"): ("/api/ledgers/incidents", 200),
    ("POST", "/api/ledgers/{id}"): ("/api/ledgers/incidents", 400),  # no values
    ("GET", "/api/ledgers/{id}/{rid}"): ("/api/ledgers/incidents/IN-9999", 404),
    ("POST", "/api/ledgers/{id}/{rid}"): ("/api/ledgers/assets/AS-9999", 404),
    ("POST", "/api/ledgers/incidents/{rid}/step"): ("/api/ledgers/incidents/IN-9999/step", 404),
    ("POST", "/api/ledgers/{id}/import"): ("/api/ledgers/laws/import", 400),  # "{}" is no CSV
    ("POST", "/api/ledgers/{id}/{rid}/files"): ("/api/ledgers/incidents/IN-9999/files?name=a.txt", 404),
    ("GET", "/api/ledgers/{id}/{rid}/files"): ("/api/ledgers/incidents/IN-9999/files?item=20990101-00000000", 404),
    ("DELETE", "/api/ledgers/{id}/{rid}/files"): ("/api/ledgers/incidents/IN-9999/files?item=20990101-00000000", 404),
    ("GET", "/api/ledgers/{id}.xlsx"): ("/api/ledgers/laws.xlsx", 200),
    ("GET", "/api/ledger-charts"): ("/api/ledger-charts", 200),
    ("GET", "/api/training-missing"): ("/api/training-missing", 200),
    ("POST", "/api/checklists"): ("/api/checklists", 400),  # no period
    ("GET", "/api/report/{id}.xlsx"): ("/api/report/2026.xlsx", 200),
    ("GET", "/api/report/{id}.pdf"): ("/api/report/1.pdf", 404),  # no such year (no LibreOffice run)
}
matrix_bad = []
cells = 0
for zone, host in (("lgwan", LG), ("internet", INET)):
    for method, pattern, where, auth, perms, csrf in routes:
        need = set() if perms == "-" else set(perms.split(","))
        for role in list(ROLE_USER) + [None]:
            if method == "DELETE" and pattern == "/api/session" and role:
                continue  # logging out is checked above
            path = pattern.replace("{id}", "999999" if pattern.startswith("/api/requests/")
                                   else "20990101-00000000")
            body, ctype = None, None
            if method == "POST":
                body, ctype = b"{}", "application/json"
            ledger_cell = LEDGER_CELLS.get((method, pattern))
            if ledger_cell:
                path = ledger_cell[0]
            elif pattern.startswith(("/api/ledger", "/api/report", "/api/training", "/api/checklists")):
                ok(False, "matrix: the ledger route %s %s has a cell in LEDGER_CELLS" % (method, pattern))
                continue
            if pattern == "/api/items" and method == "POST":
                path, body, ctype = "/api/items?name=matrix.txt", b"matrix cell\n", "text/plain"
            if pattern.endswith("/requests") and method == "POST":
                body = json.dumps({"kind": "release", "reason": "matrix"}).encode()
            if pattern == "/api/audit/proof":
                path += "?seq=0"
            tok, sj = sessions[(role, zone)] if role else (None, {})
            st, h, d = req(host, method, path, body, cookie=tok, csrf=sj.get("csrf"), ctype=ctype)
            if where == "console" and zone != "lgwan":
                want = {404}
            elif auth == "session" and not role:
                want = {401}
            elif need and not (need & EXPECTED_PERMS[role]):
                want = {403}
            elif ledger_cell:
                want = {ledger_cell[1]}
            elif "{id}" in pattern:
                want = {404}
            elif method == "GET":
                want = {200}
            elif pattern == "/api/items":
                want = {201}
            else:
                want = {400}
            cells += 1
            good = st in want and sec_ok(h, "no-store")
            if st == 403:
                good = good and (js(d) or {}).get("error", {}).get("code") == "forbidden"
            ok(good, "matrix %s %s %s as %s → %s" % (zone, method, pattern, role or "nobody",
                                                    "/".join(map(str, sorted(want)))), (st, d[:200]))

# ---- upload on the internet side, download on the LGWAN side


def docm():
    import io
    R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    ct = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
          '<Default Extension="xml" ContentType="application/xml"/>'
          '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
          '<Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="%s/officeDocument" Target="word/document.xml"/></Relationships>' % R)
    drels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId5" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    doc = ('<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           '<w:body><w:p><w:r><w:t>住民票の写しの交付について</w:t></w:r></w:p></w:body></w:document>')
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", ct)
        z.writestr("_rels/.rels", rels)
        z.writestr("word/document.xml", doc)
        z.writestr("word/_rels/document.xml.rels", drels)
        z.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + b"Attribute VB_Name AutoOpen")
    return b.getvalue()


itok, ij = sessions[("staff", "internet")]  # user staffi
st, h, d = req(INET, "POST", "/api/items?name=" + q("報告書.docm"), docm(), cookie=itok,
               csrf=ij["csrf"], ctype="application/octet-stream")
item = js(d) or {}
ok(st == 201 and item.get("verdict") == "sanitized" and item.get("to") == "lgwan"
   and item.get("submitter") == "staffi" and item.get("has_content") is True,
   "upload of a docm on the internet listener → 201 sanitized, for lgwan", (st, d[:300]))
iid = item.get("id", "x")
st, _, _ = req(INET, "GET", "/api/items/%s/content" % iid, cookie=itok)
ok(st == 404, "the result is not served on the internet listener (its destination is lgwan)")
st, h, jl, ltok = login(LG, "staffi")
st, h, d = req(LG, "GET", "/api/items/%s/content" % iid, cookie=ltok)
cd = h.get("Content-Disposition") or ""
ok(st == 200 and d[:2] == b"PK" and cd == "attachment; filename*=UTF-8''%E5%A0%B1%E5%91%8A%E6%9B%B8.docx",
   "the owner downloads the docx on the LGWAN listener (filename* encoded)", (st, cd))
open(T + "/out.docx", "wb").write(d)
listing = subprocess.run(["unzip", "-l", T + "/out.docx"], capture_output=True, text=True).stdout
ok("word/document.xml" in listing and "vbaProject" not in listing, "unzip -l: no vbaProject.bin", listing)
st, h, d = req(LG, "GET", "/api/items/%s/content" % iid, cookie=SESS[("staff", "lgwan")][0])
ok(st == 404, "another staff member cannot download it (404)")
st, h, d = req(LG, "GET", "/api/items?scope=own", cookie=ltok)
ok(st == 200 and iid in [i["id"] for i in (js(d) or {}).get("items", [])], "the owner's list has the item")
st, h, d = req(LG, "GET", "/api/items?scope=own", cookie=SESS[("staff", "lgwan")][0])
ok(st == 200 and iid not in [i["id"] for i in (js(d) or {}).get("items", [])],
   "another staff member's list does not")
st, h, d = req(LG, "GET", "/api/items?scope=all", cookie=SESS[("staff", "lgwan")][0])
ok(st == 403, "scope=all without all-items → 403")

# names are data
evil = "<img src=x onerror=alert(1)>.docx"
docx = open(T + "/out.docx", "rb").read()
st, h, d = req(INET, "POST", "/api/items?name=" + q(evil), docx, cookie=itok, csrf=ij["csrf"],
               ctype="application/octet-stream")
j = js(d) or {}
ok(st == 201 and j.get("name") == evil and b"<" not in d and b">" not in d
   and h.get("Content-Type") == "application/json; charset=utf-8"
   and h.get("X-Content-Type-Options") == "nosniff",
   "an HTML/JS file name comes back as JSON data (no raw < >)", d[:200])
st, h, d = req(LG, "GET", "/api/items/%s/content" % j.get("id", "x"), cookie=ltok)
cd = h.get("Content-Disposition") or ""
ok(st == 200 and cd == "attachment; filename*=UTF-8''%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.docx",
   "... and as an RFC 5987 filename* on download", cd)
for bad in ("../x.txt", "/etc/passwd", "a/b.txt", "a\\b.txt", "..", ".", "", "a\x01b.txt",
            "x" * 300):
    st, h, d = req(INET, "POST", "/api/items?name=" + q(bad), b"x", cookie=itok, csrf=ij["csrf"],
                   ctype="text/plain")
    ok(st == 400, "name %r refused (400)" % bad[:20], st)
st, h, d = req(INET, "POST", "/api/items", b"x", cookie=itok, csrf=ij["csrf"], ctype="text/plain")
ok(st == 400, "no name → 400")

# the size budget: a declared body over the cap is refused before it is read
s = CTX.wrap_socket(socket.create_connection(INET), server_hostname=INET[0])
s.sendall(("POST /api/items?name=big.bin HTTP/1.1\r\nHost: x\r\nCookie: sk_session=%s\r\n"
           "X-CSRF-Token: %s\r\nContent-Length: %d\r\n\r\n" % (itok, ij["csrf"], 300 << 20)).encode())
head = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    head += chunk
head = head.decode(errors="replace")
s.close()
ok(head.startswith("HTTP/1.1 413") and "too-large" in head, "a body over the size budget → 413", head[:120])

# ---- mail notices (the fake sendmail of http_api.sh keeps them in T/mail)
import email
import email.policy
import glob


def mail_seen():
    return set(glob.glob(T + "/mail/m.*.eml"))


def mails_new(before):
    out = []
    for f in sorted(mail_seen() - before):
        rcpt = set(open(f[:-4] + ".rcpt").read().split())
        m = email.message_from_bytes(open(f, "rb").read(), policy=email.policy.default)
        out.append((rcpt, m))
    return out


def mail_text(m):
    return m.get_body(preferencelist=("plain",)).get_content()


def addr(*names):
    return {n + "@example.lg.jp" for n in names}


# ---- release: request, two approvals by others, no self-approval
k3, k3j = login(LG, "kacho3")[3], None
st, h, d = req(LG, "GET", "/api/session", cookie=k3)
k3j = js(d) or {}
st, h, d = req(LG, "POST", "/api/items?name=%s&to=internet" % q("申請.txt"), "外部へ送る文書\n".encode(),
               cookie=k3, csrf=k3j.get("csrf"), ctype="text/plain")
held = js(d) or {}
ok(st == 201 and held.get("verdict") == "held" and held.get("has_content") is False,
   "lgwan → internet upload is held for approval", (st, d[:300]))
hid = held.get("id", "x")
st, h, d = req(LG, "GET", "/api/items/%s/content" % hid, cookie=k3)
ok(st == 404, "a held item has no content")
before_req = mail_seen()
st, h, d = req(LG, "POST", "/api/items/%s/requests" % hid, {"kind": "release", "reason": "業務で必要"},
               cookie=k3, csrf=k3j.get("csrf"))
rq = js(d) or {}
ok(st == 201 and rq.get("state") == "pending" and rq.get("needed") == 2 and rq.get("by") == "kacho3",
   "release request → 201 pending, 2 approvals needed", (st, d[:300]))
rid = rq.get("id", 0)
mails = mails_new(before_req)
approvers = addr("kacho1", "kacho1i", "kacho2", "kacho2i", "kacho3i")
ok(len(mails) == 1 and mails[0][0] == approvers,
   "the request's notice goes to every user with a mail who may approve it, not the requester",
   [sorted(r) for r, _ in mails])
m = mails[0][1] if mails else email.message.EmailMessage()
body = mail_text(m) if mails else ""
ok(set(a.addr_spec for a in m["To"].addresses) == approvers if mails else False,
   "... the To header names the same approvers", m["To"])
ok("取り出し申請" in str(m["Subject"]) and "Release request" in str(m["Subject"])
   and "申請.txt" in str(m["Subject"]) and str(m["From"]).startswith("sekisho@"),
   "... subject in Japanese and English with the file name, from sekisho@host",
   (m["Subject"], m["From"]))
ja, en = body.find("取り出しの申請がありました"), body.find("A release was requested")
ok(0 <= ja < en and all(x in body for x in (hid, "申請.txt", "kacho3", "業務で必要",
                                              "https://127.0.0.3:%d/#/approve" % PORT)),
   "... the body: Japanese first, English below; item ID, file name, requester, reason, console URL",
   body[:600])
st, h, d = req(LG, "POST", "/api/items/%s/requests" % hid, {"kind": "release", "reason": "again"},
               cookie=k3, csrf=k3j.get("csrf"))
ok(st == 409, "a second pending request → 409", st)
st, h, d = req(LG, "POST", "/api/requests/%s/approve" % rid, {"comment": "self"}, cookie=k3,
               csrf=k3j.get("csrf"))
ok(st == 403, "self-approval → 403", (st, d[:200]))
stok, sj = SESS[("staff", "lgwan")]
st, h, d = req(LG, "POST", "/api/requests/%s/approve" % rid, {}, cookie=stok, csrf=sj["csrf"])
ok(st == 403, "approval by staff (no approve right) → 403")
k1, k1j = sessions[("security-manager", "lgwan")]
st, h, d = req(LG, "GET", "/api/requests?state=pending", cookie=k1)
ok(st == 200 and rid in [r["id"] for r in (js(d) or {}).get("requests", [])],
   "the approver sees the pending request")
st, h, d = req(LG, "POST", "/api/requests/%s/approve" % rid, {"comment": "確認しました"}, cookie=k1,
               csrf=k1j["csrf"])
a1 = js(d) or {}
ok(st == 200 and a1.get("state") == "pending" and len(a1.get("approvals", [])) == 1,
   "first approval (kacho1) → still pending", (st, d[:300]))
st, h, d = req(LG, "POST", "/api/requests/%s/approve" % rid, {}, cookie=k1, csrf=k1j["csrf"])
ok(st == 409, "the same approver twice → 409", st)
ok(len(mails_new(before_req)) == 1, "no decision notice after the first of two approvals",
   len(mails_new(before_req)))
st, h, j2, k2 = login(LG, "kacho2")
before_dec = mail_seen()
st, h, d = req(LG, "POST", "/api/requests/%s/approve" % rid, {"comment": "承認"}, cookie=k2,
               csrf=j2.get("csrf"))
a2 = js(d) or {}
ok(st == 200 and a2.get("state") == "approved" and (a2.get("item") or {}).get("has_content") is True,
   "second approval (kacho2) → approved, the sanitised result is available", (st, d[:300]))
mails = mails_new(before_dec)
body = mail_text(mails[0][1]) if mails else ""
ok(len(mails) == 1 and mails[0][0] == addr("kacho3") and "承認されました" in str(mails[0][1]["Subject"])
   and "approved" in str(mails[0][1]["Subject"]),
   "decided: the requester (only) gets the approval notice", [(sorted(r), str(m["Subject"])) for r, m in mails])
ok(hid in body and "kacho2" in body and body.find("承認されました") < body.find("was approved"),
   "... naming the item and the last approver, Japanese first", body[:600])

# a notice that cannot be sent: an event and an audit record, the request stands
st, h, d = req(LG, "POST", "/api/items?name=%s&to=internet" % q("申請2.txt"), "二通目\n".encode(),
               cookie=k3, csrf=k3j.get("csrf"), ctype="text/plain")
hid2 = (js(d) or {}).get("id", "x")
open(T + "/mail/fail", "w").close()
before = mail_seen()
st, h, d = req(LG, "POST", "/api/items/%s/requests" % hid2, {"kind": "release", "reason": "再送"},
               cookie=k3, csrf=k3j.get("csrf"))
os.unlink(T + "/mail/fail")
rq2 = js(d) or {}
rid2 = rq2.get("id", 0)
ok(st == 201 and rq2.get("state") == "pending" and not mails_new(before),
   "with the MTA failing the request is still made (201 pending), no mail", (st, d[:200]))
st, h, d = req(LG, "GET", "/api/audit?per_page=50&action=notify&object=request:%s" % rid2,
               cookie=sessions[("security-director", "lgwan")][0])
recs = (js(d) or {}).get("records", [])
ok(st == 200 and any(r["result"] == "failed" and r["actor"] == "kacho3" for r in recs),
   "... the failed notice is an audit record", d[:300])
for _ in range(50):
    ev = open(T + "/events.log", encoding="utf-8", errors="replace").read()
    if "notify-error" in ev:
        break
    time.sleep(0.1)
ok("notify-error" in ev, "... and an event (notify-error)")
before = mail_seen()
st, h, d = req(LG, "POST", "/api/requests/%s/refuse" % rid2, {"comment": "不要と判断"}, cookie=k1,
               csrf=k1j["csrf"])
mails = mails_new(before)
body = mail_text(mails[0][1]) if mails else ""
ok(st == 200 and len(mails) == 1 and mails[0][0] == addr("kacho3")
   and "却下されました" in str(mails[0][1]["Subject"]) and "refused" in str(mails[0][1]["Subject"])
   and "不要と判断" in body and "kacho1" in body,
   "refused: the requester gets the notice with the comment", (st, [sorted(r) for r, _ in mails], body[:400]))
st, h, j3, k3i = login(INET, "kacho3")
st, h, d = req(INET, "GET", "/api/items/%s/content" % hid, cookie=k3i)
ok(st == 200 and "外部へ送る文書" in d.decode(errors="replace"),
   "the requester downloads the released result on the internet listener", (st, d[:100]))

# ---- PPAP: a password ZIP uploaded on the internet side, unlocked there, downloaded on LGWAN
PPAP_PW = "ppap-Kakushi-7391"
PPAP_WRONG = ["wrong-pw-%02d-xyz" % i for i in range(60)]


def ppap_zip(name, pw):
    d = T + "/ppap-" + name
    os.makedirs(d, exist_ok=True)
    open(d + "/会議資料.docm", "wb").write(docm())
    open(d + "/見積内訳.txt", "w", encoding="utf-8").write("見積の内訳 一式\n")
    subprocess.run(["zip", "-q", "-P", pw, "../" + name, "会議資料.docm", "見積内訳.txt"], cwd=d,
                   check=True)
    return open(T + "/" + name, "rb").read()


def unlock(host, iid, pws, tok, csrf):
    st, h, d = req(host, "POST", "/api/items/%s/unlock" % iid, {"passwords": pws}, cookie=tok,
                   csrf=csrf)
    return st, js(d) or {}


st, h, d = req(INET, "POST", "/api/items?name=" + q("見積書.zip"), ppap_zip("p1.zip", PPAP_PW),
               cookie=itok, csrf=ij["csrf"], ctype="application/zip")
pz = js(d) or {}
pid = pz.get("id", "x")
ok(st == 201 and pz.get("verdict") == "blocked" and pz.get("reason") == "encrypted"
   and pz.get("state") == "held" and pz.get("has_content") is False,
   "a zip -P archive uploaded on the internet side is held as encrypted", (st, d[:300]))
st, h, d = req(LG, "POST", "/api/items/%s/unlock" % pid, {"passwords": [PPAP_PW]}, cookie=ltok,
               csrf=jl.get("csrf"))
ok(st == 404, "unlock on the LGWAN listener (not where the item came from) → 404", (st, d[:200]))
k1i, k1ij = sessions[("security-manager", "internet")]
st, j = unlock(INET, pid, [PPAP_PW], k1i, k1ij.get("csrf"))
ok(st == 404, "unlock by another user → 404", (st, j))
st, h, d = req(INET, "POST", "/api/items/%s/unlock" % pid, {"passwords": [PPAP_PW]}, cookie=itok)
ok(st == 403 and (js(d) or {}).get("error", {}).get("code") == "csrf", "unlock without CSRF → 403")
for desc, pws in (("6 passwords", PPAP_WRONG[:6]), ("no password", []), ("an empty password", [""]),
                  ("a number", [7391]), ("a control character", ["a\x01b"])):
    st, j = unlock(INET, pid, pws, itok, ij["csrf"])
    ok(st == 400 and j.get("error", {}).get("code") == "bad-request", "unlock with %s → 400" % desc,
       (st, j))
st, h, d = req(INET, "POST", "/api/items/%s/unlock" % pid, b'{"passwords":"x"}', cookie=itok,
               csrf=ij["csrf"], ctype="application/json")
ok(st == 400, "passwords not a list → 400", st)
st, j = unlock(INET, pid, PPAP_WRONG[:5], itok, ij["csrf"])
ok(st == 200 and j.get("verdict") == "blocked" and j.get("reason") == "encrypted"
   and j.get("wrong_password") is True and j.get("tries_left") == 9
   and (j.get("item") or {}).get("state") == "held",
   "5 wrong passwords → 200 blocked, wrong_password, 9 tries left (one try per request)", j)
st, j = unlock(INET, pid, [PPAP_WRONG[5], PPAP_PW], itok, ij["csrf"])
pit = j.get("item") or {}
ok(st == 200 and j.get("verdict") == "sanitized" and j.get("wrong_password") is False
   and "tries_left" not in j and pit.get("has_content") is True and pit.get("verdict") == "sanitized",
   "a wrong and the right password → 200 sanitized, the item has content", j)
st, j = unlock(INET, pid, [PPAP_PW], itok, ij["csrf"])
ok(st == 409 and j.get("error", {}).get("code") == "conflict", "unlocking it again → 409", (st, j))
st, h, d = req(INET, "GET", "/api/items/%s/content" % pid, cookie=itok)
ok(st == 404, "the unlocked result is not served on the internet listener")
st, h, d = req(LG, "GET", "/api/items/%s/content" % pid, cookie=ltok)
good = st == 200 and d[:2] == b"PK"
inner = {}
if good:
    import io
    with zipfile.ZipFile(io.BytesIO(d)) as z:
        for zi in z.infolist():
            inner[zi.filename] = z.read(zi)  # no password needed: a plain zip now
ok(good and inner.get("見積内訳.txt", b"").decode("utf-8", "replace") == "見積の内訳 一式\n",
   "the owner downloads the sanitised zip on the LGWAN listener, the text inside intact",
   (st, list(inner)))
docs = [v for k, v in inner.items() if k.startswith("会議資料.")]
names_inside = []
for v in docs:
    import io
    with zipfile.ZipFile(io.BytesIO(v)) as z:
        names_inside += z.namelist()
ok(len(docs) == 1 and "word/document.xml" in names_inside
   and not any("vbaProject" in x for x in names_inside),
   "the docm inside was sanitised (no vbaProject.bin)", (list(inner), names_inside))
st, h, d = req(LG, "GET", "/api/audit?per_page=200&action=unlock",
               cookie=sessions[("security-director", "lgwan")][0])
recs = (js(d) or {}).get("records", [])
ok(st == 200 and any(r["actor"] == "staffi" and r["result"] == "sanitized" for r in recs)
   and any(r["result"] == "refused wrong-password" for r in recs),
   "the unlock and the wrong try are on record naming staffi", d[:300])

# the limit: 10 wrong tries, then the 11th (even with the right password) → 429
st, h, d = req(INET, "POST", "/api/items?name=ppap2.zip", ppap_zip("p2.zip", PPAP_PW),
               cookie=itok, csrf=ij["csrf"], ctype="application/zip")
p2 = (js(d) or {}).get("id", "x")
lefts = []
for i in range(10):
    st, j = unlock(INET, p2, [PPAP_WRONG[10 + i]], itok, ij["csrf"])
    lefts.append((st, j.get("tries_left")))
ok(lefts == [(200, 9 - i) for i in range(10)], "10 wrong tries: 200 each, tries left 9 … 0", lefts)
st, j = unlock(INET, p2, [PPAP_PW], itok, ij["csrf"])
ok(st == 429 and j.get("error", {}).get("code") == "too-many-attempts"
   and j["error"].get("message") and j["error"].get("message_en"),
   "the 11th try → 429 too-many-attempts", (st, j))
st, h, d = req(LG, "GET", "/api/items/%s/content" % p2, cookie=ltok)
ok(st == 404, "the locked item stays without content")

# the passwords are nowhere: no file of the state folder, not the events
SECRET_PW = [PPAP_PW] + PPAP_WRONG[:20]
found = []
scanned = 0
for root, dirs, files in os.walk(T + "/state"):
    for f in files:
        try:
            data = open(os.path.join(root, f), "rb").read()
        except OSError:
            continue
        scanned += 1
        for p in SECRET_PW:
            if p.encode() in data or p.encode("utf-16-le") in data:
                found.append((f, p))
ok(scanned >= 5 and not found, "no PPAP password in any of the %d files of the state folder" % scanned,
   found[:5])
events = open(T + "/events.log", encoding="utf-8", errors="replace").read()
ok(not any(p in events for p in SECRET_PW), "no PPAP password in the events")

# ---- audit through the API
dtok, dj = sessions[("security-director", "lgwan")]
st, h, d = req(LG, "GET", "/api/audit?per_page=200&actor=kacho2", cookie=dtok)
recs = (js(d) or {}).get("records", [])
ok(st == 200 and any(r["actor"] == "kacho2" for r in recs), "the approval is on record naming kacho2",
   d[:300])
st, h, d = req(LG, "GET", "/api/audit?per_page=200", cookie=SESS[("staff", "lgwan")][0])
recs = (js(d) or {}).get("records", [])
ok(st == 200 and recs and all(r["actor"] == "staff" for r in recs), "staff see only their own records")
st, h, d = req(LG, "GET", "/api/audit?per_page=200", cookie=k3)
recs = (js(d) or {}).get("records", [])
mine = ("item:%s" % hid, "item:%s" % hid2)
ok(st == 200 and any(r["actor"] == "kacho1" and r["object"].startswith(mine[0]) for r in recs)
   and any(r["actor"] == "kacho2" and r["object"].startswith(mine[0]) for r in recs)
   and any(r["actor"] == "kacho1" and r["object"].startswith(mine[1]) for r in recs),
   "a staff member without audit sees the approvals and refusals of their requests by others",
   [(r["actor"], r["action"], r["object"][:40]) for r in recs][:20])
ok(all(r["actor"] == "kacho3" or r["object"].split(" ")[0] in mine for r in recs)
   and not any(iid in r["object"] for r in recs),
   "... and nothing else: every record is theirs or about one of their items",
   [(r["actor"], r["object"][:40]) for r in recs if r["actor"] != "kacho3"][:10])
st, h, d = req(LG, "GET", "/api/audit/verify", cookie=dtok)
ok(st == 200 and (js(d) or {}).get("ok") is True, "audit verify → ok", d[:300])
st, h, d = req(LG, "GET", "/api/audit/checkpoints", cookie=dtok)
cps = (js(d) or {}).get("checkpoints", [])
ok(st == 200 and cps and len(cps[0].get("root", "")) == 64, "checkpoints listed with their roots")
st, h, d = req(LG, "GET", "/api/audit/proof?seq=0", cookie=dtok)
ok(st == 200 and len((js(d) or {}).get("root", "")) == 64, "inclusion proof of record 0", d[:200])
st, h, d = req(LG, "GET", "/api/dashboard?days=7", cookie=dtok)
dash = js(d) or {}
ok(st == 200 and len(dash.get("per_day", [])) == 7 and "workers" in dash, "dashboard: 7 days", d[:300])

# ---- a DLP block of an upload opens an incident (the flow's dlp: mynumber: block)
st, h, d = req(LG, "POST", "/api/items?name=%s&to=internet" % q("番号.txt"),
               "申請者 山田\n個人番号: 3847-5629-1044\n".encode(), cookie=dtok,
               csrf=dj.get("csrf"), ctype="text/plain")
dlp = js(d) or {}
ok(st == 201 and dlp.get("verdict") == "blocked" and dlp.get("reason") == "dlp",
   "an upload with a 個人番号 to the internet is blocked by DLP", (st, d[:300]))
inc = subprocess.run([B + "/sekisho", "ledger", "list", "incidents", "--state", T + "/state",
                      "--policy", T + "/policy.yaml", "--json"], capture_output=True, text=True)
incs = [json.loads(l) for l in inc.stdout.splitlines() if l.strip()]
ok(inc.returncode == 0 and len(incs) == 1 and incs[0].get("found_by") == "sekisho"
   and incs[0].get("state") == "open" and incs[0].get("item") == dlp.get("id")
   and "番号.txt" in incs[0].get("what", ""),
   "... and the gate opened one incident, linked to the item", (inc.returncode, inc.stdout[:400], inc.stderr[:200]))

# ---- asset=: the upload is that asset of the ledger and takes its class (AS-0001 is
# 機密性3A: kept in its zone); the same file unmarked is delivered; an unknown asset is refused
itok, ij = sessions[("staff", "internet")]
body = "資産の試験\n".encode()
st, h, d = req(INET, "POST", "/api/items?name=plain-asset.txt", body, cookie=itok,
               csrf=ij["csrf"], ctype="text/plain")
ok(st == 201 and (js(d) or {}).get("verdict") != "blocked", "unmarked upload internet -> lgwan: 201, delivered", (st, d[:200]))
st, h, d = req(INET, "POST", "/api/items?name=marked-asset.txt&asset=AS-0001", body, cookie=itok,
               csrf=ij["csrf"], ctype="text/plain")
mk = ((js(d) or {}).get("error") or {}).get("item") or {}
ok(st == 403 and mk.get("reason") == "policy-deny" and "AS-0001" in json.dumps(mk, ensure_ascii=False),
   "the same marked asset=AS-0001 (機密性3A): 403, denied by the asset's class, the item names the asset",
   (st, d[:600]))
st, h, d = req(INET, "POST", "/api/items?name=unknown-asset.txt&asset=AS-0999", body, cookie=itok,
               csrf=ij["csrf"], ctype="text/plain")
e = (js(d) or {}).get("error") or {}
ok(st == 400 and "資産" in e.get("message", "") and "asset" in e.get("message_en", ""),
   "an unknown asset: 400 in Japanese and English (never ignored)", (st, d[:300]))

# ---- nothing secret in the events or the audit log
st, h, d = req(LG, "GET", "/api/audit?per_page=200", cookie=dtok)
audit_text = d.decode(errors="replace")
total = (js(d) or {}).get("total", 0)
for p in range(2, min(20, total // 200 + 2)):
    audit_text += req(LG, "GET", "/api/audit?per_page=200&page=%d" % p, cookie=dtok)[2].decode(errors="replace")
events = open(T + "/events.log", encoding="utf-8", errors="replace").read()
secrets = [u[2] for u in USERS.values()] + TOKENS + SECRET_PW
ok(not any(s in events for s in secrets), "no password, session token or CSRF token in the events")
ok(not any(s in audit_text for s in secrets), "none in the audit log either")

done()
