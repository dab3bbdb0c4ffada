/* The one path: every ingress calls sk_process() (a file) or sk_gate_mail() (a message).
 *
 * admit (hash, flow decision, original stored) → scan (clamd) → engine (detection and
 * rebuild or the MIME walk, DLP on what will be delivered; in a sandboxed worker when
 * opt->pool is set) → finish (the flow's DLP actions and hold, verdict, index row, audit
 * record). Nothing parses the item's bytes in this process when a pool is used. */
#include "sekisho/core.h"
#include "sekisho/policy.h"

#include "gate_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/audit.h"
#include "sekisho/engine.h"
#include "sekisho/ledger.h"
#include "sekisho/pool.h"
#include "sekisho/quarantine.h"
#include "sekisho/scan.h"

void sk_options_default(sk_options *o)
{
	memset(o, 0, sizeof(*o));
	o->profile = sk_profile_default();
	sk_budget_default(&o->budget);
	o->quarantine = NULL;
	o->audit = NULL;
}

void sk_result_free(sk_result *res)
{
	sk_report_free(&res->report);
}

/* Stores the original in the quarantine (fail closed: blocks the item when it cannot). */
static bool store_original(const sk_item *item, const sk_options *opt, const sk_input *in,
			   sk_result *res)
{
	if (!opt->quarantine)
		return true;
	sk_qmeta meta = {.name = item->name, .type = item->declared_type,
			 .src_zone = item->src_zone, .dst_zone = item->dst_zone,
			 .submitter = item->submitter, .submitter_uid = item->submitter_uid,
			 .submitter_section = item->submitter_section,
			 .channel = item->channel ? item->channel : "file",
			 .class_level = item->class_level, .env_from = item->env_from,
			 .env_rcpt = item->env_rcpt, .env_nrcpt = item->env_nrcpt};
	sk_error e;
	sk_error_clear(&e);
	char id[SK_QUARANTINE_ID_LEN];
	if (sk_quarantine_store(opt->quarantine, in, res->sha256, &meta, id, &e) != 0) {
		char d[160];
		snprintf(d, sizeof(d), "quarantine: %.140s", e.msg);
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, d);
		return false;
	}
	snprintf(res->quarantine_id, sizeof(res->quarantine_id), "%s", id);
	return true;
}

/* finish: after the verdict, the index row and the audit record. Either failing blocks the item
 * (every decision must be on record). */
static void record_decision(const sk_item *item, const sk_options *opt, bool mail, sk_result *res)
{
	if (!opt->quarantine && !opt->audit)
		return;
	sk_report *r = &res->report;
	char hex[SK_SHA256_HEX], obj[128];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	snprintf(obj, sizeof(obj), "%s:%s sha256:%s", mail ? "mail" : "item",
		 res->quarantine_id[0] ? res->quarantine_id : "-", hex);
	for (int pass = 0; pass < 2; pass++) {
		sk_error e;
		sk_error_clear(&e);
		char result[96];
		bool blocked = r->verdict == SK_VERDICT_BLOCKED;
		snprintf(result, sizeof(result), "%s%s%s", sk_verdict_code(r->verdict),
			 blocked ? " " : "", blocked ? sk_reason_code(r->reason) : "");
		char *json = sk_result_json(res, item->name, NULL);
		int rc = 0;
		if (opt->audit) {
			/* the result JSON as detail, cut (at a character boundary) to the limit */
			size_t jl = json ? strlen(json) : 0;
			char *detail = json;
			char *cut = NULL;
			if (jl > SK_AUDIT_DETAIL_MAX && (cut = malloc(SK_AUDIT_DETAIL_MAX + 1))) {
				size_t k = SK_AUDIT_DETAIL_MAX - 16;
				while (k && ((unsigned char)json[k] & 0xc0) == 0x80)
					k--;
				memcpy(cut, json, k);
				memcpy(cut + k, " …(truncated)", sizeof(" …(truncated)"));
				detail = cut;
			}
			rc = sk_audit_append(opt->audit, item->submitter ? item->submitter : "cli",
					     mail ? "mail" : "sanitize", obj, result, detail ? detail : "",
					     NULL, &e);
			free(cut);
		}
		if (rc == 0 && opt->quarantine && res->quarantine_id[0]) {
			/* actions only: the JSON of the whole result minus what the row has */
			rc = sk_quarantine_decide(opt->quarantine, res->quarantine_id, res->type.code,
						  sk_verdict_code(r->verdict),
						  blocked ? sk_reason_code(r->reason) : NULL,
						  blocked ? r->reason_detail : NULL, json,
						  res->hold_role, &e);
		}
		free(json);
		if (rc && (pass == 1 || blocked)) /* the caller must say so: not on record */
			snprintf(res->unrecorded, sizeof(res->unrecorded), "%.150s", e.msg[0] ? e.msg : "?");
		if (rc == 0 || pass == 1 || blocked)
			return;
		/* not on record: blocked from now on; try to record that (second pass) */
		char d[160];
		snprintf(d, sizeof(d), "record: %.140s", e.msg);
		sk_report_block(r, SK_REASON_INTERNAL, NULL, d);
	}
}

/* ---- admit: hash, flow decision, original stored; nothing parses the bytes here ---- */

/* Returns true when the item goes on to the scan and the engine. */
static bool admit(const sk_item *item, const sk_options *opt, sk_input *in, sk_budget *budget,
		  sk_gate_flow *flow, sk_result *res, sk_error *err)
{
	sk_budget_start(budget);
	int rc = sk_crypto_init(err);
	if (rc == 0)
		rc = sk_sha256_input(in, res->sha256, err);
	if (rc) {
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, err ? err->msg : NULL);
		return false;
	}
	/* the flow decides first (DESIGN: flow lookup, then quarantine); nothing parses */
	bool denied = opt->policy &&
		      sk_gate_flow_decide(opt->policy, opt->ledger, item, opt->today, flow, res) != 0;
	/* the original is kept whatever the decision: a held item waits there for approval;
	 * its row keeps the class decided with (an asset's class in it), for a release */
	sk_item kept = *item;
	if (flow->decided && item->asset)
		kept.class_level = flow->class_spec;
	if (!store_original(&kept, opt, in, res) || denied)
		return false;
	if (sk_budget_input(budget, in->size) != SK_REASON_NONE) {
		sk_report_block(&res->report, SK_REASON_LIMIT_SIZE, NULL, "input");
		return false;
	}
	return true;
}

/* ---- scan: clamd, from the gate (a worker has no network) ---------------------------- */

/* Returns true when the item is clean of malware (or no scanner is configured). */
static bool scan(const sk_options *opt, sk_input *in, sk_result *res)
{
	if (!opt->clamd)
		return true;
	sk_scan_config sc = {.socket_spec = opt->clamd, .timeout_ms = opt->clamd_timeout_ms};
	sk_scan_result sr;
	sk_scan_clamd_cfg(&sc, in, &sr, NULL);
	if (sr.reason == SK_REASON_NONE)
		return true;
	sk_report_block(&res->report, sr.reason, NULL, sr.detail);
	return false;
}

/* ---- engine: in a sandboxed worker when opt->pool is set, else in process ------------- */

static int engine(const sk_options *opt, const sk_engine_job *job, sk_input *in,
		  sk_output *out, sk_engine_result *er, sk_error *err)
{
	if (opt->pool)
		return sk_pool_run(opt->pool, job, in, out, er, err);
	return sk_engine_run(job, in, out, er, err);
}

/* Moves the engine's result into res: type, size, the entries after any the policy step
 * recorded, and the verdict. */
static void take(sk_result *res, sk_engine_result *er)
{
	res->type = er->type;
	res->out_size = er->out_size;
	sk_report *r = &res->report, *e = &er->report;
	if (r->n == 0 && r->verdict != SK_VERDICT_BLOCKED) {
		sk_report_free(r);
		*r = *e;
		sk_report_init(e);
		return;
	}
	for (size_t i = 0; i < e->n; i++)
		if (sk_report_add(r, e->v[i].action, e->v[i].what, e->v[i].where, e->v[i].detail,
				  e->v[i].count) != 0) {
			sk_report_block(r, SK_REASON_INTERNAL, NULL, "report");
			return;
		}
	if (e->verdict == SK_VERDICT_BLOCKED) {
		sk_report_block(r, e->reason, e->reason_where, e->reason_detail);
		return;
	}
	memcpy(r->out_ext, e->out_ext, sizeof(r->out_ext));
	sk_report_finish(r);
}

/* The whole path but the record. mail NULL: a file; else a message (mres filled).
 * approved: a release rerun (the flow's hold is lifted; see sk_gate_flow_finish). */
static int process(const sk_item *item, const sk_options *opt, const sk_mail_options *mail,
		   bool approved, sk_output *out, sk_result *res, sk_mail_result *mres,
		   sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	res->type = *sk_type_find(mail ? "eml" : "unknown");

	sk_input in = item->input;
	sk_gate_flow flow;
	memset(&flow, 0, sizeof(flow));
	sk_engine_job job = {.name = item->name, .budget = opt->budget, .convert = opt->convert,
			     .convert_ctx = opt->convert_ctx};
	if (!admit(item, opt, &in, &job.budget, &flow, res, err))
		return 0;
	job.profile = flow.decided ? flow.profile : opt->profile ? opt->profile : sk_profile_default();
	job.dlp = flow.dlp;
	job.dlp_kinds = flow.dlp_kinds;
	sk_mail_options mo;
	if (mail) {
		mo = *mail;
		mo.original_id = res->quarantine_id;
		/* a sanitize flow's profile decides the attachments (its mail section) */
		if (flow.decided && flow.d.action == SK_FLOW_SANITIZE) {
			sk_error perr;
			if (sk_gate_mail_profile(opt->policy, flow.pname, &mo, &perr) != 0) {
				sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, "mail profile");
				return 0;
			}
			mo.lang = mail->lang;
		}
		if (!flow.decided && mo.file_profile)
			job.profile = mo.file_profile;
		job.mail = &mo;
	}
	/* a malware verdict names the type too: the engine only detects it then */
	job.detect_only = !scan(opt, &in, res);
	sk_engine_result er;
	sk_error lerr;
	sk_error_clear(&lerr);
	int rc = engine(opt, &job, &in, out, &er, &lerr);
	if (in.loaded != item->input.loaded)
		sk_input_release(&in);
	if (job.detect_only)
		res->type = er.type;
	else
		take(res, &er);
	if (mres)
		*mres = er.mail;
	sk_engine_result_free(&er);
	if (rc) {
		if (err)
			*err = lerr;
		return rc;
	}
	if (!job.detect_only) {
		if (opt->policy)
			sk_gate_flow_assets(&flow, opt->policy, opt->ledger, item, opt->today, res);
		sk_gate_flow_finish(&flow, approved, res);
	}
	return 0;
}

/* ---- finish: the verdict on record (index row and audit record) --------------------- */

/* After the decision is on record: an incident for malware, a DLP block or a crash (the
 * ledger opens one on the second crash of the same content). */
static void open_incident(const sk_item *item, const sk_options *opt, sk_result *res)
{
	const sk_report *r = &res->report;
	if (!opt->ledger || r->verdict != SK_VERDICT_BLOCKED)
		return;
	sk_ledger_event ev;
	if (r->reason == SK_REASON_MALWARE)
		ev = SK_LEDGER_EVENT_MALWARE;
	else if (r->reason == SK_REASON_DLP)
		ev = SK_LEDGER_EVENT_DLP;
	else if (r->reason == SK_REASON_WORKER_CRASH)
		ev = SK_LEDGER_EVENT_CRASH;
	else
		return;
	char hex[SK_SHA256_HEX], id[SK_LEDGER_ID_MAX];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	sk_error e;
	sk_error_clear(&e);
	if (sk_ledger_gate_event(opt->ledger, ev, res->quarantine_id, hex, item->name,
				 r->reason_detail, id, &e) != 0) {
		snprintf(res->incident_error, sizeof(res->incident_error), "%.90s", e.msg);
		if (opt->audit) {
			sk_error e2;
			sk_audit_append(opt->audit, "sekisho", "ledger.add", "incidents", "failed", e.msg,
					NULL, &e2);
		}
		return;
	}
	snprintf(res->incident, sizeof(res->incident), "%s", id);
}

int sk_process(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
	       sk_error *err)
{
	int rc = process(item, opt, NULL, false, out, res, NULL, err);
	record_decision(item, opt, false, res);
	open_incident(item, opt, res);
	return rc;
}

int sk_gate_mail(const sk_item *item, const sk_mail_options *mail, const sk_options *opt,
		 sk_buf *out, sk_result *res, sk_mail_result *mres, sk_error *err)
{
	sk_item it = *item;
	it.channel = "mail";
	if (!it.name)
		it.name = "message.eml";
	if (!it.declared_type)
		it.declared_type = "message/rfc822";
	sk_buf_reset(out);
	memset(mres, 0, sizeof(*mres));
	sk_output o;
	sk_output_buf(&o, out);
	int rc = process(&it, opt, mail, false, &o, res, mres, err);
	record_decision(&it, opt, true, res);
	open_incident(&it, opt, res);
	snprintf(mres->quarantine_id, sizeof(mres->quarantine_id), "%s", res->quarantine_id);
	if (rc) {
		sk_buf_reset(out);
		return rc;
	}
	sk_report *r = &res->report;
	if (opt->quarantine && !res->quarantine_id[0]) {
		/* the original could not be stored: nothing to release a notice from; the
		 * caller answers with its default (the milter: tempfail, the MTA retries) */
		sk_buf_reset(out);
		return sk_error_set(err, SK_EIO, "%s", r->reason_detail ? r->reason_detail : "quarantine");
	}
	if (r->verdict != SK_VERDICT_BLOCKED)
		return 0;
	/* not delivered: the notice, naming the stored original */
	mres->held = true;
	mres->reason = r->reason;
	snprintf(mres->detail, sizeof(mres->detail), "%s", r->reason_detail ? r->reason_detail : "");
	snprintf(mres->actions, sizeof(mres->actions), "HELD");
	rc = sk_mail_notice_held(mail, r->reason, res->quarantine_id, out);
	if (rc) {
		sk_buf_reset(out);
		return sk_error_set(err, rc, "mail: notice");
	}
	return 0;
}

int sk_gate_mail_profile(const sk_policy *p, const char *name, sk_mail_options *o, sk_error *err)
{
	if (!name)
		name = "default";
	const char *html = NULL, *att = NULL;
	const sk_profile *fp = NULL;
	if (p) {
		sk_policy_profile_mail(p, name, &html, &att);
		fp = sk_policy_profile(p, name);
	}
	if (!att && !fp) {
		if (sk_mail_options_profile(o, name) != 0)
			return sk_error_set(err, SK_EINVAL, "unknown profile %s", name);
		return 0;
	}
	if (att)
		o->attach = !strcmp(att, "remove") ? SK_MAIL_DEL_ATTACH : SK_MAIL_SANITIZE_ATTACH;
	if (fp)
		o->file_profile = fp;
	o->profile = name;
	return 0;
}

int sk_gate_rerun(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
		  sk_error *err)
{
	sk_options o = *opt;
	o.quarantine = NULL; /* the original is stored already: no second item */
	o.audit = NULL;      /* the caller records the outcome */
	if (item->channel && !strcmp(item->channel, "mail")) {
		sk_mail_options mo;
		sk_mail_options_default(&mo);
		sk_mail_result mres;
		memset(&mres, 0, sizeof(mres));
		return process(item, &o, &mo, true, out, res, &mres, err);
	}
	return process(item, &o, NULL, true, out, res, NULL, err);
}
