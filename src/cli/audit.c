/* sekisho audit — the tamper-evident audit log. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "sekisho/audit.h"

enum { EXIT_OK = 0, EXIT_BAD = 1, EXIT_TROUBLE = 2 };

static void usage(sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho audit [--state DIR] [--lang ja|en] COMMAND\n"
		      "  append --actor A --action X --object O [--result R] [--detail TEXT]\n"
		      "  list [--since TIME] [--until TIME] [--json]\n"
		      "  verify [--anchor FILE] [--key VKEY-FILE] [--json]\n"
		      "  proof inclusion SEQ [--size N]\n"
		      "  proof consistency OLD NEW\n"
		      "  checkpoint                      sign a checkpoint now (heartbeat)\n"
		      "  key                             print the log's verifier key\n"
		      "TIME: 2026-12-07, 2026-12-07T14:46, 2026-12-07T05:46Z, 2026-12-07T14:46+09:00;\n"
		      "  without a zone, the local zone (TZ; JST when TZ is not set); --until DATE\n"
		      "  includes that day\n"
		      "options of append and checkpoint: --anchor-file PATH, --anchor-syslog\n"
		      "  unix:PATH|udp:HOST:PORT, --checkpoint-every N, --checkpoint-seconds T\n",
		      stderr);
	else
		fputs("使い方: sekisho audit [--state フォルダ] [--lang ja|en] コマンド\n"
		      "  append --actor 実行者 --action 操作 --object 対象 [--result 結果] [--detail 詳細]\n"
		      "  list [--since 日時] [--until 日時] [--json]\n"
		      "  verify [--anchor ファイル] [--key 検証鍵ファイル] [--json]\n"
		      "  proof inclusion 番号 [--size 件数]\n"
		      "  proof consistency 旧件数 新件数\n"
		      "  checkpoint                      今すぐチェックポイントに署名 (死活確認)\n"
		      "  key                             ログの検証鍵を表示\n"
		      "日時: 2026-12-07・2026-12-07T14:46・2026-12-07T05:46Z・2026-12-07T14:46+09:00\n"
		      "  (時間帯のない日時は TZ の時間帯。TZ がなければ日本時間。--until に日付だけを\n"
		      "  書くとその日の終わりまで)\n"
		      "append と checkpoint のオプション: --anchor-file パス, --anchor-syslog\n"
		      "  unix:パス|udp:ホスト:ポート, --checkpoint-every 件数, --checkpoint-seconds 秒\n",
		      stderr);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-')
		return -1;
	*v = x;
	return 0;
}

struct lctx {
	bool json, en;
	int64_t until_us; /* 0: none */
};

#define LIST_DONE 1 /* list_one: past --until (times never go backwards: verify checks it) */

static int list_one(void *ctx, const sk_audit_record *r)
{
	struct lctx *l = ctx;
	if (l->until_us && r->time_us > l->until_us)
		return LIST_DONE;
	char t[40];
	sk_time_format_us(r->time_us, t, sizeof(t));
	if (l->json) {
		char tj[40];
		sk_time_iso_jst(r->time_us, tj, sizeof(tj));
		json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq",
				      (json_int_t)r->seq, "time", t, "time_jst", tj, "actor", r->actor,
				      "action", r->action, "object", r->object, "result", r->result,
				      "detail", r->detail);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (s)
			puts(s);
		free(s);
		json_decref(o);
		return 0;
	}
	/* one line a record: tabs and newlines inside values are shown escaped; the time
	 * in the local zone for people */
	cli_time_format(r->time_us, t, sizeof(t));
	printf("%llu\t%s", (unsigned long long)r->seq, t);
	const char *v[5] = {r->actor, r->action, r->object, r->result, r->detail};
	for (int i = 0; i < 5; i++) {
		putchar('\t');
		for (const char *p = v[i]; *p; p++) {
			if (*p == '\n')
				fputs("\\n", stdout);
			else if (*p == '\t')
				fputs("\\t", stdout);
			else
				putchar(*p);
		}
	}
	putchar('\n');
	return 0;
}

static void print_hash_line(const char *label, const uint8_t h[SK_SHA256_LEN])
{
	char b64[64];
	sodium_bin2base64(b64, sizeof(b64), h, SK_SHA256_LEN, sodium_base64_VARIANT_ORIGINAL);
	printf("%s %s\n", label, b64);
}

/* The detail of a verify problem in Japanese, from its fields (the library's detail,
 * vr->message, is English): which records, which checkpoint, what it means. */
static void verify_detail_ja(const sk_audit_verify_result *vr, char *out, size_t n)
{
	unsigned long long b = (unsigned long long)vr->bad_seq, e = (unsigned long long)vr->bad_end;
	long long cp = (long long)vr->bad_checkpoint;
	char range[64], who[64];
	if (e > b + 1)
		snprintf(range, sizeof(range), "記録 %llu〜%llu", b, e - 1);
	else
		snprintf(range, sizeof(range), "記録 %llu", b);
	if (cp == 0)
		snprintf(who, sizeof(who), "アンカー (外部に保管したチェックポイント)");
	else
		snprintf(who, sizeof(who), "チェックポイント %lld", cp);
	switch (vr->problem) {
	case SK_AUDIT_MISSING:
		snprintf(out, n, "%s がありません (削除されています)", range);
		break;
	case SK_AUDIT_MALFORMED:
		snprintf(out, n, "%s の内容が正しい形式ではありません", range);
		break;
	case SK_AUDIT_MISPLACED:
		snprintf(out, n, "%s の位置に別の番号の記録があります (移動・入れ替え)", range);
		break;
	case SK_AUDIT_TIME:
		snprintf(out, n, "%s の時刻が記録の内容と違うか、前の記録より前になっています", range);
		break;
	case SK_AUDIT_MODIFIED:
		snprintf(out, n, "%s の内容が保存されたハッシュと一致しません (書き換え)", range);
		break;
	case SK_AUDIT_NODE:
		snprintf(out, n, "%s を含むハッシュ木の保存値が、記録から計算した値と違います", range);
		break;
	case SK_AUDIT_ROOT:
		if (e > b)
			snprintf(out, n, "%s の署名した値と記録が一致しません: %s のどれかが変更されています",
				 who, range);
		else
			snprintf(out, n, "%s の署名した値と記録が一致しません", who);
		break;
	case SK_AUDIT_SIGNATURE:
		snprintf(out, n, "%s の署名を検証できません (鍵が違うか、書き換えられています)", who);
		break;
	case SK_AUDIT_CHECKPOINT:
		snprintf(out, n, "%s が壊れているか、順序が正しくありません", who);
		break;
	case SK_AUDIT_TRUNCATED:
		snprintf(out, n, "%s は記録 %llu 件を保証していますが、ログには %llu 件しかありません (記録 %llu 以降が失われています)",
			 who, e, b, b);
		break;
	default:
		snprintf(out, n, "%s", sk_audit_problem_text(vr->problem, false));
	}
}

/* The verdict of a verify run: "ok" (every record under a valid signed checkpoint),
 * "unsigned-tail" (no problem found, but the newest records are not signed yet, so
 * nothing proves they are unchanged), "failed". Exit status 0, 0, 1. */
static int print_verify(const sk_audit_verify_result *vr, bool en, bool json, bool anchor)
{
	uint64_t unsig = vr->records > vr->covered ? vr->records - vr->covered : 0;
	const char *verdict = !vr->ok ? "failed" : unsig ? "unsigned-tail" : "ok";
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "verdict", json_string(verdict));
		json_object_set_new(o, "records", json_integer((json_int_t)vr->records));
		json_object_set_new(o, "checkpoints", json_integer((json_int_t)vr->checkpoints));
		/* the sequence number of the last record a valid signed checkpoint covers */
		json_object_set_new(o, "signed_through", vr->covered
								 ? json_integer((json_int_t)vr->covered - 1)
								 : json_null());
		json_object_set_new(o, "signed_records", json_integer((json_int_t)vr->covered));
		json_object_set_new(o, "unsigned_records", json_integer((json_int_t)unsig));
		json_object_set_new(o, "anchor", json_boolean(anchor));
		if (vr->ok) {
			json_object_set_new(o, "problem", json_null());
		} else {
			json_t *p = json_object();
			json_object_set_new(p, "code", json_string(sk_audit_problem_code(vr->problem)));
			json_object_set_new(p, "text", json_string(sk_audit_problem_text(vr->problem, en)));
			json_object_set_new(p, "first_record", json_integer((json_int_t)vr->bad_seq));
			json_object_set_new(p, "end_record", json_integer((json_int_t)vr->bad_end));
			json_object_set_new(p, "message", json_string(vr->message));
			char ja[512];
			verify_detail_ja(vr, ja, sizeof(ja));
			json_object_set_new(p, "message_ja", json_string(ja));
			json_object_set_new(o, "problem", p);
		}
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
		return vr->ok ? EXIT_OK : EXIT_BAD;
	}
	unsigned long long R = (unsigned long long)vr->records, C = (unsigned long long)vr->checkpoints,
			   S = (unsigned long long)vr->covered, U = (unsigned long long)unsig;
	if (!vr->ok) {
		unsigned long long b = (unsigned long long)vr->bad_seq, e = (unsigned long long)vr->bad_end;
		printf("%s: %s: ", en ? "FAILED" : "異常", sk_audit_problem_text(vr->problem, en));
		if (e > b + 1)
			printf(en ? "records %llu..%llu\n" : "記録 %llu〜%llu\n", b, e - 1);
		else
			printf(en ? "record %llu\n" : "記録 %llu\n", b);
		if (en) {
			printf("  %s\n", vr->message);
		} else {
			char ja[512];
			verify_detail_ja(vr, ja, sizeof(ja));
			printf("  %s\n", ja);
		}
		return EXIT_BAD;
	}
	if (en) {
		if (U == 0)
			printf("OK: %llu records, %llu checkpoints verified; every record is covered by a "
			       "signed checkpoint%s\n", R, C, anchor ? " (anchor included)" : "");
		else
			printf("OK up to the last signed checkpoint: %llu records, %llu checkpoints "
			       "verified%s\n", R, C, anchor ? " (anchor included)" : "");
		if (S)
			printf("signed: through record %llu (%llu records)\n", S - 1, S);
		else
			printf("signed: none\n");
		if (U)
			printf("unsigned: %llu records (%llu..%llu): no signed checkpoint covers them, "
			       "so they are NOT proven unchanged\n", U, S, R - 1);
		else
			printf("unsigned: 0 records\n");
	} else {
		if (U == 0)
			printf("正常: %llu 件の記録と %llu 件のチェックポイントを検証しました "
			       "(すべて署名済み%s)\n", R, C, anchor ? "、アンカーを含む" : "");
		else
			printf("署名済みの範囲は正常: %llu 件の記録と %llu 件のチェックポイントを"
			       "検証しました%s\n", R, C, anchor ? " (アンカーを含む)" : "");
		if (S)
			printf("署名済み: %llu 件目まで (記録 0〜%llu)\n", S, S - 1);
		else
			printf("署名済み: なし\n");
		if (U)
			printf("未署名: %llu 件 (記録 %llu〜%llu はチェックポイントの署名がなく、"
			       "改ざんされていないことを証明できません)\n", U, S, R - 1);
		else
			printf("未署名: 0 件\n");
	}
	return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
	const char *state = NULL, *lang_opt = NULL, *actor = NULL, *action = NULL, *object = NULL;
	const char *result = "", *detail = "", *since = NULL, *until = NULL, *anchor = NULL;
	const char *keyfile = NULL;
	const char *size_opt = NULL;
	bool json = false;
	sk_audit_options ao;
	sk_audit_options_default(&ao);
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'l'},
		{"actor", required_argument, NULL, 'A'},
		{"action", required_argument, NULL, 'X'},
		{"object", required_argument, NULL, 'O'},
		{"result", required_argument, NULL, 'R'},
		{"detail", required_argument, NULL, 'D'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"json", no_argument, NULL, 'j'},
		{"anchor", required_argument, NULL, 'a'},
		{"key", required_argument, NULL, 'k'},
		{"size", required_argument, NULL, 'z'},
		{"anchor-file", required_argument, NULL, 'F'},
		{"anchor-syslog", required_argument, NULL, 'Y'},
		{"checkpoint-every", required_argument, NULL, 'N'},
		{"checkpoint-seconds", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	uint64_t v;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'A': actor = optarg; break;
		case 'X': action = optarg; break;
		case 'O': object = optarg; break;
		case 'R': result = optarg; break;
		case 'D': detail = optarg; break;
		case 'S': since = optarg; break;
		case 'U': until = optarg; break;
		case 'j': json = true; break;
		case 'a': anchor = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'z': size_opt = optarg; break;
		case 'F': ao.anchor_file = optarg; break;
		case 'Y': ao.anchor_syslog = optarg; break;
		case 'N':
		case 'T':
			if (parse_u64(optarg, &v) != 0 || v == 0 || v > INT64_MAX / 1000000) {
				cli_err(cli_lang(lang_opt), "正の整数を指定してください",
					"a positive number is needed", optarg);
				return EXIT_TROUBLE;
			}
			if (ch == 'N')
				ao.checkpoint_every = v;
			else
				ao.checkpoint_seconds = (int64_t)v;
			break;
		case 'h': usage(cli_lang(lang_opt)); return EXIT_OK;
		default: usage(cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	sk_lang lang = cli_lang(lang_opt);
	bool en = lang == SK_LANG_EN;
	int nargs = argc - optind;
	char **args = argv + optind;
	if (nargs < 1) {
		usage(lang);
		return EXIT_TROUBLE;
	}
	const char *sub = args[0];
	char *dir = cli_state_dir(state);
	if (!dir) {
		cli_err(lang, "状態フォルダが決まりません (--state を指定してください)",
			"no state folder (give --state)", NULL);
		return EXIT_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_audit *a = NULL;
	if (sk_audit_open(dir, &ao, &a, &err) != 0) {
		cli_fail(lang, "監査ログを開けません", "cannot open the audit log", dir, &err);
		free(dir);
		return EXIT_TROUBLE;
	}
	int status = EXIT_OK;
	sk_buf note, ab;
	sk_buf_init(&note, SK_NOTE_MAX);
	sk_buf_init(&ab, SK_NOTE_MAX);
	if (!strcmp(sub, "append") && nargs == 1) {
		if (!actor || !action || !object) {
			usage(lang);
			status = EXIT_TROUBLE;
			goto out;
		}
		uint64_t seq;
		if (sk_audit_append(a, actor, action, object, result, detail, &seq, &err) != 0) {
			cli_fail(lang, "記録できませんでした", "could not append", NULL, &err);
			status = err.code == SK_EINVAL || err.code == SK_ELIMIT ? EXIT_BAD : EXIT_TROUBLE;
			goto out;
		}
		/* no record this command wrote stays unsigned after it exits */
		int crc = sk_audit_checkpoint_if_due(a, 0, NULL, &err);
		printf(en ? "recorded %llu\n" : "記録しました: %llu\n", (unsigned long long)seq);
		if (crc) {
			cli_fail(lang, "チェックポイントに署名できませんでした", "signing the checkpoint failed",
				 NULL, &err);
			status = EXIT_TROUBLE;
		} else if (sk_audit_anchor_error(a)[0]) {
			sk_error ae;
			sk_error_set(&ae, SK_EIO, "%s", sk_audit_anchor_error(a));
			cli_fail(lang, "チェックポイントを外部に保管できませんでした (アンカー)",
				 "anchoring the checkpoint failed", NULL, &ae);
			status = EXIT_TROUBLE;
		}
	} else if (!strcmp(sub, "list") && nargs == 1) {
		int64_t since_us = 0, until_us = 0;
		const char *bad = since && cli_time_parse(since, false, &since_us, &err) != 0 ? since
				  : until && cli_time_parse(until, true, &until_us, &err) != 0 ? until
											  : NULL;
		if (bad) {
			cli_err(lang, "日時が不正です (例 2026-12-07、2026-12-07T14:46)",
				"bad time (e.g. 2026-12-07, 2026-12-07T14:46)", bad);
			status = EXIT_TROUBLE;
			goto out;
		}
		struct lctx l = {.json = json, .en = en, .until_us = until_us};
		if (!json)
			printf(en ? "# seq\ttime\tactor\taction\tobject\tresult\tdetail\n"
				  : "# 番号\t日時\t実行者\t操作\t対象\t結果\t詳細\n");
		int lrc = sk_audit_list(a, since_us, list_one, &l, &err);
		if (lrc != 0 && lrc != LIST_DONE) {
			cli_fail(lang, "監査ログを読めません (verify で確認してください)",
				"cannot read the log (run verify)", NULL, &err);
			status = EXIT_TROUBLE;
		}
	} else if (!strcmp(sub, "verify") && nargs == 1) {
		char *vkey = NULL;
		if (keyfile) {
			if (sk_read_file(keyfile, 4096, &ab, &err) != 0) {
				cli_fail(lang, "検証鍵を読めません", "cannot read the key", NULL, &err);
				status = EXIT_TROUBLE;
				goto out;
			}
			vkey = strdup(sk_buf_str(&ab));
		}
		if (anchor && sk_read_file(anchor, SK_NOTE_MAX, &note, &err) != 0) {
			cli_fail(lang, "アンカーを読めません", "cannot read the anchor", NULL, &err);
			free(vkey);
			status = EXIT_TROUBLE;
			goto out;
		}
		sk_audit_verify_result vr;
		int rc = sk_audit_verify(a, vkey, anchor ? (const char *)note.data : NULL,
					 anchor ? note.len : 0, &vr, &err);
		free(vkey);
		if (rc) {
			cli_fail(lang, "検証を実行できませんでした", "verify could not run", NULL, &err);
			status = EXIT_TROUBLE;
		} else {
			status = print_verify(&vr, en, json, anchor != NULL);
		}
	} else if (!strcmp(sub, "proof") && nargs >= 2) {
		uint8_t proof[SK_MERKLE_PROOF_MAX][SK_SHA256_LEN], h1[SK_SHA256_LEN], h2[SK_SHA256_LEN];
		size_t len = 0;
		uint64_t x, y, size = 0;
		if (!strcmp(args[1], "inclusion") && nargs == 3 && parse_u64(args[2], &x) == 0 &&
		    (!size_opt || parse_u64(size_opt, &size) == 0)) {
			uint64_t got;
			int prc = sk_audit_inclusion_proof(a, x, size, &got, h1, h2, proof, &len, &err);
			uint64_t have = 0;
			if (prc == SK_ENOTFOUND && sk_audit_size(a, &have, &err) == 0) {
				char why[160];
				snprintf(why, sizeof(why),
					 en ? "record %llu is not in a log of %llu records"
					    : "記録 %llu は %llu 件のログにありません",
					 (unsigned long long)x, (unsigned long long)(size ? size : have));
				cli_err(lang, "証明を作れません", "no proof", why);
				status = EXIT_TROUBLE;
				goto out;
			}
			if (prc != 0) {
				cli_fail(lang, "証明を作れません", "no proof", NULL, &err);
				status = EXIT_TROUBLE;
				goto out;
			}
			printf("inclusion %llu %llu\n", (unsigned long long)x, (unsigned long long)got);
			print_hash_line("leaf", h1);
			print_hash_line("root", h2);
		} else if (!strcmp(args[1], "consistency") && nargs == 4 && parse_u64(args[2], &x) == 0 &&
			   parse_u64(args[3], &y) == 0) {
			int prc = sk_audit_consistency_proof(a, x, y, h1, h2, proof, &len, &err);
			uint64_t have = 0;
			if (prc == SK_ENOTFOUND && sk_audit_size(a, &have, &err) == 0) {
				char why[160];
				snprintf(why, sizeof(why),
					 en ? "no consistency proof from %llu to %llu records (the log has %llu)"
					    : "%llu 件から %llu 件への整合性の証明はありません (ログは %llu 件)",
					 (unsigned long long)x, (unsigned long long)y, (unsigned long long)have);
				cli_err(lang, "証明を作れません", "no proof", why);
				status = EXIT_TROUBLE;
				goto out;
			}
			if (prc != 0) {
				cli_fail(lang, "証明を作れません", "no proof", NULL, &err);
				status = EXIT_TROUBLE;
				goto out;
			}
			printf("consistency %llu %llu\n", (unsigned long long)x, (unsigned long long)y);
			print_hash_line("old-root", h1);
			print_hash_line("root", h2);
		} else {
			usage(lang);
			status = EXIT_TROUBLE;
			goto out;
		}
		for (size_t i = 0; i < len; i++)
			print_hash_line("proof", proof[i]);
	} else if (!strcmp(sub, "checkpoint") && nargs == 1) {
		bool made;
		if (sk_audit_checkpoint(a, true, &note, &made, &err) != 0) {
			cli_fail(lang, "チェックポイントを作れません", "checkpoint failed", NULL, &err);
			status = EXIT_TROUBLE;
		}
		fwrite(note.data ? note.data : (const uint8_t *)"", 1, note.len, stdout);
	} else if (!strcmp(sub, "key") && nargs == 1) {
		puts(sk_audit_vkey(a));
	} else {
		usage(lang);
		status = EXIT_TROUBLE;
	}
out:
	sk_buf_free(&note);
	sk_buf_free(&ab);
	sk_audit_close(a);
	free(dir);
	return status;
}
