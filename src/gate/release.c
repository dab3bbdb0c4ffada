/* Release of held items and originals (release.h): the rights check in one place, the
 * approval that completes a request, the rerun through the gate, and the console's
 * upload path that keeps the delivered result. */
#include "sekisho/release.h"

#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gate_int.h"
#include "sekisho/audit.h"
#include "sekisho/policy.h"

unsigned sk_release_needed(const struct sk_policy *p, sk_qkind kind)
{
	uint32_t rel = 1, orig = 2; /* the policies' defaults (two people for an original) */
	if (p)
		sk_policy_approvals(p, &rel, &orig);
	uint32_t n = kind == SK_QKIND_ORIGINAL ? orig : rel;
	return n < 1 ? 1 : n > SK_QREQUEST_NEEDED_MAX ? SK_QREQUEST_NEEDED_MAX : n;
}

int sk_release_may_decide(const struct sk_policy *p, const sk_qitem *it, const sk_qrequest *rq,
			  const sk_qactor *who, const sk_auth_rights *r, sk_qdeny *deny)
{
	(void)p;
	sk_qdeny d = SK_QDENY_NONE;
	if (!who || !who->name || who->uid == 0 || !r)
		d = SK_QDENY_BAD_USER;
	else if (who->uid == rq->requester_uid ||
		 (it->env_from && *it->env_from && who->mail && !strcasecmp(who->mail, it->env_from)))
		d = SK_QDENY_SELF_APPROVAL; /* by id; and a mail's sender by address */
	else if (it->hold_role && *it->hold_role ? !sk_auth_has_role(r, it->hold_role)
		 : !(r->perms & SK_PERM_APPROVE) ||
			   (it->submitter_section && *it->submitter_section &&
			    strcmp(it->submitter_section, r->section) != 0))
		d = SK_QDENY_NOT_APPROVER;
	else if (rq->kind == SK_QKIND_ORIGINAL && !(r->perms & SK_PERM_RELEASE_ORIGINAL))
		d = SK_QDENY_NO_RIGHT;
	if (deny)
		*deny = d;
	return d == SK_QDENY_NONE ? 0 : SK_EINVAL;
}

/* The request, its item, and the rights check; a refusal is audited. */
static int check(const sk_options *opt, int64_t rid, const sk_qactor *who,
		 const sk_auth_rights *r, const char *action, sk_qrequest *rq, sk_qdeny *deny,
		 sk_error *err)
{
	if (!opt->quarantine)
		return sk_error_set(err, SK_EINVAL, "release needs the quarantine");
	int rc = sk_quarantine_request_get(opt->quarantine, rid, rq, err);
	if (rc)
		return rc;
	sk_qitem it;
	if ((rc = sk_quarantine_get(opt->quarantine, rq->item, &it, err))) {
		sk_qrequest_free(rq);
		return rc;
	}
	sk_qdeny d;
	if (sk_release_may_decide(opt->policy, &it, rq, who, r, &d) != 0) {
		if (deny)
			*deny = d;
		sk_audit *a = opt->audit ? opt->audit : sk_quarantine_audit(opt->quarantine);
		char obj[160], result[64], detail[256];
		snprintf(obj, sizeof(obj), "item:%s sha256:%s", it.id, it.sha256);
		snprintf(result, sizeof(result), "refused: %s", sk_qdeny_code(d));
		snprintf(detail, sizeof(detail), "request=%lld kind=%s uid=%lld hold-role=%s",
			 (long long)rid, sk_qkind_code(rq->kind), who ? (long long)who->uid : 0LL,
			 it.hold_role ? it.hold_role : "-");
		if (a && (rc = sk_audit_append(a, who && who->name ? who->name : "?", action, obj,
					       result, detail, NULL, err)) != 0)
			;
		else
			rc = sk_error_set(err, SK_EINVAL, "%s %lld: %s", action, (long long)rid,
					  sk_qdeny_text(d, true));
		sk_qrequest_free(rq);
	}
	sk_qitem_free(&it);
	return rc;
}

/* After a completed release of a mail item with an envelope: the result to the envelope,
 * or (the rerun blocked it) the sender told. */
static void mail_after(const sk_options *opt, const char *id, const sk_qactor *who,
		       sk_release_outcome *out)
{
	sk_qitem it;
	sk_error e;
	sk_error_clear(&e);
	if (sk_quarantine_get(opt->quarantine, id, &it, &e) != 0)
		return;
	bool env = it.env_from != NULL;
	sk_qitem_free(&it);
	if (!env)
		return;
	out->mail = true;
	if (out->released) {
		out->mail_sent = sk_release_send(opt, id, who->name, &e) == 0;
		if (!out->mail_sent)
			snprintf(out->mail_error, sizeof(out->mail_error), "%s", e.msg);
		return;
	}
	snprintf(out->mail_error, sizeof(out->mail_error), "not sent: %s%s%.200s",
		 sk_reason_code(out->reason), out->detail[0] ? ": " : "", out->detail);
	sk_release_mail_notice(opt, id, SK_RELEASE_NOTICE_BLOCKED, who->name, NULL, NULL, &e);
}

int sk_release_approve(const sk_options *opt, int64_t rid, const sk_qactor *who,
		       const sk_auth_rights *r, const char *comment, sk_release_outcome *out,
		       sk_qdeny *deny, sk_error *err)
{
	if (deny)
		*deny = SK_QDENY_NONE;
	if (out)
		memset(out, 0, sizeof(*out));
	sk_qrequest rq;
	int rc = check(opt, rid, who, r, "quarantine-approve", &rq, deny, err);
	if (rc)
		return rc;
	bool complete = false;
	rc = sk_quarantine_request_approve(opt->quarantine, rid, who, comment,
					   sk_release_needed(opt->policy, rq.kind), &complete, deny,
					   err);
	sk_qkind kind = rq.kind;
	char id[SK_QUARANTINE_ID_LEN];
	snprintf(id, sizeof(id), "%s", rq.item);
	sk_qrequest_free(&rq);
	if (rc)
		return rc;
	sk_release_outcome tmp;
	if (!out) {
		memset(&tmp, 0, sizeof(tmp));
		out = &tmp;
	}
	out->complete = complete;
	if (complete && kind == SK_QKIND_RELEASE) {
		rc = sk_release_run(opt, rid, out, err);
		if (rc == 0)
			mail_after(opt, id, who, out);
	}
	return rc;
}

int sk_release_refuse(const sk_options *opt, int64_t rid, const sk_qactor *who,
		      const sk_auth_rights *r, const char *comment, sk_qdeny *deny, sk_error *err)
{
	if (deny)
		*deny = SK_QDENY_NONE;
	sk_qrequest rq;
	int rc = check(opt, rid, who, r, "quarantine-refuse", &rq, deny, err);
	if (rc)
		return rc;
	char id[SK_QUARANTINE_ID_LEN];
	snprintf(id, sizeof(id), "%s", rq.item);
	sk_qkind kind = rq.kind;
	sk_qrequest_free(&rq);
	rc = sk_quarantine_request_refuse(opt->quarantine, rid, who, comment, deny, err);
	if (rc == 0 && kind == SK_QKIND_RELEASE) {
		/* held mail: its sender is told (a failure is kept on the item and audited) */
		sk_error e;
		sk_release_mail_notice(opt, id, SK_RELEASE_NOTICE_REFUSED, who->name, comment, NULL,
				       &e);
	}
	return rc;
}

int sk_release_run(const sk_options *opt, int64_t rid, sk_release_outcome *out, sk_error *err)
{
	sk_release_outcome tmp;
	if (!out)
		out = &tmp;
	out->released = false;
	if (!opt->quarantine)
		return sk_error_set(err, SK_EINVAL, "release needs the quarantine");
	sk_quarantine *q = opt->quarantine;
	sk_qrequest rq;
	int rc = sk_quarantine_request_get(q, rid, &rq, err);
	if (rc)
		return rc;
	sk_qitem it;
	if ((rc = sk_quarantine_get(q, rq.item, &it, err))) {
		sk_qrequest_free(&rq);
		return rc;
	}
	out->complete = rq.state == SK_QREQ_APPROVED;
	int in_fd = -1, out_fd = -1;
	char *obj = NULL;
	if (rq.kind != SK_QKIND_RELEASE || rq.state != SK_QREQ_APPROVED || rq.outcome) {
		rc = sk_error_set(err, SK_EINVAL, "request %lld is not an approved release waiting for its result",
				  (long long)rid);
		goto out;
	}
	struct stat st;
	if (!(obj = sk_quarantine_object_path(q, it.sha256))) {
		rc = sk_error_set(err, SK_ENOMEM, "path");
		goto out;
	}
	if ((in_fd = open(obj, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0 || fstat(in_fd, &st) != 0) {
		rc = sk_error_sys(err, SK_EIO, "open the original of %s", it.id);
		goto out;
	}
	if ((rc = sk_quarantine_scratch(q, &out_fd, err)))
		goto out;
	sk_item item = {.name = it.name, .declared_type = NULL, .src_zone = it.src_zone,
			.dst_zone = it.dst_zone, .submitter = it.submitter,
			.channel = it.channel ? it.channel : "file", .class_level = it.class_level,
			.submitter_uid = it.submitter_uid, .submitter_section = it.submitter_section};
	sk_input_fd(&item.input, in_fd, (uint64_t)st.st_size);
	sk_output o;
	sk_output_fd(&o, out_fd, 0);
	sk_result res;
	sk_error perr;
	sk_error_clear(&perr);
	int prc = sk_gate_rerun(&item, opt, &o, &res, &perr);
	char hex[SK_SHA256_HEX];
	sk_hex(res.sha256, SK_SHA256_LEN, hex);
	if (prc == 0 && strcmp(hex, it.sha256) != 0)
		sk_report_block(&res.report, SK_REASON_INTERNAL, NULL, "the stored original is damaged");
	if (prc)
		sk_report_block(&res.report, SK_REASON_INTERNAL, NULL, perr.msg);
	sk_report *rp = &res.report;
	out->verdict = rp->verdict;
	if (rp->verdict != SK_VERDICT_BLOCKED) {
		rc = sk_quarantine_release_done(q, rid, out_fd, rp->out_ext, NULL, err);
		out->released = rc == 0;
	} else {
		out->reason = rp->reason;
		snprintf(out->detail, sizeof(out->detail), "%s", rp->reason_detail ? rp->reason_detail : "");
		char why[320];
		snprintf(why, sizeof(why), "%s%s%.250s", sk_reason_code(rp->reason),
			 rp->reason_detail ? ": " : "", rp->reason_detail ? rp->reason_detail : "");
		rc = sk_quarantine_release_done(q, rid, -1, NULL, why, err);
	}
	sk_result_free(&res);
out:
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	free(obj);
	sk_qitem_free(&it);
	sk_qrequest_free(&rq);
	return rc;
}

int sk_gate_submit(const sk_item *item, const sk_options *opt, sk_result *res, sk_error *err)
{
	if (!opt->quarantine) {
		memset(res, 0, sizeof(*res));
		sk_report_init(&res->report);
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, "no quarantine");
		return sk_error_set(err, SK_EINVAL, "submit needs the quarantine");
	}
	int fd = -1;
	int rc = sk_quarantine_scratch(opt->quarantine, &fd, err);
	if (rc) {
		memset(res, 0, sizeof(*res));
		sk_report_init(&res->report);
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, "scratch file");
		return rc;
	}
	sk_output o;
	sk_output_fd(&o, fd, 0);
	rc = sk_process(item, opt, &o, res, err);
	if (rc == 0 && res->report.verdict != SK_VERDICT_BLOCKED && res->quarantine_id[0] &&
	    !res->unrecorded[0])
		rc = sk_quarantine_result_put(opt->quarantine, res->quarantine_id, fd,
					      res->report.out_ext, err);
	close(fd);
	return rc;
}
