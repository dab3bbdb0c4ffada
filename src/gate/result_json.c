/* JSON form of a result (jansson). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/core.h"
#include "sekisho/name.h"

/* A JSON string from bytes that may not be UTF-8 (a CP932 file name on a share, a
 * locator cut in the middle of a character): invalid bytes become U+FFFD, so the
 * report line is never lost. */
static json_t *text(const char *s)
{
	size_t n = strlen(s);
	if (sk_utf8_valid(s, n))
		return json_stringn(s, n);
	sk_buf b;
	sk_buf_init(&b, 0);
	for (size_t i = 0; i < n;) {
		size_t l = 1;
		while (l <= 4 && i + l <= n && !sk_utf8_valid(s + i, l))
			l++;
		if (l <= 4 && i + l <= n) {
			sk_buf_add(&b, s + i, l);
			i += l;
		} else {
			sk_buf_adds(&b, "\xEF\xBF\xBD");
			i++;
		}
	}
	json_t *j = json_stringn(sk_buf_str(&b), b.len);
	sk_buf_free(&b);
	return j;
}

static json_t *str_or_null(const char *s)
{
	return s ? text(s) : json_null();
}

char *sk_result_json(const sk_result *res, const char *input, const char *output)
{
	char hex[SK_SHA256_HEX];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	const sk_report *r = &res->report;
	json_t *acts = json_array();
	for (size_t i = 0; acts && i < r->n; i++) {
		const sk_report_entry *e = &r->v[i];
		json_t *a = json_pack("{s:s, s:o, s:o, s:o, s:I}", "action", sk_action_code(e->action),
				      "what", text(e->what), "where", text(e->where), "detail",
				      str_or_null(e->detail), "count", (json_int_t)e->count);
		if (a)
			json_array_append_new(acts, a);
	}
	bool blocked = r->verdict == SK_VERDICT_BLOCKED;
	json_t *pol = res->decision
			      ? json_pack("{s:s, s:s, s:o, s:o}", "decision", res->decision, "rule", res->rule,
					  "profile", str_or_null(res->profile[0] ? res->profile : NULL),
					  "hold_role", str_or_null(res->hold_role[0] ? res->hold_role : NULL))
			      : json_null();
	json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
			      "input", str_or_null(input),
			      "sha256", hex,
			      "type", res->type.code ? res->type.code : "unknown",
			      "mime", res->type.mime ? res->type.mime : "application/octet-stream",
			      "verdict", sk_verdict_code(r->verdict),
			      "reason", blocked ? json_string(sk_reason_code(r->reason)) : json_null(),
			      "reason_detail", str_or_null(blocked ? r->reason_detail : NULL),
			      "actions", acts ? acts : json_array(),
			      "output", str_or_null(blocked ? NULL : output),
			      "policy", pol ? pol : json_null());
	if (!o)
		return NULL;
	json_object_set_new(o, "quarantine_id",
			    res->quarantine_id[0] ? json_string(res->quarantine_id) : json_null());
	if (res->incident[0]) /* the incident the gate opened (sk_options.ledger) */
		json_object_set_new(o, "incident", json_string(res->incident));
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
