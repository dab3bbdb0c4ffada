/* The policy file: loading, checking (line-numbered diagnostics), decisions. */
#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "policy_int.h"
#include "sekisho/io.h"
#include "sekisho/name.h"
#include "sekisho/scan.h"

/* ---- diagnostics -------------------------------------------------------------------- */

void sk_policy_diags_init(sk_policy_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void sk_policy_diags_free(sk_policy_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].msg_ja);
		free(d->v[i].msg_en);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void vdiag(sk_policy_diags *d, sk_diag_level lv, const char *code, uint32_t line,
		  uint32_t col, const char *ja, const char *en, va_list ap)
{
	if (!d)
		return;
	if (lv == SK_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		sk_policy_diag *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return; /* counted above: an error still fails the load */
		d->v = v;
		d->cap = cap;
	}
	char a[512], b[512];
	va_list ap2;
	va_copy(ap2, ap);
	vsnprintf(a, sizeof(a), ja, ap);
	vsnprintf(b, sizeof(b), en, ap2);
	va_end(ap2);
	sk_policy_diag *x = &d->v[d->n];
	x->level = lv;
	x->code = code;
	x->line = line;
	x->col = col;
	x->msg_ja = strdup(a);
	x->msg_en = strdup(b);
	if (!x->msg_ja || !x->msg_en) {
		free(x->msg_ja);
		free(x->msg_en);
		return;
	}
	d->n++;
}
#pragma GCC diagnostic pop

void sk_pdiag(sk_policy_diags *d, sk_diag_level lv, const char *code, const pnode *at,
	      const char *ja, const char *en, ...)
{
	va_list ap;
	va_start(ap, en);
	vdiag(d, lv, code, at ? at->line : 0, at ? at->col : 0, ja, en, ap);
	va_end(ap);
}

void sk_pdiag_at_v(sk_policy_diags *d, sk_diag_level lv, const char *code, uint32_t line,
		   uint32_t col, const char *ja, const char *en, ...)
{
	va_list ap;
	va_start(ap, en);
	vdiag(d, lv, code, line, col, ja, en, ap);
	va_end(ap);
}

static int diag_cmp(const void *a, const void *b)
{
	const sk_policy_diag *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return strcmp(x->code, y->code);
}

int sk_policy_diags_format(const sk_policy_diags *d, const char *file, sk_lang lang, sk_buf *out)
{
	sk_policy_diag *v = NULL;
	if (d->n) {
		if (!(v = malloc(d->n * sizeof(*v))))
			return SK_ENOMEM;
		memcpy(v, d->v, d->n * sizeof(*v));
		qsort(v, d->n, sizeof(*v), diag_cmp);
	}
	int rc = 0;
	for (size_t i = 0; i < d->n && !rc; i++)
		rc = sk_buf_printf(out, "%s:%u:%u: %s: %s\n", file, v[i].line, v[i].col, v[i].code,
				   lang == SK_LANG_EN ? v[i].msg_en : v[i].msg_ja);
	free(v);
	if (!rc) {
		if (lang == SK_LANG_EN)
			rc = sk_buf_printf(out, "%s: %zu error%s, %zu warning%s\n", file, d->errors,
					   d->errors == 1 ? "" : "s", d->warnings,
					   d->warnings == 1 ? "" : "s");
		else
			rc = sk_buf_printf(out, "%s: エラー %zu 件、警告 %zu 件\n", file, d->errors,
					   d->warnings);
	}
	return rc;
}

/* ---- dates -------------------------------------------------------------------------- */

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int mdays(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

int32_t sk_policy_date_parse(const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return SK_EINVAL;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return SK_EINVAL;
	int y = atoi(s), m = atoi(s + 5), dd = atoi(s + 8);
	if (y < 1900 || y > 9999 || m < 1 || m > 12 || dd < 1 || dd > mdays(y, m))
		return SK_EINVAL;
	return y * 10000 + m * 100 + dd;
}

int32_t sk_policy_today(void)
{
	time_t t = time(NULL);
	struct tm tm;
	localtime_r(&t, &tm);
	return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

int32_t sk_pdate_add_days(int32_t ymd, int days)
{
	int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
	while (days-- > 0) {
		if (++d > mdays(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	return y * 10000 + m * 100 + d;
}

/* An exception is valid through its expiry date. */
bool sk_pdate_expired(int32_t expires, int32_t today)
{
	return expires < today;
}

static void date_str(int32_t ymd, char *b, size_t n)
{
	snprintf(b, n, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
}

/* ---- names ---------------------------------------------------------------------------- */

static const char *const channel_names[] = {"mail", "file", "web"};

int sk_pchannel_mask(const char *s)
{
	if (!s)
		return 0;
	if (!strcmp(s, "any"))
		return CH_ANY;
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, channel_names[i]))
			return 1 << i;
	return 0;
}

const char *sk_pchannel_name(int bit)
{
	return bit == CH_MAIL ? "mail" : bit == CH_FILE ? "file" : bit == CH_WEB ? "web" : "any";
}

const char *sk_flow_action_code(sk_flow_action a)
{
	switch (a) {
	case SK_FLOW_DENY: return "deny";
	case SK_FLOW_ALLOW: return "allow";
	case SK_FLOW_SANITIZE: return "sanitize";
	case SK_FLOW_HOLD: return "hold";
	}
	return "?";
}

const char *sk_flow_action_text(sk_flow_action a, sk_lang lang)
{
	bool en = lang == SK_LANG_EN;
	switch (a) {
	case SK_FLOW_DENY: return en ? "deny" : "拒否";
	case SK_FLOW_ALLOW: return en ? "allow" : "許可";
	case SK_FLOW_SANITIZE: return en ? "sanitize" : "無害化";
	case SK_FLOW_HOLD: return en ? "hold for approval" : "承認待ち (保留)";
	}
	return "?";
}

const char *sk_dlp_action_code(sk_dlp_action a)
{
	switch (a) {
	case SK_DLP_ACTION_RECORD: return "record";
	case SK_DLP_ACTION_HOLD: return "hold";
	case SK_DLP_ACTION_BLOCK: return "block";
	case SK_DLP_ACTION_OFF: return "off";
	}
	return "?";
}

static int dlp_action_parse(const char *s, sk_dlp_action *a)
{
	static const char *const n[] = {"record", "hold", "block", "off"};
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, n[i])) {
			*a = (sk_dlp_action)i;
			return 0;
		}
	return SK_EINVAL;
}

/* ---- building ---------------------------------------------------------------------------- */

struct ctx {
	sk_policy *p;
	sk_policy_diags *d;
	int32_t today;
	int oom;
};

#define ERR(c, code, node, ja, en, ...) sk_pdiag((c)->d, SK_DIAG_ERROR, code, node, ja, en, ##__VA_ARGS__)
#define WARN(c, code, node, ja, en, ...) sk_pdiag((c)->d, SK_DIAG_WARNING, code, node, ja, en, ##__VA_ARGS__)

/* Appends a zeroed element to the array whose pointer is at parr (count *n, elements of
 * sz bytes) and returns it. On failure NULL, c->oom set, and the array and its count
 * unchanged (so that sk_policy_free() still frees what is there). */
static void *grow(struct ctx *c, void *parr, size_t *n, size_t sz)
{
	void *v;
	memcpy(&v, parr, sizeof(v));
	if (*n >= SIZE_MAX / sz - 1) {
		c->oom = 1;
		return NULL;
	}
	char *nv = realloc(v, (*n + 1) * sz);
	if (!nv) {
		c->oom = 1;
		return NULL;
	}
	memcpy(parr, &nv, sizeof(nv));
	memset(nv + *n * sz, 0, sz);
	return nv + (*n)++ * sz;
}
#define PUSH(c, arr, cnt) grow((c), &(arr), &(cnt), sizeof(*(arr)))

static const char *type_ja(int t)
{
	return t == PN_MAP ? "マッピング (キー: 値)" : t == PN_SEQ ? "リスト" : "値";
}

static const char *type_en(int t)
{
	return t == PN_MAP ? "a mapping (key: value)" : t == PN_SEQ ? "a list" : "a scalar value";
}

static bool want(struct ctx *c, const pnode *n, int t, const char *what)
{
	if (n && n->t == t)
		return true;
	ERR(c, "E-TYPE", n, "%s は%sで書いてください%.0s", "%s must be %.0s%s", what, type_ja(t),
	    type_en(t));
	return false;
}

struct fld {
	const char *key;
	int type;  /* PN_*; -1: scalar or list … anything */
	bool req;
	const pnode *val;
};

/* Matches the keys of map against f: unknown, duplicate and missing keys and wrong value
 * types are reported. Returns false when map is not a mapping. */
static bool fields(struct ctx *c, const pnode *map, const char *where, struct fld *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		f[i].val = NULL;
	if (!want(c, map, PN_MAP, where))
		return false;
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const pnode *k = map->k[i], *v = map->k[i + 1];
		if (k->t != PN_SCALAR) {
			ERR(c, "E-TYPE", k, "%s のキーは文字列にしてください", "keys of %s must be strings", where);
			continue;
		}
		size_t j = 0;
		while (j < nf && strcmp(f[j].key, k->s))
			j++;
		if (j == nf) {
			ERR(c, "E-KEY-UNKNOWN", k, "%s に不明なキー「%s」があります", "%s: unknown key '%s'",
			    where, k->s);
			continue;
		}
		if (f[j].val) {
			ERR(c, "E-KEY-DUPLICATE", k, "キー「%s」が %d 行目と重複しています",
			    "key '%s' repeats the one on line %d", k->s, (int)f[j].val->line);
			continue;
		}
		if (f[j].type >= 0 && v->t != f[j].type) {
			ERR(c, "E-TYPE", v, "「%s」は%sで書いてください%.0s", "'%s' must be %.0s%s", k->s,
			    type_ja(f[j].type), type_en(f[j].type));
			f[j].val = NULL;
			continue;
		}
		f[j].val = v;
	}
	for (size_t j = 0; j < nf; j++)
		if (f[j].req && !f[j].val) {
			bool present = false;
			for (size_t i = 0; i + 1 < map->n; i += 2)
				if (map->k[i]->t == PN_SCALAR && !strcmp(map->k[i]->s, f[j].key))
					present = true;
			if (!present)
				ERR(c, "E-KEY-MISSING", map, "%s に「%s」がありません", "%s has no '%s'", where,
				    f[j].key);
		}
	return true;
}

static const pnode *fv(const struct fld *f, size_t nf, const char *key)
{
	for (size_t i = 0; i < nf; i++)
		if (!strcmp(f[i].key, key))
			return f[i].val;
	return NULL;
}
#define FV(key) fv(f, sizeof(f) / sizeof(f[0]), key)
#define FIELDS(c, map, where) fields(c, map, where, f, sizeof(f) / sizeof(f[0]))

static bool get_bool(struct ctx *c, const pnode *n, bool *out)
{
	if (!n)
		return false;
	if (n->t == PN_SCALAR && n->plain && (!strcmp(n->s, "true") || !strcmp(n->s, "false"))) {
		*out = n->s[0] == 't';
		return true;
	}
	ERR(c, "E-TYPE", n, "true か false を書いてください", "write true or false");
	return false;
}

static bool get_int(struct ctx *c, const pnode *n, long lo, long hi, long *out)
{
	if (!n)
		return false;
	char *e = NULL;
	long v = n->t == PN_SCALAR ? strtol(n->s, &e, 10) : 0;
	if (n->t != PN_SCALAR || !*n->s || *e || v < lo || v > hi) {
		ERR(c, "E-TYPE", n, "%ld から %ld までの整数を書いてください",
		    "write a whole number from %ld to %ld", lo, hi);
		return false;
	}
	*out = v;
	return true;
}

static bool valid_id(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!(isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p >= 0x80))
			return false;
	return true;
}

static bool check_id(struct ctx *c, const pnode *n, const char *what)
{
	if (n && n->t == PN_SCALAR && valid_id(n->s))
		return true;
	ERR(c, "E-ID-INVALID", n, "%s の名前は英数字・-・_ (または日本語) で 64 文字以内にしてください",
	    "%s names are letters, digits, - and _ (or Japanese), at most 64 characters", what);
	return false;
}

/* ---- networks --------------------------------------------------------------------------- */

static bool parse_addr(const char *s, int *af, uint8_t a[16])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1) {
		*af = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*af = AF_INET6;
		return true;
	}
	return false;
}

static bool in_net(const struct pnet *n, int af, const uint8_t *a)
{
	if (n->af != af)
		return false;
	int bits = n->plen;
	for (int i = 0; bits > 0; i++, bits -= 8) {
		uint8_t m = bits >= 8 ? 0xFF : (uint8_t)(0xFF << (8 - bits));
		if ((a[i] & m) != (n->a[i] & m))
			return false;
	}
	return true;
}

static bool nets_overlap(const struct pnet *x, const struct pnet *y)
{
	if (x->af != y->af)
		return false;
	return x->plen <= y->plen ? in_net(x, y->af, y->a) : in_net(y, x->af, x->a);
}

static bool parse_cidr(struct ctx *c, const pnode *n, struct pnet *out)
{
	char tmp[64];
	if (n->t != PN_SCALAR || n->sl >= sizeof(tmp))
		goto bad;
	memcpy(tmp, n->s, n->sl + 1);
	char *slash = strchr(tmp, '/');
	long plen = -1;
	if (slash) {
		*slash = 0;
		char *e;
		plen = strtol(slash + 1, &e, 10);
		if (!slash[1] || *e)
			goto bad;
	}
	if (!parse_addr(tmp, &out->af, out->a))
		goto bad;
	int maxp = out->af == AF_INET ? 32 : 128;
	if (plen < 0)
		plen = maxp;
	if (plen > maxp)
		goto bad;
	out->plen = (int)plen;
	out->text = n->s;
	out->n = n;
	/* host bits must be zero */
	for (int bit = (int)plen; bit < maxp; bit++)
		if (out->a[bit / 8] & (0x80 >> (bit % 8))) {
			ERR(c, "E-CIDR-INVALID", n, "「%s」はネットワークアドレスではありません (ホスト部が 0 ではありません)",
			    "'%s' is not a network address (host bits are set)", n->s);
			return false;
		}
	return true;
bad:
	ERR(c, "E-CIDR-INVALID", n, "「%s」は正しい CIDR (例 198.51.100.0/24) ではありません",
	    "'%s' is not a valid CIDR (e.g. 198.51.100.0/24)", n->t == PN_SCALAR ? n->s : "?");
	return false;
}

static bool valid_iface(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

int sk_paddr_family(const char *s)
{
	int af;
	uint8_t a[16];
	return parse_addr(s, &af, a) ? af : 0;
}

/* A list of CIDRs (a bare address is a /32 or /128) appended to *arr. */
static void parse_net_list(struct ctx *c, const pnode *seq, struct pnet **arr, size_t *nn,
			   const char *code, const char *what)
{
	if (!seq || !want(c, seq, PN_SEQ, what))
		return;
	if (seq->n == 0 && code)
		ERR(c, code, seq, "%s にネットワークが一つもありません", "%s lists no network", what);
	for (size_t i = 0; i < seq->n; i++) {
		struct pnet n;
		if (!parse_cidr(c, seq->k[i], &n))
			continue;
		struct pnet *x = PUSH(c, *arr, *nn);
		if (x)
			*x = n;
	}
}

/* An interface name from n, or NULL (with E-INTERFACE-INVALID) */
static const char *iface_of(struct ctx *c, const pnode *n)
{
	if (valid_iface(n->s))
		return n->s;
	ERR(c, "E-INTERFACE-INVALID", n, "インターフェース名「%s」が不正です (英数字 15 文字以内)",
	    "interface name '%s' is invalid (at most 15 letters and digits)", n->s);
	return NULL;
}

static void parse_nets(struct ctx *c, const pnode *seq, struct pzone *z, const char *what)
{
	parse_net_list(c, seq, &z->nets, &z->nn, "E-ZONE-NETWORKS", what);
}

/* ---- sections ------------------------------------------------------------------------------ */

static const char *const required_zones[] = {"mynumber", "lgwan", "internet"};

static void parse_zones(struct ctx *c, const pnode *zones, const pnode *root)
{
	sk_policy *p = c->p;
	(void)root;
	if (!zones)
		return; /* reported as a missing key */
	if (!want(c, zones, PN_MAP, "zones"))
		return;
	for (size_t i = 0; i + 1 < zones->n; i += 2) {
		const pnode *k = zones->k[i], *v = zones->k[i + 1];
		if (!check_id(c, k, "zone"))
			continue;
		if (sk_pzone_find(p, k->s)) {
			ERR(c, "E-ID-DUPLICATE", k, "ゾーン「%s」が重複しています", "zone '%s' is defined twice", k->s);
			continue;
		}
		if (!strcmp(k->s, "any") || !strcmp(k->s, "other-zones")) {
			ERR(c, "E-ID-INVALID", k, "「%s」は予約語のためゾーン名に使えません",
			    "'%s' is reserved and cannot name a zone", k->s);
			continue;
		}
		struct fld f[] = {{"name", PN_SCALAR, false, 0}, {"name_en", PN_SCALAR, false, 0},
				  {"networks", PN_SEQ, true, 0}, {"gateway", PN_MAP, true, 0},
				  {"description", PN_SCALAR, false, 0}};
		char where[96];
		snprintf(where, sizeof(where), "zones.%s", k->s);
		if (!FIELDS(c, v, where))
			continue;
		struct pzone *z = PUSH(c, p->z, p->nz);
		if (!z)
			return;
		z->id = k->s;
		z->n = k;
		z->name = FV("name") ? FV("name")->s : k->s;
		z->name_en = FV("name_en") ? FV("name_en")->s : z->name;
		parse_nets(c, FV("networks"), z, where);
		const pnode *gw = FV("gateway");
		if (gw) {
			struct fld g[] = {{"interface", PN_SCALAR, true, 0}, {"address", PN_SCALAR, true, 0}};
			char gwhere[128];
			snprintf(gwhere, sizeof(gwhere), "%s.gateway", where);
			fields(c, gw, gwhere, g, 2);
			if (g[0].val)
				z->iface = iface_of(c, g[0].val);
			if (g[1].val) {
				if (!parse_addr(g[1].val->s, &z->gw_af, z->gw)) {
					ERR(c, "E-CIDR-INVALID", g[1].val, "「%s」は IP アドレスではありません",
					    "'%s' is not an IP address", g[1].val->s);
				} else {
					z->gw_text = g[1].val->s;
					bool inside = false;
					for (size_t j = 0; j < z->nn; j++)
						inside = inside || in_net(&z->nets[j], z->gw_af, z->gw);
					if (!inside && z->nn)
						ERR(c, "E-GATEWAY-NOT-IN-ZONE", g[1].val,
						    "ゲートウェイのアドレス %s がゾーン「%s」のネットワークに含まれていません",
						    "gateway address %s is not inside the networks of zone '%s'",
						    g[1].val->s, z->id);
				}
			}
		}
	}
	for (size_t i = 0; i < 3; i++)
		if (!sk_pzone_find(p, required_zones[i]))
			ERR(c, "E-ZONE-MISSING", zones, "三層分離のゾーン「%s」が定義されていません",
			    "the three-tier zone '%s' is not defined", required_zones[i]);
	/* separation: networks and interfaces not shared */
	for (size_t a = 0; a < p->nz; a++)
		for (size_t b = a + 1; b < p->nz; b++) {
			for (size_t i = 0; i < p->z[a].nn; i++)
				for (size_t j = 0; j < p->z[b].nn; j++)
					if (nets_overlap(&p->z[a].nets[i], &p->z[b].nets[j]))
						ERR(c, "E-CIDR-OVERLAP", p->z[b].nets[j].n,
						    "ゾーン「%s」の %s がゾーン「%s」の %s と重なっています",
						    "zone '%s': %s overlaps zone '%s': %s",
						    p->z[b].id, p->z[b].nets[j].text, p->z[a].id,
						    p->z[a].nets[i].text);
			if (p->z[a].iface && p->z[b].iface && !strcmp(p->z[a].iface, p->z[b].iface))
				ERR(c, "E-INTERFACE-DUPLICATE", p->z[b].n,
				    "ゾーン「%s」と「%s」が同じインターフェース %s を使っています (経路を分割してください)",
				    "zones '%s' and '%s' share interface %s (separate the paths)",
				    p->z[a].id, p->z[b].id, p->z[a].iface);
		}
}

static void parse_clouds(struct ctx *c, const pnode *clouds)
{
	sk_policy *p = c->p;
	if (!clouds || !want(c, clouds, PN_MAP, "clouds"))
		return;
	for (size_t i = 0; i + 1 < clouds->n; i += 2) {
		const pnode *k = clouds->k[i], *v = clouds->k[i + 1];
		if (!check_id(c, k, "cloud"))
			continue;
		if (sk_pzone_find(p, k->s) || !strcmp(k->s, "any")) {
			ERR(c, "E-ID-DUPLICATE", k, "「%s」はゾーンまたはクラウドとして既に定義されています",
			    "'%s' is already a zone or cloud", k->s);
			continue;
		}
		struct fld f[] = {{"name", PN_SCALAR, false, 0}, {"networks", PN_SEQ, true, 0},
				  {"ports", PN_SEQ, false, 0}, {"via", PN_SCALAR, false, 0},
				  {"description", PN_SCALAR, false, 0}};
		char where[96];
		snprintf(where, sizeof(where), "clouds.%s", k->s);
		if (!FIELDS(c, v, where))
			continue;
		struct pzone *z = PUSH(c, p->z, p->nz);
		if (!z)
			return;
		z->id = k->s;
		z->n = k;
		z->cloud = true;
		z->name = z->name_en = FV("name") ? FV("name")->s : k->s;
		z->in_zone = "internet";
		if (FV("via")) {
			const struct pzone *via = sk_pzone_find(p, FV("via")->s);
			if (!via || via->cloud)
				ERR(c, "E-ZONE-UNKNOWN", FV("via"), "ゾーン「%s」は定義されていません",
				    "zone '%s' is not defined", FV("via")->s);
			else
				z->in_zone = via->id;
		}
		parse_nets(c, FV("networks"), z, where);
		const pnode *ports = FV("ports");
		if (ports) {
			for (size_t j = 0; j < ports->n; j++) {
				long port;
				if (!get_int(c, ports->k[j], 1, 65535, &port))
					continue;
				if (z->nports < sizeof(z->ports) / sizeof(z->ports[0]))
					z->ports[z->nports++] = (int)port;
			}
		} else {
			z->ports[z->nports++] = 443;
		}
	}
}

static void parse_listeners(struct ctx *c, const pnode *l)
{
	sk_policy *p = c->p;
	p->lis[0] = (struct plistener){.port = 25, .egress = {25}, .ne = 1};
	p->lis[1] = (struct plistener){.port = 443, .ne = 0};
	p->lis[2] = (struct plistener){.port = 3128, .egress = {80, 443}, .ne = 2};
	if (!l)
		return;
	struct fld f[] = {{"mail", PN_MAP, false, 0}, {"file", PN_MAP, false, 0}, {"web", PN_MAP, false, 0}};
	if (!FIELDS(c, l, "listeners"))
		return;
	for (int i = 0; i < 3; i++) {
		if (!f[i].val)
			continue;
		struct fld g[] = {{"port", PN_SCALAR, true, 0}, {"egress", PN_SEQ, false, 0}};
		char where[64];
		snprintf(where, sizeof(where), "listeners.%s", f[i].key);
		fields(c, f[i].val, where, g, 2);
		long v;
		if (g[0].val && get_int(c, g[0].val, 1, 65535, &v))
			p->lis[i].port = (int)v;
		if (g[1].val) {
			p->lis[i].ne = 0;
			for (size_t j = 0; j < g[1].val->n; j++)
				if (get_int(c, g[1].val->k[j], 1, 65535, &v) && p->lis[i].ne < 8)
					p->lis[i].egress[p->lis[i].ne++] = (int)v;
		}
	}
}

/* v, when given, is `no` (*yes false) or `yes` (*yes true) */
static void profile_choice(struct ctx *c, const pnode *v, const char *no, const char *yes,
			   bool *out)
{
	if (!v)
		return;
	if (!strcmp(v->s, no))
		*out = false;
	else if (!strcmp(v->s, yes))
		*out = true;
	else
		ERR(c, "E-VALUE-INVALID", v, "%s か %s です", "%s or %s", no, yes);
}

static void parse_profiles(struct ctx *c, const pnode *prof)
{
	sk_policy *p = c->p;
	if (!prof || !want(c, prof, PN_MAP, "profiles"))
		return;
	for (size_t i = 0; i + 1 < prof->n; i += 2) {
		const pnode *k = prof->k[i], *v = prof->k[i + 1];
		if (!check_id(c, k, "profile"))
			continue;
		bool dup = false;
		for (size_t j = 0; j < p->nprof; j++)
			dup = dup || !strcmp(p->prof[j].p.name, k->s);
		if (dup) {
			ERR(c, "E-ID-DUPLICATE", k, "プロファイル「%s」が重複しています", "profile '%s' is defined twice", k->s);
			continue;
		}
		struct fld f[] = {
			{"base", PN_SCALAR, false, 0},          {"csv_neutralize", PN_SCALAR, false, 0},
			{"keep_srgb_icc", PN_SCALAR, false, 0}, {"block_name_mismatch", PN_SCALAR, false, 0},
			{"keep_comments", PN_SCALAR, false, 0}, {"keep_revisions", PN_SCALAR, false, 0},
			{"strip_metadata", PN_SCALAR, false, 0}, {"neutralize_links", PN_SCALAR, false, 0},
			{"mail", PN_MAP, false, 0},             {"description", PN_SCALAR, false, 0},
			{"legacy", PN_MAP, false, 0},          {"pdf", PN_SCALAR, false, 0},
			{"ooxml", PN_SCALAR, false, 0},         {"damaged_pdf", PN_SCALAR, false, 0},
			{"image", PN_MAP, false, 0},
		};
		char where[96];
		snprintf(where, sizeof(where), "profiles.%s", k->s);
		if (!FIELDS(c, v, where))
			continue;
		struct pprofile *pp = PUSH(c, p->prof, p->nprof);
		if (!pp)
			return;
		const sk_profile *base = sk_profile_default();
		if (FV("base")) {
			base = sk_profile_find(FV("base")->s);
			if (!base) {
				ERR(c, "E-PROFILE-UNKNOWN", FV("base"),
				    "組み込みプロファイル「%s」はありません (default・strict・image)",
				    "there is no built-in profile '%s' (default, strict or image)",
				    FV("base")->s);
				base = sk_profile_default();
			}
		}
		pp->p = *base;
		pp->p.name = k->s;
		get_bool(c, FV("csv_neutralize"), &pp->p.csv_neutralize);
		get_bool(c, FV("keep_srgb_icc"), &pp->p.keep_srgb_icc);
		get_bool(c, FV("block_name_mismatch"), &pp->p.block_name_mismatch);
		get_bool(c, FV("keep_comments"), &pp->p.keep_comments);
		get_bool(c, FV("keep_revisions"), &pp->p.keep_revisions);
		get_bool(c, FV("strip_metadata"), &pp->p.strip_metadata);
		get_bool(c, FV("neutralize_links"), &pp->p.neutralize_links);
		/* legacy formats, per family: convert | image | block (cdr.h) */
		const pnode *lg = FV("legacy");
		for (size_t j = 0; lg && j + 1 < lg->n; j += 2) {
			const pnode *fk = lg->k[j], *fa = lg->k[j + 1];
			int fam = fk->t == PN_SCALAR ? sk_legacy_family_parse(fk->s) : -1;
			int act = fa->t == PN_SCALAR ? sk_legacy_action_parse(fa->s) : -1;
			if (fam < 0)
				ERR(c, "E-KEY-UNKNOWN", fk,
				    "形式「%s」はありません (doc xls ppt rtf odf xlsb xml2003)",
				    "there is no format family '%s' (doc xls ppt rtf odf xlsb xml2003)",
				    fk->t == PN_SCALAR ? fk->s : "?");
			else if (act < 0)
				ERR(c, "E-VALUE-INVALID", fa, "convert・image・block のどれかです",
				    "convert, image or block");
			else
				pp->p.legacy[fam] = (uint8_t)act;
		}
		/* 画像化 (cdr.h): pdf and ooxml rebuild|image, damaged_pdf image|block, and the
		 * image options */
		profile_choice(c, FV("pdf"), "rebuild", "image", &pp->p.pdf_image);
		profile_choice(c, FV("ooxml"), "rebuild", "image", &pp->p.ooxml_image);
		bool block_damaged = !pp->p.damaged_pdf_image;
		profile_choice(c, FV("damaged_pdf"), "image", "block", &block_damaged);
		pp->p.damaged_pdf_image = !block_damaged;
		if (FV("image")) {
			struct fld g[] = {{"dpi", PN_SCALAR, false, 0}, {"max_pages", PN_SCALAR, false, 0}};
			char iw[128];
			snprintf(iw, sizeof(iw), "%s.image", where);
			fields(c, FV("image"), iw, g, 2);
			long num;
			if (g[0].val && get_int(c, g[0].val, 36, 600, &num))
				pp->p.image_dpi = (uint16_t)num;
			if (g[1].val && get_int(c, g[1].val, 1, 100000, &num))
				pp->p.image_max_pages = (uint32_t)num;
		}
		pp->mail_html = "text";
		pp->mail_attachments = "sanitize";
		if (FV("mail")) {
			struct fld g[] = {{"html", PN_SCALAR, false, 0}, {"attachments", PN_SCALAR, false, 0}};
			char mw[128];
			snprintf(mw, sizeof(mw), "%s.mail", where);
			fields(c, FV("mail"), mw, g, 2);
			if (g[0].val) {
				if (strcmp(g[0].val->s, "text") && strcmp(g[0].val->s, "sanitize"))
					ERR(c, "E-VALUE-INVALID", g[0].val, "html は text か sanitize です",
					    "html is text or sanitize");
				else
					pp->mail_html = g[0].val->s;
			}
			if (g[1].val) {
				if (strcmp(g[1].val->s, "sanitize") && strcmp(g[1].val->s, "remove"))
					ERR(c, "E-VALUE-INVALID", g[1].val, "attachments は sanitize か remove です",
					    "attachments is sanitize or remove");
				else
					pp->mail_attachments = g[1].val->s;
			}
		}
	}
}

static const struct prole default_roles[] = {
	{"ciso", "最高情報セキュリティ責任者 (CISO)", "Chief Information Security Officer (CISO)", 0},
	{"security-director", "統括情報セキュリティ責任者", "Chief Information Security Director", 0},
	{"security-manager", "情報セキュリティ管理者", "Information Security Manager", 0},
	{"sysadmin", "システム管理者", "System Administrator", 0},
	{"staff", "職員", "Staff", 0},
	{"auditor", "監査員", "Auditor", 0},
};

static const char *const perm_codes[SK_PERM__COUNT] = {
	"upload", "download", "request", "approve", "section-items", "all-items",
	"release-original", "audit", "admin", "ledgers", "ledger-section", "ledger-all",
	"incident-report",
};

const char *sk_policy_perm_code(uint32_t one_perm)
{
	for (unsigned i = 0; i < SK_PERM__COUNT; i++)
		if (one_perm == 1u << i)
			return perm_codes[i];
	return NULL;
}

uint32_t sk_policy_perm_parse(const char *code)
{
	for (unsigned i = 0; code && i < SK_PERM__COUNT; i++)
		if (!strcmp(code, perm_codes[i]))
			return 1u << i;
	return 0;
}

/* The permissions of a role that does not list them, by its well-known id. */
static uint32_t default_perms(const char *id)
{
	const uint32_t base =
		SK_PERM_UPLOAD | SK_PERM_DOWNLOAD | SK_PERM_REQUEST | SK_PERM_INCIDENT_REPORT;
	if (!strcmp(id, "security-manager"))
		return base | SK_PERM_APPROVE | SK_PERM_SECTION_ITEMS | SK_PERM_LEDGERS |
		       SK_PERM_LEDGER_SECTION;
	if (!strcmp(id, "security-director") || !strcmp(id, "ciso"))
		return base | SK_PERM_APPROVE | SK_PERM_ALL_ITEMS | SK_PERM_RELEASE_ORIGINAL |
		       SK_PERM_AUDIT | SK_PERM_LEDGERS | SK_PERM_LEDGER_ALL;
	if (!strcmp(id, "sysadmin"))
		return base | SK_PERM_ADMIN | SK_PERM_ALL_ITEMS | SK_PERM_LEDGERS |
		       SK_PERM_LEDGER_SECTION;
	if (!strcmp(id, "auditor"))
		return SK_PERM_AUDIT | SK_PERM_LEDGERS; /* read-only */
	return base; /* staff and any other role */
}

static const struct prole *role_find(const sk_policy *p, const char *id)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (!strcmp(p->roles[i].id, id))
			return &p->roles[i];
	return NULL;
}

static const struct psection *section_find(const sk_policy *p, const char *id)
{
	for (size_t i = 0; id && i < p->nsections; i++)
		if (!strcmp(p->sections[i].id, id))
			return &p->sections[i];
	return NULL;
}

/* organization: 相模原市 ; sections: { ID: { name, name_en } } */
static void parse_org(struct ctx *c, const pnode *org, const pnode *sections)
{
	sk_policy *p = c->p;
	if (org) {
		if (!org->sl || org->sl > 256 || !sk_utf8_valid(org->s, org->sl) ||
		    strpbrk(org->s, "\r\n"))
			ERR(c, "E-ORGANIZATION", org, "organization は 1〜256 バイトの 1 行で書いてください",
			    "organization must be one line of 1 to 256 bytes");
		else
			p->organization = org->s;
	}
	if (!sections || !want(c, sections, PN_MAP, "sections"))
		return;
	for (size_t i = 0; i + 1 < sections->n; i += 2) {
		const pnode *k = sections->k[i], *v = sections->k[i + 1];
		if (!check_id(c, k, "section"))
			continue;
		if (section_find(p, k->s)) {
			ERR(c, "E-ID-DUPLICATE", k, "所属「%s」が重複しています", "section '%s' is defined twice",
			    k->s);
			continue;
		}
		struct fld f[] = {{"name", PN_SCALAR, true, 0}, {"name_en", PN_SCALAR, false, 0}};
		char where[96];
		snprintf(where, sizeof(where), "sections.%s", k->s);
		if (!FIELDS(c, v, where))
			continue;
		struct psection *x = PUSH(c, p->sections, p->nsections);
		if (!x)
			return;
		x->id = k->s;
		x->name = FV("name") ? FV("name")->s : k->s;
		x->name_en = FV("name_en") ? FV("name_en")->s : x->name;
	}
}

static void parse_roles(struct ctx *c, const pnode *roles, const pnode *users)
{
	sk_policy *p = c->p;
	if (!roles) {
		for (size_t i = 0; i < sizeof(default_roles) / sizeof(default_roles[0]); i++) {
			struct prole *r = PUSH(c, p->roles, p->nroles);
			if (r) {
				*r = default_roles[i];
				r->perms = default_perms(r->id);
			}
		}
	} else if (want(c, roles, PN_MAP, "roles")) {
		for (size_t i = 0; i + 1 < roles->n; i += 2) {
			const pnode *k = roles->k[i], *v = roles->k[i + 1];
			if (!check_id(c, k, "role"))
				continue;
			if (role_find(p, k->s)) {
				ERR(c, "E-ID-DUPLICATE", k, "役割「%s」が重複しています", "role '%s' is defined twice", k->s);
				continue;
			}
			struct fld f[] = {{"name", PN_SCALAR, true, 0}, {"name_en", PN_SCALAR, false, 0},
					  {"description", PN_SCALAR, false, 0},
					  {"permissions", PN_SEQ, false, 0}};
			char where[96];
			snprintf(where, sizeof(where), "roles.%s", k->s);
			if (!FIELDS(c, v, where))
				continue;
			struct prole *r = PUSH(c, p->roles, p->nroles);
			if (!r)
				return;
			r->id = k->s;
			r->name = FV("name") ? FV("name")->s : k->s;
			r->name_en = FV("name_en") ? FV("name_en")->s : r->name;
			const pnode *pl = FV("permissions");
			r->perms = pl ? 0 : default_perms(r->id);
			for (size_t j = 0; pl && j < pl->n; j++) {
				const pnode *x = pl->k[j];
				uint32_t bit = x->t == PN_SCALAR ? sk_policy_perm_parse(x->s) : 0;
				if (!bit)
					ERR(c, "E-ROLE-PERMISSION", x,
					    "権限「%s」は不明です (upload・download・request・approve・section-items・all-items・release-original・audit・admin)",
					    "unknown permission '%s' (upload, download, request, approve, section-items, all-items, release-original, audit, admin)",
					    x->t == PN_SCALAR ? x->s : "?");
				else if (r->perms & bit)
					WARN(c, "W-ROLE-PERMISSION-REPEATED", x, "権限「%s」が重複しています",
					     "permission '%s' is listed twice", x->s);
				r->perms |= bit;
			}
		}
	}
	if (!users || !want(c, users, PN_SEQ, "users"))
		return;
	for (size_t i = 0; i < users->n; i++) {
		struct fld f[] = {{"id", PN_SCALAR, true, 0},     {"name", PN_SCALAR, false, 0},
				  {"roles", PN_SEQ, true, 0},     {"mail", PN_SCALAR, false, 0},
				  {"email", PN_SCALAR, false, 0}, {"section", PN_SCALAR, false, 0}};
		if (!FIELDS(c, users->k[i], "users[]"))
			continue;
		if (!FV("id") || !check_id(c, FV("id"), "user"))
			continue;
		bool dup = false;
		for (size_t j = 0; j < p->nusers; j++)
			dup = dup || !strcmp(p->users[j].id, FV("id")->s);
		if (dup) {
			ERR(c, "E-ID-DUPLICATE", FV("id"), "利用者「%s」が重複しています", "user '%s' is defined twice",
			    FV("id")->s);
			continue;
		}
		struct puser *u = PUSH(c, p->users, p->nusers);
		if (!u)
			return;
		u->id = FV("id")->s;
		u->name = FV("name") ? FV("name")->s : u->id;
		const pnode *sec = FV("section"), *mail = FV("mail") ? FV("mail") : FV("email");
		if (FV("mail") && FV("email"))
			ERR(c, "E-KEY-DUPLICATE", FV("email"),
			    "mail と email は同じものです (mail だけを書いてください)",
			    "mail and email are the same thing (write mail only)");
		if (sec && !section_find(p, sec->s))
			ERR(c, "E-SECTION-UNKNOWN", sec, "所属「%s」は sections に定義されていません",
			    "section '%s' is not defined in sections", sec->s);
		else if (sec)
			u->section = sec->s;
		if (mail && !sk_mail_addr_valid(mail->s))
			ERR(c, "E-USER-MAIL", mail, "メールアドレス「%s」が不正です (例 tanaka@city.example.lg.jp)",
			    "mail address '%s' is invalid (e.g. tanaka@city.example.lg.jp)", mail->s);
		else if (mail)
			u->mail = mail->s;
		const pnode *rl = FV("roles");
		for (size_t j = 0; rl && j < rl->n; j++) {
			const pnode *r = rl->k[j];
			if (r->t != PN_SCALAR || !role_find(p, r->s)) {
				ERR(c, "E-ROLE-UNKNOWN", r, "役割「%s」は定義されていません", "role '%s' is not defined",
				    r->t == PN_SCALAR ? r->s : "?");
				continue;
			}
			const char **x = PUSH(c, u->roles, u->nr);
			if (x)
				*x = r->s;
		}
	}
}

static bool role_has_user(const sk_policy *p, const char *role)
{
	for (size_t i = 0; i < p->nusers; i++)
		for (size_t j = 0; j < p->users[i].nr; j++)
			if (!strcmp(p->users[i].roles[j], role))
				return true;
	return false;
}

/* action: deny | allow | {sanitize: PROFILE} | {hold: ROLE}; in_class: only deny/hold */
static bool parse_action(struct ctx *c, const pnode *a, sk_flow_action *act, const char **profile,
			 const char **role, bool in_class)
{
	*profile = *role = NULL;
	if (a->t == PN_SCALAR) {
		if (!strcmp(a->s, "deny")) {
			*act = SK_FLOW_DENY;
			return true;
		}
		if (!strcmp(a->s, "allow") && !in_class) {
			*act = SK_FLOW_ALLOW;
			return true;
		}
		if (!strcmp(a->s, "sanitize") && !in_class) {
			*act = SK_FLOW_SANITIZE;
			*profile = "default";
			return true;
		}
	} else if (a->t == PN_MAP && a->n == 2 && a->k[0]->t == PN_SCALAR && a->k[1]->t == PN_SCALAR) {
		const char *k = a->k[0]->s, *v = a->k[1]->s;
		if (!strcmp(k, "sanitize") && !in_class) {
			*act = SK_FLOW_SANITIZE;
			*profile = v;
			if (!sk_policy_profile(c->p, v))
				ERR(c, "E-PROFILE-UNKNOWN", a->k[1], "プロファイル「%s」は定義されていません",
				    "profile '%s' is not defined", v);
			return true;
		}
		if (!strcmp(k, "hold")) {
			*act = SK_FLOW_HOLD;
			*role = v;
			if (!role_find(c->p, v))
				ERR(c, "E-ROLE-UNKNOWN", a->k[1], "役割「%s」は定義されていません",
				    "role '%s' is not defined", v);
			else if (!role_has_user(c->p, v))
				WARN(c, "W-ROLE-NO-USER", a->k[1],
				     "役割「%s」の利用者がいないため、承認できる人がいません",
				     "no user has role '%s', so nobody can approve", v);
			return true;
		}
	}
	if (in_class)
		ERR(c, "E-ACTION-INVALID", a, "取扱い規則の action は deny か {hold: 役割} です",
		    "a handling rule's action is deny or {hold: ROLE}");
	else
		ERR(c, "E-ACTION-INVALID", a,
		    "action は deny・allow・{sanitize: プロファイル}・{hold: 役割} のいずれかです",
		    "action is one of deny, allow, {sanitize: PROFILE}, {hold: ROLE}");
	return false;
}

static bool zone_or_any(struct ctx *c, const pnode *n, bool allow_cloud, const char *what)
{
	if (!n)
		return false;
	if (!strcmp(n->s, "any"))
		return true;
	const struct pzone *z = sk_pzone_find(c->p, n->s);
	if (!z) {
		ERR(c, "E-ZONE-UNKNOWN", n, "%s のゾーン「%s」は定義されていません", "%s zone '%s' is not defined",
		    what, n->s);
		return false;
	}
	if (z->cloud && !allow_cloud) {
		ERR(c, "E-CLOUD-AS-SOURCE", n, "クラウド「%s」は宛先 (to) にだけ書けます",
		    "cloud '%s' can only be a destination (to)", n->s);
		return false;
	}
	return true;
}

static bool parse_dlp_actions(struct ctx *c, const pnode *n, sk_dlp_action *acts, sk_dlp_action *unsc,
			      bool *set)
{
	sk_dlp_action a;
	if (n->t == PN_SCALAR) {
		if (dlp_action_parse(n->s, &a)) {
			ERR(c, "E-DLP-ACTION", n, "DLP の動作「%s」は record・hold・block・off のいずれかです",
			    "DLP action '%s' must be record, hold, block or off", n->s);
			return false;
		}
		for (int i = 0; i < SK_DLP__COUNT; i++) {
			acts[i] = a;
			set[i] = true;
		}
		return true;
	}
	/* one per sk_dlp_kind, in its order, then unscannable */
	struct fld f[] = {{"mynumber", PN_SCALAR, false, 0}, {"corporate", PN_SCALAR, false, 0},
			  {"pattern", PN_SCALAR, false, 0}, {"asset", PN_SCALAR, false, 0},
			  {"unscannable", PN_SCALAR, false, 0}};
	_Static_assert(sizeof(f) / sizeof(f[0]) == SK_DLP__COUNT + 1, "a key per DLP kind");
	if (!FIELDS(c, n, "dlp"))
		return false;
	for (int i = 0; i <= SK_DLP__COUNT; i++) {
		if (!f[i].val)
			continue;
		if (dlp_action_parse(f[i].val->s, &a) || (i == SK_DLP__COUNT && a == SK_DLP_ACTION_OFF)) {
			ERR(c, "E-DLP-ACTION", f[i].val, "DLP の動作「%s」は使えません", "DLP action '%s' is not valid here",
			    f[i].val->s);
			continue;
		}
		if (i < SK_DLP__COUNT)
			acts[i] = a;
		else
			*unsc = a;
		set[i] = true;
	}
	return true;
}

static void parse_exception(struct ctx *c, const pnode *n, struct pflow *fl)
{
	struct fld f[] = {{"id", PN_SCALAR, true, 0}, {"reason", PN_SCALAR, true, 0},
			  {"approver", PN_SCALAR, true, 0}, {"expires", PN_SCALAR, true, 0},
			  {"approved", PN_SCALAR, false, 0}};
	if (!FIELDS(c, n, "exception"))
		return;
	struct pexc *e = &fl->exc;
	e->n = n;
	e->id = FV("id") ? FV("id")->s : NULL;
	e->reason = FV("reason") ? FV("reason")->s : NULL;
	e->approver = FV("approver") ? FV("approver")->s : NULL;
	bool ok = e->id && e->reason && e->approver && FV("expires");
	if (e->approver) {
		bool known = role_find(c->p, e->approver) != NULL;
		for (size_t i = 0; i < c->p->nusers; i++)
			known = known || !strcmp(c->p->users[i].id, e->approver);
		if (!known) {
			ERR(c, "E-ROLE-UNKNOWN", FV("approver"), "承認者「%s」は役割にも利用者にもありません",
			    "approver '%s' is neither a role nor a user", e->approver);
			ok = false;
		}
	}
	if (e->reason && !*e->reason) {
		ERR(c, "E-EXCEPTION-FIELD", FV("reason"), "例外措置の理由が空です", "the exception's reason is empty");
		ok = false;
	}
	if (FV("approved") && sk_policy_date_parse(FV("approved")->s) < 0)
		ERR(c, "E-DATE-INVALID", FV("approved"), "日付「%s」は YYYY-MM-DD の実在する日付ではありません",
		    "date '%s' is not a real YYYY-MM-DD date", FV("approved")->s);
	if (FV("expires")) {
		e->exp_node = FV("expires");
		e->expires = sk_policy_date_parse(FV("expires")->s);
		if (e->expires < 0) {
			ERR(c, "E-DATE-INVALID", FV("expires"), "日付「%s」は YYYY-MM-DD の実在する日付ではありません",
			    "date '%s' is not a real YYYY-MM-DD date", FV("expires")->s);
			ok = false;
		} else if (sk_pdate_expired(e->expires, c->today)) {
			ERR(c, "E-EXCEPTION-EXPIRED", FV("expires"),
			    "例外措置「%s」は %s に期限切れです (この通信は拒否されます)",
			    "exception '%s' expired on %s (the flow is denied)", e->id ? e->id : "?",
			    FV("expires")->s);
		} else if (e->expires <= sk_pdate_add_days(c->today, SK_POLICY_EXPIRING_DAYS)) {
			WARN(c, "W-EXCEPTION-EXPIRING", FV("expires"),
			     "例外措置「%s」の期限 %s が %d 日以内に来ます", "exception '%s' expires on %s, within %d days",
			     e->id ? e->id : "?", FV("expires")->s, SK_POLICY_EXPIRING_DAYS);
		}
	}
	fl->has_exc = ok;
}

static bool touches(const struct pflow *fl, const char *zone)
{
	return !strcmp(fl->from, zone) || !strcmp(fl->to, zone) || !strcmp(fl->from, "any") ||
	       !strcmp(fl->to, "any");
}

static bool pair(const char *a, const char *b, const char *x, const char *y)
{
	return (!strcmp(a, x) || !strcmp(a, "any")) && (!strcmp(b, y) || !strcmp(b, "any"));
}

static void check_flow_rules(struct ctx *c, struct pflow *fl)
{
	const sk_policy *p = c->p;
	const pnode *an = fl->act_node;
	/* 1. mynumber talks to no other zone unless an exception says so */
	/* mynumber → mynumber stays inside the zone; `any` on either side may cross */
	bool inside = !strcmp(fl->from, fl->to) && strcmp(fl->from, "any") != 0;
	bool myn = touches(fl, "mynumber") && !inside;
	if (myn && fl->act != SK_FLOW_DENY && !fl->has_exc && !fl->exc.n)
		ERR(c, "E-FLOW-MYNUMBER-NO-EXCEPTION", an,
		    "マイナンバー利用事務系との通信 (%s → %s) を拒否以外にするには例外措置 (exception: id, reason, approver, expires) が必要です",
		    "a flow involving mynumber (%s -> %s) other than deny needs an exception (id, reason, approver, expires)",
		    fl->from, fl->to);
	if (fl->exc.n && !myn)
		WARN(c, "W-EXCEPTION-UNNEEDED", fl->exc.n,
		     "この通信はマイナンバー利用事務系に関係しないため例外措置は不要です",
		     "this flow does not involve mynumber; the exception is not needed");
	/* 2. internet → lgwan: sanitize or deny only */
	if (pair(fl->from, fl->to, "internet", "lgwan") && fl->act != SK_FLOW_SANITIZE &&
	    fl->act != SK_FLOW_DENY) {
		ERR(c, "E-FLOW-INTERNET-LGWAN-ACTION", an,
		    "インターネット接続系から LGWAN 接続系への通信は sanitize (無害化) か deny だけです (%s は不可)",
		    "internet -> lgwan can only be sanitize or deny (not %s)", sk_flow_action_code(fl->act));
		return;
	}
	/* 3. allow between lgwan and internet only to a declared cloud (α′) */
	if (fl->act == SK_FLOW_ALLOW) {
		const struct pzone *to = sk_pzone_find(p, fl->to);
		bool cloud = to && to->cloud;
		if (!cloud && (pair(fl->from, fl->to, "lgwan", "internet") ||
			       pair(fl->from, fl->to, "internet", "lgwan")))
			ERR(c, "E-FLOW-ALLOW-CROSS", an,
			    "LGWAN 接続系とインターネット接続系の間の allow は、宣言したクラウド (α′) 宛て以外は使えません",
			    "allow between lgwan and internet is only possible to a declared cloud destination (alpha')");
		if (cloud && strcmp(fl->from, "lgwan"))
			ERR(c, "E-FLOW-ALLOW-CROSS", an,
			    "クラウド「%s」への直接経路 (allow) は LGWAN 接続系からだけです",
			    "a direct route (allow) to cloud '%s' is only from lgwan", fl->to);
	}
}

static void parse_flows(struct ctx *c, const pnode *flows)
{
	sk_policy *p = c->p;
	if (!flows)
		return; /* no flows: everything is denied */
	if (!want(c, flows, PN_SEQ, "flows"))
		return;
	for (size_t i = 0; i < flows->n; i++) {
		struct fld f[] = {{"id", PN_SCALAR, false, 0},     {"from", PN_SCALAR, true, 0},
				  {"to", PN_SCALAR, true, 0},      {"channel", PN_SCALAR, false, 0},
				  {"action", -1, true, 0},         {"exception", PN_MAP, false, 0},
				  {"dlp", -1, false, 0},           {"description", PN_SCALAR, false, 0}};
		char where[48];
		snprintf(where, sizeof(where), "flows[%zu]", i);
		if (!FIELDS(c, flows->k[i], where))
			continue;
		struct pflow fl = {0};
		fl.n = flows->k[i];
		fl.id = FV("id") ? FV("id")->s : NULL;
		if (fl.id) {
			check_id(c, FV("id"), "flow");
			for (size_t j = 0; j < p->nf; j++)
				if (p->f[j].id && !strcmp(p->f[j].id, fl.id))
					ERR(c, "E-ID-DUPLICATE", FV("id"), "通信規則の id「%s」が重複しています",
					    "flow id '%s' is used twice", fl.id);
			snprintf(fl.label, sizeof(fl.label), "flows[%zu] %s", i, fl.id);
		} else {
			snprintf(fl.label, sizeof(fl.label), "flows[%zu]", i);
		}
		bool ok = zone_or_any(c, FV("from"), false, "from");
		ok = zone_or_any(c, FV("to"), true, "to") && ok;
		fl.from = FV("from") ? FV("from")->s : "";
		fl.to = FV("to") ? FV("to")->s : "";
		fl.ch = CH_ANY;
		if (FV("channel")) {
			fl.ch = sk_pchannel_mask(FV("channel")->s);
			if (!fl.ch) {
				ERR(c, "E-CHANNEL-UNKNOWN", FV("channel"),
				    "チャネル「%s」は mail・file・web・any のいずれかです",
				    "channel '%s' must be mail, file, web or any", FV("channel")->s);
				ok = false;
			}
		}
		fl.act_node = FV("action");
		if (!fl.act_node || !parse_action(c, fl.act_node, &fl.act, &fl.profile, &fl.role, false))
			ok = false;
		for (int k = 0; k < SK_DLP__COUNT; k++)
			fl.dlp[k] = p->dlp_default[k];
		fl.unscannable = p->dlp_unscannable;
		if (FV("dlp"))
			parse_dlp_actions(c, FV("dlp"), fl.dlp, &fl.unscannable, fl.dlp_set);
		if (FV("exception"))
			parse_exception(c, FV("exception"), &fl);
		if (!ok)
			continue;
		check_flow_rules(c, &fl);
		/* shadowed: every (from, to, channel) it covers is decided by earlier flows */
		for (size_t j = 0; j < p->nf; j++) {
			const struct pflow *e = &p->f[j];
			bool from_cov = !strcmp(e->from, "any") || !strcmp(e->from, fl.from);
			bool to_cov = !strcmp(e->to, "any") || !strcmp(e->to, fl.to);
			if (from_cov && to_cov && (e->ch & fl.ch) == fl.ch) {
				WARN(c, "W-FLOW-SHADOWED", fl.n,
				     "この通信規則は %d 行目の %s に先に一致するため使われません",
				     "this flow is never used: the flow on line %d, %s, matches first", (int)e->n->line,
				     e->label);
				break;
			}
		}
		struct pflow *x = PUSH(c, p->f, p->nf);
		if (!x)
			return;
		*x = fl;
	}
}

static const char *const dims2024[][6] = {
	{"機密性", "3A", "3B", "3C", "2", "1"},
	{"完全性", "2", "1", NULL},
	{"可用性", "2", "1", NULL},
};
static const char *const dims_legacy[][6] = {
	{"機密性", "3", "2", "1", NULL},
	{"完全性", "2", "1", NULL},
	{"可用性", "2", "1", NULL},
};

static size_t level_index(const struct pdim *d, const char *lv)
{
	for (size_t i = 0; i < d->nl; i++)
		if (!strcmp(d->levels[i], lv))
			return i;
	return (size_t)-1;
}

static void default_dims(struct ctx *c, bool legacy, const pnode *at)
{
	sk_policy *p = c->p;
	if (!role_find(p, "security-manager"))
		ERR(c, "E-ROLE-UNKNOWN", at,
		    "既定の取扱い規則が使う役割「security-manager」が定義されていません",
		    "the default handling rules need role 'security-manager'");
	const char *const(*t)[6] = legacy ? dims_legacy : dims2024;
	for (int i = 0; i < 3; i++) {
		struct pdim *d = PUSH(c, p->dims, p->ndims);
		if (!d)
			return;
		d->name = t[i][0];
		for (int j = 1; j < 6 && t[i][j]; j++) {
			const char **x = PUSH(c, d->levels, d->nl);
			if (x)
				*x = t[i][j];
		}
		/* unlabelled items count as the lowest level, except 機密性 (treated as 2) */
		d->def = i == 0 ? level_index(d, "2") : d->nl - 1;
	}
	/* default handling: 機密性2 and above to internet held; the top level never leaves */
	struct phandling *h = PUSH(c, p->h, p->nh);
	if (h)
		*h = (struct phandling){.dim = 0, .level = 0, .to = "other-zones", .ch = CH_ANY,
					.act = SK_FLOW_DENY};
	h = PUSH(c, p->h, p->nh);
	if (h)
		*h = (struct phandling){.dim = 0, .level = level_index(&p->dims[0], "2"), .to = "internet",
					.ch = CH_ANY, .act = SK_FLOW_HOLD, .role = "security-manager"};
}

static void parse_classification(struct ctx *c, const pnode *cl)
{
	sk_policy *p = c->p;
	if (!cl) {
		default_dims(c, false, c->p->root);
		return;
	}
	struct fld f[] = {{"scheme", PN_SCALAR, false, 0}, {"dimensions", PN_MAP, false, 0}};
	if (!FIELDS(c, cl, "classification"))
		return;
	bool legacy = false;
	if (FV("scheme")) {
		if (!strcmp(FV("scheme")->s, "guideline-legacy"))
			legacy = true;
		else if (strcmp(FV("scheme")->s, "guideline-2024"))
			ERR(c, "E-VALUE-INVALID", FV("scheme"),
			    "scheme は guideline-2024 (3A/3B/3C/2/1) か guideline-legacy (3/2/1) です",
			    "scheme is guideline-2024 (3A/3B/3C/2/1) or guideline-legacy (3/2/1)");
	}
	const pnode *dims = FV("dimensions");
	if (!dims) {
		default_dims(c, legacy, cl);
		return;
	}
	/* first pass: dimensions and levels */
	for (size_t i = 0; i + 1 < dims->n; i += 2) {
		const pnode *k = dims->k[i], *v = dims->k[i + 1];
		if (!check_id(c, k, "dimension"))
			continue;
		struct fld g[] = {{"levels", PN_SEQ, true, 0}, {"default", PN_SCALAR, false, 0},
				  {"handling", PN_SEQ, false, 0}, {"description", PN_SCALAR, false, 0}};
		char where[96];
		snprintf(where, sizeof(where), "classification.dimensions.%s", k->s);
		if (!fields(c, v, where, g, 4))
			continue;
		struct pdim *d = PUSH(c, p->dims, p->ndims);
		if (!d)
			return;
		size_t di = p->ndims - 1;
		d->name = k->s;
		const pnode *lv = g[0].val;
		for (size_t j = 0; lv && j < lv->n; j++) {
			if (lv->k[j]->t != PN_SCALAR || !*lv->k[j]->s) {
				ERR(c, "E-TYPE", lv->k[j], "レベルは文字列で書いてください", "levels are strings");
				continue;
			}
			if (level_index(d, lv->k[j]->s) != (size_t)-1) {
				ERR(c, "E-ID-DUPLICATE", lv->k[j], "レベル「%s」が重複しています",
				    "level '%s' is listed twice", lv->k[j]->s);
				continue;
			}
			const char **x = PUSH(c, d->levels, d->nl);
			if (x)
				*x = lv->k[j]->s;
		}
		if (lv && d->nl == 0)
			ERR(c, "E-CLASS-LEVEL-UNKNOWN", lv, "レベルが一つもありません", "no levels are listed");
		d->def = d->nl ? d->nl - 1 : 0;
		if (g[1].val) {
			size_t x = level_index(d, g[1].val->s);
			if (x == (size_t)-1)
				ERR(c, "E-CLASS-LEVEL-UNKNOWN", g[1].val, "%s にレベル「%s」はありません",
				    "%s has no level '%s'", d->name, g[1].val->s);
			else
				d->def = x;
		}
		const pnode *hs = g[2].val;
		for (size_t j = 0; hs && j < hs->n; j++) {
			struct fld hf[] = {{"at_least", PN_SCALAR, true, 0}, {"to", PN_SCALAR, false, 0},
					   {"channel", PN_SCALAR, false, 0}, {"action", -1, true, 0},
					   {"description", PN_SCALAR, false, 0}};
			char hw[128];
			snprintf(hw, sizeof(hw), "%s.handling[%zu]", where, j);
			if (!fields(c, hs->k[j], hw, hf, 5))
				continue;
			struct phandling h = {.dim = di, .to = "other-zones", .ch = CH_ANY, .n = hs->k[j],
					      .desc = hf[4].val ? hf[4].val->s : NULL};
			bool ok = true;
			if (hf[0].val) {
				h.level = level_index(&p->dims[di], hf[0].val->s);
				if (h.level == (size_t)-1) {
					ERR(c, "E-CLASS-LEVEL-UNKNOWN", hf[0].val, "%s にレベル「%s」はありません",
					    "%s has no level '%s'", p->dims[di].name, hf[0].val->s);
					ok = false;
				}
			}
			if (hf[1].val) {
				h.to = hf[1].val->s;
				if (strcmp(h.to, "other-zones") && !zone_or_any(c, hf[1].val, true, "to"))
					ok = false;
			}
			if (hf[2].val && !(h.ch = sk_pchannel_mask(hf[2].val->s))) {
				ERR(c, "E-CHANNEL-UNKNOWN", hf[2].val,
				    "チャネル「%s」は mail・file・web・any のいずれかです",
				    "channel '%s' must be mail, file, web or any", hf[2].val->s);
				ok = false;
			}
			const char *prof;
			if (!hf[3].val || !parse_action(c, hf[3].val, &h.act, &prof, &h.role, true))
				ok = false;
			if (!ok)
				continue;
			struct phandling *x = PUSH(c, p->h, p->nh);
			if (x)
				*x = h;
		}
	}
}

static bool parse_size(const char *s, uint64_t *out)
{
	char *e;
	unsigned long long v = strtoull(s, &e, 10);
	if (e == s)
		return false;
	uint64_t m = 1;
	if (!strcmp(e, "") || !strcmp(e, "B"))
		m = 1;
	else if (!strcmp(e, "KiB"))
		m = 1024;
	else if (!strcmp(e, "MiB"))
		m = 1024 * 1024;
	else if (!strcmp(e, "GiB"))
		m = 1024ull * 1024 * 1024;
	else
		return false;
	if (v == 0 || v > (UINT64_MAX / m))
		return false;
	*out = v * m;
	return true;
}

static void parse_dlp(struct ctx *c, const pnode *dl)
{
	sk_policy *p = c->p;
	sk_dlp_config_default(&p->dlpc);
	p->dlp_default[SK_DLP_MYNUMBER] = SK_DLP_ACTION_RECORD;
	p->dlp_default[SK_DLP_CORPORATE] = SK_DLP_ACTION_RECORD;
	p->dlp_default[SK_DLP_PATTERN] = SK_DLP_ACTION_RECORD;
	p->dlp_default[SK_DLP_ASSET] = SK_DLP_ACTION_RECORD;
	p->dlp_unscannable = SK_DLP_ACTION_RECORD;
	p->dlp_role = "security-manager";
	if (!dl)
		return;
	struct fld f[] = {{"window", PN_SCALAR, false, 0},      {"max_input", PN_SCALAR, false, 0},
			  {"require_context", PN_SCALAR, false, 0}, {"detectors", PN_MAP, false, 0},
			  {"grouping_is_context", PN_SCALAR, false, 0},
			  {"deny", PN_SEQ, false, 0},           {"patterns", PN_SEQ, false, 0},
			  {"default", -1, false, 0},            {"hold_role", PN_SCALAR, false, 0}};
	if (!FIELDS(c, dl, "dlp"))
		return;
	long v;
	if (FV("window") && get_int(c, FV("window"), 1, 100, &v))
		p->dlpc.window = (uint32_t)v;
	if (FV("max_input") && !parse_size(FV("max_input")->s, &p->dlpc.max_input))
		ERR(c, "E-VALUE-INVALID", FV("max_input"), "サイズ「%s」が不正です (例 64MiB)",
		    "size '%s' is invalid (e.g. 64MiB)", FV("max_input")->s);
	get_bool(c, FV("require_context"), &p->dlpc.require_context);
	get_bool(c, FV("grouping_is_context"), &p->dlpc.grouping_is_context);
	if (FV("detectors")) {
		struct fld g[] = {{"mynumber", PN_MAP, false, 0}, {"corporate", PN_MAP, false, 0},
				  {"asset", PN_MAP, false, 0}};
		fields(c, FV("detectors"), "dlp.detectors", g, 3);
		bool *on[] = {&p->dlpc.mynumber, &p->dlpc.corporate, &p->dlpc.asset};
		for (int i = 0; i < 3; i++) {
			if (!g[i].val)
				continue;
			struct fld h[] = {{"enabled", PN_SCALAR, false, 0}, {"words", PN_SEQ, false, 0}};
			char where[64];
			snprintf(where, sizeof(where), "dlp.detectors.%s", g[i].key);
			fields(c, g[i].val, where, h, 2);
			get_bool(c, h[0].val, on[i]);
			for (size_t j = 0; h[1].val && j < h[1].val->n; j++) {
				const pnode *w = h[1].val->k[j];
				if (w->t != PN_SCALAR || !*w->s) {
					ERR(c, "E-TYPE", w, "語は空でない文字列です", "words are non-empty strings");
					continue;
				}
				const char **x = i == 0   ? PUSH(c, p->myw, p->nmyw)
						 : i == 1 ? PUSH(c, p->corpw, p->ncorpw)
							  : PUSH(c, p->assetw, p->nassetw);
				if (x)
					*x = w->s;
			}
		}
	}
	for (size_t j = 0; FV("deny") && j < FV("deny")->n; j++) {
		const pnode *w = FV("deny")->k[j];
		bool digits = w->t == PN_SCALAR && (w->sl == 12 || w->sl == 13);
		for (size_t k = 0; digits && k < w->sl; k++)
			digits = isdigit((unsigned char)w->s[k]);
		if (!digits) {
			ERR(c, "E-VALUE-INVALID", w, "除外する番号は 12 桁か 13 桁の数字です",
			    "numbers on the deny-list have 12 or 13 digits");
			continue;
		}
		const char **x = PUSH(c, p->deny, p->ndeny);
		if (x)
			*x = w->s;
	}
	for (size_t j = 0; FV("patterns") && j < FV("patterns")->n; j++) {
		struct fld g[] = {{"id", PN_SCALAR, true, 0}, {"regex", PN_SCALAR, true, 0},
				  {"description", PN_SCALAR, false, 0}};
		char where[48];
		snprintf(where, sizeof(where), "dlp.patterns[%zu]", j);
		if (!fields(c, FV("patterns")->k[j], where, g, 3) || !g[0].val || !g[1].val)
			continue;
		if (!check_id(c, g[0].val, "pattern"))
			continue;
		regex_t re;
		int e = regcomp(&re, g[1].val->s, REG_EXTENDED | REG_NEWLINE);
		if (e) {
			char m[128];
			regerror(e, &re, m, sizeof(m));
			ERR(c, "E-DLP-REGEX", g[1].val, "正規表現をコンパイルできません: %s",
			    "the regular expression does not compile: %s", m);
			continue;
		}
		regfree(&re);
		sk_dlp_pattern *x = PUSH(c, p->pats, p->npats);
		if (x) {
			x->id = g[0].val->s;
			x->regex = g[1].val->s;
		}
	}
	if (FV("hold_role")) {
		if (!role_find(p, FV("hold_role")->s))
			ERR(c, "E-ROLE-UNKNOWN", FV("hold_role"), "役割「%s」は定義されていません",
			    "role '%s' is not defined", FV("hold_role")->s);
		else
			p->dlp_role = FV("hold_role")->s;
	}
	bool set[SK_DLP__COUNT + 1] = {0};
	if (FV("default"))
		parse_dlp_actions(c, FV("default"), p->dlp_default, &p->dlp_unscannable, set);
}

static bool parse_days(const char *s, uint32_t *out)
{
	char *e;
	unsigned long v = strtoul(s, &e, 10);
	if (e == s || v == 0 || v > 100000 || strlen(e) != 1)
		return false;
	switch (*e) {
	case 'd': *out = (uint32_t)v; return true;
	case 'w': *out = (uint32_t)v * 7; return true;
	case 'm': *out = (uint32_t)v * 30; return true;
	case 'y': *out = (uint32_t)v * 365; return true;
	default: return false;
	}
}

static void parse_retention(struct ctx *c, const pnode *r)
{
	if (!r)
		return;
	struct fld f[] = {{"quarantine", PN_SCALAR, false, 0}, {"audit", PN_SCALAR, false, 0}};
	if (!FIELDS(c, r, "retention"))
		return;
	uint32_t *dst[] = {&c->p->ret_quarantine, &c->p->ret_audit};
	for (int i = 0; i < 2; i++)
		if (f[i].val && !parse_days(f[i].val->s, dst[i]))
			ERR(c, "E-RETENTION-INVALID", f[i].val,
			    "期間「%s」が不正です (例 90d・12w・6m・5y)",
			    "period '%s' is invalid (e.g. 90d, 12w, 6m, 5y)", f[i].val->s);
}

/* auth: passwords, lockout, sessions, TOTP (the values the auth service uses) */
static void parse_auth(struct ctx *c, const pnode *a)
{
	sk_policy_auth *x = &c->p->auth;
	x->password_min = x->history = x->lockout_after = x->lockout_seconds = -1;
	x->session_idle_seconds = x->session_max_seconds = x->totp_window = -1;
	if (!a)
		return;
	struct fld f[] = {{"password_min", PN_SCALAR, false, 0},
			  {"history", PN_SCALAR, false, 0},
			  {"lockout_after", PN_SCALAR, false, 0},
			  {"lockout_minutes", PN_SCALAR, false, 0},
			  {"session_idle_minutes", PN_SCALAR, false, 0},
			  {"session_max_hours", PN_SCALAR, false, 0},
			  {"totp_window", PN_SCALAR, false, 0}};
	if (!FIELDS(c, a, "auth"))
		return;
	/* lower, upper bound, unit (seconds), destination */
	const struct {
		long lo, hi, unit;
		int64_t *dst;
	} r[] = {{8, 256, 1, &x->password_min},         {0, 24, 1, &x->history},
		 {1, 100, 1, &x->lockout_after},         {1, 1440, 60, &x->lockout_seconds},
		 {1, 1440, 60, &x->session_idle_seconds}, {1, 168, 3600, &x->session_max_seconds},
		 {0, 10, 1, &x->totp_window}};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		long v;
		if (f[i].val && get_int(c, f[i].val, r[i].lo, r[i].hi, &v))
			*r[i].dst = (int64_t)v * r[i].unit;
	}
	if (x->session_idle_seconds > 0 && x->session_max_seconds > 0 &&
	    x->session_idle_seconds > x->session_max_seconds)
		WARN(c, "W-AUTH-IDLE-OVER-MAX", FV("session_idle_minutes"),
		     "session_idle_minutes が session_max_hours より長いため、無操作の期限は働きません",
		     "session_idle_minutes is longer than session_max_hours: the idle expiry never applies");
}

/* release: { approvers: N, original: { approvers: M } } */
static void parse_release(struct ctx *c, const pnode *r)
{
	sk_policy *p = c->p;
	p->approvals = 1;
	p->approvals_original = 2;
	if (!r)
		return;
	struct fld f[] = {{"approvers", PN_SCALAR, false, 0}, {"original", PN_MAP, false, 0}};
	if (!FIELDS(c, r, "release"))
		return;
	long v;
	if (FV("approvers") && get_int(c, FV("approvers"), 1, 5, &v))
		p->approvals = (uint32_t)v;
	const pnode *o = FV("original");
	if (!o)
		return;
	struct fld g[] = {{"approvers", PN_SCALAR, false, 0}};
	if (!fields(c, o, "release.original", g, 1) || !g[0].val ||
	    !get_int(c, g[0].val, 1, 5, &v))
		return;
	p->approvals_original = (uint32_t)v;
	if (v < 2)
		WARN(c, "W-RELEASE-ORIGINAL-ONE", g[0].val,
		     "無害化していない原本を 1 人の承認で渡せます。二人制 (approvers: 2) を推奨します",
		     "an original (not sanitised) is handed out on one approval; two (approvers: 2) is advised");
}

/* incidents: { chain: [ROLE, …] } — the escalation chain of an incident (the ledger's steps).
 * Absent: staff → sysadmin → security-director → ciso, those of them the policy defines. */
static const char *const default_chain[] = {"staff", "sysadmin", "security-director", "ciso"};

static void parse_incidents(struct ctx *c, const pnode *r)
{
	sk_policy *p = c->p;
	if (!r) {
		for (size_t i = 0; i < sizeof(default_chain) / sizeof(default_chain[0]); i++) {
			if (!role_find(p, default_chain[i]))
				continue;
			const char **x = PUSH(c, p->chain, p->nchain);
			if (x)
				*x = default_chain[i];
		}
		return;
	}
	struct fld f[] = {{"chain", PN_SEQ, true, 0}};
	if (!FIELDS(c, r, "incidents") || !FV("chain"))
		return;
	const pnode *ch = FV("chain");
	if (ch->n == 0)
		ERR(c, "E-INCIDENT-CHAIN", ch, "incidents.chain に役割が一つもありません",
		    "incidents.chain lists no role");
	if (ch->n > SK_POLICY_CHAIN_MAX)
		ERR(c, "E-INCIDENT-CHAIN", ch, "incidents.chain の段は %d までです",
		    "incidents.chain has at most %d steps", SK_POLICY_CHAIN_MAX);
	for (size_t j = 0; j < ch->n && j < SK_POLICY_CHAIN_MAX; j++) {
		const pnode *x = ch->k[j];
		if (x->t != PN_SCALAR || !role_find(p, x->s)) {
			ERR(c, "E-ROLE-UNKNOWN", x, "役割「%s」は定義されていません (incidents.chain)",
			    "role '%s' is not defined (incidents.chain)", x->t == PN_SCALAR ? x->s : "?");
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < p->nchain; k++)
			dup = dup || !strcmp(p->chain[k], x->s);
		if (dup) {
			ERR(c, "E-ID-DUPLICATE", x, "役割「%s」が incidents.chain に二度あります",
			    "role '%s' is listed twice in incidents.chain", x->s);
			continue;
		}
		const char **y = PUSH(c, p->chain, p->nchain);
		if (y)
			*y = x->s;
	}
}

/* ---- gateway (sekishod) --------------------------------------------------------------------- */

static bool abs_path(struct ctx *c, const pnode *n, const char *what)
{
	if (n->s[0] == '/' && n->sl < 4096 && !strstr(n->s, "/../") &&
	    !(n->sl >= 3 && !strcmp(n->s + n->sl - 3, "/..")) && sk_utf8_valid(n->s, n->sl))
		return true;
	ERR(c, "E-GATEWAY-PATH", n, "%s は絶対パス (/ で始まり .. を含まない) で書いてください",
	    "%s must be an absolute path (starting with /, without ..)", what);
	return false;
}

/* "ADDR:PORT" or "[ADDR6]:PORT" with an IP literal */
bool sk_paddr_port(const char *s, char *addr, size_t asz, long *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return false;
	size_t al = (size_t)(colon - s);
	const char *a = s;
	if (s[0] == '[') {
		if (al < 3 || s[al - 1] != ']')
			return false;
		a = s + 1;
		al -= 2;
	}
	if (al >= asz)
		return false;
	memcpy(addr, a, al);
	addr[al] = 0;
	int af;
	uint8_t bin[16];
	char *e = NULL;
	*port = strtol(colon + 1, &e, 10);
	return colon[1] && !*e && *port >= 1 && *port <= 65535 && parse_addr(addr, &af, bin);
}

static bool loopback(const char *addr)
{
	int af;
	uint8_t a[16];
	if (!parse_addr(addr, &af, a))
		return false;
	static const uint8_t v6[16] = {[15] = 1};
	return af == AF_INET ? a[0] == 127 : !memcmp(a, v6, 16);
}

static void parse_spool(struct ctx *c, const pnode *seq)
{
	sk_policy *p = c->p;
	for (size_t i = 0; i < seq->n; i++) {
		const pnode *it = seq->k[i];
		char where[64];
		snprintf(where, sizeof(where), "gateway.spool[%zu]", i);
		struct fld f[] = {{"id", PN_SCALAR, false, 0},      {"from", PN_SCALAR, true, 0},
				  {"to", PN_SCALAR, true, 0},       {"drop", PN_SCALAR, true, 0},
				  {"deliver", PN_SCALAR, true, 0},  {"class", PN_SCALAR, false, 0},
				  {"description", PN_SCALAR, false, 0}};
		if (!FIELDS(c, it, where))
			continue;
		if (p->nspools >= SK_POLICY_SPOOL_MAX) {
			ERR(c, "E-GATEWAY-LIMIT", it, "spool の流れは %d 個までです",
			    "at most %d spool flows", SK_POLICY_SPOOL_MAX);
			return;
		}
		bool ok = true;
		const char *zn[2] = {"from", "to"};
		for (int z = 0; z < 2; z++) {
			const pnode *v = FV(zn[z]);
			const struct pzone *pz = v ? sk_pzone_find(p, v->s) : NULL;
			if (v && (!pz || pz->cloud)) {
				ERR(c, "E-ZONE-UNKNOWN", v, "ゾーン「%s」は定義されていません",
				    "zone '%s' is not defined", v->s);
				ok = false;
			}
		}
		if (FV("from") && FV("to") && !strcmp(FV("from")->s, FV("to")->s)) {
			ERR(c, "E-GATEWAY-SPOOL-SAME-ZONE", FV("to"),
			    "spool の from と to が同じゾーン「%s」です", "spool from and to are the same zone '%s'",
			    FV("to")->s);
			ok = false;
		}
		if (FV("id") && !check_id(c, FV("id"), "spool"))
			ok = false;
		if (FV("drop") && !abs_path(c, FV("drop"), "drop"))
			ok = false;
		if (FV("deliver") && !abs_path(c, FV("deliver"), "deliver"))
			ok = false;
		if (!ok || !FV("from") || !FV("to") || !FV("drop") || !FV("deliver"))
			continue;
		size_t n0 = p->nspools;
		sk_policy_spool *sp = PUSH(c, p->spools, p->nspools);
		if (!sp)
			return;
		char(*ids)[136] = realloc(p->spool_ids, (n0 + 1) * sizeof(*ids));
		if (!ids) {
			c->oom = 1;
			return;
		}
		p->spool_ids = ids;
		snprintf(ids[n0], sizeof(ids[n0]), "%s-%s", FV("from")->s, FV("to")->s);
		sp->from = FV("from")->s;
		sp->to = FV("to")->s;
		sp->drop = FV("drop")->s;
		sp->deliver = FV("deliver")->s;
		sp->class_level = FV("class") ? FV("class")->s : NULL;
		sp->line = it->line;
		sp->id = FV("id") ? FV("id")->s : NULL; /* generated ids are set after the loop */
		/* folders: one flow's drop folder is nobody else's folder, and a delivery
		 * folder inside a drop folder (or the reverse) would loop */
		const char *mine[2] = {sp->drop, sp->deliver};
		const pnode *mn[2] = {FV("drop"), FV("deliver")};
		for (size_t j = 0; j <= n0; j++) {
			const char *theirs[2] = {p->spools[j].drop, p->spools[j].deliver};
			for (int a = 0; a < 2; a++)
				for (int b = 0; b < 2; b++) {
					if (j == n0 && a >= b)
						continue;
					if (j < n0 && a == 1 && b == 1)
						continue; /* two flows may share a delivery folder */
					const char *x = mine[a], *y = theirs[b];
					size_t xl = strlen(x), yl = strlen(y);
					while (xl > 1 && x[xl - 1] == '/')
						xl--;
					while (yl > 1 && y[yl - 1] == '/')
						yl--;
					size_t m = xl < yl ? xl : yl;
					bool overlap = !strncmp(x, y, m) &&
						       (xl == yl || (xl > yl ? x[m] : y[m]) == '/' || m == 1);
					if (overlap) {
						ERR(c, "E-GATEWAY-SPOOL-OVERLAP", mn[a],
						    "フォルダ %s が %d 行目の spool のフォルダ %s と重なっています",
						    "folder %s overlaps the folder of the spool on line %d: %s", x,
						    (int)p->spools[j].line, y);
						a = b = 2;
					}
				}
		}
	}
	/* ids: given or FROM-TO; unique */
	for (size_t i = 0; i < p->nspools; i++)
		if (!p->spools[i].id)
			p->spools[i].id = p->spool_ids[i];
	for (size_t i = 0; i < p->nspools; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->spools[i].id, p->spools[j].id)) {
				sk_pdiag_at_v(c->d, SK_DIAG_ERROR, "E-ID-DUPLICATE", p->spools[i].line, 0,
					      "spool「%s」が %u 行目と重複しています (id を付けてください)",
					      "spool '%s' repeats the one on line %u (give it an id)",
					      p->spools[i].id, p->spools[j].line);
				break;
			}
}

/* One direction of the milter's mail: both zones defined (not clouds), not the same. */
static bool milter_dir(struct ctx *c, const pnode *zf, const pnode *zt, const pnode *at)
{
	sk_policy *p = c->p;
	bool ok = true;
	const pnode *zn[2] = {zf, zt};
	for (int z = 0; z < 2; z++) {
		const struct pzone *pz = sk_pzone_find(p, zn[z]->s);
		if (!pz || pz->cloud) {
			ERR(c, "E-ZONE-UNKNOWN", zn[z], "ゾーン「%s」は定義されていません",
			    "zone '%s' is not defined", zn[z]->s);
			ok = false;
		}
	}
	if (ok && !strcmp(zf->s, zt->s)) {
		ERR(c, "E-GATEWAY-MILTER-ZONES", zt, "milter の from と to が同じゾーン「%s」です",
		    "milter from and to are the same zone '%s'", zt->s);
		ok = false;
	}
	for (size_t i = 0; ok && i < p->gw.nmilter_dirs; i++)
		if (!strcmp(p->milter_dirs[i].from, zf->s)) {
			ERR(c, "E-GATEWAY-MILTER-DUPLICATE", zf,
			    "milter の from「%s」は %u 行目と重複しています (送信元のアドレスで向きを決めるため、from は一つずつ)",
			    "milter from '%s' repeats the one on line %u (the client's address picks the "
			    "direction: one per from zone)",
			    zf->s, (unsigned)p->milter_dirs[i].line);
			ok = false;
		}
	if (ok && p->gw.nmilter_dirs >= SK_POLICY_MILTER_MAX) {
		ERR(c, "E-GATEWAY-MILTER-ZONES", at, "milter の向きは %d 個までです",
		    "at most %d milter directions", SK_POLICY_MILTER_MAX);
		ok = false;
	}
	if (ok)
		p->milter_dirs[p->gw.nmilter_dirs++] =
			(sk_policy_milter_dir){.from = zf->s, .to = zt->s, .line = at->line};
	return ok;
}

/* gateway.milter: "unix:/path" or "inet:PORT@ADDR" with milter_from / milter_to beside
 * it, or a mapping {socket, from, to, group} or {socket, directions: [{from, to} …],
 * group}. The zones are required: the flow policy decides the milter's mail by them
 * (channel mail); with several directions the SMTP client's address picks one. */
static void parse_milter(struct ctx *c, const pnode *m, const pnode *kfrom, const pnode *kto)
{
	sk_policy *p = c->p;
	const pnode *v = m, *zf = kfrom, *zt = kto, *grp = NULL, *dirs = NULL;
	if (m->t == PN_MAP) {
		struct fld f[] = {{"socket", PN_SCALAR, true, 0}, {"from", PN_SCALAR, false, 0},
				  {"to", PN_SCALAR, false, 0}, {"group", PN_SCALAR, false, 0},
				  {"directions", PN_SEQ, false, 0}};
		if (!FIELDS(c, m, "gateway.milter"))
			return;
		v = FV("socket");
		zf = FV("from") ? FV("from") : kfrom;
		zt = FV("to") ? FV("to") : kto;
		grp = FV("group");
		dirs = FV("directions");
		if (!v)
			return;
	} else if (m->t != PN_SCALAR) {
		ERR(c, "E-TYPE", m, "milter は値 (ソケット) かマッピングです",
		    "milter is a value (the socket) or a mapping");
		return;
	}
	char addr[64];
	long port;
	bool ok = false;
	if (!strncmp(v->s, "unix:", 5))
		ok = v->s[5] == '/' && v->sl < 5 + 108;
	else if (!strncmp(v->s, "inet:", 5) || !strncmp(v->s, "inet6:", 6)) {
		/* PORT@ADDR (libmilter order) */
		const char *q = v->s + (v->s[4] == ':' ? 5 : 6), *at = strchr(q, '@');
		char tmp[96];
		if (at && (size_t)(at - q) < 8 && strlen(at + 1) < 64) {
			snprintf(tmp, sizeof(tmp), "%s:%.*s", at + 1, (int)(at - q), q);
			ok = sk_paddr_port(tmp, addr, sizeof(addr), &port);
		}
	}
	if (!ok) {
		ERR(c, "E-GATEWAY-MILTER", v,
		    "milter のソケット「%s」が不正です (unix:/パス または inet:ポート@アドレス)",
		    "milter socket '%s' is invalid (unix:/path or inet:PORT@ADDRESS)", v->s);
		return;
	}
	if (dirs && (zf || zt)) {
		ERR(c, "E-GATEWAY-MILTER-ZONES", dirs,
		    "milter には from・to か directions のどちらか一方を書いてください",
		    "give the milter either from and to, or directions, not both");
		return;
	}
	if (dirs) {
		if (dirs->n == 0) {
			ERR(c, "E-GATEWAY-MILTER-ZONES", dirs, "milter の directions が空です",
			    "the milter's directions are empty");
			return;
		}
		for (size_t i = 0; i < dirs->n; i++) {
			const pnode *it = dirs->k[i];
			char where[64];
			snprintf(where, sizeof(where), "gateway.milter.directions[%zu]", i);
			struct fld f[] = {{"from", PN_SCALAR, true, 0}, {"to", PN_SCALAR, true, 0}};
			if (!FIELDS(c, it, where) || !FV("from") || !FV("to") ||
			    !milter_dir(c, FV("from"), FV("to"), it))
				ok = false;
		}
	} else if (!zf || !zt) {
		ERR(c, "E-GATEWAY-MILTER-ZONES", m,
		    "milter のメールのゾーンがありません (from と to、directions、または milter_from と milter_to)",
		    "the milter's mail has no zones (from and to, directions, or milter_from and milter_to)");
		return;
	} else {
		ok = milter_dir(c, zf, zt, m);
	}
	if (!ok)
		return;
	p->gw.milter = v->s;
	p->gw.milter_from = p->milter_dirs[0].from;
	p->gw.milter_to = p->milter_dirs[0].to;
	p->gw.milter_dirs = p->milter_dirs;
	p->gw.milter_group = grp ? grp->s : NULL;
	p->gw.milter_line = m->line;
}

/* Keeps ptr to be freed with the policy; non-zero (ptr not kept) when out of memory. */
static int own(struct ctx *c, void *ptr)
{
	sk_policy *p = c->p;
	if (p->nowned == p->capowned) {
		size_t cap = p->capowned ? p->capowned * 2 : 8;
		void **v = realloc(p->owned, cap * sizeof(*v));
		if (!v)
			return SK_ENOMEM;
		p->owned = v;
		p->capowned = cap;
	}
	p->owned[p->nowned++] = ptr;
	return 0;
}

/* gateway.http: [{zone: internet, listen: "203.0.113.1:443"}, …] */
static void parse_http(struct ctx *c, const pnode *seq)
{
	sk_policy *p = c->p;
	for (size_t i = 0; i < seq->n; i++) {
		const pnode *it = seq->k[i];
		char where[64];
		snprintf(where, sizeof(where), "gateway.http[%zu]", i);
		struct fld f[] = {{"zone", PN_SCALAR, true, 0}, {"listen", PN_SCALAR, true, 0}};
		if (!FIELDS(c, it, where) || !FV("zone") || !FV("listen"))
			continue;
		if (p->nhttp >= SK_POLICY_HTTP_MAX) {
			ERR(c, "E-GATEWAY-HTTP", it, "HTTPS の受付は %d 個までです",
			    "at most %d HTTPS listeners", SK_POLICY_HTTP_MAX);
			return;
		}
		const pnode *z = FV("zone"), *l = FV("listen");
		const struct pzone *zz = sk_pzone_find(p, z->s);
		bool ok = true;
		if (!zz || zz->cloud) {
			ERR(c, "E-ZONE-UNKNOWN", z, "ゾーン「%s」は定義されていません", "zone '%s' is not defined",
			    z->s);
			ok = false;
		} else if (!strcmp(z->s, "mynumber")) {
			ERR(c, "E-GATEWAY-HTTP-MYNUMBER", z,
			    "マイナンバー利用事務系に HTTPS の受付を置くことはできません",
			    "no HTTPS listener may be opened in the mynumber zone");
			ok = false;
		}
		char addr[64];
		long port = 0;
		if (!sk_paddr_port(l->s, addr, sizeof(addr), &port)) {
			ERR(c, "E-GATEWAY-HTTP", l, "受付アドレス「%s」が不正です (例 198.51.100.1:443)",
			    "listen address '%s' is invalid (e.g. 198.51.100.1:443)", l->s);
			ok = false;
		}
		for (size_t j = 0; ok && j < p->nhttp; j++)
			if (p->http[j].port == port && !strcmp(p->http[j].addr, addr)) {
				ERR(c, "E-GATEWAY-HTTP-DUPLICATE", l, "受付アドレス「%s」は %u 行目と重複しています",
				    "listen address '%s' repeats the one on line %u", l->s,
				    (unsigned)p->http[j].line);
				ok = false;
			}
		if (!ok)
			continue;
		sk_policy_http *h = PUSH(c, p->http, p->nhttp);
		char *a = h ? strdup(addr) : NULL;
		if (!a || own(c, a)) {
			if (h)
				p->nhttp--;
			free(a);
			c->oom = 1;
			return;
		}
		h->zone = z->s;
		h->addr = a;
		h->port = (uint16_t)port;
		h->line = it->line;
	}
}

static void parse_gateway(struct ctx *c, const pnode *g)
{
	sk_policy *p = c->p;
	p->gw.workers = -1;
	if (!g)
		return;
	struct fld f[] = {{"user", PN_SCALAR, false, 0},    {"state", PN_SCALAR, false, 0},
			  {"workers", PN_SCALAR, false, 0}, {"milter", -1, false, 0},
			  {"metrics", PN_SCALAR, false, 0}, {"events", PN_SCALAR, false, 0},
			  {"clamd", PN_SCALAR, false, 0},   {"spool", PN_SEQ, false, 0},
			  {"milter_from", PN_SCALAR, false, 0}, {"milter_to", PN_SCALAR, false, 0},
			  {"http", PN_SEQ, false, 0},       {"tls", PN_MAP, false, 0},
			  {"console_zone", PN_SCALAR, false, 0}, {"sendmail", PN_SCALAR, false, 0},
			  {"console_url", PN_SCALAR, false, 0}};
	if (!FIELDS(c, g, "gateway"))
		return;
	const pnode *v;
	if ((v = FV("user"))) {
		bool ok = v->sl > 0 && v->sl <= 32 && (islower((unsigned char)v->s[0]) || v->s[0] == '_');
		for (size_t i = 0; ok && i < v->sl; i++)
			ok = islower((unsigned char)v->s[i]) || isdigit((unsigned char)v->s[i]) ||
			     v->s[i] == '_' || v->s[i] == '-';
		if (!ok)
			ERR(c, "E-GATEWAY-USER", v, "利用者名「%s」が不正です (英小文字・数字・_・-、32 文字以内)",
			    "user name '%s' is invalid (lower-case letters, digits, _ and -, at most 32)",
			    v->s);
		else if (!strcmp(v->s, "root"))
			ERR(c, "E-GATEWAY-ROOT", v,
			    "役割プロセスを root で動かすことはできません。専用の利用者 (既定 sekisho) を指定してください",
			    "the roles cannot run as root; name an unprivileged user (default sekisho)");
		else
			p->gw.user = v->s;
	}
	if ((v = FV("state")) && abs_path(c, v, "state"))
		p->gw.state = v->s;
	long n;
	if ((v = FV("workers")) && get_int(c, v, 0, 1024, &n))
		p->gw.workers = (int)n;
	if ((v = FV("milter")))
		parse_milter(c, v, FV("milter_from"), FV("milter_to"));
	else if ((v = FV("milter_from")) || (v = FV("milter_to")))
		ERR(c, "E-GATEWAY-MILTER", v, "milter のソケットがありません (milter: unix:/パス)",
		    "no milter socket (milter: unix:/path)");
	if ((v = FV("metrics"))) {
		char addr[64];
		long port;
		if (!sk_paddr_port(v->s, addr, sizeof(addr), &port)) {
			ERR(c, "E-GATEWAY-METRICS", v,
			    "metrics のアドレス「%s」が不正です (例 127.0.0.1:9464)",
			    "metrics address '%s' is invalid (e.g. 127.0.0.1:9464)", v->s);
		} else {
			if (!loopback(addr))
				WARN(c, "W-GATEWAY-METRICS-PUBLIC", v,
				     "metrics を %s で公開します。ループバック (127.0.0.1) 以外からも読めます",
				     "metrics are served on %s, reachable from beyond loopback (127.0.0.1)",
				     addr);
			p->gw.metrics = v->s;
		}
	}
	if ((v = FV("events"))) {
		const char *s = v->s;
		bool ok = !strcmp(s, "syslog") || !strcmp(s, "stderr") ||
			  (!strncmp(s, "json:/", 6) && v->sl < 4096) ||
			  (!strncmp(s, "syslog:unix:/", 13) && v->sl < 7 + 108) ||
			  (!strncmp(s, "syslog:udp:", 11) && strchr(s + 11, ':'));
		if (!ok)
			ERR(c, "E-GATEWAY-EVENTS", v,
			    "events「%s」が不正です (syslog・syslog:unix:/パス・syslog:udp:ホスト:ポート・json:/パス・stderr)",
			    "events '%s' is invalid (syslog, syslog:unix:/path, syslog:udp:HOST:PORT, json:/path, stderr)",
			    s);
		else
			p->gw.events = s;
	}
	if ((v = FV("clamd"))) {
		sk_error e;
		if (sk_scan_spec_check(v->s, &e) != 0)
			ERR(c, "E-GATEWAY-CLAMD", v, "clamd のソケット「%s」が不正です (unix:/パス または tcp:IP:ポート)",
			    "clamd socket '%s' is invalid (unix:/path or tcp:IP:PORT)", v->s);
		else
			p->gw.clamd = v->s;
	}
	if (FV("spool"))
		parse_spool(c, FV("spool"));
	if ((v = FV("console_zone"))) {
		if (!sk_pzone_find(p, v->s) || sk_pzone_find(p, v->s)->cloud)
			ERR(c, "E-ZONE-UNKNOWN", v, "ゾーン「%s」は定義されていません", "zone '%s' is not defined",
			    v->s);
		else if (!strcmp(v->s, "mynumber"))
			ERR(c, "E-GATEWAY-HTTP-MYNUMBER", v,
			    "マイナンバー利用事務系に画面を提供することはできません",
			    "the console cannot be served in the mynumber zone");
		else
			p->gw.console_zone = v->s;
	}
	if ((v = FV("sendmail")) && abs_path(c, v, "sendmail"))
		p->gw.sendmail = v->s;
	if ((v = FV("console_url"))) {
		bool ok = (!strncmp(v->s, "https://", 8) || !strncmp(v->s, "http://", 7)) &&
			  v->sl < 1024;
		for (size_t i = 0; ok && i < v->sl; i++)
			ok = (unsigned char)v->s[i] > 0x20 && (unsigned char)v->s[i] < 0x7f;
		if (!ok)
			ERR(c, "E-GATEWAY-CONSOLE-URL", v,
			    "console_url「%s」が不正です (https:// で始まる空白のない URL)",
			    "console_url '%s' is invalid (a URL starting with https://, without spaces)",
			    v->s);
		else
			p->gw.console_url = v->s;
	}
	if ((v = FV("tls"))) {
		struct fld t[] = {{"cert", PN_SCALAR, true, 0}, {"key", PN_SCALAR, true, 0}};
		if (fields(c, v, "gateway.tls", t, 2) && t[0].val && t[1].val &&
		    abs_path(c, t[0].val, "tls.cert") && abs_path(c, t[1].val, "tls.key")) {
			p->gw.tls_cert = t[0].val->s;
			p->gw.tls_key = t[1].val->s;
		}
	}
	if ((v = FV("http")))
		parse_http(c, v);
}

/* ---- management (the gateway host itself) ------------------------------------------------------ */

/* Services the host needs whose port and protocol are known; any other name gives its own. */
static const struct {
	const char *id;
	int port, proto;
} known_services[] = {
	{"dns", 53, PROTO_TCP | PROTO_UDP}, {"ntp", 123, PROTO_UDP},  {"syslog", 514, PROTO_UDP},
	{"smtp", 25, PROTO_TCP},            {"proxy", 3128, PROTO_TCP}, {"http", 80, PROTO_TCP},
	{"https", 443, PROTO_TCP},
};

/* A port or a list of ports (1..65535, at most max of them) into out. */
static bool parse_ports(struct ctx *c, const pnode *n, int *out, size_t max, size_t *np,
			const char *what)
{
	*np = 0;
	long v;
	if (n->t == PN_SCALAR) {
		if (!get_int(c, n, 1, 65535, &v))
			return false;
		out[(*np)++] = (int)v;
		return true;
	}
	if (n->t != PN_SEQ) {
		ERR(c, "E-TYPE", n, "%s はポート番号かそのリストで書いてください",
		    "%s must be a port number or a list of them", what);
		return false;
	}
	if (n->n > max) {
		ERR(c, "E-VALUE-INVALID", n, "%s のポートは %zu 個までです", "%s: at most %zu ports", what,
		    max);
		return false;
	}
	bool ok = true;
	for (size_t i = 0; i < n->n; i++)
		if (get_int(c, n->k[i], 1, 65535, &v))
			out[(*np)++] = (int)v;
		else
			ok = false;
	return ok;
}

static bool net_is_all(const struct pnet *n)
{
	return n->plen == 0;
}

/* management:
 *   admins: [198.51.100.16/29]   who may administer: SSH, the console, ping
 *   interface: sk-mgmt            optional: only through this interface
 *   ssh: [22]                     sshd's ports (default 22; [] for none)
 *   console: true                 admins also reach the console's HTTPS listeners
 *   services: { dns: { to: [ADDR…] }, ntp: …, NAME: { to: […], ports: […], protocol: tcp } } */
static void parse_management(struct ctx *c, const pnode *m)
{
	sk_policy *p = c->p;
	struct pmgmt *g = &p->mgmt;
	g->ssh[0] = 22;
	g->nssh = 1;
	g->console = true;
	if (!m)
		return;
	struct fld f[] = {{"admins", PN_SEQ, false, 0},     {"interface", PN_SCALAR, false, 0},
			  {"ssh", -1, false, 0},            {"console", PN_SCALAR, false, 0},
			  {"services", PN_MAP, false, 0},   {"description", PN_SCALAR, false, 0}};
	if (!FIELDS(c, m, "management"))
		return;
	g->present = true;
	const pnode *v;
	if ((v = FV("admins")))
		parse_net_list(c, v, &g->admins, &g->nadmins, NULL, "management.admins");
	for (size_t i = 0; i < g->nadmins; i++) {
		const struct pnet *a = &g->admins[i];
		if (net_is_all(a)) {
			ERR(c, "E-MANAGEMENT-ANY", a->n,
			    "management.admins の %s はすべてのアドレスです。管理端末のアドレスかネットワークを書いてください",
			    "management.admins: %s is every address; name the administrators' addresses or networks",
			    a->text);
			continue;
		}
		for (size_t z = 0; z < p->nz; z++) {
			const struct pzone *zn = &p->z[z];
			if (zn->cloud || (strcmp(zn->id, "internet") && strcmp(zn->id, "mynumber")))
				continue;
			for (size_t j = 0; j < zn->nn; j++)
				if (nets_overlap(a, &zn->nets[j])) {
					WARN(c, "W-MANAGEMENT-ZONE", a->n,
					     "管理端末 %s がゾーン「%s」のネットワーク %s にあります (SSH と画面がそのゾーンから届きます)",
					     "administrators' %s lie in zone '%s' (%s): SSH and the console are reachable from that zone",
					     a->text, zn->id, zn->nets[j].text);
					j = zn->nn;
				}
		}
	}
	if (!g->nadmins && (!FV("admins") || FV("admins")->n == 0))
		WARN(c, "W-MANAGEMENT-NO-ADMIN", FV("admins") ? FV("admins") : m,
		     "management.admins がありません。SSH はどこからも届きません (画面はそのゾーンからだけ)",
		     "management.admins is empty: SSH is reachable from nowhere (the console only from its zone)");
	if ((v = FV("interface")))
		g->iface = iface_of(c, v);
	if ((v = FV("ssh"))) {
		size_t n = 0;
		if (parse_ports(c, v, g->ssh, sizeof(g->ssh) / sizeof(g->ssh[0]), &n, "management.ssh"))
			g->nssh = n;
	}
	if ((v = FV("console")))
		get_bool(c, v, &g->console);
	const pnode *svcs = FV("services");
	for (size_t i = 0; svcs && i + 1 < svcs->n; i += 2) {
		const pnode *k = svcs->k[i], *sv = svcs->k[i + 1];
		if (!check_id(c, k, "management.services"))
			continue;
		bool dup = false;
		for (size_t j = 0; j < g->nsvc; j++)
			dup = dup || !strcmp(g->svc[j].id, k->s);
		if (dup) {
			ERR(c, "E-ID-DUPLICATE", k, "サービス「%s」が重複しています", "service '%s' is given twice",
			    k->s);
			continue;
		}
		char where[96];
		snprintf(where, sizeof(where), "management.services.%s", k->s);
		struct fld sf[] = {{"to", PN_SEQ, true, 0},
				   {"ports", -1, false, 0},
				   {"protocol", PN_SCALAR, false, 0},
				   {"description", PN_SCALAR, false, 0}};
		if (!fields(c, sv, where, sf, 4))
			continue;
		struct psvc *s = PUSH(c, g->svc, g->nsvc);
		if (!s)
			return;
		s->id = k->s;
		s->n = k;
		for (size_t j = 0; j < sizeof(known_services) / sizeof(known_services[0]); j++)
			if (!strcmp(known_services[j].id, k->s)) {
				s->ports[0] = known_services[j].port;
				s->nports = 1;
				s->proto = known_services[j].proto;
			}
		bool known = s->nports > 0;
		if (sf[0].val && sf[0].val->n == 0)
			ERR(c, "E-MANAGEMENT-SERVICE", sf[0].val, "%s.to にアドレスがありません",
			    "%s.to lists no address", where);
		parse_net_list(c, sf[0].val, &s->to, &s->nto, NULL, where);
		for (size_t j = 0; j < s->nto; j++)
			if (net_is_all(&s->to[j]))
				WARN(c, "W-MANAGEMENT-WIDE", s->to[j].n,
				     "%s はすべてのアドレス (%s) に開きます。サーバーのアドレスを書いてください",
				     "%s opens to every address (%s); name the servers' addresses", where,
				     s->to[j].text);
		if (sf[1].val) {
			size_t n = 0;
			bool ok = parse_ports(c, sf[1].val, s->ports, PMGMT_PORTS, &n, where);
			if (ok && n)
				s->nports = n;
			else if (ok)
				ERR(c, "E-MANAGEMENT-SERVICE", sf[1].val, "%s.ports にポートがありません",
				    "%s.ports lists no port", where);
		} else if (!known) {
			ERR(c, "E-MANAGEMENT-SERVICE", k,
			    "サービス「%s」のポートがありません (ports: を書くか、dns・ntp・syslog・smtp・proxy・http・https のどれかにしてください)",
			    "service '%s' has no ports (give ports:, or use one of dns, ntp, syslog, smtp, proxy, http, https)",
			    k->s);
		}
		if ((v = sf[2].val)) {
			if (!strcmp(v->s, "tcp"))
				s->proto = PROTO_TCP;
			else if (!strcmp(v->s, "udp"))
				s->proto = PROTO_UDP;
			else if (!strcmp(v->s, "both"))
				s->proto = PROTO_TCP | PROTO_UDP;
			else
				ERR(c, "E-MANAGEMENT-SERVICE", v,
				    "protocol「%s」が不正です (tcp・udp・both)",
				    "protocol '%s' is invalid (tcp, udp or both)", v->s);
		} else if (!s->proto) {
			s->proto = PROTO_TCP;
		}
	}
}

/* internal_domains: [city.example.lg.jp, …] — the municipality's own mail domains. */
static void parse_internal(struct ctx *c, const pnode *seq)
{
	sk_policy *p = c->p;
	if (!seq)
		return;
	for (size_t i = 0; i < seq->n; i++) {
		const pnode *d = seq->k[i];
		if (d->t != PN_SCALAR || !sk_mail_domain_valid(d->s)) {
			ERR(c, "E-INTERNAL-DOMAIN", d,
			    "internal_domains の「%s」はメールのドメイン名ではありません (例 city.example.lg.jp)",
			    "'%s' in internal_domains is not a mail domain (e.g. city.example.lg.jp)",
			    d->t == PN_SCALAR ? d->s : "?");
			continue;
		}
		const char **x = PUSH(c, p->internal, p->ninternal);
		if (!x)
			return;
		*x = d->s;
	}
	/* the terminating NULL */
	const char **end = PUSH(c, p->internal, p->ninternal);
	if (end)
		p->ninternal--;
}

/* After a clean parse: a milter without internal_domains treats every recipient as
 * outside (a held message is never replaced by a notice: docs/mail.md). */
static void check_milter(struct ctx *c)
{
	sk_policy *p = c->p;
	if (p->gw.milter && !p->ninternal)
		sk_pdiag_at_v(c->d, SK_DIAG_WARNING, "W-GATEWAY-MILTER-INTERNAL", p->gw.milter_line, 0,
			      "internal_domains がありません。milter はすべての宛先を外部として扱い、保留したメールの通知を宛先に配信しません",
			      "no internal_domains: the milter treats every recipient as outside and never "
			      "delivers the notice of a held message to its recipients");
}

/* After a clean parse: a spool flow whose route the flows deny blocks every file. */
static void check_spool_flows(struct ctx *c)
{
	sk_policy *p = c->p;
	for (size_t i = 0; i < p->nspools; i++) {
		const sk_policy_spool *sp = &p->spools[i];
		sk_policy_decision d;
		sk_error e;
		if (sk_policy_decide(p, sp->from, sp->to, "file", sp->class_level, c->today, &d, &e) != 0) {
			sk_pdiag_at_v(c->d, SK_DIAG_ERROR, "E-GATEWAY-SPOOL-CLASS", sp->line, 0,
				      "spool「%s」の分類を判定できません: %s",
				      "spool '%s': the class cannot be decided: %s", sp->id, e.msg);
		} else if (d.action == SK_FLOW_DENY) {
			sk_pdiag_at_v(c->d, SK_DIAG_WARNING, "W-GATEWAY-SPOOL-DENIED", sp->line, 0,
				      "spool「%s」(%s → %s) は通信規則 %s で拒否されます。置かれたファイルはすべて遮断されます",
				      "spool '%s' (%s -> %s) is denied by %s: every file dropped there is blocked",
				      sp->id, sp->from, sp->to, d.rule);
		}
	}
	p->gw.spool = p->spools;
	p->gw.nspool = p->nspools;
}

/* After a clean parse: the console zone should have a listener when any is configured. */
static void check_console(struct ctx *c)
{
	sk_policy *p = c->p;
	if (!p->gw.console_zone)
		p->gw.console_zone = "lgwan";
	if (!p->gw.sendmail)
		p->gw.sendmail = "/usr/sbin/sendmail";
	bool found = false;
	for (size_t i = 0; i < p->nhttp; i++)
		found = found || !strcmp(p->http[i].zone, p->gw.console_zone);
	if (p->nhttp && !found)
		sk_pdiag_at_v(c->d, SK_DIAG_WARNING, "W-GATEWAY-CONSOLE-NO-LISTENER",
			      p->http[0].line, 0,
			      "画面を提供するゾーン「%s」に HTTPS の受付がありません (承認・ダウンロードができません)",
			      "the console zone '%s' has no HTTPS listener (nobody can approve or download)",
			      p->gw.console_zone);
}

void sk_policy_gateway_get(const sk_policy *p, sk_policy_gateway *g)
{
	*g = p->gw;
	g->spool = p->spools;
	g->nspool = p->nspools;
	g->http = p->http;
	g->nhttp = p->nhttp;
	g->console_zone = p->gw.console_zone ? p->gw.console_zone : "lgwan";
	g->sendmail = p->gw.sendmail ? p->gw.sendmail : "/usr/sbin/sendmail";
}

const char *sk_policy_zone_of(const sk_policy *p, const char *addr)
{
	int af;
	uint8_t a[16];
	if (!p || !addr || !parse_addr(addr, &af, a))
		return NULL;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (af == AF_INET6 && !memcmp(a, mapped, 12)) {
		memmove(a, a + 12, 4);
		memset(a + 4, 0, 12);
		af = AF_INET;
	}
	for (size_t i = 0; i < p->nz; i++) {
		if (p->z[i].cloud)
			continue;
		for (size_t j = 0; j < p->z[i].nn; j++)
			if (in_net(&p->z[i].nets[j], af, a))
				return p->z[i].id;
	}
	return NULL;
}

const char *const *sk_policy_internal_domains(const sk_policy *p)
{
	static const char *const none[] = {NULL};
	return p && p->internal ? (const char *const *)p->internal : none;
}

/* ---- load ---------------------------------------------------------------------------------- */

void sk_policy_free(sk_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nz; i++)
		free(p->z[i].nets);
	free(p->z);
	free(p->f);
	free(p->prof);
	for (size_t i = 0; i < p->ndims; i++)
		free(p->dims[i].levels);
	free(p->dims);
	free(p->h);
	free(p->roles);
	free(p->chain);
	for (size_t i = 0; i < p->nusers; i++)
		free(p->users[i].roles);
	free(p->users);
	free(p->deny);
	free(p->myw);
	free(p->corpw);
	free(p->assetw);
	free(p->pats);
	free(p->spools);
	free(p->spool_ids);
	free(p->sections);
	free(p->http);
	free(p->mgmt.admins);
	for (size_t i = 0; i < p->mgmt.nsvc; i++)
		free(p->mgmt.svc[i].to);
	free(p->mgmt.svc);
	free(p->internal);
	for (size_t i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	free(p->owned);
	sk_dlp_free(p->dlp);
	sk_pyaml_free(p->root);
	free(p);
}

int sk_policy_parse(const char *text, size_t n, int32_t today, sk_policy **out,
		    sk_policy_diags *diags, sk_error *err)
{
	*out = NULL;
	sk_policy_diags local;
	sk_policy_diags_init(&local);
	sk_policy_diags *d = diags ? diags : &local;
	size_t errors0 = d->errors;
	if (n > SK_POLICY_MAX_BYTES) {
		sk_policy_diags_free(&local);
		return sk_error_set(err, SK_ELIMIT, "policy file over %zu bytes", SK_POLICY_MAX_BYTES);
	}
	sk_policy *p = calloc(1, sizeof(*p));
	if (!p) {
		sk_policy_diags_free(&local);
		return sk_error_set(err, SK_ENOMEM, "policy");
	}
	struct ctx c = {.p = p, .d = d, .today = today ? today : sk_policy_today()};
	int rc = sk_pyaml_load(text, n, &p->root, d);
	if (rc == SK_ENOMEM) {
		sk_policy_free(p);
		sk_policy_diags_free(&local);
		return sk_error_set(err, SK_ENOMEM, "policy");
	}
	if (rc == 0) {
		const pnode *root = p->root;
		if (!root) {
			sk_pdiag_at_v(d, SK_DIAG_ERROR, "E-TYPE", 1, 1, "ポリシーファイルが空です",
				      "the policy file is empty");
		} else {
			struct fld f[] = {
				{"version", PN_SCALAR, true, 0}, {"name", PN_SCALAR, false, 0},
				{"zones", PN_MAP, true, 0},      {"clouds", PN_MAP, false, 0},
				{"listeners", PN_MAP, false, 0}, {"profiles", PN_MAP, false, 0},
				{"roles", PN_MAP, false, 0},     {"users", PN_SEQ, false, 0},
				{"classification", PN_MAP, false, 0}, {"dlp", PN_MAP, false, 0},
				{"flows", PN_SEQ, false, 0},     {"retention", PN_MAP, false, 0},
				{"gateway", PN_MAP, false, 0},
				{"organization", PN_SCALAR, false, 0}, {"sections", PN_MAP, false, 0},
				{"auth", PN_MAP, false, 0},      {"release", PN_MAP, false, 0},
				{"incidents", PN_MAP, false, 0}, {"management", PN_MAP, false, 0},
				{"internal_domains", PN_SEQ, false, 0},
			};
			if (FIELDS(&c, root, "policy")) {
				if (FV("version") && strcmp(FV("version")->s, "1"))
					ERR(&c, "E-VERSION", FV("version"),
					    "version「%s」には対応していません (1 のみ)",
					    "version '%s' is not supported (only 1)", FV("version")->s);
				p->name = FV("name") ? FV("name")->s : "";
				/* order matters: names are looked up by later sections */
				parse_zones(&c, FV("zones"), root);
				parse_clouds(&c, FV("clouds"));
				parse_listeners(&c, FV("listeners"));
				parse_profiles(&c, FV("profiles"));
				parse_org(&c, FV("organization"), FV("sections"));
				parse_roles(&c, FV("roles"), FV("users"));
				parse_classification(&c, FV("classification"));
				parse_dlp(&c, FV("dlp"));
				parse_flows(&c, FV("flows"));
				parse_retention(&c, FV("retention"));
				parse_auth(&c, FV("auth"));
				parse_release(&c, FV("release"));
				parse_incidents(&c, FV("incidents"));
				parse_internal(&c, FV("internal_domains"));
				parse_gateway(&c, FV("gateway"));
				parse_management(&c, FV("management"));
				if (d->errors == errors0) {
					check_spool_flows(&c);
					check_console(&c);
					check_milter(&c);
				}
			}
		}
	}
	if (c.oom) {
		sk_policy_free(p);
		sk_policy_diags_free(&local);
		return sk_error_set(err, SK_ENOMEM, "policy");
	}
	if (rc || d->errors > errors0) {
		size_t ne = d->errors - errors0;
		sk_policy_free(p);
		sk_policy_diags_free(&local);
		return sk_error_set(err, SK_EFORMAT, "policy has %zu error(s)", ne);
	}
	/* the DLP config points into the policy's own arrays */
	p->dlpc.deny = p->deny;
	p->dlpc.ndeny = p->ndeny;
	p->dlpc.mynumber_words = p->myw;
	p->dlpc.nmynumber_words = p->nmyw;
	p->dlpc.corporate_words = p->corpw;
	p->dlpc.ncorporate_words = p->ncorpw;
	p->dlpc.asset_words = p->assetw;
	p->dlpc.nasset_words = p->nassetw;
	p->dlpc.patterns = p->pats;
	p->dlpc.npatterns = p->npats;
	rc = sk_dlp_new(&p->dlpc, &p->dlp, err);
	if (rc) {
		sk_policy_free(p);
		sk_policy_diags_free(&local);
		return rc;
	}
	sk_policy_diags_free(&local);
	*out = p;
	return 0;
}

int sk_policy_load(const char *path, int32_t today, sk_policy **out, sk_policy_diags *diags,
		   sk_error *err)
{
	*out = NULL;
	sk_buf b;
	sk_buf_init(&b, SK_POLICY_MAX_BYTES + 1);
	int rc = sk_read_file(path, SK_POLICY_MAX_BYTES, &b, err);
	if (rc == 0)
		rc = sk_policy_parse(b.data ? (const char *)b.data : "", b.len, today, out, diags, err);
	sk_buf_free(&b);
	return rc;
}

/* ---- queries -------------------------------------------------------------------------------- */

const struct pzone *sk_pzone_find(const sk_policy *p, const char *id)
{
	for (size_t i = 0; id && i < p->nz; i++)
		if (!strcmp(p->z[i].id, id))
			return &p->z[i];
	return NULL;
}

size_t sk_policy_zone_count(const sk_policy *p)
{
	return p->nz;
}

const char *sk_policy_zone_id(const sk_policy *p, size_t i)
{
	return i < p->nz ? p->z[i].id : NULL;
}

bool sk_policy_has_zone(const sk_policy *p, const char *id)
{
	return sk_pzone_find(p, id) != NULL;
}

const char *sk_policy_role_name(const sk_policy *p, const char *id, sk_lang lang)
{
	const struct prole *r = id ? role_find(p, id) : NULL;
	if (!r)
		return id;
	return lang == SK_LANG_EN ? r->name_en : r->name;
}

const char *sk_policy_organization(const sk_policy *p)
{
	return p->organization;
}

bool sk_policy_has_role(const sk_policy *p, const char *id)
{
	return id && role_find(p, id) != NULL;
}

uint32_t sk_policy_role_perms(const sk_policy *p, const char *id)
{
	const struct prole *r = id ? role_find(p, id) : NULL;
	return r ? r->perms : 0;
}

size_t sk_policy_class_dim_count(const sk_policy *p)
{
	return p->ndims;
}

const char *sk_policy_class_dim_name(const sk_policy *p, size_t i)
{
	return i < p->ndims ? p->dims[i].name : NULL;
}

static const struct pdim *dim_find(const sk_policy *p, const char *dim, size_t *index)
{
	for (size_t i = 0; dim && i < p->ndims; i++)
		if (!strcmp(p->dims[i].name, dim)) {
			if (index)
				*index = i;
			return &p->dims[i];
		}
	return NULL;
}

size_t sk_policy_class_levels(const sk_policy *p, const char *dim, const char *const **levels)
{
	const struct pdim *d = dim_find(p, dim, NULL);
	if (levels)
		*levels = d ? (const char *const *)d->levels : NULL;
	return d ? d->nl : 0;
}

int sk_policy_class_handling(const sk_policy *p, const char *dim, const char *level,
			     sk_lang lang, sk_buf *out)
{
	size_t di = 0;
	const struct pdim *d = dim_find(p, dim, &di);
	size_t lv = d && level ? level_index(d, level) : (size_t)-1;
	if (lv == (size_t)-1)
		return SK_EINVAL;
	bool en = lang == SK_LANG_EN;
	int rc = 0;
	size_t n = 0;
	for (size_t i = 0; i < p->nh && !rc; i++) {
		const struct phandling *h = &p->h[i];
		if (h->dim != di || lv > h->level) /* 0 is the highest level */
			continue;
		if (n++)
			rc = sk_buf_adds(out, en ? "; " : "。");
		if (!rc && h->desc)
			rc = sk_buf_adds(out, h->desc);
		else if (!rc)
			rc = sk_buf_printf(out, en ? "%s%s %s: %s%s%s%s" : "%s%s 以上 → %s: %s%s%s%s",
					   d->name, d->levels[h->level],
					   !strcmp(h->to, "other-zones") ? (en ? "other zones" : "他のゾーン")
									 : h->to,
					   sk_flow_action_text(h->act, lang), h->role ? " (" : "",
					   h->role ? sk_policy_role_name(p, h->role, lang) : "",
					   h->role ? ")" : "");
	}
	return rc;
}

size_t sk_policy_incident_chain(const sk_policy *p, const char *const **roles)
{
	if (roles)
		*roles = (const char *const *)p->chain;
	return p->nchain;
}

size_t sk_policy_section_count(const sk_policy *p)
{
	return p->nsections;
}

const char *sk_policy_section_id(const sk_policy *p, size_t i)
{
	return i < p->nsections ? p->sections[i].id : NULL;
}

bool sk_policy_has_section(const sk_policy *p, const char *id)
{
	return section_find(p, id) != NULL;
}

const char *sk_policy_section_name(const sk_policy *p, const char *id, sk_lang lang)
{
	const struct psection *x = section_find(p, id);
	if (!x)
		return NULL;
	return lang == SK_LANG_EN ? x->name_en : x->name;
}

int sk_policy_user_find(const sk_policy *p, const char *name, const char *const **roles,
			size_t *nroles, const char **section, const char **mail)
{
	for (size_t i = 0; name && i < p->nusers; i++) {
		const struct puser *u = &p->users[i];
		if (strcmp(u->id, name))
			continue;
		if (roles)
			*roles = (const char *const *)u->roles;
		if (nroles)
			*nroles = u->nr;
		if (section)
			*section = u->section;
		if (mail)
			*mail = u->mail;
		return 0;
	}
	return SK_ENOTFOUND;
}

size_t sk_policy_user_count(const sk_policy *p)
{
	return p->nusers;
}

const char *sk_policy_user_id(const sk_policy *p, size_t i)
{
	return i < p->nusers ? p->users[i].id : NULL;
}

const char *sk_policy_user_name(const sk_policy *p, size_t i)
{
	return i < p->nusers ? p->users[i].name : NULL;
}

void sk_policy_approvals(const sk_policy *p, uint32_t *release, uint32_t *original)
{
	if (release)
		*release = p->approvals ? p->approvals : 1;
	if (original)
		*original = p->approvals_original ? p->approvals_original : 2;
}

void sk_policy_auth_get(const sk_policy *p, sk_policy_auth *a)
{
	*a = p->auth;
}

uint32_t sk_policy_retention_days(const sk_policy *p, const char *what)
{
	if (!strcmp(what, "quarantine"))
		return p->ret_quarantine;
	if (!strcmp(what, "audit"))
		return p->ret_audit;
	return 0;
}

const sk_profile *sk_policy_profile(const sk_policy *p, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; p && i < p->nprof; i++)
		if (!strcmp(p->prof[i].p.name, name))
			return &p->prof[i].p;
	return sk_profile_find(name);
}

const sk_dlp *sk_policy_detectors(const sk_policy *p)
{
	return p->dlp;
}

void sk_policy_profile_mail(const sk_policy *p, const char *name, const char **html,
			    const char **attachments)
{
	*html = *attachments = NULL;
	for (size_t i = 0; p && name && i < p->nprof; i++)
		if (!strcmp(p->prof[i].p.name, name)) {
			*html = p->prof[i].mail_html;
			*attachments = p->prof[i].mail_attachments;
		}
}

int sk_policy_dlp(const sk_policy *p, sk_dlp **out, sk_error *err)
{
	return sk_dlp_new(&p->dlpc, out, err);
}

static int strictness(sk_flow_action a)
{
	switch (a) {
	case SK_FLOW_ALLOW: return 0;
	case SK_FLOW_SANITIZE: return 1;
	case SK_FLOW_HOLD: return 2;
	case SK_FLOW_DENY: return 3;
	}
	return 3;
}

/* A problem with a request (zones, channel, class) in lang into msg; SK_EINVAL. ja and
 * en are printf formats taking the same arguments. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int req_bad(sk_lang lang, char *msg, size_t n, const char *ja, const char *en, ...)
{
	va_list ap;
	va_start(ap, en);
	vsnprintf(msg, n, lang == SK_LANG_EN ? en : ja, ap);
	va_end(ap);
	return SK_EINVAL;
}
#pragma GCC diagnostic pop

/* class_spec → level index per dimension (defaults where not given; a dimension given
 * twice takes the higher of its levels: "機密性2,機密性:3A" is 3A, so that a class and an
 * asset's class can be given together and the stricter applies) */
static int parse_class(const sk_policy *p, const char *spec, size_t *lv, sk_lang lang, char *msg,
		       size_t n)
{
	bool given[16] = {0};
	if (p->ndims > 16)
		return req_bad(lang, msg, n, "分類の次元が多すぎます", "too many classification dimensions");
	for (size_t i = 0; i < p->ndims; i++)
		lv[i] = p->dims[i].def;
	if (!spec || !*spec)
		return 0;
	char buf[512];
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return req_bad(lang, msg, n, "分類「%.40s…」が長すぎます", "class '%.40s…' is too long", spec);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t di = 0;
		const char *level = tok;
		for (size_t i = 0; i < p->ndims; i++) {
			size_t nl = strlen(p->dims[i].name);
			if (!strncmp(tok, p->dims[i].name, nl)) {
				di = i;
				level = tok + nl;
				if (*level == ':' || *level == '=')
					level++;
				break;
			}
		}
		if (!p->ndims)
			return req_bad(lang, msg, n, "ポリシーに分類 (classification) がありません",
				       "the policy defines no classification");
		size_t x = level_index(&p->dims[di], level);
		if (x == (size_t)-1)
			return req_bad(lang, msg, n, "分類「%s」に段階「%s」はありません",
				       "unknown class level '%s' (%s)", p->dims[di].name, level);
		/* levels are highest first: the lower index is the higher level */
		if (!given[di] || x < lv[di])
			lv[di] = x;
		given[di] = true;
	}
	return 0;
}

/* The inputs of a decision; lv: the level of each dimension. */
static int check_request(const sk_policy *p, const char *from, const char *to, const char *channel,
			 const char *class_spec, size_t *lv, sk_lang lang, char *msg, size_t n)
{
	const struct pzone *fz = sk_pzone_find(p, from), *tz = sk_pzone_find(p, to);
	if (!fz || fz->cloud)
		return req_bad(lang, msg, n, "送信元のゾーン「%s」はポリシーにありません",
			       "unknown source zone '%s'", from ? from : "");
	if (!tz)
		return req_bad(lang, msg, n, "送信先のゾーン「%s」はポリシーにありません",
			       "unknown destination zone '%s'", to ? to : "");
	int ch = sk_pchannel_mask(channel);
	if (!ch || ch == CH_ANY)
		return req_bad(lang, msg, n, "チャネル「%s」はありません (mail・file・web)",
			       "unknown channel '%s' (mail, file or web)", channel ? channel : "");
	return parse_class(p, class_spec, lv, lang, msg, n);
}

int sk_policy_check_request(const sk_policy *p, const char *from, const char *to,
			    const char *channel, const char *class_spec, sk_lang lang, char *msg,
			    size_t n)
{
	size_t lv[16];
	msg[0] = 0;
	return check_request(p, from, to, channel ? channel : "file", class_spec, lv, lang, msg, n);
}

static bool handling_to_matches(const sk_policy *p, const struct phandling *h, const char *from,
				const char *to)
{
	const struct pzone *tz = sk_pzone_find(p, to);
	const char *to_zone = tz && tz->cloud ? tz->in_zone : to;
	if (!strcmp(h->to, "any"))
		return true;
	if (!strcmp(h->to, "other-zones"))
		return strcmp(from, to_zone) != 0;
	return !strcmp(h->to, to) || !strcmp(h->to, to_zone);
}

int sk_policy_decide(const sk_policy *p, const char *from, const char *to, const char *channel,
		     const char *class_spec, int32_t today, sk_policy_decision *d, sk_error *err)
{
	memset(d, 0, sizeof(*d));
	d->action = SK_FLOW_DENY;
	for (int i = 0; i < SK_DLP__COUNT; i++)
		d->dlp[i] = p->dlp_default[i];
	d->dlp_unscannable = p->dlp_unscannable;
	d->dlp_role = p->dlp_role;
	if (!today)
		today = sk_policy_today();
	size_t lv[16] = {0};
	char why[256];
	if (check_request(p, from, to, channel, class_spec, lv, SK_LANG_EN, why, sizeof(why)))
		return sk_error_set(err, SK_EINVAL, "%s", why);
	const struct pzone *tz = sk_pzone_find(p, to);
	int ch = sk_pchannel_mask(channel);

	const struct pflow *fl = NULL;
	for (size_t i = 0; i < p->nf && !fl; i++) {
		const struct pflow *f = &p->f[i];
		if ((f->ch & ch) && (!strcmp(f->from, "any") || !strcmp(f->from, from)) &&
		    (!strcmp(f->to, "any") || !strcmp(f->to, to)))
			fl = f;
	}
	if (!fl) {
		snprintf(d->rule, sizeof(d->rule), "default-deny");
		snprintf(d->note, sizeof(d->note), "no flow matches %s -> %s (%s)", from, to, channel);
		snprintf(d->note_ja, sizeof(d->note_ja), "%s → %s (%s) に一致する通信規則がありません", from, to,
			 channel);
		return 0;
	}
	snprintf(d->rule, sizeof(d->rule), "%s", fl->label);
	snprintf(d->flow_rule, sizeof(d->flow_rule), "%s", fl->label);
	d->line = fl->n->line;
	d->col = fl->n->col;
	for (int i = 0; i < SK_DLP__COUNT; i++)
		d->dlp[i] = fl->dlp[i];
	d->dlp_unscannable = fl->unscannable;
	if (fl->has_exc && sk_pdate_expired(fl->exc.expires, today)) {
		char ds[16];
		date_str(fl->exc.expires, ds, sizeof(ds));
		d->action = SK_FLOW_DENY;
		snprintf(d->note, sizeof(d->note), "exception %s expired on %s", fl->exc.id, ds);
		snprintf(d->note_ja, sizeof(d->note_ja), "例外措置 %s は %s に期限切れ", fl->exc.id, ds);
		return 0;
	}
	d->action = fl->act;
	d->profile = fl->profile;
	d->role = fl->role;
	if (fl->has_exc) {
		char ds[16];
		date_str(fl->exc.expires, ds, sizeof(ds));
		snprintf(d->note, sizeof(d->note), "exception %s until %s", fl->exc.id, ds);
		snprintf(d->note_ja, sizeof(d->note_ja), "例外措置 %s (%s まで)", fl->exc.id, ds);
	}
	if (d->action == SK_FLOW_ALLOW && !tz->cloud) {
		/* items the gateway handles are always rebuilt */
		d->action = SK_FLOW_SANITIZE;
		d->profile = "default";
	}
	/* classification can only make it stricter */
	for (size_t i = 0; i < p->nh; i++) {
		const struct phandling *h = &p->h[i];
		if (!(h->ch & ch) || lv[h->dim] > h->level || !handling_to_matches(p, h, from, to))
			continue;
		if (strictness(h->act) <= strictness(d->action))
			continue;
		d->action = h->act;
		d->profile = NULL;
		d->role = h->role;
		snprintf(d->rule, sizeof(d->rule), "classification %s >= %s", p->dims[h->dim].name,
			 p->dims[h->dim].levels[h->level]);
		d->line = h->n ? h->n->line : 0;
		d->col = h->n ? h->n->col : 0;
	}
	if (d->action == SK_FLOW_HOLD)
		d->role_name = sk_policy_role_name(p, d->role, SK_LANG_JA);
	if (d->action != SK_FLOW_SANITIZE)
		d->profile = NULL;
	return 0;
}
