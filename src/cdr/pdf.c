/* The PDF module: read with qpdf (C API), walk every object reachable from the trailer,
 * remove what can run or fetch something (JavaScript, launch/remote/submit/import actions,
 * rich media, embedded files, XFA …), optionally neutralise links and strip metadata, and
 * write the document again with qpdf's writer.
 *
 * What a viewer executes is found by structure, not by name only:
 *  - actions: the value of /OpenAction, every entry of an /AA dictionary, /A and /PA of
 *    annotations and outline items, and their /Next chains. An action is kept only when its
 *    type is on an allow-list (GoTo, Thread without a file, the four page-moving Named
 *    actions, Hide, ResetForm, SetOCGState, Trans, URI to http/https/mailto). Actions that
 *    run without a click (/OpenAction, /AA and their chains) lose URI actions too; the
 *    strict profile neutralises the rest (the link annotation stays, without its action).
 *  - anywhere in the document: /JS, the /JavaScript and /EmbeddedFiles name trees, /EF of
 *    file specifications, embedded-file streams, /XFA, portfolios (/Collection), dangerous
 *    action dictionaries under any key, file-attachment, rich-media, movie, sound, screen
 *    and 3D annotations, and external stream data (/F of a stream).
 *  - with strip_metadata: /Info, XMP /Metadata streams, /PieceInfo, pdfTeX's PTEX.* keys.
 * Stream data is copied as it is (qpdf's "preserve" mode): nothing is decompressed, so the
 * parse costs the input size and nothing more. Objects not reachable from the trailer are
 * not written. Every indirect object walked costs one budget entry.
 *
 * A PDF qpdf refuses as malformed (damaged beyond what it repairs) gets a second chance
 * when the profile allows it (damaged_pdf_image) and the job can make images: 画像化
 * (sk_cdr_render), where poppler renders what it can read; if that fails too, the item
 * stays blocked as malformed. */
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cdr_modules.h"

/* Stored one by one in the report; further actions are summed per (action, what). */
#define PDF_MAX_DETAILED 64
/* /Next chains followed from an automatic trigger before the rest is cut. */
#define PDF_MAX_CHAIN 32

/* A set of object ids (open addressing; 0 is the empty slot, object ids start at 1). */
typedef struct oidset {
	uint64_t *v;
	size_t cap, n;
} oidset;

static uint64_t oid_key(int id, int gen)
{
	return ((uint64_t)(uint32_t)id << 32) | (uint32_t)gen;
}

static size_t oid_hash(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

/* 1 when added, 0 when already there, SK_ENOMEM. */
static int oid_add(oidset *s, uint64_t k)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *v = calloc(cap, sizeof(*v));
		if (!v)
			return SK_ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i])
				continue;
			size_t j = oid_hash(s->v[i], cap);
			while (v[j])
				j = (j + 1) & (cap - 1);
			v[j] = s->v[i];
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	size_t j = oid_hash(k, s->cap);
	while (s->v[j]) {
		if (s->v[j] == k)
			return 0;
		j = (j + 1) & (s->cap - 1);
	}
	s->v[j] = k;
	s->n++;
	return 1;
}

/* Page number (1-based) of an object id, 0 when it is not a page. Same layout as oidset
 * with the value next to the key. */
typedef struct pagemap {
	uint64_t *v; /* pairs: key, page */
	size_t cap;
} pagemap;

static void pagemap_put(pagemap *m, uint64_t k, uint64_t page)
{
	size_t j = oid_hash(k, m->cap);
	while (m->v[2 * j] && m->v[2 * j] != k)
		j = (j + 1) & (m->cap - 1);
	if (!m->v[2 * j]) {
		m->v[2 * j] = k;
		m->v[2 * j + 1] = page;
	}
}

static uint64_t pagemap_get(const pagemap *m, uint64_t k)
{
	if (!m->cap)
		return 0;
	size_t j = oid_hash(k, m->cap);
	while (m->v[2 * j]) {
		if (m->v[2 * j] == k)
			return m->v[2 * j + 1];
		j = (j + 1) & (m->cap - 1);
	}
	return 0;
}

typedef struct pdf_event {
	sk_action action;
	const char *what;
	uint64_t owner; /* oid_key of the indirect object it was found in; 0: trailer */
	char detail[40];
	uint64_t count;
} pdf_event;

typedef struct pdf_sum {
	sk_action action;
	const char *what;
	uint64_t count;
} pdf_sum;

typedef struct pdf_item {
	qpdf_oh h;
	uint64_t owner;
} pdf_item;

typedef struct pdf_walk {
	sk_cdr_ctx *ctx;
	qpdf_data q;
	oidset seen;  /* indirect objects already walked */
	oidset chain; /* indirect actions already followed from an automatic trigger */
	pdf_item *stack;
	size_t n, cap;
	pdf_event ev[PDF_MAX_DETAILED];
	size_t nev;
	pdf_sum sums[32];
	size_t nsums;
	/* set when the walk must stop */
	int rc;            /* SK_ENOMEM, SK_EBLOCKED … */
	sk_reason reason;  /* with SK_EBLOCKED */
	char detail[128];
} pdf_walk;

static int walk_block(pdf_walk *w, sk_reason r, const char *detail)
{
	if (!w->rc) {
		w->rc = SK_EBLOCKED;
		w->reason = r;
		snprintf(w->detail, sizeof(w->detail), "%s", detail ? detail : "");
		for (char *c = w->detail; *c; c++) /* qpdf's messages may quote the file */
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
	}
	return w->rc;
}

static int walk_fail(pdf_walk *w, int rc)
{
	if (!w->rc)
		w->rc = rc;
	return w->rc;
}

/* The keys of dictionary d, copied: the walk changes d while it goes through them (qpdf's
 * key iterator does not survive that). On allocation failure the walk fails (fail
 * closed) and the keys copied so far are returned. Free with keys_free(). */
static char **dict_keys(pdf_walk *w, qpdf_oh d, size_t *n)
{
	char **keys = NULL;
	size_t nk = 0, ck = 0;
	qpdf_oh_begin_dict_key_iter(w->q, d);
	while (qpdf_oh_dict_more_keys(w->q)) {
		const char *k = qpdf_oh_dict_next_key(w->q);
		if (nk == ck) {
			size_t c = ck ? ck * 2 : 16;
			char **nkeys = realloc(keys, c * sizeof(*keys));
			if (!nkeys)
				break;
			keys = nkeys;
			ck = c;
		}
		if (!(keys[nk] = strdup(k ? k : "")))
			break;
		nk++;
	}
	if (qpdf_oh_dict_more_keys(w->q))
		walk_fail(w, SK_ENOMEM);
	*n = nk;
	return keys;
}

static void keys_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}


/* A qpdf error (qpdf_has_error) turns into a block: the document is damaged beyond what
 * qpdf repairs, or a password is needed. */
static int check_qpdf(pdf_walk *w)
{
	if (!qpdf_has_error(w->q))
		return w->rc;
	qpdf_error e = qpdf_get_error(w->q); /* (retrieving it clears it) */
	if (w->rc)
		return w->rc;
	enum qpdf_error_code_e code = qpdf_get_error_code(w->q, e);
	const char *msg = qpdf_get_error_message_detail(w->q, e);
	if (code == qpdf_e_password)
		return walk_block(w, SK_REASON_ENCRYPTED, "password");
	/* certificate (public-key) or unknown security handlers: as closed as a password */
	if (code == qpdf_e_unsupported && msg && strcasestr(msg, "encrypt"))
		return walk_block(w, SK_REASON_ENCRYPTED, msg);
	if (code == qpdf_e_system)
		return walk_block(w, SK_REASON_INTERNAL, msg);
	return walk_block(w, SK_REASON_MALFORMED, msg);
}

static void event(pdf_walk *w, sk_action a, const char *what, uint64_t owner,
		  const char *detail)
{
	/* details are key names, which may hold any byte: keep printable ASCII */
	char d[sizeof(w->ev[0].detail)];
	snprintf(d, sizeof(d), "%s", detail ? detail : "");
	for (char *c = d; *c; c++)
		if (*c < 0x21 || *c > 0x7e)
			*c = '?';
	if (w->nev) { /* the same again in the same place: count it */
		pdf_event *e = &w->ev[w->nev - 1];
		if (e->action == a && strcmp(e->what, what) == 0 && e->owner == owner &&
		    strcmp(e->detail, d) == 0) {
			e->count++;
			return;
		}
	}
	if (w->nev < PDF_MAX_DETAILED) {
		pdf_event *e = &w->ev[w->nev++];
		e->action = a;
		e->what = what;
		e->owner = owner;
		memcpy(e->detail, d, sizeof(d));
		e->count = 1;
		return;
	}
	for (size_t i = 0; i < w->nsums; i++) {
		if (w->sums[i].action == a && strcmp(w->sums[i].what, what) == 0) {
			w->sums[i].count++;
			return;
		}
	}
	if (w->nsums < sizeof(w->sums) / sizeof(w->sums[0]))
		w->sums[w->nsums++] = (pdf_sum){a, what, 1};
}

/* ---- small object helpers (all type-checked so that qpdf raises no warning) ---- */

static bool is_type(pdf_walk *w, qpdf_oh h, enum qpdf_object_type_e t)
{
	return h && qpdf_oh_get_type_code(w->q, h) == t;
}

/* The dictionary of a dictionary or stream (a new handle), or 0. */
static qpdf_oh dict_of(pdf_walk *w, qpdf_oh h)
{
	enum qpdf_object_type_e t = qpdf_oh_get_type_code(w->q, h);
	if (t == ot_dictionary)
		return qpdf_oh_new_object(w->q, h);
	if (t == ot_stream)
		return qpdf_oh_get_dict(w->q, h);
	return 0;
}

/* Copies the name value of d[key] (without the slash) into buf; false when absent. */
static bool name_key(pdf_walk *w, qpdf_oh d, const char *key, char *buf, size_t n)
{
	if (!qpdf_oh_has_key(w->q, d, key))
		return false;
	qpdf_oh v = qpdf_oh_get_key(w->q, d, key);
	bool ok = false;
	if (is_type(w, v, ot_name)) {
		const char *s = qpdf_oh_get_name(w->q, v);
		if (s && s[0] == '/') {
			snprintf(buf, n, "%s", s + 1);
			ok = true;
		}
	}
	qpdf_oh_release(w->q, v);
	return ok;
}

static bool in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* ---- actions ---- */

typedef enum { ACT_KEEP, ACT_REMOVE, ACT_NEUTRALIZE } act_verdict;

/* Action types that are dangerous wherever they appear, with their report code. */
static const char *dangerous_action(const char *s)
{
	static const struct {
		const char *s, *what;
	} t[] = {
		{"JavaScript", "javascript"},   {"Launch", "launch"},
		{"GoToR", "remote-goto"},       {"GoToE", "remote-goto"},
		{"GoToDp", "remote-goto"},      {"SubmitForm", "submit-form"},
		{"ImportData", "import-data"},  {"RichMediaExecute", "rich-media"},
		{"Rendition", "rich-media"},    {"Movie", "rich-media"},
		{"Sound", "rich-media"},        {"GoTo3DView", "rich-media"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].s) == 0)
			return t[i].what;
	return NULL;
}

/* true when the /URI of a URI action is an http, https or mailto address. Anything else
 * (file:, UNC paths that leak Windows credentials, javascript:, relative) is refused. */
static bool web_uri(pdf_walk *w, qpdf_oh a)
{
	static const char *const schemes[] = {"http://", "https://", "mailto:", NULL};
	if (!qpdf_oh_has_key(w->q, a, "/URI"))
		return false;
	qpdf_oh u = qpdf_oh_get_key(w->q, a, "/URI");
	bool ok = false;
	if (is_type(w, u, ot_string)) {
		size_t n = 0;
		const char *s = qpdf_oh_get_binary_string_value(w->q, u, &n);
		for (const char *const *p = schemes; s && *p && !ok; p++) {
			size_t l = strlen(*p);
			ok = n > l && strncasecmp(s, *p, l) == 0 && !memchr(s, 0, n);
		}
	}
	qpdf_oh_release(w->q, u);
	return ok;
}

/* Decides about an action dictionary a found where a viewer runs actions. autoctx: it runs
 * without a click (/OpenAction, /AA). *what gets the report code. */
static act_verdict classify_action(pdf_walk *w, qpdf_oh a, bool autoctx, const char **what)
{
	static const char *const harmless[] = {"GoTo", "Hide", "ResetForm", "SetOCGState",
					       "Trans", NULL};
	static const char *const named_ok[] = {"NextPage", "PrevPage", "FirstPage", "LastPage",
					       NULL};
	char s[64], n[64];
	*what = "action";
	if (!is_type(w, a, ot_dictionary) || !name_key(w, a, "/S", s, sizeof(s)))
		return ACT_REMOVE;
	const char *d = dangerous_action(s);
	if (d) {
		*what = d;
		return ACT_REMOVE;
	}
	if (strcmp(s, "URI") == 0) {
		*what = "uri";
		if (autoctx || !web_uri(w, a))
			return ACT_REMOVE;
		return w->ctx->profile->neutralize_links ? ACT_NEUTRALIZE : ACT_KEEP;
	}
	if (in_list(s, harmless))
		return ACT_KEEP;
	if (strcmp(s, "Thread") == 0) {
		if (qpdf_oh_has_key(w->q, a, "/F")) {
			*what = "remote-goto";
			return ACT_REMOVE;
		}
		return ACT_KEEP;
	}
	if (strcmp(s, "Named") == 0 && name_key(w, a, "/N", n, sizeof(n)) && in_list(n, named_ok))
		return ACT_KEEP;
	return ACT_REMOVE;
}

/* Follows an automatically run action and its /Next chain. Returns ACT_REMOVE (with *what)
 * when a itself must go; removes bad links further down the chain in place, reporting
 * them as trigger ("open-action" / "additional-action"). */
static act_verdict auto_action(pdf_walk *w, qpdf_oh a, const char *trigger, uint64_t owner,
			       int depth, const char **what)
{
	if (depth > PDF_MAX_CHAIN) {
		*what = "action";
		return ACT_REMOVE;
	}
	act_verdict v = classify_action(w, a, true, what);
	if (v != ACT_KEEP)
		return ACT_REMOVE;
	if (qpdf_oh_is_indirect(w->q, a)) {
		owner = oid_key(qpdf_oh_get_object_id(w->q, a), qpdf_oh_get_generation(w->q, a));
		int r = oid_add(&w->chain, owner);
		if (r < 0) {
			walk_fail(w, r);
			return ACT_KEEP;
		}
		if (r == 0)
			return ACT_KEEP;
	}
	if (!qpdf_oh_has_key(w->q, a, "/Next"))
		return ACT_KEEP;
	qpdf_oh next = qpdf_oh_get_key(w->q, a, "/Next");
	const char *cw;
	if (is_type(w, next, ot_array)) {
		for (int i = qpdf_oh_get_array_n_items(w->q, next) - 1; i >= 0 && !w->rc; i--) {
			qpdf_oh it = qpdf_oh_get_array_item(w->q, next, i);
			if (auto_action(w, it, trigger, owner, depth + 1, &cw) == ACT_REMOVE) {
				qpdf_oh_erase_item(w->q, next, i);
				event(w, SK_ACTION_REMOVED, trigger, owner, cw);
			}
			qpdf_oh_release(w->q, it);
		}
	} else if (auto_action(w, next, trigger, owner, depth + 1, &cw) == ACT_REMOVE) {
		qpdf_oh_remove_key(w->q, a, "/Next");
		event(w, SK_ACTION_REMOVED, trigger, owner, cw);
	}
	qpdf_oh_release(w->q, next);
	return ACT_KEEP;
}

/* ---- anything, anywhere ---- */

/* The report code when value v must go wherever it is referenced from, else NULL:
 * dangerous actions, file-attachment and rich-media annotations, embedded-file streams. */
static const char *generic_bad(pdf_walk *w, qpdf_oh v)
{
	static const struct {
		const char *s, *what;
	} annots[] = {
		{"FileAttachment", "file-attachment"}, {"RichMedia", "rich-media"},
		{"Movie", "rich-media"},               {"Sound", "rich-media"},
		{"Screen", "rich-media"},              {"3D", "rich-media"},
	};
	char s[64], t[64];
	enum qpdf_object_type_e ty = qpdf_oh_get_type_code(w->q, v);
	if (ty == ot_stream) {
		qpdf_oh d = qpdf_oh_get_dict(w->q, v);
		bool ef = name_key(w, d, "/Type", t, sizeof(t)) && strcmp(t, "EmbeddedFile") == 0;
		qpdf_oh_release(w->q, d);
		return ef ? "embedded-file" : NULL;
	}
	if (ty != ot_dictionary)
		return NULL;
	bool typed = name_key(w, v, "/Type", t, sizeof(t));
	if (typed && strcmp(t, "EmbeddedFile") == 0)
		return "embedded-file";
	if ((!typed || strcmp(t, "Action") == 0) && name_key(w, v, "/S", s, sizeof(s))) {
		const char *d = dangerous_action(s);
		if (d)
			return d;
	}
	if ((!typed || strcmp(t, "Annot") == 0) && name_key(w, v, "/Subtype", s, sizeof(s))) {
		for (size_t i = 0; i < sizeof(annots) / sizeof(annots[0]); i++)
			if (strcmp(s, annots[i].s) == 0)
				return annots[i].what;
	}
	return NULL;
}

/* Queue a container for walking (indirect objects once, each costing a budget entry). */
static void push(pdf_walk *w, qpdf_oh v, uint64_t owner)
{
	enum qpdf_object_type_e t = qpdf_oh_get_type_code(w->q, v);
	if (t != ot_dictionary && t != ot_array && t != ot_stream)
		return;
	if (qpdf_oh_is_indirect(w->q, v)) {
		owner = oid_key(qpdf_oh_get_object_id(w->q, v), qpdf_oh_get_generation(w->q, v));
		int r = oid_add(&w->seen, owner);
		if (r < 0) {
			walk_fail(w, r);
			return;
		}
		if (r == 0)
			return;
		sk_reason br = sk_budget_entry(w->ctx->budget);
		if (br != SK_REASON_NONE) {
			walk_block(w, br, "objects");
			return;
		}
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		pdf_item *s = realloc(w->stack, cap * sizeof(*s));
		if (!s) {
			walk_fail(w, SK_ENOMEM);
			return;
		}
		w->stack = s;
		w->cap = cap;
	}
	w->stack[w->n++] = (pdf_item){qpdf_oh_new_object(w->q, v), owner};
}

/* Keys removed wherever they are, with their report code (NULL: removed silently). */
static const struct {
	const char *key, *what;
	bool metadata; /* only when the profile strips metadata */
} drop_keys[] = {
	{"/JS", "javascript", false},
	{"/JavaScript", "javascript", false},   /* name tree in /Names */
	{"/EmbeddedFiles", "embedded-file", false},
	{"/EF", "embedded-file", false},        /* embedded streams of a file specification */
	{"/Collection", "embedded-file", false}, /* portfolio */
	{"/XFA", "xfa", false},
	{"/NeedsRendering", NULL, false},       /* goes with XFA */
	{"/AlternatePresentations", "rich-media", false},
	{"/Renditions", "rich-media", false},   /* name tree in /Names */
	{"/Metadata", "metadata", true},        /* XMP streams */
	{"/PieceInfo", "metadata", true},       /* private data of the producing application */
};

/* Click-run action under key (/A, /PA): keep, remove or neutralise. Returns true when the
 * key was removed. */
static bool click_action(pdf_walk *w, qpdf_oh d, const char *key, qpdf_oh v, uint64_t owner)
{
	const char *what;
	act_verdict av = classify_action(w, v, false, &what);
	if (av == ACT_KEEP)
		return false;
	qpdf_oh_remove_key(w->q, d, key);
	event(w, av == ACT_NEUTRALIZE ? SK_ACTION_NEUTRALIZED : SK_ACTION_REMOVED, what, owner,
	      key + 1);
	return true;
}

/* /Next of an action reached by a click: every element is an action. */
static bool next_chain(pdf_walk *w, qpdf_oh d, qpdf_oh v, uint64_t owner)
{
	if (!is_type(w, v, ot_array))
		return click_action(w, d, "/Next", v, owner);
	for (int i = qpdf_oh_get_array_n_items(w->q, v) - 1; i >= 0 && !w->rc; i--) {
		qpdf_oh it = qpdf_oh_get_array_item(w->q, v, i);
		const char *what;
		act_verdict av = classify_action(w, it, false, &what);
		if (av != ACT_KEEP) {
			qpdf_oh_erase_item(w->q, v, i);
			event(w, av == ACT_NEUTRALIZE ? SK_ACTION_NEUTRALIZED : SK_ACTION_REMOVED,
			      what, owner, "Next");
		}
		qpdf_oh_release(w->q, it);
	}
	return false;
}

/* /AA: each entry runs by itself. Removes the bad ones; the whole /AA when none is left. */
static bool additional_actions(pdf_walk *w, qpdf_oh d, qpdf_oh aa, uint64_t owner)
{
	if (!is_type(w, aa, ot_dictionary)) {
		qpdf_oh_remove_key(w->q, d, "/AA");
		event(w, SK_ACTION_REMOVED, "additional-action", owner, "action");
		return true;
	}
	size_t nk;
	char **keys = dict_keys(w, aa, &nk);
	size_t left = nk;
	for (size_t i = 0; i < nk && !w->rc; i++) {
		qpdf_oh v = qpdf_oh_get_key(w->q, aa, keys[i]);
		const char *what;
		if (auto_action(w, v, "additional-action", owner, 0, &what) == ACT_REMOVE) {
			qpdf_oh_remove_key(w->q, aa, keys[i]);
			event(w, SK_ACTION_REMOVED, "additional-action", owner, what);
			left--;
		}
		qpdf_oh_release(w->q, v);
	}
	keys_free(keys, nk);
	if (left == 0 && !w->rc) {
		qpdf_oh_remove_key(w->q, d, "/AA");
		return true;
	}
	return false;
}

/* stream: d is a stream's dictionary. */
static void walk_dict(pdf_walk *w, qpdf_oh d, bool stream, uint64_t owner)
{
	const sk_profile *p = w->ctx->profile;
	size_t nk;
	char **keys = dict_keys(w, d, &nk);
	/* an action dictionary: its /Next is part of the action */
	bool is_action = !w->rc && qpdf_oh_has_key(w->q, d, "/S");

	for (size_t i = 0; i < nk && !w->rc; i++) {
		const char *key = keys[i];
		bool dropped = false;
		for (size_t j = 0; j < sizeof(drop_keys) / sizeof(drop_keys[0]); j++) {
			if (strcmp(key, drop_keys[j].key) != 0)
				continue;
			if (drop_keys[j].metadata && !p->strip_metadata)
				break;
			qpdf_oh_remove_key(w->q, d, key);
			if (drop_keys[j].what)
				event(w, SK_ACTION_REMOVED, drop_keys[j].what, owner, key + 1);
			dropped = true;
			break;
		}
		/* stream data in an external file: the viewer would fetch it (a UNC path leaks
		 * Windows credentials); without /F the stream's own (empty) data is used */
		if (!dropped && stream &&
		    (!strcmp(key, "/F") || !strcmp(key, "/FFilter") || !strcmp(key, "/FDecodeParms"))) {
			qpdf_oh_remove_key(w->q, d, key);
			if (!strcmp(key, "/F"))
				event(w, SK_ACTION_REMOVED, "external-link", owner, "F");
			dropped = true;
		}
		/* pdfTeX's record of included figures: their file names and Info dictionaries */
		if (!dropped && p->strip_metadata && strncmp(key, "/PTEX.", 6) == 0) {
			qpdf_oh_remove_key(w->q, d, key);
			event(w, SK_ACTION_REMOVED, "metadata", owner, "PTEX");
			dropped = true;
		}
		if (dropped)
			continue;
		qpdf_oh v = qpdf_oh_get_key(w->q, d, key);
		bool removed = false;
		const char *what;
		if (strcmp(key, "/OpenAction") == 0) {
			/* an array is a destination; a dictionary an action */
			if (!is_type(w, v, ot_array) &&
			    auto_action(w, v, "open-action", owner, 0, &what) == ACT_REMOVE) {
				qpdf_oh_remove_key(w->q, d, key);
				event(w, SK_ACTION_REMOVED, "open-action", owner, what);
				removed = true;
			}
		} else if (strcmp(key, "/AA") == 0) {
			removed = additional_actions(w, d, v, owner);
		} else if (strcmp(key, "/Next") == 0 && is_action) {
			/* (an outline item's /Next is its next sibling) */
			removed = next_chain(w, d, v, owner);
		} else if ((strcmp(key, "/A") == 0 || strcmp(key, "/PA") == 0) &&
			   is_type(w, v, ot_dictionary) && qpdf_oh_has_key(w->q, v, "/S")) {
			/* (/A without /S is a structure element's attributes) */
			removed = click_action(w, d, key, v, owner);
		}
		if (!removed && !w->rc && (what = generic_bad(w, v))) {
			qpdf_oh_remove_key(w->q, d, key);
			event(w, SK_ACTION_REMOVED, what, owner, key + 1);
			removed = true;
		}
		if (!removed && !w->rc) {
			/* /AA may have been emptied and removed above only when removed == true */
			if (qpdf_oh_has_key(w->q, d, key))
				push(w, v, owner);
		}
		qpdf_oh_release(w->q, v);
	}
	keys_free(keys, nk);
}

static void walk_array(pdf_walk *w, qpdf_oh a, uint64_t owner)
{
	int n = qpdf_oh_get_array_n_items(w->q, a);
	for (int i = n - 1; i >= 0 && !w->rc; i--) {
		qpdf_oh v = qpdf_oh_get_array_item(w->q, a, i);
		const char *what = generic_bad(w, v);
		if (what) {
			qpdf_oh_erase_item(w->q, a, i);
			event(w, SK_ACTION_REMOVED, what, owner, NULL);
		} else {
			push(w, v, owner);
		}
		qpdf_oh_release(w->q, v);
	}
}

#define PDF_TIME_EVERY 256 /* objects between two looks at the clock */

static void walk(pdf_walk *w, qpdf_oh root)
{
	push(w, root, 0);
	for (uint64_t k = 0; w->n && !w->rc; k++) {
		if (k % PDF_TIME_EVERY == 0 && sk_budget_time(w->ctx->budget) != SK_REASON_NONE) {
			walk_block(w, SK_REASON_LIMIT_TIME, "pdf");
			break;
		}
		pdf_item it = w->stack[--w->n];
		qpdf_oh d = dict_of(w, it.h);
		if (d) {
			walk_dict(w, d, is_type(w, it.h, ot_stream), it.owner);
			qpdf_oh_release(w->q, d);
		} else if (is_type(w, it.h, ot_array)) {
			walk_array(w, it.h, it.owner);
		}
		qpdf_oh_release(w->q, it.h);
		check_qpdf(w);
	}
	while (w->n)
		qpdf_oh_release(w->q, w->stack[--w->n].h);
}

/* ---- report ---- */

static int build_pagemap(pdf_walk *w, pagemap *m)
{
	int np = qpdf_get_num_pages(w->q);
	if (np < 1)
		return check_qpdf(w) ? w->rc : walk_block(w, SK_REASON_MALFORMED, "no pages");
	size_t cap = 16;
	while (cap < (size_t)np * 2 + 2)
		cap *= 2;
	m->v = calloc(cap * 2, sizeof(*m->v));
	if (!m->v)
		return walk_fail(w, SK_ENOMEM);
	m->cap = cap;
	for (int i = 0; i < np; i++) {
		qpdf_oh pg = qpdf_get_page_n(w->q, (size_t)i);
		if (qpdf_oh_is_indirect(w->q, pg))
			pagemap_put(m, oid_key(qpdf_oh_get_object_id(w->q, pg),
					       qpdf_oh_get_generation(w->q, pg)),
				    (uint64_t)i + 1);
		qpdf_oh_release(w->q, pg);
	}
	return check_qpdf(w);
}

/* Reports the events, naming pages where it can. A document without pages is refused. */
static int emit_events(pdf_walk *w)
{
	pagemap m = {0};
	int rc = build_pagemap(w, &m);
	for (size_t i = 0; i < w->nev && !rc; i++) {
		const pdf_event *e = &w->ev[i];
		char sub[48];
		uint64_t page = e->owner ? pagemap_get(&m, e->owner) : 0;
		if (!e->owner)
			snprintf(sub, sizeof(sub), "trailer");
		else if (page)
			snprintf(sub, sizeof(sub), "page %llu", (unsigned long long)page);
		else
			snprintf(sub, sizeof(sub), "obj %u", (unsigned)(e->owner >> 32));
		rc = sk_cdr_action(w->ctx, e->action, e->what, sub, e->detail[0] ? e->detail : NULL,
				   e->count);
	}
	for (size_t i = 0; i < w->nsums && !rc; i++)
		rc = sk_cdr_action(w->ctx, w->sums[i].action, w->sums[i].what, NULL, NULL,
				   w->sums[i].count);
	free(m.v);
	return rc;
}

/* ---- the module ---- */

/* The trailer leads to a catalog with a page tree. */
static bool has_pages(pdf_walk *w, qpdf_oh trailer)
{
	bool ok = false;
	qpdf_oh root = qpdf_oh_get_key(w->q, trailer, "/Root");
	if (is_type(w, root, ot_dictionary)) {
		qpdf_oh pages = qpdf_oh_get_key(w->q, root, "/Pages");
		ok = is_type(w, pages, ot_dictionary);
		qpdf_oh_release(w->q, pages);
	}
	qpdf_oh_release(w->q, root);
	return ok;
}

static bool pdf_accepts(const sk_type *t)
{
	return t->kind == SK_KIND_PDF;
}

/* Drains qpdf's warnings: their count, and the first one's text into first. */
static uint64_t drain_warnings(qpdf_data q, char *first, size_t n)
{
	uint64_t c = 0;
	while (qpdf_more_warnings(q)) {
		qpdf_error e = qpdf_next_warning(q);
		if (!e)
			break;
		if (c++ == 0) {
			const char *d = qpdf_get_error_message_detail(q, e);
			snprintf(first, n, "%s", d ? d : "");
			for (char *s = first; *s; s++) /* may quote bytes of the file */
				if (*s < 0x20 || *s > 0x7e)
					*s = '?';
		}
	}
	return c;
}

static int pdf_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	const uint8_t *data;
	size_t len;
	int rc = sk_input_load(in, &data, &len, err);
	if (rc)
		return rc;
	sk_reason br = sk_budget_expand(ctx->budget, len);
	if (br != SK_REASON_NONE)
		return sk_cdr_block(ctx, br, "pdf");

	if ((br = sk_budget_time(ctx->budget)) != SK_REASON_NONE)
		return sk_cdr_block(ctx, br, "pdf");
	size_t mark = ctx->report->n;
	pdf_walk w = {.ctx = ctx};
	w.q = qpdf_init();
	if (!w.q)
		return sk_error_set(err, SK_ENOMEM, "qpdf_init");
	qpdf_silence_errors(w.q);
	qpdf_set_suppress_warnings(w.q, QPDF_TRUE);
	qpdf_set_attempt_recovery(w.q, QPDF_TRUE);

	char warn1[128] = "";
	uint64_t nwarn = 0;
	bool delivered = false;
	QPDF_ERROR_CODE qe = qpdf_read_memory(w.q, ctx->name ? ctx->name : "input.pdf",
					      (const char *)data, len, "");
	if (qe & QPDF_ERRORS) {
		check_qpdf(&w);
		if (!w.rc)
			walk_block(&w, SK_REASON_MALFORMED, "read");
		goto done;
	}
	/* encrypted documents that opened with the empty password have only an owner
	 * password: they are written without encryption */
	bool encrypted = qpdf_is_encrypted(w.q);
	if (check_qpdf(&w))
		goto done;

	qpdf_oh trailer = qpdf_get_trailer(w.q);
	if (!is_type(&w, trailer, ot_dictionary) || !has_pages(&w, trailer)) {
		if (!check_qpdf(&w))
			walk_block(&w, SK_REASON_MALFORMED, "no /Root or /Pages");
		goto done;
	}
	if (ctx->profile->strip_metadata && qpdf_oh_has_key(w.q, trailer, "/Info")) {
		qpdf_oh_remove_key(w.q, trailer, "/Info");
		event(&w, SK_ACTION_REMOVED, "metadata", 0, "Info");
	}
	walk(&w, trailer);
	qpdf_oh_release(w.q, trailer);
	if (w.rc || check_qpdf(&w))
		goto done;

	if (encrypted && (rc = sk_cdr_action(ctx, SK_ACTION_REMOVED, "encryption", NULL, NULL, 1))) {
		walk_fail(&w, rc);
		goto done;
	}
	if ((rc = emit_events(&w))) {
		walk_fail(&w, rc);
		goto done;
	}

	if (sk_budget_time(ctx->budget) != SK_REASON_NONE) {
		walk_block(&w, SK_REASON_LIMIT_TIME, "pdf");
		goto done;
	}
	qe = qpdf_init_write_memory(w.q);
	if (!(qe & QPDF_ERRORS)) {
		qpdf_set_preserve_encryption(w.q, QPDF_FALSE);
		qpdf_set_preserve_unreferenced_objects(w.q, QPDF_FALSE);
		qpdf_set_object_stream_mode(w.q, qpdf_o_preserve);
		qpdf_set_stream_data_mode(w.q, qpdf_s_preserve);
		qpdf_set_deterministic_ID(w.q, QPDF_TRUE);
		qe = qpdf_write(w.q);
	}
	if (check_qpdf(&w) || (qe & QPDF_ERRORS)) {
		if (!w.rc)
			walk_block(&w, SK_REASON_MALFORMED, "write");
		goto done;
	}
	/* what qpdf had to repair while reading, resolving and writing */
	nwarn = drain_warnings(w.q, warn1, sizeof(warn1));
	if (nwarn && (rc = sk_cdr_action(ctx, SK_ACTION_REPAIRED, "structure", NULL, warn1,
					 nwarn))) {
		walk_fail(&w, rc);
		goto done;
	}
	/* a write that reported no error yet left no document: nothing is delivered */
	if (!qpdf_get_buffer(w.q) || qpdf_get_buffer_length(w.q) == 0 || check_qpdf(&w)) {
		if (!w.rc)
			walk_fail(&w, SK_EINTERNAL);
		goto done;
	}
	rc = sk_output_write(out, qpdf_get_buffer(w.q), qpdf_get_buffer_length(w.q), err);
	if (rc)
		walk_fail(&w, rc);
	else
		delivered = true;

done:
	if (!delivered && !w.rc) /* never report success without an output */
		walk_fail(&w, SK_EINTERNAL);
	check_qpdf(&w); /* a pending error would be printed by qpdf_cleanup */
	free(w.seen.v);
	free(w.chain.v);
	free(w.stack);
	qpdf_cleanup(&w.q);
	if (w.rc == SK_EBLOCKED && w.reason == SK_REASON_MALFORMED &&
	    ctx->profile->damaged_pdf_image && ctx->convert && !ctx->imaged) {
		/* the second chance: nothing of the refused rebuild stays in the report */
		sk_report_truncate(ctx->report, mark);
		char why[128];
		snprintf(why, sizeof(why), "qpdf: %.100s", w.detail[0] ? w.detail : "malformed");
		return sk_cdr_render(ctx, data, len, out, why, err);
	}
	if (w.rc == SK_EBLOCKED)
		return sk_cdr_block(ctx, w.reason, w.detail);
	if (w.rc && err && !err->code)
		sk_error_set(err, w.rc, "pdf: %s", sk_strerror(w.rc));
	return w.rc;
}

const sk_cdr_module sk_cdr_module_pdf = {
	.name = "pdf",
	.accepts = pdf_accepts,
	.sanitize = pdf_sanitize,
};
