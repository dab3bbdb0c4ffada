/* The self-inspection and audit checklists: the built-in requirements (POLICY-DIGEST,
 * grouped as the policies group them) and their generation per section and period (see
 * ledger.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

#define C_RES "強靭性の向上", "Resilience (the three-tier measures)"
#define C_ASSET "情報資産の分類と管理", "Classification and management of information assets"
#define C_ORG "組織体制", "Organisation"
#define C_HUMAN "人的・物理的", "Human and physical"
#define C_TECH "技術的", "Technical"
#define C_OPS "運用", "Operations"
#define C_AUDIT "監査・自己点検・見直し", "Audits, self-inspections and review"

static const sk_ledger_requirement reqs[] = {
	/* 強靭性の向上 */
	{C_RES, "マイナンバー利用事務系の端末とシステムは、他の領域と原則として通信できないよう分離されていますか。",
	 "Are the terminals and systems of the My Number zone separated so that, in principle, they cannot communicate with other zones?"},
	{C_RES, "マイナンバー利用事務系の端末から情報を持ち出せないよう制限していますか。",
	 "Is taking information out of the My Number zone's terminals prevented?"},
	{C_RES, "マイナンバー利用事務系の端末へのログインに多要素認証を用いていますか。",
	 "Do logins to the My Number zone's terminals use multi-factor authentication?"},
	{C_RES, "LGWAN接続系とインターネット接続系の通信経路は分割されていますか。",
	 "Is the network path of the LGWAN zone separated from that of the Internet zone?"},
	{C_RES, "LGWAN接続系とインターネット接続系の間でメールやファイルを受け渡すときは、無害化通信 (テキスト化・画像化・無害化処理) だけを用いていますか。",
	 "When mail or files must pass between the LGWAN and Internet zones, is only sanitised traffic used (conversion to text or images, removal of active content)?"},
	{C_RES, "インターネット接続系の通信は自治体情報セキュリティクラウドに集約され、不正な通信が監視されていますか。",
	 "Is the Internet zone's traffic aggregated through the prefecture's security cloud and monitored for illicit traffic?"},
	{C_RES, "採用している構成 (α・α′・β・β′モデル) と、それが前提とする対策が文書にまとめられていますか。",
	 "Are the deployment model in use (α, α′, β, β′) and the measures it presupposes documented?"},

	/* 情報資産の分類と管理 */
	{C_ASSET, "所管する情報資産 (ネットワーク、システム、機器、記録媒体、印刷物を含む情報、仕様書やネットワーク構成図などのシステム関連文書) を情報資産管理台帳に登録していますか。",
	 "Are the section's information assets (networks, systems, equipment, media, information including printouts, and system documents such as specifications and network diagrams) recorded in the information asset ledger?"},
	{C_ASSET, "各情報資産について、機密性・完全性・可用性の分類を決め、分類が分かるように表示していますか。",
	 "Has each information asset been classified for confidentiality, integrity and availability, with its class marked?"},
	{C_ASSET, "各情報資産に管理者 (作成または受領した課の課長) が定められていますか。",
	 "Does each information asset have an owner (the head of the section that made or received it)?"},
	{C_ASSET, "機密性2以上の情報の複製や配布を、業務上必要な範囲に限っていますか。",
	 "Are copying and distribution of information of confidentiality 2 or above limited to what the work needs?"},
	{C_ASSET, "機密性2以上の情報は、定められた場所に施錠するなどして保管していますか。",
	 "Is information of confidentiality 2 or above kept only in designated places, locked or otherwise controlled?"},
	{C_ASSET, "機密性2以上の情報を送信または運搬するときは、暗号化またはパスワードで保護していますか。",
	 "Is information of confidentiality 2 or above encrypted or password-protected when it is sent or carried?"},
	{C_ASSET, "機密性2以上の情報を、支給されていない端末で処理しないよう徹底していますか。",
	 "Is it ensured that information of confidentiality 2 or above is never processed on terminals the organisation did not issue?"},
	{C_ASSET, "情報 (紙の文書を含む) を廃棄するときは、復元できない方法で消去または破砕していますか。",
	 "When information (paper documents included) is disposed of, is it erased or shredded so that it cannot be restored?"},
	{C_ASSET, "完全性2・可用性2の情報資産について、バックアップと復旧の目標を定めていますか。",
	 "For assets of integrity 2 or availability 2, are backups and recovery targets defined?"},
	{C_ASSET, "情報資産管理台帳の内容を定期的に見直し、最新に保っていますか。",
	 "Is the information asset ledger reviewed regularly and kept up to date?"},

	/* 組織体制 */
	{C_ORG, "所属の情報セキュリティ責任者・情報セキュリティ管理者・システム管理者が定められ、職員に周知されていますか。",
	 "Are the section's information security officer, information security manager and system administrators designated and known to the staff?"},
	{C_ORG, "業務分掌職務権限一覧表 (責任分担) に従って、所属の情報セキュリティ上の役割を果たしていますか。",
	 "Does the section carry out the security duties that the responsibility matrix assigns to it?"},
	{C_ORG, "情報セキュリティ委員会の決定事項を所属の職員に伝えていますか。",
	 "Are the decisions of the information security committee passed on to the section's staff?"},

	/* 人的・物理的 */
	{C_HUMAN, "新規採用職員に情報セキュリティ研修を実施し、受講を記録していますか。",
	 "Do new employees receive information security training, with their attendance recorded?"},
	{C_HUMAN, "所属の職員全員が、今年度の情報セキュリティ研修を受講しましたか。",
	 "Has every member of the section's staff taken this year's information security training?"},
	{C_HUMAN, "システムの運用に携わる職員が、システム運用研修を受講していますか。",
	 "Have the staff who operate systems taken the system operation training?"},
	{C_HUMAN, "研修ごとに、実施日・講師・対象者・内容・効果測定の方法を定めた計画を作成していますか。",
	 "Is there a plan for each course giving its date, trainer, audience, content and how its effect is measured?"},
	{C_HUMAN, "研修の効果をアンケート・テスト・面談などで測定し、実施報告を作成していますか。",
	 "Is the effect of each course measured (survey, test, interview) and a report written?"},
	{C_HUMAN, "サーバ室などのセキュリティ区画は、常時施錠されていますか。",
	 "Are server rooms and other security areas kept locked at all times?"},
	{C_HUMAN, "セキュリティ区画への入退室を記録していますか。",
	 "Are entries to and exits from the security areas recorded?"},
	{C_HUMAN, "セキュリティ区画に入る委託事業者を事前に登録し、職員が立ち会っていますか。",
	 "Are contractors who enter the security areas registered in advance and escorted by staff?"},
	{C_HUMAN, "機器や記録媒体を廃棄・返却するときは、データを消去するか媒体を破壊し、その記録を残していますか。",
	 "When equipment or media are disposed of or returned, is the data erased or the media destroyed, and is this recorded?"},
	{C_HUMAN, "パスワードを推測されにくいものにし、使い回し・書き留め・他人との共有をしないよう徹底していますか。",
	 "Are passwords hard to guess, and is it ensured that they are never reused, written down or shared?"},

	/* 技術的 */
	{C_TECH, "重要なシステムのアクセス記録を取得し、定められた期間保存していますか。",
	 "Are the access records of important systems taken and kept for the set period?"},
	{C_TECH, "ネットワークのセグメント分割、ルータ、暗号化、パスワード、アプリケーションやドライブの利用制限によってアクセスを制御していますか。",
	 "Is access controlled by network segments, routers, encryption, passwords and limits on applications and drives?"},
	{C_TECH, "職員の異動や退職に応じて、利用者の権限を速やかに変更または削除していますか。",
	 "When staff move or leave, are their user rights changed or removed promptly?"},
	{C_TECH, "サーバと端末にマルウェア対策ソフトを導入し、定義ファイルを常に最新にしていますか。",
	 "Is anti-malware software installed on servers and terminals, with its definitions always current?"},
	{C_TECH, "不審なメールの添付ファイルを開かないよう、職員に周知していますか。",
	 "Have the staff been told not to open the attachments of suspicious mail?"},
	{C_TECH, "外部に渡すファイルは、渡す前にマルウェア検査をしていますか。",
	 "Are files scanned for malware before they are given outside?"},
	{C_TECH, "ファイアウォールで不要なポートを閉じ、そのログを監視・保存していますか。",
	 "Are unneeded ports closed at the firewall, and are its logs monitored and kept?"},
	{C_TECH, "OS やソフトウェアのセキュリティ修正プログラムを速やかに適用していますか。",
	 "Are security patches for operating systems and software applied promptly?"},
	{C_TECH, "計画に従ってバックアップを取得し、復元できることを確認していますか。",
	 "Are backups taken according to plan, and is it checked that they can be restored?"},
	{C_TECH, "登録されたサーバに無停電電源装置 (UPS) を備えていますか。",
	 "Do the registered servers have an uninterruptible power supply (UPS)?"},

	/* 運用 */
	{C_OPS, "システムログ、不正侵入の検知、脆弱性検査、ウイルス監視、ネットワーク性能の監視ごとに、担当者と計画を定め、結果を報告していますか。",
	 "Do system logs, intrusion detection, vulnerability checks, virus monitoring and network performance each have an owner and a plan, with the results reported?"},
	{C_OPS, "情報セキュリティ事故 (そのおそれを含む) を見つけた職員が、直ちにシステム管理者に報告することを周知していますか。",
	 "Do the staff know that whoever finds a security incident (or a risk of one) reports it to the system administrator at once?"},
	{C_OPS, "事故は、システム管理者から情報政策課長へ、必要に応じて CISO と情報セキュリティ委員会へと報告されていますか。",
	 "Are incidents reported from the system administrator to the head of information policy, and to the CISO and the committee as needed?"},
	{C_OPS, "事故への対応の結果と再発防止策を、情報セキュリティ事故管理台帳に記録していますか。",
	 "Are the outcome of each incident and the measures against its recurrence recorded in the incident ledger?"},
	{C_OPS, "重要なシステムごとに緊急時対応計画を作成し、見直していますか。",
	 "Does each important system have an emergency response plan that is reviewed?"},
	{C_OPS, "例外措置は、申請と承認を経て期限を定めて行い、記録していますか。",
	 "Are exceptions requested, approved, limited in time and recorded?"},
	{C_OPS, "期限を過ぎた例外措置を終了させていますか。",
	 "Are exceptions ended when they expire?"},
	{C_OPS, "委託事業者を、情報セキュリティの要件に基づいて選定していますか。",
	 "Are contractors chosen by information security requirements?"},
	{C_OPS, "委託契約に、機密保持、再委託の制限、データの保管場所、契約終了時のデータ消去を定めていますか。",
	 "Do outsourcing contracts lay down confidentiality, limits on re-subcontracting, where the data is kept and its deletion at the end?"},
	{C_OPS, "委託事業者から機密保持契約と従事者の誓約書を受け取っていますか。",
	 "Have the contractors signed a confidentiality agreement, with personal pledges from their staff?"},
	{C_OPS, "委託事業者やクラウドサービスのセキュリティ対策の実施状況を定期的に確認していますか。",
	 "Are the security measures of contractors and cloud services checked regularly?"},
	{C_OPS, "ポリシーが求める台帳 (セキュリティ区画管理台帳、インターネットアクセス制御管理台帳、ウイルス対策管理台帳など) を整備し、最新に保っていますか。",
	 "Are the registers the policy requires (security areas, Internet access control, anti-virus and others) kept and up to date?"},
	{C_OPS, "所属の業務に関わる法令や規程を、情報セキュリティ法規制等登録簿で把握していますか。",
	 "Are the laws and rules that bear on the section's work listed in the register of laws and rules?"},

	/* 監査・自己点検・見直し */
	{C_AUDIT, "所属の自己点検を年1回以上実施し、結果を報告していますか。",
	 "Does the section inspect itself at least once a year and report the results?"},
	{C_AUDIT, "監査や自己点検の指摘事項について、担当者と期限を定めて改善し、完了まで確認していますか。",
	 "Does each finding of an audit or self-inspection have an owner and a due date, and is it followed up until it is closed?"},
	{C_AUDIT, "情報セキュリティ監査は年間計画に基づき、監査を受ける所属から独立した監査員が行っていますか。",
	 "Are audits carried out to a yearly plan by auditors independent of the section audited?"},
	{C_AUDIT, "監査の結果は情報セキュリティ委員会に報告されていますか。",
	 "Are the results of audits reported to the information security committee?"},
	{C_AUDIT, "監査や自己点検の結果、脅威の変化に応じて、所属の実施手順を見直していますか。",
	 "Are the section's procedures reviewed after audits and self-inspections and when threats change?"},
	{C_AUDIT, "所属の文書は版を管理し、承認を受け、古い版を回収していますか。",
	 "Are the section's documents versioned and approved, with superseded versions withdrawn?"},
	{C_AUDIT, "記録を定められた期間保存していますか。",
	 "Are records kept for the set period?"},
};

size_t sk_ledger_requirements(const sk_ledger_requirement **v)
{
	if (v)
		*v = reqs;
	return sizeof(reqs) / sizeof(reqs[0]);
}

const char *sk_ledger_chapter_text(const char *chapter, sk_lang lang)
{
	if (!chapter || lang != SK_LANG_EN)
		return chapter;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		if (!strcmp(reqs[i].chapter_ja, chapter))
			return reqs[i].chapter_en;
	return chapter;
}

/* The stored text of a requirement: the Japanese question, then the English one. */
static char *req_text(const sk_ledger_requirement *r)
{
	char *s = NULL;
	return asprintf(&s, "%s\n(%s)", r->ja, r->en) < 0 ? NULL : s;
}

/* Whether the first line of a stored requirement is ja. */
static bool first_line_is(const char *stored, const char *ja)
{
	size_t n = strlen(ja);
	return stored && !strncmp(stored, ja, n) && (stored[n] == 0 || stored[n] == '\n');
}

/* The requirement texts already in the checklists for period, kind and section (section
 * "" for none) into *have (a JSON array, caller decrefs). */
static int existing(sk_ledger *l, const char *period, const char *kind, const char *section,
		    json_t **have, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	*have = json_array();
	if (!*have)
		return sk_error_set(err, SK_ENOMEM, "checklist");
	if (sqlite3_prepare_v2(l->db,
			       "SELECT json_extract(data, '$.requirement') FROM records"
			       " WHERE tbl='inspections/checklists' AND json_extract(data, '$.period')=?1"
			       " AND coalesce(json_extract(data, '$.kind'), 'self')=?2"
			       " AND coalesce(json_extract(data, '$.section'), '')=?3",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "checklists");
	sqlite3_bind_text(st, 1, period, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, section, -1, SQLITE_TRANSIENT);
	int s, rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t && json_array_append_new(*have, json_string(t))) {
			rc = sk_error_set(err, SK_ENOMEM, "checklist");
			break;
		}
	}
	if (!rc && s != SQLITE_DONE)
		rc = sk_ledger_db_err(l, err, "checklists");
	sqlite3_finalize(st);
	return rc;
}

static bool has(json_t *have, const char *ja)
{
	size_t i;
	json_t *v;
	json_array_foreach(have, i, v) {
		if (first_line_is(json_string_value(v), ja))
			return true;
	}
	return false;
}

/* Adds the missing requirements for one section (NULL: none), in the open transaction. */
static int gen_section(sk_ledger *l, const sk_ledger_table *t, const char *period,
		       const char *kind, const char *section, const char *by, lchange **ch, size_t *nch,
		       size_t *cap, size_t *skipped, sk_error *err)
{
	const size_t nreq = sizeof(reqs) / sizeof(reqs[0]);
	json_t *have = NULL;
	int rc = 0;
	for (size_t i = 0; i < nreq && !rc; i++) {
		char *vals[SK_LEDGER_FIELDS_MAX] = {0};
		int fc = sk_ledger_field_index(t, "chapter"), fr = sk_ledger_field_index(t, "requirement"),
		    fs = sk_ledger_field_index(t, "section"), fp = sk_ledger_field_index(t, "period"),
		    fk = sk_ledger_field_index(t, "kind");
		if (fc < 0 || fr < 0 || fs < 0 || fp < 0 || fk < 0)
			return sk_error_set(err, SK_EINVAL, "checklists: fields missing");
		vals[fc] = strdup(reqs[i].chapter_ja);
		vals[fr] = req_text(&reqs[i]);
		vals[fs] = section ? strdup(section) : NULL;
		vals[fp] = strdup(period);
		vals[fk] = strdup(kind);
		if (!vals[fc] || !vals[fr] || (section && !vals[fs]) || !vals[fp] || !vals[fk]) {
			sk_ledger_vals_free(vals, t->nfields);
			rc = sk_error_set(err, SK_ENOMEM, "checklist");
			break;
		}
		sk_ledger_problems pr;
		sk_ledger_problems_init(&pr);
		int x = sk_ledger_check(l, t, vals, 0, NULL, &pr, err);
		if (x > 0)
			rc = sk_error_set(err, SK_EINVAL, "%s: %s / %s", pr.n ? pr.v[0].field : "",
					  pr.n ? pr.v[0].ja : "", pr.n ? pr.v[0].en : "");
		else if (x < 0)
			rc = x;
		sk_ledger_problems_free(&pr);
		if (!rc && !have) /* the normalised period, kind and section */
			rc = existing(l, vals[fp], vals[fk], vals[fs] ? vals[fs] : "", &have, err);
		if (!rc && has(have, reqs[i].ja)) {
			if (skipped)
				(*skipped)++;
		} else if (!rc) {
			if (*nch == *cap) {
				size_t nc = *cap ? *cap * 2 : 64;
				lchange *v = realloc(*ch, nc * sizeof(*v));
				if (!v)
					rc = sk_error_set(err, SK_ENOMEM, "checklist");
				else {
					*ch = v;
					*cap = nc;
				}
			}
			lchange *c = rc ? NULL : &(*ch)[*nch];
			bool changed = false;
			if (c) {
				memset(c, 0, sizeof(*c));
				c->t = t;
			}
			if (!rc && (rc = sk_ledger_next_id(l, t, c->id, err)) == 0 &&
			    (rc = sk_ledger_store(l, t, c->id, true, NULL, vals, by, "ledger.add", &c->detail, &changed, err)) == 0)
				(*nch)++;
		}
		sk_ledger_vals_free(vals, t->nfields);
	}
	json_decref(have);
	return rc;
}

int sk_ledger_checklist_generate(sk_ledger *l, const char *period, const char *kind,
				 const char *section, const char *by, size_t *added,
				 size_t *skipped, sk_error *err)
{
	if (added)
		*added = 0;
	if (skipped)
		*skipped = 0;
	const sk_ledger_table *t = sk_ledger_table_find(l, "inspections/checklists");
	if (!t)
		return sk_error_set(err, SK_EINVAL, "no checklists table");
	if (!period || !*period)
		return sk_error_set(err, SK_EINVAL, "対象期間がありません / the period is missing");
	if (!sk_ledger_by_ok(by))
		return sk_error_set(err, SK_EINVAL, "who makes the change is missing or invalid");
	if (!kind || !*kind)
		kind = "self";
	size_t nsec = section && *section ? 1 : sk_policy_section_count(l->p), nch = 0, cap = 0,
	       nskip = 0;
	lchange *ch = NULL;
	pthread_mutex_lock(&l->mu);
	int rc = sk_ledger_exec(l, "BEGIN IMMEDIATE", err);
	if (rc == 0) {
		if (nsec == 0) /* a policy without sections: one set without a section */
			rc = gen_section(l, t, period, kind, NULL, by, &ch, &nch, &cap, &nskip, err);
		for (size_t i = 0; i < nsec && !rc; i++)
			rc = gen_section(l, t, period, kind,
					 section && *section ? section : sk_policy_section_id(l->p, i), by,
					 &ch, &nch, &cap, &nskip, err);
		if (rc == 0)
			rc = sk_ledger_commit_changes(l, ch, nch, by, "ledger.add", err);
		else
			sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&l->mu);
	for (size_t i = 0; i < nch; i++)
		free(ch[i].detail);
	free(ch);
	if (rc)
		return rc;
	if (added)
		*added = nch;
	if (skipped)
		*skipped = nskip;
	return 0;
}
