/* Unlocking a password ZIP (PPAP) held in quarantine (see core.h: sk_gate_unlock).
 *
 * The passwords go to a sandboxed worker in the job message and nowhere else: not into
 * the index, the audit log, an error message or the result. The gate's copy of the
 * encoded job is zeroed by the pool, the worker's by its serve loop. */
#include "sekisho/core.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gate_int.h"
#include "sekisho/audit.h"
#include "sekisho/engine.h"
#include "sekisho/name.h"
#include "sekisho/pool.h"
#include "sekisho/quarantine.h"
#include "sekisho/scan.h"

const char *sk_unlock_status_text(sk_unlock_status st, bool en)
{
	switch (st) {
	case SK_UNLOCK_DONE:
		return en ? "unlocked" : "解除しました";
	case SK_UNLOCK_WRONG_PASSWORD:
		return en ? "the password is wrong" : "パスワードが違います";
	case SK_UNLOCK_TOO_MANY:
		return en ? "too many wrong passwords: this item can no longer be unlocked"
			  : "パスワードの誤りが上限に達したため、この項目は解除できません";
	case SK_UNLOCK_NOT_ENCRYPTED:
		return en ? "this item is not a held password-protected ZIP"
			  : "この項目は保留中のパスワード付き ZIP ではありません";
	case SK_UNLOCK_BAD_REQUEST:
		return en ? "give 1 to 5 passwords and the user"
			  : "パスワード (1〜5 個) と利用者を指定してください";
	}
	return "?";
}

static bool text_ok(const char *s, size_t max)
{
	size_t l = s ? strlen(s) : 0;
	if (l == 0 || l > max || !sk_utf8_valid(s, l))
		return false;
	for (size_t i = 0; i < l; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* Held as a password ZIP: a file blocked `encrypted`, or a message whose attachment was
 * held as one (the action's "what" is ours; a name is in "where", JSON-escaped). */
static bool held_encrypted(const sk_qitem *it)
{
	if (it->state != SK_QSTATE_HELD || !it->verdict)
		return false;
	if (!strcmp(it->verdict, "blocked"))
		return it->reason && !strcmp(it->reason, "encrypted");
	return it->actions && strstr(it->actions, "\"what\":\"encrypted-attachment\"") != NULL;
}

static int audit(const sk_options *opt, const char *by, const sk_qitem *it, const char *result,
		 const char *detail, sk_error *err)
{
	sk_audit *a = opt->audit ? opt->audit : sk_quarantine_audit(opt->quarantine);
	if (!a)
		return 0;
	char obj[128];
	snprintf(obj, sizeof(obj), "item:%s sha256:%s", it->id, it->sha256);
	return sk_audit_append(a, by, "unlock", obj, result, detail ? detail : "", NULL, err);
}

/* A refusal: on record, then the code. */
static int refuse(const sk_options *opt, const char *by, const sk_qitem *it,
		  sk_unlock_status why, int code, const char *result, const char *detail,
		  sk_unlock_status *st, sk_error *err)
{
	*st = why;
	sk_error e;
	sk_error_clear(&e);
	if (audit(opt, by, it, result, detail, &e) != 0) {
		if (err)
			*err = e;
		return e.code ? e.code : SK_EIO;
	}
	return sk_error_set(err, code, "unlock %s: %s", it->id, sk_unlock_status_text(why, true));
}

/* The verdict on record: the index row (type, verdict, reason, actions) and the audit
 * record. Either failing blocks the result (nothing is written then). */
static void record(const sk_options *opt, const char *by, const sk_qitem *it, sk_result *res)
{
	sk_report *r = &res->report;
	bool blocked = r->verdict == SK_VERDICT_BLOCKED;
	char result[96];
	snprintf(result, sizeof(result), "%s%s%s", sk_verdict_code(r->verdict), blocked ? " " : "",
		 blocked ? sk_reason_code(r->reason) : "");
	char *json = sk_result_json(res, it->name, NULL);
	sk_error e;
	sk_error_clear(&e);
	int rc = json ? 0 : sk_error_set(&e, SK_ENOMEM, "result json");
	if (rc == 0)
		rc = sk_quarantine_decide(opt->quarantine, it->id, res->type.code, sk_verdict_code(r->verdict),
					  blocked ? sk_reason_code(r->reason) : NULL,
					  blocked ? r->reason_detail : NULL, json,
					  res->hold_role[0] ? res->hold_role : NULL, &e);
	if (rc == 0) {
		size_t jl = strlen(json);
		if (jl > SK_AUDIT_DETAIL_MAX) {
			size_t k = SK_AUDIT_DETAIL_MAX - 16;
			while (k && ((unsigned char)json[k] & 0xc0) == 0x80)
				k--;
			memcpy(json + k, " …(truncated)", sizeof(" …(truncated)"));
		}
		rc = audit(opt, by, it, result, json, &e);
	}
	free(json);
	if (rc) {
		snprintf(res->unrecorded, sizeof(res->unrecorded), "%.150s", e.msg[0] ? e.msg : "?");
		if (!blocked) {
			char d[160];
			snprintf(d, sizeof(d), "record: %.140s", e.msg);
			sk_report_block(r, SK_REASON_INTERNAL, NULL, d);
		}
	}
}

/* The stored original, read-only, its hash checked against the index. */
static int open_original(const sk_options *opt, const sk_qitem *it, int *fd, sk_input *in,
			 sk_result *res, sk_error *err)
{
	char *path = sk_quarantine_object_path(opt->quarantine, it->sha256);
	if (!path)
		return sk_error_set(err, SK_ENOMEM, "path");
	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	struct stat sb;
	if (*fd < 0 || fstat(*fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return sk_error_sys(err, SK_EIO, "the original of %s cannot be read", it->id);
	sk_input_fd(in, *fd, (uint64_t)sb.st_size);
	int rc = sk_sha256_input(in, res->sha256, err);
	if (rc)
		return rc;
	char hex[SK_SHA256_HEX];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	if (strcmp(hex, it->sha256) != 0)
		return sk_error_set(err, SK_EIO, "the stored original of %s is damaged", it->id);
	return 0;
}

/* Runs the unlock job in a worker and finishes the result (scan, flow); the sanitised
 * archive in ob. */
static int run_job(const sk_options *opt, const sk_qitem *it, const char *const *pw, size_t n,
		   sk_input *in, sk_buf *ob, sk_result *res, sk_gate_flow *flow, sk_error *err)
{
	sk_item item = {.name = it->name, .src_zone = it->src_zone, .dst_zone = it->dst_zone,
			.submitter = it->submitter, .channel = "file", .class_level = it->class_level};
	sk_engine_job job = {.name = it->name, .budget = opt->budget, .passwords = pw,
			     .convert = opt->convert, .convert_ctx = opt->convert_ctx,
			     .n_passwords = n};
	sk_budget_start(&job.budget);
	if (opt->policy &&
	    sk_gate_flow_decide(opt->policy, opt->ledger, &item, opt->today, flow, res) != 0)
		return 0; /* denied: res blocked policy-deny */
	job.profile = flow->decided ? flow->profile : opt->profile ? opt->profile : sk_profile_default();
	job.dlp = flow->dlp;
	job.dlp_kinds = flow->dlp_kinds;
	sk_output o;
	sk_output_buf(&o, ob);
	sk_engine_result er;
	int rc = sk_pool_run(opt->pool, &job, in, &o, &er, err);
	res->type = er.type;
	res->out_size = er.out_size;
	sk_report_free(&res->report);
	res->report = er.report;
	sk_report_init(&er.report);
	sk_engine_result_free(&er);
	if (rc)
		return rc;
	if (res->report.verdict != SK_VERDICT_BLOCKED && opt->clamd) {
		/* the archive as it will be delivered: clamd never saw inside the encrypted one */
		sk_scan_config sc = {.socket_spec = opt->clamd, .timeout_ms = opt->clamd_timeout_ms};
		sk_scan_result sr;
		sk_input si;
		sk_input_mem(&si, ob->len ? ob->data : (const uint8_t *)"", ob->len);
		sk_scan_clamd_cfg(&sc, &si, &sr, NULL);
		if (sr.reason != SK_REASON_NONE)
			sk_report_block(&res->report, sr.reason, NULL, sr.detail);
	}
	if (!sk_engine_wrong_password(&res->report)) {
		if (opt->policy)
			sk_gate_flow_assets(flow, opt->policy, opt->ledger, &item, opt->today, res);
		sk_gate_flow_finish(flow, false, res);
	}
	return 0;
}

int sk_gate_unlock(const sk_options *opt, const char *item_id, const char *const *passwords,
		   size_t n, const char *by, sk_output *out, sk_result *res,
		   sk_unlock_status *st, sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	res->type = *sk_type_find("unknown");
	*st = SK_UNLOCK_BAD_REQUEST;
	bool ok = opt && opt->quarantine && item_id && text_ok(by, SK_QUARANTINE_USER_MAX) &&
		  passwords && n >= 1 && n <= SK_UNLOCK_PASSWORDS_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = text_ok(passwords[i], SK_UNLOCK_PASSWORD_MAX);
	if (!ok)
		return sk_error_set(err, SK_EINVAL, "unlock: %s", sk_unlock_status_text(*st, true));
	if (!opt->pool)
		return sk_error_set(err, SK_EINVAL, "unlock: needs the worker pool (never in process)");
	sk_qitem it;
	int rc = sk_quarantine_get(opt->quarantine, item_id, &it, err);
	if (rc)
		return rc;
	snprintf(res->quarantine_id, sizeof(res->quarantine_id), "%s", it.id);
	int fd = -1;
	unsigned tries = 0;
	bool reserved = false;
	sk_input in;
	sk_input_mem(&in, "", 0);
	sk_gate_flow flow;
	memset(&flow, 0, sizeof(flow));
	sk_buf ob;
	sk_buf_init(&ob, out && out->max && out->max < SK_BUF_MAX_DEFAULT ? (size_t)out->max
									  : SK_BUF_MAX_DEFAULT);
	if (!held_encrypted(&it)) {
		rc = refuse(opt, by, &it, SK_UNLOCK_NOT_ENCRYPTED, SK_EINVAL, "refused not-encrypted",
			    NULL, st, err);
		goto done;
	}
	/* a try is reserved before the job runs: concurrent calls cannot pass the limit */
	if ((rc = sk_quarantine_unlock_tries(opt->quarantine, it.id, 0, &tries, err)) != 0)
		goto done;
	if (tries < SK_UNLOCK_TRIES_MAX) {
		if ((rc = sk_quarantine_unlock_tries(opt->quarantine, it.id, 1, &tries, err)) != 0)
			goto done;
		reserved = true;
	}
	if (tries > SK_UNLOCK_TRIES_MAX || !reserved) {
		char d[64];
		snprintf(d, sizeof(d), "tries=%u/%u", tries - reserved, SK_UNLOCK_TRIES_MAX);
		rc = refuse(opt, by, &it, SK_UNLOCK_TOO_MANY, SK_ELOCKED, "refused too-many-attempts",
			    d, st, err);
		goto done;
	}
	if ((rc = open_original(opt, &it, &fd, &in, res, err)) != 0)
		goto done;
	if ((rc = run_job(opt, &it, passwords, n, &in, &ob, res, &flow, err)) != 0)
		goto done;
	if (sk_engine_wrong_password(&res->report)) {
		char d[64];
		snprintf(d, sizeof(d), "tries=%u/%u", tries, SK_UNLOCK_TRIES_MAX);
		reserved = false; /* the try counts */
		*st = SK_UNLOCK_WRONG_PASSWORD;
		sk_error e;
		sk_error_clear(&e);
		if (audit(opt, by, &it, "refused wrong-password", d, &e) != 0) {
			snprintf(res->unrecorded, sizeof(res->unrecorded), "%.150s", e.msg);
			if (err)
				*err = e;
			rc = e.code ? e.code : SK_EIO;
		}
		goto done;
	}
	*st = SK_UNLOCK_DONE;
	record(opt, by, &it, res);
	if (res->report.verdict != SK_VERDICT_BLOCKED && !res->unrecorded[0]) {
		/* the sanitised archive becomes the item's deliverable result */
		int sfd = -1;
		rc = sk_quarantine_scratch(opt->quarantine, &sfd, err);
		if (rc == 0) {
			sk_output so;
			sk_output_fd(&so, sfd, 0);
			rc = sk_output_write(&so, ob.len ? ob.data : (const uint8_t *)"", ob.len, err);
		}
		if (rc == 0)
			rc = sk_quarantine_result_put(opt->quarantine, it.id, sfd,
						      res->report.out_ext, err);
		if (sfd >= 0)
			close(sfd);
		if (rc == 0 && out)
			rc = sk_output_write(out, ob.len ? ob.data : (const uint8_t *)"", ob.len, err);
	}
done:
	if (reserved) {
		/* not a wrong password (or it could not be tried): the try is given back */
		sk_error e;
		unsigned dummy;
		sk_quarantine_unlock_tries(opt->quarantine, it.id, -1, &dummy, &e);
	}
	sk_input_release(&in);
	if (fd >= 0)
		close(fd);
	sk_buf_free(&ob);
	sk_qitem_free(&it);
	return rc;
}
