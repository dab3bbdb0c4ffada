/* sekishod — the master: settings, privileges, the roles' lives, reload and stop.
 *
 *   sekishod [--foreground] --policy FILE [--state DIR] [--user NAME] [--workers N]
 *            [--milter SPEC] [--events syslog|json:PATH|stderr] [--metrics [ADDR:]PORT]
 *            [--clamd SPEC] [--lang ja|en] [--http ZONE=ADDR:PORT]... [--tls-cert FILE]
 *            [--tls-key FILE] [--web DIR]
 *
 * Started as root it reads and checks the policy (errors with their lines, and nothing
 * starts), prepares the state folder (0700, owned by the user) and the spool folders,
 * opens the events target and the metrics socket, takes the state folder's lock, drops to
 * the unprivileged user (default sekisho; never root) and starts the roles. A role that
 * dies is started again after a back-off (Postfix master_spawn style: 1 s, doubling up to
 * 60 s, back to 1 s once a role has run for 30 s). SIGHUP reloads the policy: one that
 * fails the check is refused and the old one kept; otherwise the roles are restarted with
 * it. SIGTERM (or SIGINT) stops every role, records the stop and signs a final audit
 * checkpoint. sekishod always stays in the foreground (systemd supervises it). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "http.h"
#include "sekisho/audit.h"

#define SKD_BACKOFF_MIN (1000 * 1000)        /* µs */
#define SKD_BACKOFF_MAX (60 * 1000 * 1000)   /* µs */
#define SKD_STABLE (30 * 1000 * 1000)        /* µs of uptime that reset the back-off */
#define SKD_STOP_WAIT (75 * 1000 * 1000)     /* µs for the roles to stop before SIGKILL */
#define SKD_LOCK_WAIT 10                     /* s to wait for a previous master's roles */

struct rstate {
	pid_t pid;           /* 0 when not running */
	int64_t started;     /* monotonic µs */
	int64_t next_start;  /* 0: not scheduled */
	int64_t delay;       /* the next back-off */
	bool want;           /* the role should run */
	bool restart_now;    /* stopped for a reload: start again at once */
};

struct master {
	skd d;
	skd_args args;
	uid_t uid;
	gid_t gid;
	bool root;      /* started as root (and dropped) */
	pid_t pid;
	int sfd;        /* signalfd */
	int lock;
	char *policy_full; /* the policy's full path */
	bool stopping;
	struct rstate r[SKD_ROLES_MAX];
};

static void say(sk_lang lang, const char *ja, const char *en, const char *arg)
{
	fprintf(stderr, "sekishod: %s%s%s\n", lang == SK_LANG_EN ? en : ja, arg ? ": " : "",
		arg ? arg : "");
}

static sk_lang env_lang(void)
{
	const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return sk_lang_from_string(v);
	}
	return SK_LANG_JA;
}

static void usage(FILE *f, sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekishod [--foreground] --policy FILE [--state DIR] [--user NAME]\n"
		      "                [--workers N] [--milter unix:PATH|inet:PORT@ADDR]\n"
		      "                [--events syslog|json:PATH|stderr] [--metrics [ADDR:]PORT]\n"
		      "                [--clamd unix:PATH|tcp:IP:PORT] [--lang ja|en]\n"
		      "                [--http ZONE=ADDR:PORT]... [--tls-cert FILE --tls-key FILE]\n"
		      "                [--web DIR]\n"
		      "The same settings can be written in the policy's gateway: section; options\n"
		      "override it. Start as root: the roles run as the user (default sekisho).\n"
		      "Signals: HUP reloads the policy, TERM stops. See sekishod(8).\n",
		      f);
	else
		fputs("使い方: sekishod [--foreground] --policy ファイル [--state フォルダ] [--user 利用者]\n"
		      "                [--workers 数] [--milter unix:パス|inet:ポート@アドレス]\n"
		      "                [--events syslog|json:パス|stderr] [--metrics [アドレス:]ポート]\n"
		      "                [--clamd unix:パス|tcp:IP:ポート] [--lang ja|en]\n"
		      "                [--http ゾーン=アドレス:ポート]... [--tls-cert ファイル --tls-key ファイル]\n"
		      "                [--web フォルダ]\n"
		      "同じ設定はポリシーの gateway: に書けます (オプションが優先)。root で起動すると、\n"
		      "役割プロセスは指定の利用者 (既定 sekisho) で動きます。\n"
		      "シグナル: HUP でポリシーを再読み込み、TERM で停止。詳しくは sekishod(8)。\n",
		      f);
}

/* ---- policy ---- */

static void policy_hash(const char *path, char hex[SK_SHA256_HEX])
{
	sk_buf b;
	sk_buf_init(&b, SK_POLICY_MAX_BYTES + 1);
	sk_error e;
	uint8_t h[SK_SHA256_LEN];
	if (sk_read_file(path, SK_POLICY_MAX_BYTES, &b, &e) == 0) {
		const char *s = sk_buf_str(&b);
		sk_sha256(s, strlen(s), h);
		sk_hex(h, SK_SHA256_LEN, hex);
	} else {
		snprintf(hex, SK_SHA256_HEX, "-");
	}
	sk_buf_free(&b);
}

/* Loads and checks the policy; the diagnostics (errors and warnings) go to *text in
 * lang when given. 0, SK_EFORMAT (errors) or another SK_E*. */
static int policy_load(const char *path, sk_lang lang, sk_policy **out, sk_buf *text, size_t *errors)
{
	sk_policy_diags dg;
	sk_policy_diags_init(&dg);
	sk_error e;
	sk_error_clear(&e);
	int rc = sk_policy_load(path, 0, out, &dg, &e);
	*errors = dg.errors;
	if (text) {
		if (dg.n)
			sk_policy_diags_format(&dg, path, lang, text);
		else if (rc)
			sk_buf_printf(text, "%s: %s\n", path, e.msg);
	}
	sk_policy_diags_free(&dg);
	return rc;
}

/* ---- audit records of the master ---- */

static void audit_note(struct master *m, const char *action, const char *result, const char *detail)
{
	sk_audit *a = NULL;
	sk_error e;
	sk_error_clear(&e);
	char hex[SK_SHA256_HEX], obj[4200];
	policy_hash(m->d.cfg.policy_path, hex);
	snprintf(obj, sizeof(obj), "policy:%s sha256:%s", m->d.cfg.policy_path, hex);
	if (sk_audit_open(m->d.cfg.state, NULL, &a, &e) != 0 ||
	    sk_audit_append(a, "sekishod", action, obj, result, detail ? detail : "", NULL, &e) != 0)
		SKD_EVENT(SKD_ERR, "audit-error", "監査ログに記録できません", "cannot write the audit log",
			  SKD_S("action", action), SKD_S("error", e.msg));
	sk_audit_close(a);
}

/* ---- folders ---- */

static int mkdir_p(const char *path, mode_t mode, bool *created)
{
	char *p = strdup(path);
	if (!p)
		return SK_EIO;
	*created = false;
	for (char *s = p + 1;; s++) {
		bool last = *s == 0;
		if (*s != '/' && !last)
			continue;
		*s = 0;
		if (mkdir(p, last ? mode : 0755) == 0) {
			if (last)
				*created = true;
		} else if (errno != EEXIST) {
			free(p);
			return SK_EIO;
		}
		if (last)
			break;
		*s = '/';
	}
	free(p);
	return 0;
}

static uid_t tree_uid;
static gid_t tree_gid;
static int tree_chown(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (sb->st_uid != tree_uid || sb->st_gid != tree_gid)
		if (lchown(path, tree_uid, tree_gid) != 0)
			return SK_EIO;
	return 0;
}

/* The folder of the milter's unix socket: owned by the user; with a group (the MTA's),
 * that group and mode 2750, so that the socket the role creates there (0660) takes the
 * group and the MTA, and nobody else, can connect. */
static int prepare_milter_dir(struct master *m)
{
	const skd_config *c = &m->d.cfg;
	char *dir = strdup(c->milter + 5);
	if (!dir)
		return SK_ENOMEM;
	char *sl = strrchr(dir, '/');
	if (sl && sl != dir)
		*sl = 0;
	bool created;
	int rc = 0;
	gid_t gid = m->gid;
	if (c->milter_group) {
		struct group *gr = getgrnam(c->milter_group);
		if (!gr) {
			say(c->lang, "milter のグループが見つかりません", "no such group for the milter socket",
			    c->milter_group);
			free(dir);
			return SK_EINVAL;
		}
		gid = gr->gr_gid;
	}
	if (mkdir_p(dir, 0750, &created) != 0 ||
	    (m->root && (chown(dir, m->uid, gid) != 0 ||
			 chmod(dir, c->milter_group ? 02750 : 0700) != 0))) {
		say(c->lang, "milter のソケットのフォルダを準備できません",
		    "cannot prepare the milter socket's folder", dir);
		rc = SK_EIO;
	}
	free(dir);
	return rc;
}

/* As root: the state folder 0700, it and everything in it owned by the user; the spool
 * folders created (owned by the user) when missing. Not root: created when missing. */
static int prepare_folders(struct master *m)
{
	const skd_config *c = &m->d.cfg;
	bool created;
	if (mkdir_p(c->state, 0700, &created) != 0) {
		say(c->lang, "状態フォルダを作れません", "cannot create the state folder", c->state);
		return SK_EIO;
	}
	if (m->root) {
		tree_uid = m->uid;
		tree_gid = m->gid;
		if (chmod(c->state, 0700) != 0 ||
		    nftw(c->state, tree_chown, 16, FTW_PHYS | FTW_MOUNT) != 0) {
			say(c->lang, "状態フォルダの所有者を変更できません", "cannot give the state folder to the user",
			    c->state);
			return SK_EIO;
		}
	}
	if (c->milter && !strncmp(c->milter, "unix:", 5) && prepare_milter_dir(m) != 0)
		return SK_EIO;
	for (size_t i = 0; i < c->nspool; i++) {
		const char *dirs[2] = {c->spool[i].drop, c->spool[i].deliver};
		for (int j = 0; j < 2; j++) {
			if (mkdir_p(dirs[j], j == 0 ? 0770 : 0755, &created) != 0) {
				SKD_EVENT(SKD_ERR, "flow-error", "spool のフォルダを作れません",
					  "cannot create a spool folder", SKD_S("flow", c->spool[i].id),
					  SKD_S("folder", dirs[j]), SKD_S("error", strerror(errno)));
				continue;
			}
			/* the drop folder: writable by the user's group (the senders' side) */
			if (created && j == 0)
				chmod(dirs[j], 0770);
			if (created && m->root && chown(dirs[j], m->uid, m->gid) != 0)
				SKD_EVENT(SKD_ERR, "flow-error", "spool のフォルダの所有者を変更できません",
					  "cannot give a spool folder to the user", SKD_S("folder", dirs[j]));
		}
	}
	return 0;
}

/* After the drop: can the user use what it needs? */
static int check_access(struct master *m)
{
	const skd_config *c = &m->d.cfg;
	if (access(c->state, R_OK | W_OK | X_OK) != 0) {
		say(c->lang, "利用者から状態フォルダを使えません (上位フォルダの権限を確認してください)",
		    "the user cannot use the state folder (check the parent folders' permissions)",
		    c->state);
		return SK_EIO;
	}
	if (access(c->policy_path, R_OK) != 0)
		SKD_EVENT(SKD_WARNING, "policy-unreadable",
			  "利用者からポリシーファイルを読めないため、再読み込み (HUP) はできません",
			  "the user cannot read the policy file: reloading (HUP) will fail",
			  SKD_S("policy", c->policy_path));
	for (size_t i = 0; i < c->nspool; i++)
		if (access(c->spool[i].drop, R_OK | W_OK | X_OK) != 0 ||
		    access(c->spool[i].deliver, W_OK | X_OK) != 0)
			SKD_EVENT(SKD_ERR, "flow-error",
				  "利用者から spool のフォルダを使えません (権限を確認してください)",
				  "the user cannot use a spool folder (check its permissions)",
				  SKD_S("flow", c->spool[i].id), SKD_S("drop", c->spool[i].drop),
				  SKD_S("deliver", c->spool[i].deliver));
	return 0;
}

/* ---- sockets ---- */

/* A listening TCP socket on "ADDR:PORT" ("[v6]:PORT" too): the fd, or a negative SK_E*
 * (what: the setting, in the message). */
static int tcp_listen(const char *spec, const char *what, int backlog, sk_error *err)
{
	char host[80];
	snprintf(host, sizeof(host), "%s", spec);
	char *colon = strrchr(host, ':');
	if (!colon)
		return sk_error_set(err, SK_EINVAL, "%s: ADDR:PORT", what);
	*colon = 0;
	char *h = host;
	if (*h == '[' && colon[-1] == ']') {
		h++;
		colon[-1] = 0;
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return sk_error_set(err, SK_EINVAL, "%s: bad port in %s", what, spec);
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, h, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		sl = sizeof(*in4);
	} else if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		sl = sizeof(*in6);
	} else {
		return sk_error_set(err, SK_EINVAL, "%s: %s is not an IP address", what, h);
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, backlog) != 0) {
		int rc = sk_error_sys(err, SK_EIO, "%s: listen on %s", what, spec);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

/* As root, before the drop: the http role's sockets, and its certificate and key (the key
 * file may be readable by root only). */
static int http_prepare(struct master *m, sk_error *err)
{
	skd_config *c = &m->d.cfg;
	for (size_t i = 0; i < c->nhttp; i++) {
		int fd = tcp_listen(c->http[i].addr, "http", 128, err);
		if (fd < 0)
			return fd;
		m->d.http_fd[i] = fd;
	}
	if (!c->nhttp)
		return 0;
	const char *files[2] = {c->tls_cert, c->tls_key};
	char **pem[2] = {&m->d.tls_cert_pem, &m->d.tls_key_pem};
	for (int j = 0; j < 2; j++) {
		sk_buf b;
		sk_buf_init(&b, 1 << 20);
		int rc = sk_read_file(files[j], 1 << 20, &b, err);
		if (rc == 0 && !(*pem[j] = strdup(sk_buf_str(&b))))
			rc = SK_ENOMEM;
		if (b.data)
			explicit_bzero(b.data, b.cap);
		sk_buf_free(&b);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- privileges ---- */

static int drop_privileges(struct master *m)
{
	if (initgroups(m->d.cfg.user, m->gid) != 0 || setresgid(m->gid, m->gid, m->gid) != 0 ||
	    setresuid(m->uid, m->uid, m->uid) != 0)
		return SK_EIO;
	/* there is no way back */
	if (setuid(0) == 0 || seteuid(0) == 0 || geteuid() == 0 || getegid() == 0)
		return SK_EIO;
	return 0;
}

/* ---- roles ---- */

static void role_child(struct master *m, size_t i)
{
	const skd_role *role = &skd_roles[i];
	/* die with the master (a restarted master starts the roles again) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != m->pid)
		_exit(SKD_EXIT_FAIL);
	prctl(PR_SET_NAME, role->comm);
	skd_events_role(role->name);
	close(m->sfd);
	if (geteuid() == 0 || getegid() == 0 || getuid() == 0) {
		SKD_EVENT(SKD_ERR, "role-refused",
			  "役割プロセスを root で動かすことはできません",
			  "a role does not run as root", SKD_S("role", role->name));
		_exit(SKD_EXIT_CONFIG);
	}
	if (strcmp(role->name, "metrics") && m->d.metrics_fd >= 0) {
		close(m->d.metrics_fd);
		m->d.metrics_fd = -1;
	}
	/* only the http role keeps its sockets and the TLS key */
	if (strcmp(role->name, "http")) {
		for (size_t j = 0; j < SKD_HTTP_MAX; j++)
			if (m->d.http_fd[j] >= 0) {
				close(m->d.http_fd[j]);
				m->d.http_fd[j] = -1;
			}
		if (m->d.tls_key_pem)
			explicit_bzero(m->d.tls_key_pem, strlen(m->d.tls_key_pem));
	}
	/* SIGTERM and SIGINT stay blocked (the role reads them from a signalfd) */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	m->d.role_index = (int)i;
	m->d.role_name = role->name;
	_exit(role->run(&m->d));
}

static void start_role(struct master *m, size_t i)
{
	struct rstate *r = &m->r[i];
	r->next_start = 0;
	pid_t pid = fork();
	if (pid < 0) {
		SKD_EVENT(SKD_ERR, "role-error", "役割プロセスを起動できません", "cannot start a role",
			  SKD_S("role", skd_roles[i].name), SKD_S("error", strerror(errno)));
		r->next_start = skd_now_us() + r->delay;
		return;
	}
	if (pid == 0)
		role_child(m, i);
	r->pid = pid;
	r->started = skd_now_us();
	atomic_fetch_add(&m->d.metrics->role_starts[i], 1);
	atomic_store(&m->d.metrics->role_up[i], 1);
	SKD_EVENT(SKD_INFO, "role-start", "役割プロセスを起動しました", "role started",
		  SKD_S("role", skd_roles[i].name), SKD_N("role_pid", pid));
}

static void role_exited(struct master *m, pid_t pid, int status)
{
	size_t i = 0;
	while (i < skd_nroles && m->r[i].pid != pid)
		i++;
	if (i == skd_nroles)
		return;
	struct rstate *r = &m->r[i];
	r->pid = 0;
	atomic_store(&m->d.metrics->role_up[i], 0);
	char how[32];
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "signal %d", WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(status));
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	SKD_EVENT(clean ? SKD_INFO : SKD_ERR, "role-exit", "役割プロセスが終了しました", "role exited",
		  SKD_S("role", skd_roles[i].name), SKD_N("role_pid", pid), SKD_S("status", how));
	if (m->stopping || !r->want)
		return;
	int64_t now = skd_now_us();
	if (r->restart_now) {
		r->restart_now = false;
		r->next_start = now;
		return;
	}
	if (now - r->started >= SKD_STABLE)
		r->delay = SKD_BACKOFF_MIN;
	r->next_start = now + r->delay;
	atomic_fetch_add(&m->d.metrics->role_restarts[i], 1);
	SKD_EVENT(SKD_WARNING, "role-restart", "役割プロセスを再起動します", "restarting the role",
		  SKD_S("role", skd_roles[i].name), SKD_N("delay_ms", r->delay / 1000));
	r->delay = r->delay * 2 > SKD_BACKOFF_MAX ? SKD_BACKOFF_MAX : r->delay * 2;
}

static void reap(struct master *m)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		role_exited(m, pid, status);
}

static void update_wanted(struct master *m)
{
	for (size_t i = 0; i < skd_nroles; i++) {
		struct rstate *r = &m->r[i];
		bool want = !skd_roles[i].wanted || skd_roles[i].wanted(&m->d);
		if (want && !r->want) {
			r->delay = SKD_BACKOFF_MIN;
			if (!r->pid)
				r->next_start = skd_now_us();
		}
		if (!want) {
			r->next_start = 0;
			r->restart_now = false;
			if (r->pid)
				kill(r->pid, SIGTERM);
		}
		r->want = want;
	}
}

/* ---- reload ---- */

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* the listeners, their certificate and key: opened as root, so kept until a restart */
static bool http_same(const skd_config *a, const skd_config *b)
{
	if (a->nhttp != b->nhttp || !same(a->tls_cert, b->tls_cert) || !same(a->tls_key, b->tls_key))
		return false;
	for (size_t i = 0; i < a->nhttp; i++)
		if (!same(a->http[i].zone, b->http[i].zone) || !same(a->http[i].addr, b->http[i].addr))
			return false;
	return true;
}

static int dup_http(skd_config *dst, const skd_config *src)
{
	for (size_t i = 0; i < dst->nhttp; i++) {
		free(dst->http[i].zone);
		free(dst->http[i].addr);
	}
	free(dst->tls_cert);
	free(dst->tls_key);
	dst->nhttp = 0;
	dst->tls_cert = src->tls_cert ? strdup(src->tls_cert) : NULL;
	dst->tls_key = src->tls_key ? strdup(src->tls_key) : NULL;
	for (size_t i = 0; i < src->nhttp; i++) {
		dst->http[i].zone = strdup(src->http[i].zone);
		dst->http[i].addr = strdup(src->http[i].addr);
		dst->nhttp++;
		if (!dst->http[i].zone || !dst->http[i].addr)
			return SK_ENOMEM;
	}
	return 0;
}

static void reload(struct master *m)
{
	sk_buf ja, en;
	sk_buf_init(&ja, 1 << 20);
	sk_buf_init(&en, 1 << 20);
	sk_policy *np = NULL;
	size_t errors = 0;
	int rc = policy_load(m->d.cfg.policy_path, SK_LANG_EN, &np, &en, &errors);
	if (rc) {
		sk_policy *ignored = NULL;
		size_t e2;
		policy_load(m->d.cfg.policy_path, SK_LANG_JA, &ignored, &ja, &e2);
		sk_policy_free(ignored);
		atomic_fetch_add(&m->d.metrics->reloads_refused, 1);
		SKD_EVENT(SKD_ERR, "reload-refused",
			  "ポリシーに誤りがあるため再読み込みを拒否しました (元のポリシーで動作を続けます)",
			  "reload refused: the policy has errors (the previous policy stays in force)",
			  SKD_S("policy", m->d.cfg.policy_path), SKD_N("errors", errors),
			  SKD_S("diagnostics", sk_buf_str(&en)), SKD_S("diagnostics_ja", sk_buf_str(&ja)));
		audit_note(m, "policy-reload", "refused", sk_buf_str(&en));
		sk_buf_free(&ja);
		sk_buf_free(&en);
		return;
	}
	sk_buf_free(&ja);
	skd_config nc;
	sk_error e;
	if (skd_config_build(&nc, &m->args, np, &e) != 0) {
		sk_policy_free(np);
		sk_buf_free(&en);
		SKD_EVENT(SKD_ERR, "reload-refused", "再読み込みに失敗しました", "reload failed",
			  SKD_S("error", e.msg));
		return;
	}
	/* what only a restart of sekishod changes */
	const skd_config *oc = &m->d.cfg;
	const char *fixed = !same(oc->state, nc.state)     ? "state"
			    : !same(oc->user, nc.user)       ? "user"
			    : !same(oc->metrics, nc.metrics) ? "metrics"
			    : !same(oc->events, nc.events)   ? "events"
			    : !http_same(oc, &nc)            ? "http"
							     : NULL;
	if (fixed)
		SKD_EVENT(SKD_WARNING, "reload-partial",
			  "この設定の変更は sekishod の再起動で反映されます",
			  "this setting changes only when sekishod restarts", SKD_S("setting", fixed));
	/* keep the settings that need a restart */
	free(nc.state);
	free(nc.user);
	free(nc.metrics);
	free(nc.events);
	nc.state = oc->state ? strdup(oc->state) : NULL;
	nc.user = oc->user ? strdup(oc->user) : NULL;
	nc.metrics = oc->metrics ? strdup(oc->metrics) : NULL;
	nc.events = oc->events ? strdup(oc->events) : NULL;
	dup_http(&nc, oc);
	skd_config_free(&m->d.cfg);
	m->d.cfg = nc;
	sk_policy_free(m->d.policy);
	m->d.policy = np;
	prepare_folders(m);
	atomic_fetch_add(&m->d.metrics->reloads, 1);
	char hex[SK_SHA256_HEX];
	policy_hash(m->d.cfg.policy_path, hex);
	SKD_EVENT(SKD_NOTICE, "reload", "ポリシーを再読み込みしました (役割プロセスを再起動します)",
		  "policy reloaded (restarting the roles)", SKD_S("policy", m->d.cfg.policy_path),
		  SKD_S("sha256", hex), SKD_S("warnings", sk_buf_str(&en)));
	audit_note(m, "policy-reload", "ok", sk_buf_str(&en));
	sk_buf_free(&en);
	/* the roles take the new policy by starting again */
	for (size_t i = 0; i < skd_nroles; i++)
		if (m->r[i].pid) {
			m->r[i].restart_now = true;
			kill(m->r[i].pid, SIGTERM);
		}
	update_wanted(m);
}

/* ---- stop ---- */

static int stop(struct master *m)
{
	m->stopping = true;
	SKD_EVENT(SKD_NOTICE, "stopping", "停止します", "stopping");
	for (size_t i = skd_nroles; i-- > 0;)
		if (m->r[i].pid)
			kill(m->r[i].pid, SIGTERM);
	int64_t deadline = skd_now_us() + SKD_STOP_WAIT;
	bool killed = false;
	for (;;) {
		reap(m);
		bool any = false;
		for (size_t i = 0; i < skd_nroles; i++)
			any |= m->r[i].pid != 0;
		if (!any)
			break;
		int64_t now = skd_now_us();
		if (now >= deadline && !killed) {
			for (size_t i = 0; i < skd_nroles; i++)
				if (m->r[i].pid)
					kill(m->r[i].pid, SIGKILL);
			killed = true;
		}
		struct pollfd p = {.fd = m->sfd, .events = POLLIN};
		poll(&p, 1, 200);
		struct signalfd_siginfo si;
		while (read(m->sfd, &si, sizeof(si)) > 0)
			;
	}
	/* the final checkpoint covers every record, the stop included */
	audit_note(m, "daemon-stop", "ok", killed ? "roles killed after the stop timeout" : "");
	sk_audit *a = NULL;
	sk_error e;
	sk_error_clear(&e);
	sk_buf note;
	sk_buf_init(&note, SK_NOTE_MAX);
	bool made = false;
	uint64_t size = 0;
	int rc = sk_audit_open(m->d.cfg.state, NULL, &a, &e);
	if (rc == 0)
		rc = sk_audit_checkpoint(a, true, &note, &made, &e);
	if (rc == 0)
		rc = sk_audit_size(a, &size, &e);
	sk_audit_close(a);
	sk_buf_free(&note);
	if (rc) {
		SKD_EVENT(SKD_ERR, "stop", "最後のチェックポイントに署名できませんでした",
			  "the final checkpoint could not be signed", SKD_S("error", e.msg));
		return SKD_EXIT_FAIL;
	}
	SKD_EVENT(SKD_NOTICE, "stop", "停止しました (最後のチェックポイントに署名済み)",
		  "stopped (final checkpoint signed)", SKD_N("records", size));
	return SKD_EXIT_OK;
}

/* ---- main ---- */

/* parse_args(): 0, an exit status (> 0) for a usage error, or this after --help */
enum { SKD_ARGS_HELP = -100 };

static int parse_args(int argc, char **argv, skd_args *a)
{
	static const struct option longs[] = {
		{"foreground", no_argument, NULL, 'f'}, {"policy", required_argument, NULL, 'p'},
		{"state", required_argument, NULL, 's'}, {"user", required_argument, NULL, 'u'},
		{"workers", required_argument, NULL, 'w'}, {"milter", required_argument, NULL, 'm'},
		{"events", required_argument, NULL, 'e'}, {"metrics", required_argument, NULL, 'M'},
		{"clamd", required_argument, NULL, 'c'}, {"lang", required_argument, NULL, 'l'},
		{"http", required_argument, NULL, 'H'},  {"tls-cert", required_argument, NULL, 'C'},
		{"tls-key", required_argument, NULL, 'K'}, {"web", required_argument, NULL, 'W'},
		{"help", no_argument, NULL, 'h'},       {"version", no_argument, NULL, 'V'},
		{"routes", no_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	const char *lang = NULL, *workers = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "fh", longs, NULL)) != -1) {
		switch (c) {
		case 'f': break; /* always in the foreground */
		case 'p': a->policy = optarg; break;
		case 's': a->state = optarg; break;
		case 'u': a->user = optarg; break;
		case 'w': workers = optarg; break;
		case 'm': a->milter = optarg; break;
		case 'e': a->events = optarg; break;
		case 'M': a->metrics = optarg; break;
		case 'c': a->clamd = optarg; break;
		case 'l': lang = optarg; break;
		case 'H':
			if (a->nhttp >= SKD_HTTP_MAX) {
				say(a->lang, "--http は 8 個までです", "--http: at most 8 listeners", optarg);
				return SKD_EXIT_CONFIG;
			}
			a->http[a->nhttp++] = optarg;
			break;
		case 'C': a->tls_cert = optarg; break;
		case 'K': a->tls_key = optarg; break;
		case 'W': a->web = optarg; break;
		case 'h': usage(stdout, lang ? sk_lang_from_string(lang) : env_lang()); return SKD_ARGS_HELP;
		case 'V': puts("sekishod 0.1.0"); return SK_EIO;
		case 'R': skh_routes_print(stdout); return SKD_ARGS_HELP;
		default: usage(stderr, a->lang); return SKD_EXIT_CONFIG;
		}
	}
	a->lang = lang ? sk_lang_from_string(lang) : env_lang();
	if (lang && strcmp(lang, "ja") && strcmp(lang, "en")) {
		say(a->lang, "--lang は ja か en です", "--lang takes ja or en", lang);
		return SKD_EXIT_CONFIG;
	}
	if (optind != argc || !a->policy) {
		usage(stderr, a->lang);
		return SKD_EXIT_CONFIG;
	}
	a->workers = -1;
	if (workers) {
		char *end;
		long n = strtol(workers, &end, 10);
		if (!*workers || *end || n < 0 || n > 1024) {
			say(a->lang, "--workers は 0 から 1024 の数です (0: コア数)",
			    "--workers takes 0 to 1024 (0: one per core)", workers);
			return SKD_EXIT_CONFIG;
		}
		a->workers = (int)n;
	}
	return 0;
}

static int run(struct master *m, int argc, char **argv)
{
	int rc = parse_args(argc, argv, &m->args);
	if (rc)
		return rc < 0 ? SKD_EXIT_OK : rc;
	sk_lang L = m->args.lang;

	/* 1. the policy, checked like `sekisho policy check` (by its full path: a reload
	 * reads it again) */
	if (!(m->policy_full = realpath(m->args.policy, NULL))) {
		say(L, "ポリシーファイルを読めません", "cannot read the policy file", m->args.policy);
		return SKD_EXIT_CONFIG;
	}
	m->args.policy = m->policy_full;
	sk_buf diag;
	sk_buf_init(&diag, 1 << 20);
	size_t errors = 0;
	if (policy_load(m->args.policy, L, &m->d.policy, &diag, &errors) != 0) {
		fputs(sk_buf_str(&diag), stderr);
		say(L, "ポリシーに誤りがあるため起動しません", "the policy has errors: not starting",
		    m->args.policy);
		sk_buf_free(&diag);
		return SKD_EXIT_CONFIG;
	}
	fputs(sk_buf_str(&diag), stderr); /* warnings */
	sk_buf_free(&diag);
	sk_error err;
	sk_error_clear(&err);
	if (skd_config_build(&m->d.cfg, &m->args, m->d.policy, &err) != 0) {
		say(L, "設定を読めません", "cannot build the settings", err.msg);
		return SKD_EXIT_CONFIG;
	}
	skd_config *cfg = &m->d.cfg;
	if (!cfg->state || cfg->state[0] != '/') {
		say(L, "状態フォルダを --state か gateway.state に絶対パスで指定してください",
		    "give the state folder as an absolute path (--state or gateway.state)", cfg->state);
		return SKD_EXIT_CONFIG;
	}
	size_t sl = strlen(cfg->state);
	while (sl > 1 && cfg->state[sl - 1] == '/')
		sl--;
	for (size_t i = 0; i < cfg->nspool; i++)
		if ((!strncmp(cfg->spool[i].drop, cfg->state, sl) &&
		     (!cfg->spool[i].drop[sl] || cfg->spool[i].drop[sl] == '/')) ||
		    (!strncmp(cfg->spool[i].deliver, cfg->state, sl) &&
		     (!cfg->spool[i].deliver[sl] || cfg->spool[i].deliver[sl] == '/'))) {
			say(L, "spool のフォルダを状態フォルダの中に置くことはできません",
			    "spool folders cannot be inside the state folder", cfg->spool[i].id);
			return SKD_EXIT_CONFIG;
		}

	/* 2. the user */
	m->root = geteuid() == 0;
	struct passwd *pw = getpwnam(cfg->user);
	bool user_given = m->args.user != NULL;
	{
		sk_policy_gateway g;
		sk_policy_gateway_get(m->d.policy, &g);
		user_given |= g.user != NULL;
	}
	if (m->root) {
		if (!pw) {
			say(L, "利用者が見つかりません (dev/setup かインストールで作成されます)",
			    "no such user (dev/setup and the install create it)", cfg->user);
			return SKD_EXIT_CONFIG;
		}
		if (pw->pw_uid == 0 || pw->pw_gid == 0) {
			say(L, "役割プロセスを root (uid 0 / gid 0) で動かすことはできません。専用の利用者を指定してください",
			    "the roles cannot run as root (uid 0 / gid 0): name an unprivileged user",
			    cfg->user);
			return SKD_EXIT_CONFIG;
		}
		m->uid = pw->pw_uid;
		m->gid = pw->pw_gid;
	} else {
		/* not root: the roles run as whoever started sekishod */
		struct passwd *me = getpwuid(geteuid());
		if (user_given && (!pw || pw->pw_uid != geteuid())) {
			say(L, "利用者を切り替えるには root で起動してください",
			    "switching to the user needs root", cfg->user);
			return SKD_EXIT_CONFIG;
		}
		m->uid = geteuid();
		m->gid = getegid();
		free(cfg->user);
		cfg->user = strdup(me ? me->pw_name : "?");
	}

	/* 3. what needs root: folders, events target, metrics socket */
	mode_t um = umask(0);
	umask(um);
	m->d.umask = um;
	if (skd_events_open(cfg->events, &err) != 0) {
		say(L, "イベントの出力先を開けません", "cannot open the events target", err.msg);
		return SKD_EXIT_CONFIG;
	}
	if (prepare_folders(m) != 0)
		return SKD_EXIT_CONFIG;
	if (cfg->metrics && (m->d.metrics_fd = tcp_listen(cfg->metrics, "metrics", 16, &err)) < 0) {
		say(L, "metrics の待ち受けを開けません", "cannot listen for metrics", err.msg);
		return SKD_EXIT_CONFIG;
	}
	if (http_prepare(m, &err) != 0) {
		say(L, "HTTPS の待ち受けを準備できません (アドレス・証明書・秘密鍵)",
		    "cannot prepare the HTTPS listeners (address, certificate, key)", err.msg);
		return SKD_EXIT_CONFIG;
	}
	m->d.metrics = mmap(NULL, sizeof(skd_metrics), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m->d.metrics == MAP_FAILED) {
		say(L, "共有メモリを確保できません", "cannot map the counters", strerror(errno));
		return SKD_EXIT_FAIL;
	}
	/* one master per state folder (the lock is held by the master and its roles) */
	char *lockpath = NULL;
	if (asprintf(&lockpath, "%s/sekishod.lock", cfg->state) < 0)
		return SKD_EXIT_FAIL;
	m->lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (m->lock >= 0 && m->root && fchown(m->lock, m->uid, m->gid) != 0) {
		close(m->lock);
		m->lock = -1;
	}
	int tries = 0;
	while (m->lock >= 0 && flock(m->lock, LOCK_EX | LOCK_NB) != 0 && tries++ < SKD_LOCK_WAIT * 10)
		usleep(100000);
	if (m->lock < 0 || tries > SKD_LOCK_WAIT * 10) {
		say(L, "この状態フォルダは別の sekishod が使っています", "another sekishod uses this state folder",
		    lockpath);
		free(lockpath);
		return SKD_EXIT_CONFIG;
	}
	free(lockpath);

	/* 4. drop privileges: nothing after this runs as root */
	if (m->root && drop_privileges(m) != 0) {
		say(L, "権限を手放せません", "cannot drop privileges", cfg->user);
		return SKD_EXIT_FAIL;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (check_access(m) != 0)
		return SKD_EXIT_CONFIG;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	m->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	m->pid = getpid();
	if (m->sfd < 0)
		return SKD_EXIT_FAIL;

	char hex[SK_SHA256_HEX];
	policy_hash(cfg->policy_path, hex);
	SKD_EVENT(SKD_NOTICE, "start", "sekishod を起動しました", "sekishod started",
		  SKD_S("policy", cfg->policy_path), SKD_S("sha256", hex), SKD_S("state", cfg->state),
		  SKD_S("user", cfg->user), SKD_N("uid", getuid()), SKD_N("workers", cfg->workers),
		  SKD_S("metrics", cfg->metrics), SKD_N("spool_flows", cfg->nspool),
		  SKD_N("http_listeners", cfg->nhttp));
	audit_note(m, "daemon-start", "ok", "");

	for (size_t i = 0; i < skd_nroles; i++)
		m->r[i].delay = SKD_BACKOFF_MIN;
	update_wanted(m);
	for (;;) {
		int64_t now = skd_now_us(), wake = INT64_MAX;
		for (size_t i = 0; i < skd_nroles; i++) {
			struct rstate *r = &m->r[i];
			if (r->want && !r->pid && r->next_start && r->next_start <= now)
				start_role(m, i);
			if (r->next_start && r->next_start < wake)
				wake = r->next_start;
		}
		int timeout = -1;
		if (wake != INT64_MAX)
			timeout = wake <= now ? 0 : (int)((wake - now) / 1000 + 1);
		struct pollfd p = {.fd = m->sfd, .events = POLLIN};
		poll(&p, 1, timeout);
		struct signalfd_siginfo si;
		bool hup = false, term = false;
		while (read(m->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				hup = true;
			else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
				term = true;
		}
		reap(m);
		if (term)
			break;
		if (hup)
			reload(m);
	}
	return stop(m);
}

int main(int argc, char **argv)
{
	struct master m;
	memset(&m, 0, sizeof(m));
	m.d.metrics_fd = -1;
	for (size_t i = 0; i < SKD_HTTP_MAX; i++)
		m.d.http_fd[i] = -1;
	m.lock = -1;
	m.sfd = -1;
	int rc = run(&m, argc, argv);
	if (m.d.metrics && m.d.metrics != MAP_FAILED)
		munmap(m.d.metrics, sizeof(skd_metrics));
	if (m.d.metrics_fd >= 0)
		close(m.d.metrics_fd);
	for (size_t i = 0; i < SKD_HTTP_MAX; i++)
		if (m.d.http_fd[i] >= 0)
			close(m.d.http_fd[i]);
	if (m.d.tls_key_pem)
		explicit_bzero(m.d.tls_key_pem, strlen(m.d.tls_key_pem));
	free(m.d.tls_key_pem);
	free(m.d.tls_cert_pem);
	sk_policy_free(m.d.policy);
	skd_config_free(&m.d.cfg);
	if (m.sfd >= 0)
		close(m.sfd);
	if (m.lock >= 0)
		close(m.lock);
	free(m.policy_full);
	return rc;
}
