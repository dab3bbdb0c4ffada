"""What the console API checks share (http_api.py, ledger_api.py): TAP lines, one HTTPS
request to a listener, JSON of an answer, and the users made by the shell part
(TMPDIR/users.tsv: name, role, TOTP secret; TMPDIR/pw.NAME: the password)."""
import http.client
import json
import sys

_n = 0
_fails = 0


def ok(cond, desc, detail=None):
    """One TAP line; the detail (when it fails) as comment lines."""
    global _n, _fails
    _n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (_n, desc))
    if not cond:
        _fails += 1
        if detail is not None:
            print("#   " + str(detail)[:800].replace("\n", "\n#   "))
    sys.stdout.flush()
    return cond


def done():
    """The plan line, and the exit status (1 when a check failed)."""
    print("1..%d" % _n)
    sys.exit(1 if _fails else 0)


def https(ctx, host, port, method, path, body=None, headers=None):
    """(status, headers, body bytes); a dict or list body is sent as JSON."""
    h = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    c = http.client.HTTPSConnection(host, port, context=ctx, timeout=120)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.headers, data


def js(data):
    try:
        return json.loads(data)
    except ValueError:
        return None


def load_users(tmp):
    """{name: (role, TOTP secret, password)}"""
    users = {}
    for line in open(tmp + "/users.tsv"):
        name, role, secret = line.rstrip("\n").split("\t")
        users[name] = (role, secret, open(tmp + "/pw." + name).read().strip())
    return users
