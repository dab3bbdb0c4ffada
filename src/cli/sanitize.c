/* sekisho sanitize — disarm files and folders into an output folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/core.h"
#include "sekisho/name.h"
#include "sekisho/policy.h"
#include "sekisho/pool.h"
#include "sekisho/quarantine.h"
#include "sekisho/ledger.h"
#include "sekisho/scan.h"

enum { EXIT_DELIVERED = 0, EXIT_BLOCKED = 1, EXIT_TROUBLE = 2 };

struct run {
	sk_lang lang;
	bool json;
	const char *outdir;
	sk_options opt;
	int status;      /* worst exit status so far */
	bool progress;   /* a progress line on the terminal */
	uint64_t items, bytes;
	struct timespec t0;
	const char *from, *to, *channel, *klass; /* flow policy (--policy) */
	const char *asset; /* --asset: an asset of the ledger the items are marked with */
	int out_mode;    /* mode of delivered outputs: 0666 minus the umask */
	void *cleaned;   /* tsearch set of the output folders already cleaned */
	void *written;   /* tsearch set of the folders to fsync before exiting */
};

static void worse(struct run *r, int st)
{
	if (st > r->status)
		r->status = st;
}

static double elapsed(const struct run *r)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - r->t0.tv_sec) + (double)(t.tv_nsec - r->t0.tv_nsec) / 1e9;
}

static void progress(struct run *r, bool done)
{
	if (!r->progress)
		return;
	double s = elapsed(r);
	double mb = (double)r->bytes / 1e6;
	if (r->lang == SK_LANG_EN)
		fprintf(stderr, "\r%llu items, %.1f MB, %.1f MB/s   ", (unsigned long long)r->items,
			mb, s > 0 ? mb / s : 0.0);
	else
		fprintf(stderr, "\r%llu 件, %.1f MB, %.1f MB/秒   ", (unsigned long long)r->items, mb,
			s > 0 ? mb / s : 0.0);
	if (done)
		fputc('\n', stderr);
}

/* mkdir -p for the folders of a relative path below base. */
static int make_parents(const char *base, const char *rel)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", base, rel) < 0)
		return -1;
	size_t bl = strlen(base) + 1;
	for (char *s = p + bl; (s = strchr(s, '/')); s++) {
		*s = 0;
		if (mkdir(p, 0777) != 0 && errno != EEXIST) { /* the umask applies */
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

/* The first time an output goes into a folder: remove the temporary files that a killed
 * run left there (never those of a live process: see sk_tmpfile_clean). */
static void clean_folder_once(struct run *r, const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash ? strndup(file, (size_t)(slash - file)) : strdup(".");
	if (!dir)
		return;
	char **found = tfind(dir, &r->cleaned, (int (*)(const void *, const void *))strcmp);
	if (found) {
		free(dir);
		return;
	}
	if (!tsearch(dir, &r->cleaned, (int (*)(const void *, const void *))strcmp)) {
		free(dir);
		return;
	}
	/* the folder and those above it, up to the output folder, are fsync'ed at the end
	 * (their entries: the renamed outputs and the folders made for them) */
	for (size_t len = strlen(dir);;) {
		char *d = strndup(dir, len);
		char **had = d ? tsearch(d, &r->written, (int (*)(const void *, const void *))strcmp)
			       : NULL;
		if (!had || *had != d)
			free(d);
		if (len <= strlen(r->outdir))
			break;
		while (len > 0 && dir[len - 1] != '/')
			len--;
		while (len > 1 && dir[len - 1] == '/')
			len--;
		if (len == 0)
			break;
	}
	unsigned n = 0;
	sk_error err;
	if (sk_tmpfile_clean(dir, &n, &err) == 0 && n)
		fprintf(stderr,
			r->lang == SK_LANG_EN
				? "sekisho: removed %u temporary file(s) left by an interrupted run in %s\n"
				: "sekisho: 中断された実行が残した一時ファイル %u 個を削除しました: %s\n",
			n, dir);
}

/* rel with its extension replaced by ext (when the module asks for one). */
static char *with_ext(const char *rel, const char *ext)
{
	const char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	const char *dot = strrchr(base, '.');
	size_t keep = dot && dot != base ? (size_t)(dot - rel) : strlen(rel);
	char *s = NULL;
	if (asprintf(&s, "%.*s.%s", (int)keep, rel, ext) < 0)
		return NULL;
	return s;
}

/* the quarantine ID of the stored original (with --state), so that two items of the
 * same name can be told apart */
static void print_qid(sk_lang L, const sk_result *res)
{
	if (res->quarantine_id[0])
		printf(" {%s %s}", L == SK_LANG_EN ? "quarantine ID" : "隔離 ID", res->quarantine_id);
	if (res->incident[0])
		printf(" {%s %s}", L == SK_LANG_EN ? "incident" : "事故", res->incident);
	if (res->incident_error[0])
		fprintf(stderr, L == SK_LANG_EN ? "sekisho: could not open the incident: %s\n"
						: "sekisho: 事故を記録できませんでした: %s\n",
			res->incident_error);
}

/* Where an action was taken, as the modules write it ("line 2, column 3", "line 4",
 * "page 2", "word/document.xml line 2:3"), in lang; other places (part names) as they are. */
static const char *where_text(const char *w, sk_lang L, char *buf, size_t n)
{
	unsigned long long a, b;
	int k = -1;
	if (L == SK_LANG_EN)
		return w;
	if (sscanf(w, "line %llu, column %llu%n", &a, &b, &k) == 2 && w[k] == 0)
		snprintf(buf, n, "%llu 行 %llu 列", a, b);
	else if ((k = -1, sscanf(w, "line %llu:%llu%n", &a, &b, &k) == 2) && w[k] == 0)
		snprintf(buf, n, "%llu 行 %llu 桁", a, b);
	else if ((k = -1, sscanf(w, "line %llu%n", &a, &k) == 1) && w[k] == 0)
		snprintf(buf, n, "%llu 行目", a);
	else if ((k = -1, sscanf(w, "page %llu%n", &a, &k) == 1) && w[k] == 0)
		snprintf(buf, n, "%llu ページ", a);
	else {
		const char *l = strstr(w, " line ");
		if (l && (k = -1, sscanf(l, " line %llu:%llu%n", &a, &b, &k) == 2) && l[k] == 0)
			snprintf(buf, n, "%.*s %llu 行 %llu 桁", (int)(l - w), w, a, b);
		else
			return w;
	}
	return buf;
}

static void print_human(struct run *r, const char *input, const char *output,
			const sk_result *res)
{
	const sk_report *rep = &res->report;
	sk_lang L = r->lang;
	printf("%s\t%s", sk_verdict_text(rep->verdict, L), input);
	if (rep->verdict == SK_VERDICT_BLOCKED) {
		printf(": %s [%s", sk_reason_text(rep->reason, L), sk_reason_code(rep->reason));
		if (rep->reason_detail)
			printf(": %s", rep->reason_detail);
		printf("]");
		print_qid(L, res);
		printf("\n");
		return;
	}
	if (output)
		printf(" → %s", output);
	const char *sep = " (";
	for (size_t i = 0; i < rep->n; i++) {
		const sk_report_entry *e = &rep->v[i];
		printf("%s%s: %s", sep, sk_action_text(e->action, L), sk_what_text(e->what, L));
		char wb[300];
		if (*e->where)
			printf(" @%s", where_text(e->where, L, wb, sizeof(wb)));
		if (e->detail) {
			/* a dropped entry's detail is its reason code: say it in words */
			sk_reason why = sk_reason_from_code(e->detail);
			printf(" [%s]", why ? sk_reason_text(why, L) : e->detail);
		}
		if (e->count > 1)
			printf(" ×%llu", (unsigned long long)e->count);
		sep = "; ";
	}
	printf("%s", rep->n ? ")" : "");
	print_qid(L, res);
	printf("\n");
}

/* The decision said delivered but the output could not be put in place (a full output
 * disk fails the fsync or the rename): a second record says so; the original stays in
 * quarantine. */
static void note_undelivered(struct run *r, const sk_result *res, const sk_error *why)
{
	if (!r->opt.audit)
		return;
	char hex[SK_SHA256_HEX], obj[128];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	snprintf(obj, sizeof(obj), "item:%s sha256:%s",
		 res->quarantine_id[0] ? res->quarantine_id : "-", hex);
	sk_error e;
	if (sk_audit_append(r->opt.audit, "cli", "deliver", obj, "failed", why->msg, NULL, &e) != 0)
		cli_fail(r->lang, "配信の失敗を監査ログに記録できませんでした",
			"could not record the failed delivery in the audit log", NULL, &e);
}

/* Process one regular file. rel is its name relative to the output folder. */
static void do_file(struct run *r, const char *path, const char *rel, bool nofollow)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		cli_err(r->lang, "読み込めません", "cannot read", path);
		if (fd >= 0)
			close(fd);
		worse(r, EXIT_TROUBLE);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		cli_err(r->lang, "通常のファイルではないため飛ばします", "not a regular file, skipped",
			path);
		close(fd);
		worse(r, EXIT_TROUBLE);
		return;
	}

	sk_buf clean;
	sk_buf_init(&clean, 8192);
	int nc = sk_name_clean(rel, &clean);
	char *base = NULL, *final = NULL;
	sk_tmpfile tf = {.fd = -1};
	sk_output out;
	sk_error err;
	sk_error_clear(&err);
	if (r->outdir && nc >= 0) {
		/* written as NAME.sekisho-tmp.PID.RANDOM (0600), renamed when delivered */
		if (make_parents(r->outdir, sk_buf_str(&clean)) != 0 ||
		    asprintf(&base, "%s/%s", r->outdir, sk_buf_str(&clean)) < 0 ||
		    (clean_folder_once(r, base), sk_tmpfile_open(&tf, base, &err)) != 0) {
			cli_fail(r->lang, "出力先に書き込めません", "cannot write to the output folder",
				 r->outdir, &err);
			worse(r, EXIT_TROUBLE);
			goto out;
		}
		sk_output_fd(&out, tf.fd, 0);
	} else {
		/* no output folder: report only; the rebuilt bytes are counted, not kept */
		sk_output_null(&out);
	}

	const char *slash = strrchr(sk_buf_str(&clean), '/');
	sk_item item = {.name = slash ? slash + 1 : sk_buf_str(&clean), .src_zone = r->from,
			.dst_zone = r->to, .channel = r->channel, .class_level = r->klass,
			.asset = r->asset};
	sk_input_fd(&item.input, fd, (uint64_t)st.st_size);
	sk_result res;
	int rc = sk_process(&item, &r->opt, &out, &res, &err);
	bool delivered = rc == 0 && res.report.verdict != SK_VERDICT_BLOCKED;

	if (tf.fd >= 0) {
		if (delivered) {
			const char *rel_out = sk_buf_str(&clean);
			char *renamed = res.report.out_ext[0] ? with_ext(rel_out, res.report.out_ext) : NULL;
			if (asprintf(&final, "%s/%s", r->outdir, renamed ? renamed : rel_out) < 0)
				final = NULL;
			free(renamed);
			/* mode from the umask, fsync, rename (the folder is fsync'ed at the end) */
			if (!final)
				rc = sk_error_set(&err, SK_ENOMEM, "path");
			else
				rc = sk_tmpfile_commit(&tf, final, r->out_mode, false, &err);
			if (rc) {
				delivered = false;
				free(final);
				final = NULL;
				note_undelivered(r, &res, &err);
			}
		}
		sk_tmpfile_discard(&tf); /* not delivered: the partial output goes */
	}
	if (rc) {
		cli_fail(r->lang, "出力を書き込めませんでした (何も配信していません)",
			"could not write the output (nothing delivered)", NULL, &err);
		worse(r, EXIT_TROUBLE);
	}
	if (res.unrecorded[0]) {
		/* blocked, and not on record: the next run that opens the state records it */
		cli_err(r->lang,
			"判定を監査ログに記録できませんでした (遮断しました。原本は隔離済みで、次回の実行時に"
			"「中断 (interrupted)」として記録されます)",
			"could not record the decision in the audit log (blocked; the original is kept "
			"and the next run records it as interrupted)",
			res.unrecorded);
		worse(r, EXIT_TROUBLE);
	}

	if (r->json) {
		char *j = sk_result_json(&res, path, final);
		if (j)
			puts(j);
		free(j);
	} else {
		print_human(r, path, final, &res);
	}
	fflush(stdout);
	worse(r, res.report.verdict == SK_VERDICT_BLOCKED ? EXIT_BLOCKED : EXIT_DELIVERED);
	r->items++;
	r->bytes += (uint64_t)st.st_size;
	progress(r, false);
	sk_result_free(&res);
out:
	sk_tmpfile_discard(&tf);
	free(base);
	free(final);
	sk_buf_free(&clean);
	close(fd);
}

/* fsync of every folder outputs went into (twalk has no context: one run at a time) */
static struct run *sync_run;

static void sync_one(const void *node, VISIT v, int depth)
{
	(void)depth;
	if (v != postorder && v != leaf)
		return;
	const char *dir = *(char *const *)node;
	sk_error err;
	if (sk_fsync_dir(dir, &err) != 0) {
		cli_fail(sync_run->lang, "出力先フォルダを fsync できませんでした",
			"could not fsync an output folder", NULL, &err);
		worse(sync_run, EXIT_TROUBLE);
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks a folder in name order; symbolic links inside it are not followed. */
static void do_dir(struct run *r, const char *path, const char *rel)
{
	DIR *d = opendir(path);
	if (!d) {
		cli_err(r->lang, "フォルダを開けません", "cannot open folder", path);
		worse(r, EXIT_TROUBLE);
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		char *p = NULL, *rl = NULL;
		if (asprintf(&p, "%s/%s", path, names[i]) >= 0 &&
		    asprintf(&rl, "%s%s%s", rel, *rel ? "/" : "", names[i]) >= 0) {
			struct stat st;
			if (lstat(p, &st) != 0) {
				cli_err(r->lang, "読み込めません", "cannot read", p);
				worse(r, EXIT_TROUBLE);
			} else if (S_ISDIR(st.st_mode)) {
				do_dir(r, p, rl);
			} else if (S_ISREG(st.st_mode)) {
				do_file(r, p, rl, true);
			} else {
				cli_err(r->lang, "通常のファイルではないため飛ばします",
					"not a regular file, skipped", p);
				worse(r, EXIT_TROUBLE);
			}
		}
		free(p);
		free(rl);
		free(names[i]);
	}
	free(names);
}

static void usage(sk_lang lang)
{
	fputs(lang == SK_LANG_EN
		      ? "usage: sekisho sanitize [-o OUTDIR] [--json] [--profile NAME] [--state DIR] [--lang ja|en]\n"
			"         [--clamd SOCKET] [--clamd-timeout SECONDS] [--workers N | --in-process]\n"
			"         [--policy FILE --from ZONE --to ZONE [--channel file|mail|web] [--class LEVEL]\n"
			"          [--asset ID]] PATH...\n"
			"  --state DIR                       keep originals in quarantine and audit every item\n"
			"  --clamd unix:/path | tcp:IP:PORT  scan every item with clamd first\n"
			"                                    (default: $SEKISHO_CLAMD)\n"
			"  --policy FILE --from Z --to Z     apply the flow rules and DLP of a policy file\n"
			"  --asset AS-0001                   the items are that asset of the ledger (needs\n"
			"                                    --state and --policy): they take its class\n"
			"                                    (with --class: the stricter of the two)\n"
			"  --workers N                       sandboxed worker processes (default 1), and as\n"
			"                                    many office workers (LibreOffice, 画像化)\n"
			"  --in-process                      parse in this process, without the sandbox:\n"
			"                                    for debugging only, never for real traffic\n"
			"  --profile default|strict|image    image: every document (PDF, docx, xlsx, pptx,\n"
			"                                    doc, xls, ppt, rtf, odt …) made into a PDF of\n"
			"                                    page images with invisible OCR text (画像化)\n"
			"  --no-office                       no office workers: legacy formats (doc, xls,\n"
			"                                    ppt, rtf, odt …) and 画像化 are blocked\n"
		      : "使い方: sekisho sanitize [-o 出力先] [--json] [--profile 名前] [--state フォルダ] [--lang ja|en]\n"
			"         [--clamd ソケット] [--clamd-timeout 秒] [--workers N | --in-process]\n"
			"         [--policy ファイル --from ゾーン --to ゾーン [--channel file|mail|web] [--class レベル]\n"
			"          [--asset 資産番号]] パス...\n"
			"  --state フォルダ                  原本を隔離保存し、すべての判定を監査ログに記録します\n"
			"  --clamd unix:/パス | tcp:IP:ポート  各ファイルを先に clamd で検査します\n"
			"                                    (省略時: 環境変数 SEKISHO_CLAMD)\n"
			"  --policy ファイル --from --to       ポリシーファイルの通信規則と DLP を適用します\n"
			"  --asset AS-0001                   情報資産管理台帳のその資産として扱い、その分類で\n"
			"                                    判定します (--state と --policy が必要。--class と\n"
			"                                    併用すると厳しい方)\n"
			"  --workers N                       サンドボックス化したワーカープロセスの数 (既定 1)。\n"
			"                                    office ワーカー (LibreOffice・画像化) も同じ数\n"
			"  --in-process                      サンドボックスを使わずこのプロセス内で解析します:\n"
			"                                    デバッグ専用です。実際の通信には使わないでください\n"
			"  --profile default|strict|image    image: すべての文書 (PDF・docx・xlsx・pptx・doc・\n"
			"                                    xls・ppt・rtf・odt など) をページの画像と見えない\n"
			"                                    OCR テキストの PDF にします (画像化)\n"
			"  --no-office                       office ワーカーを使いません: 旧形式 (doc・xls・ppt・\n"
			"                                    rtf・odt など) と画像化は遮断します\n",
	      stderr);
}

int cmd_sanitize(int argc, char **argv)
{
	struct run r = {0};
	sk_options_default(&r.opt);
	const char *lang_opt = NULL, *profile = NULL, *clamd_timeout = NULL, *state = NULL,
		   *policy = NULL, *workers = NULL;
	bool in_process = false, no_office = false;
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, 'j'},
		{"profile", required_argument, NULL, 'p'},
		{"lang", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{"clamd", required_argument, NULL, 'C'},
		{"clamd-timeout", required_argument, NULL, 'T'},
		{"policy", required_argument, NULL, 'P'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'U'},
		{"channel", required_argument, NULL, 'H'},
		{"class", required_argument, NULL, 'K'},
		{"asset", required_argument, NULL, 'A'},
		{"workers", required_argument, NULL, 'W'},
		{"in-process", no_argument, NULL, 'I'},
		{"no-office", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
		switch (c) {
		case 'o': r.outdir = optarg; break;
		case 'j': r.json = true; break;
		case 'p': profile = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 's': state = optarg; break;
		case 'P': policy = optarg; break;
		case 'F': r.from = optarg; break;
		case 'U': r.to = optarg; break;
		case 'H': r.channel = optarg; break;
		case 'K': r.klass = optarg; break;
		case 'A': r.asset = optarg; break;
		case 'W': workers = optarg; break;
		case 'I': in_process = true; break;
		case 'N': no_office = true; break;
		case 'h': usage(cli_lang(lang_opt)); return 0;
		case 'C': r.opt.clamd = optarg; break;
		case 'T': clamd_timeout = optarg; break;
		default: usage(cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	r.lang = cli_lang(lang_opt);
	if (lang_opt && strcmp(lang_opt, "ja") && strcmp(lang_opt, "en")) {
		cli_err(r.lang, "--lang は ja か en です", "--lang takes ja or en", lang_opt);
		return EXIT_TROUBLE;
	}
	if (optind >= argc) {
		usage(r.lang);
		return EXIT_TROUBLE;
	}
	if (profile && !(r.opt.profile = sk_profile_find(profile))) {
		cli_err(r.lang, "不明なプロファイルです", "unknown profile", profile);
		return EXIT_TROUBLE;
	}
	if (!r.opt.clamd && getenv("SEKISHO_CLAMD") && *getenv("SEKISHO_CLAMD"))
		r.opt.clamd = getenv("SEKISHO_CLAMD");
	sk_error serr;
	if (r.opt.clamd && sk_scan_spec_check(r.opt.clamd, &serr) != 0) {
		cli_fail(r.lang, "clamd のソケット指定が不正です", "bad clamd socket", NULL, &serr);
		return EXIT_TROUBLE;
	}
	if (clamd_timeout) {
		char *end = NULL;
		double sec = strtod(clamd_timeout, &end);
		if (!r.opt.clamd || end == clamd_timeout || *end || !(sec > 0 && sec <= 3600)) {
			cli_err(r.lang, "--clamd-timeout は --clamd と共に 0 より大きく 3600 以下の秒数で指定します",
				"--clamd-timeout takes seconds (0 < s <= 3600) and needs --clamd",
				clamd_timeout);
			return EXIT_TROUBLE;
		}
		r.opt.clamd_timeout_ms = (int)(sec * 1000.0);
		if (r.opt.clamd_timeout_ms < 1)
			r.opt.clamd_timeout_ms = 1;
	}
	sk_pool_config pc;
	sk_pool_config_default(&pc);
	pc.workers = 1; /* one file at a time: the worker on this thread's CPU */
	pc.colocate = true;
	if (workers) {
		char *end = NULL;
		unsigned long n = strtoul(workers, &end, 10);
		if (in_process || end == workers || *end || *workers == '-' || n < 1 || n > 256) {
			cli_err(r.lang, "--workers は 1 から 256 の数で、--in-process とは併用できません",
				"--workers takes 1 to 256 and cannot be used with --in-process",
				workers);
			return EXIT_TROUBLE;
		}
		pc.workers = (unsigned)n;
		pc.colocate = n == 1;
	}
	/* the worker executable of a build or a test (default: next to this program) */
	if (getenv("SEKISHO_WORKER") && *getenv("SEKISHO_WORKER"))
		pc.worker = getenv("SEKISHO_WORKER");
	/* hostile bytes are parsed only in sandboxed workers: they start now and initialise
	 * while the policy and the state are opened (sk_pool_ready below) */
	sk_pool *pool = NULL;
	if (!in_process) {
		sk_error perr;
		sk_error_clear(&perr);
		pc.background = true;
		if (sk_pool_open(&pc, &pool, &perr) != 0) {
			cli_fail(r.lang, "ワーカーを起動できません", "cannot start the workers", NULL, &perr);
			return EXIT_TROUBLE;
		}
		r.opt.pool = pool;
	}
	/* legacy formats: LibreOffice started only when an item needs it */
	sk_gate_office *office = NULL;
	if (cli_office_open(r.lang, no_office, policy ? NULL : r.opt.profile, pc.workers, true,
			    &r.opt, &office)) {
		sk_pool_close(pool);
		return EXIT_TROUBLE;
	}
	sk_policy *pol = NULL;
	if (r.asset && (!state || !policy)) {
		cli_err(r.lang, "--asset には --state と --policy が必要です (資産は台帳で引きます)",
			"--asset needs --state and --policy (the asset is looked up in the ledger)",
			r.asset);
		sk_pool_close(pool);
		return EXIT_TROUBLE;
	}
	if (policy || r.from || r.to || r.channel || r.klass) {
		int prc = cli_sanitize_policy(r.lang, policy, r.from, r.to, r.channel, r.klass, &pol);
		if (prc) {
			sk_pool_close(pool);
			sk_gate_office_free(office);
			return prc;
		}
		r.opt.policy = pol;
	}
	if (r.outdir) {
		struct stat st;
		r.out_mode = sk_umask_mode();
		if (mkdir(r.outdir, 0777) != 0 && errno != EEXIST) {
			cli_err(r.lang, "出力先を作成できません", "cannot create the output folder", r.outdir);
			sk_pool_close(pool);
			sk_gate_office_free(office);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
		if (stat(r.outdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			cli_err(r.lang, "出力先がフォルダではありません", "output is not a folder", r.outdir);
			sk_pool_close(pool);
			sk_gate_office_free(office);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
	}
	/* --state: originals into quarantine first, each decision into the audit log */
	sk_audit *audit = NULL;
	sk_quarantine *quar = NULL;
	if (state) {
		if (cli_state_open(r.lang, state, &audit, &quar) != 0) {
			sk_pool_close(pool);
			sk_gate_office_free(office);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
		r.opt.quarantine = quar;
		r.opt.audit = audit;
	}
	/* --state with --policy: malware, DLP blocks and repeated crashes open incidents */
	sk_ledger *ledger = NULL;
	if (state && pol) {
		sk_error lerr;
		sk_error_clear(&lerr);
		sk_ledger_options lo = {.lang = r.lang};
		if (sk_ledger_open(state, audit, pol, &lo, &ledger, &lerr) != 0) {
			cli_fail(r.lang, "台帳を開けません", "cannot open the ledgers", NULL, &lerr);
			sk_pool_close(pool);
			sk_gate_office_free(office);
			cli_state_close(r.lang, audit, quar);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
		r.opt.ledger = ledger;
	}
	if (r.asset) {
		/* an unknown asset is refused, never ignored; so is a class the policy does not
		 * know with it (the decision's own check) */
		char cls[256];
		sk_error aerr;
		sk_error_clear(&aerr);
		int arc = sk_ledger_asset_class(ledger, r.asset, cls, sizeof(cls), &aerr);
		if (arc) {
			if (arc == SK_ENOTFOUND)
				cli_err(r.lang, "情報資産管理台帳にその資産はありません",
					"the asset ledger has no such asset", r.asset);
			else
				cli_fail(r.lang, "資産番号が不正です", "invalid asset id", NULL, &aerr);
			sk_pool_close(pool);
			sk_ledger_close(ledger);
			cli_state_close(r.lang, audit, quar);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
	}
	if (pool) {
		sk_error perr;
		sk_error_clear(&perr);
		if (sk_pool_ready(pool, &perr) != 0) {
			cli_fail(r.lang, "ワーカーを起動できません", "cannot start the workers", NULL, &perr);
			sk_pool_close(pool);
			sk_gate_office_free(office);
			sk_ledger_close(ledger);
			sk_quarantine_close(quar);
			sk_audit_close(audit);
			sk_policy_free(pol);
			return EXIT_TROUBLE;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	for (int i = optind; i < argc; i++) {
		struct stat st;
		const char *path = argv[i];
		if (stat(path, &st) != 0) {
			cli_err(r.lang, "見つかりません", "not found", path);
			worse(&r, EXIT_TROUBLE);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			r.progress = isatty(STDERR_FILENO);
			do_dir(&r, path, "");
		} else {
			const char *base = strrchr(path, '/');
			do_file(&r, path, base ? base + 1 : path, false);
		}
	}
	if (r.progress && r.items)
		progress(&r, true);
	/* the outputs' names durable before the command says it is done */
	sync_run = &r;
	twalk(r.written, sync_one);
	sync_run = NULL;
	/* a checkpoint over this run's records before exiting */
	sk_pool_close(pool);
	sk_gate_office_free(office);
	sk_ledger_close(ledger);
	if (cli_state_close(r.lang, audit, quar) != 0)
		worse(&r, EXIT_TROUBLE);
	sk_policy_free(pol);
	tdestroy(r.cleaned, free);
	tdestroy(r.written, free);
	return r.status;
}
