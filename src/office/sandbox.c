/* The office worker's sandbox (see office_worker.h). */
#include "office_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Descriptors a job needs at most (the socket, a job's two memfds, the files LibreOffice
 * holds open while it loads, saves and reads its configuration); LibreOffice keeps ~40
 * open once loaded. */
#define OFFICE_NOFILE 256

#if defined(__SANITIZE_ADDRESS__)
#define SK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SK_ASAN 1
#endif
#endif

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return SK_EIO;
	size_t n = strlen(s);
	ssize_t w = write(fd, s, n);
	close(fd);
	return w == (ssize_t)n ? 0 : SK_EIO;
}

/* A private tmpfs on /tmp in a mount namespace of our own (the caller has unshared it);
 * owned by uid:gid. */
static bool private_tmp(const sk_office_sandbox *sb, bool chown_it)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return false;
	uint64_t size = sb->lim.max_fsize * 2 + (512ull << 20);
	char opt[96];
	snprintf(opt, sizeof(opt), "mode=0700,size=%llu", (unsigned long long)size);
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opt) != 0)
		return false;
	if (chown_it && chown("/tmp", sb->lim.uid, sb->lim.gid) != 0)
		return false;
	return true;
}

/* Not root: a user namespace (if the kernel permits one) in which the same uid and gid
 * map to themselves, with network and mount namespaces of its own. */
static bool user_namespace(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0)
		return false;
	char map[64];
	if (write_file("/proc/self/setgroups", "deny") != 0)
		return false;
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) != 0)
		return false;
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid, (unsigned)gid);
	return write_file("/proc/self/gid_map", map) == 0;
}

/* The LibreOffice profile: its configuration decides, never the file. Macros: security
 * level "very high" (3, only signed macros from trusted places, and there are none) and
 * execution disabled outright; links: never updated (Writer: 0 = never; Calc: 1 = never,
 * Calc's own numbering); Java off; no first-start wizard, tips, crash reporter; no
 * recovery information and no autosave; referer-less links blocked. */
static const char profile_xcu[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<oor:items xmlns:oor=\"http://openoffice.org/2001/registry\" "
	"xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
#define ITEM(path, name, value)                                                              \
	"<item oor:path=\"" path "\"><prop oor:name=\"" name "\" oor:op=\"fuse\"><value>" value \
	"</value></prop></item>\n"
	ITEM("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3")
	ITEM("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true")
	ITEM("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true")
	ITEM("/org.openoffice.Office.Writer/Content/Update", "Link", "0")
	ITEM("/org.openoffice.Office.Calc/Content/Update", "Link", "1")
	ITEM("/org.openoffice.Office.Java/VirtualMachine", "Enable", "false")
	ITEM("/org.openoffice.Setup/Office", "ooSetupInstCompleted", "true")
	ITEM("/org.openoffice.Office.Common/Misc", "FirstRun", "false")
	ITEM("/org.openoffice.Office.Common/Misc", "ShowTipOfTheDay", "false")
	ITEM("/org.openoffice.Office.Common/Misc", "CrashReport", "false")
	ITEM("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", "false")
	ITEM("/org.openoffice.Office.Recovery/AutoSave", "Enabled", "false")
	ITEM("/org.openoffice.Office.Recovery/AutoSave", "UserAutoSaveEnabled", "false")
	ITEM("/org.openoffice.Office.Common/Save/Document", "AutoSave", "false")
	ITEM("/org.openoffice.Office.Update/Update", "Enabled", "false")
#undef ITEM
	"</oor:items>\n";

static int write_profile(const char *tmp, sk_error *err)
{
	char path[128];
	const char *dirs[] = {"profile", "profile/user", "job"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, dirs[i]);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return sk_error_sys(err, SK_EIO, "mkdir %s", path);
	}
	snprintf(path, sizeof(path), "%s/profile/user/registrymodifications.xcu", tmp);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_error_sys(err, SK_EIO, "%s", path);
	size_t n = sizeof(profile_xcu) - 1;
	ssize_t w = write(fd, profile_xcu, n);
	if (close(fd) != 0 || w != (ssize_t)n)
		return sk_error_sys(err, SK_EIO, "write %s", path);
	return 0;
}

int sk_office_sandbox_enter(sk_office_sandbox *sb, sk_error *err)
{
	/* nothing inherited but stdin, stdout (/dev/null), stderr and the socket */
	if (sb->sock > 3)
		close_range(3, (unsigned)sb->sock - 1, 0);
	close_range((unsigned)sb->sock + 1, ~0U, 0);
	signal(SIGPIPE, SIG_IGN);
	bool root = geteuid() == 0;
	if (root) {
		sb->netns = unshare(CLONE_NEWNET) == 0;
		sb->mountns = unshare(CLONE_NEWNS) == 0;
		sb->tmpfs = sb->mountns && private_tmp(sb, sb->lim.drop);
	} else {
		sb->userns = user_namespace();
		sb->netns = sb->mountns = sb->userns;
		sb->tmpfs = sb->userns && private_tmp(sb, false);
	}
	int rc = sk_worker_drop(&sb->lim, err);
	if (rc)
		return rc;
	sb->dropped = sb->lim.drop;
	if (sb->tmpfs) {
		snprintf(sb->tmp, sizeof(sb->tmp), "/tmp");
	} else {
		/* no namespace: a folder of its own (0700), removed at a clean exit */
		snprintf(sb->tmp, sizeof(sb->tmp), "/tmp/sekisho-office.XXXXXX");
		if (!mkdtemp(sb->tmp))
			return sk_error_sys(err, SK_EIO, "mkdtemp");
	}
	if (setenv("HOME", sb->tmp, 1) != 0 || setenv("TMPDIR", sb->tmp, 1) != 0)
		return sk_error_set(err, SK_ENOMEM, "setenv");
	if ((rc = write_profile(sb->tmp, err)) != 0)
		return rc;
	rc = sk_worker_rlimit(RLIMIT_CORE, 0, 0, "core", err);
#ifndef SK_ASAN /* ASan reserves terabytes of shadow address space */
	if (!rc)
		rc = sk_worker_rlimit(RLIMIT_AS, sb->lim.max_as, sb->lim.max_as, "as", err);
#endif
	if (!rc)
		rc = sk_worker_rlimit(RLIMIT_FSIZE, sb->lim.max_fsize, sb->lim.max_fsize, "fsize", err);
	if (!rc)
		rc = sk_worker_rlimit(RLIMIT_NOFILE, OFFICE_NOFILE, OFFICE_NOFILE, "nofile", err);
	if (rc)
		return rc;
	/* past RLIMIT_FSIZE a write fails (EFBIG: limit-size) instead of killing */
	signal(SIGXFSZ, SIG_IGN);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return sk_error_sys(err, SK_EINTERNAL, "prctl");
	sb->nnp = true;
	snprintf(sb->what, sizeof(sb->what),
		 "uid=%u user-namespace=%s network-namespace=%s mount-namespace=%s tmp=%s%s "
		 "no-new-privs=yes as=%llu fsize=%llu nofile=%d core=0",
		 (unsigned)getuid(), sb->userns ? "yes" : "no", sb->netns ? "yes" : "no",
		 sb->mountns ? "yes" : "no", sb->tmpfs ? "tmpfs:" : "folder:", sb->tmp,
		 (unsigned long long)sb->lim.max_as, (unsigned long long)sb->lim.max_fsize,
		 OFFICE_NOFILE);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void sk_office_sandbox_leave(sk_office_sandbox *sb)
{
	if (!sb->tmpfs && sb->tmp[0])
		nftw(sb->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
