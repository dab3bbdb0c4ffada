/* The sekisho command: shared helpers of the sub-commands. */
#ifndef SK_CLI_H
#define SK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/auth.h"
#include "sekisho/quarantine.h"
#include "sekisho/report.h"

/* Language from --lang, else LC_ALL / LC_MESSAGES / LANG (C or en* → English). */
sk_lang cli_lang(const char *opt);
/* Prints "sekisho: MESSAGE" in the user's language to stderr. */
void cli_err(sk_lang lang, const char *ja, const char *en, const char *arg);
/* A failure the library reported in e: "sekisho: MESSAGE[: ARG]: WHY". In English WHY is
 * e's own (English) detail; in Japanese it is the kind of failure from e's errno or code
 * ("権限がありません", "ディスクの空きがありません" …), pointing to --lang en for the
 * library's detail — unless that detail is itself written in Japanese (the ledgers' and
 * the report's messages), which is then shown as it is. arg (may be NULL): what failed. */
void cli_fail(sk_lang lang, const char *ja, const char *en, const char *arg, const sk_error *e);

struct sk_options;
struct sk_gate_office;
/* Legacy formats (doc, xls, ppt, rtf, odt …) converted by LibreOffice, and 画像化, in
 * `workers` sekisho-office workers ($SEKISHO_OFFICE, else next to this program; 0: 1),
 * opened only when an item needs one (sk_gate_office, lazy): sets opt's convert hook.
 * Nothing when off (--no-office) or when profile (may be NULL: the policy's flows decide)
 * blocks every legacy family and makes nothing into images.
 * *office (NULL when none) is freed with sk_gate_office_free after the last item. quiet:
 * the workers print no startup line (a one-shot command; the milter logs it). 0, or
 * EXIT_TROUBLE (2) with a message in lang. */
int cli_office_open(sk_lang lang, bool off, const struct sk_profile *profile, unsigned workers,
		    bool quiet, struct sk_options *opt, struct sk_gate_office **office);

/* Times for people (time.c): the local zone (TZ; without TZ, JST) with the zone written,
 * "2026-12-07 14:46:00 JST" (out: at least 40 bytes). */
void cli_time_format(int64_t us, char *out, size_t n);
/* --since / --until: the forms of sk_time_parse; a date or a time without a zone ("Z",
 * "+09:00") is taken in the same local zone. A date alone is the start of that day, or
 * with end_of_day (--until) its last microsecond. 0 or SK_EINVAL. */
int cli_time_parse(const char *s, bool end_of_day, int64_t *us, sk_error *err);

int cmd_sanitize(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
/* quarantine unlock (unlock.c): argv as cmd_quarantine's */
int cmd_quarantine_unlock(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* The state folder: opt (--state) when given, else $XDG_STATE_HOME/sekisho, else
 * ~/.local/state/sekisho. Returns a malloc'd path, or NULL when none can be found. */
char *cli_state_dir(const char *opt);
struct sk_audit;
struct sk_quarantine;
/* Opens the audit log and the quarantine of the state folder dir; on failure prints
 * "cannot open the state folder" in lang, closes what was opened and returns
 * EXIT_TROUBLE (2); 0 on success. */
int cli_state_open(sk_lang lang, const char *dir, struct sk_audit **audit,
		   struct sk_quarantine **quar);
/* Opening also finishes the items a killed or failed run left undecided
 * (sk_quarantine_recover; a notice on stderr). */
/* When records are past the newest checkpoint (the decisions of this run, recoveries,
 * quarantine steps, or a tail an earlier run could not sign: a crash, a full disk), signs
 * a checkpoint covering them, so that no record stays unsigned after the command exits.
 * 0, or EXIT_TROUBLE (2) with a message in lang. */
int cli_audit_seal(sk_lang lang, struct sk_audit *audit);
/* cli_audit_seal, then closes both (either may be NULL). 0 or EXIT_TROUBLE (2). */
int cli_state_close(sk_lang lang, struct sk_audit *audit, struct sk_quarantine *quar);
/* The operating-system user running the command ("root", …); never NULL. */
const char *cli_os_user(void);

/* The person named by --by (quarantine request/approve/refuse/release/unlock): a user of
 * the auth service (auth.db in the state folder), never a typed name taken as it is. */
typedef struct cli_who {
	sk_auth_user user;
	sk_auth_rights rights; /* sk_auth_effective under the policy; all zero without one */
	bool policy;           /* rights were computed (a policy was given) */
	sk_qactor actor;       /* {user.id, user.name, the section in force or NULL} */
} cli_who;
/* Looks name (NULL: the operating-system user) up in the auth service of the state
 * folder dir (exactly: login names are lower case, "Tanaka" is not "tanaka"). An unknown
 * or disabled user is refused with a message in lang: EXIT_REFUSED (1); the auth
 * database that cannot be opened: EXIT_TROUBLE (2); 0 and *w filled otherwise. With a
 * policy (may be NULL) the rights are the user's effective rights under it. */
int cli_who_get(sk_lang lang, const char *dir, struct sk_audit *audit,
		const struct sk_policy *pol, const char *name, cli_who *w);
/* The detail of an audit record the CLI writes about w's step:
 * "uid=ID os-user=NAME(UID) via=cli". */
void cli_who_detail(const cli_who *w, char *out, size_t n);
int cmd_policy(int argc, char **argv); /* policy.c */
int cmd_dlp(int argc, char **argv);    /* dlp.c */
int cmd_mail(int argc, char **argv);   /* mail.c */
int cmd_milter(int argc, char **argv); /* milter.c */
int cmd_user(int argc, char **argv);   /* user.c */
int cmd_ledger(int argc, char **argv); /* ledger.c */
int cmd_report(int argc, char **argv); /* report.c */
struct sk_mail_options;
struct sk_policy;
struct sk_options;
/* The options shared by mail and milter: mail defaults in *o, gate defaults in *opt;
 * --policy FILE --from Z --to Z loads and checks the policy into *pol and opt->policy (the
 * gate decides the flow of each message on channel "mail": deny and hold, and a sanitize
 * flow's profile); --profile P (a policy profile or a built-in mail profile) through
 * sk_gate_mail_profile(); --internal domains (ni of them) and --lang (lang_set) for the
 * notice. 0 or an exit status. */
int cli_mail_setup(sk_lang lang, bool lang_set, const char *policy, const char *from,
		   const char *to, const char *profile, const char **internal, int ni,
		   struct sk_mail_options *o, struct sk_options *opt, struct sk_policy **pol);
struct sk_policy;
/* Loads and checks a policy file (errors printed); 0 or an exit status. */
int cli_policy_load(sk_lang lang, const char *file, struct sk_policy **out);
/* sanitize --policy: loads and checks the policy, the zones, the channel and the class
 * (klass may be NULL) (policy.c); 0 or an exit status */
int cli_sanitize_policy(sk_lang lang, const char *file, const char *from, const char *to,
			const char *channel, const char *klass, struct sk_policy **out);

#endif
