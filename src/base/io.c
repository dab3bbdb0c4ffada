#include "sekisho/io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void sk_input_mem(sk_input *in, const void *p, size_t n)
{
	in->mem = p ? p : (const uint8_t *)"";
	in->fd = -1;
	in->size = n;
	in->loaded = NULL;
}

void sk_input_fd(sk_input *in, int fd, uint64_t size)
{
	in->mem = NULL;
	in->fd = fd;
	in->size = size;
	in->loaded = NULL;
}

int sk_input_pread(const sk_input *in, uint64_t off, void *buf, size_t n, size_t *got,
		   sk_error *err)
{
	*got = 0;
	if (off >= in->size)
		return 0;
	if (n > in->size - off)
		n = (size_t)(in->size - off);
	if (in->mem || in->loaded) {
		memcpy(buf, (in->mem ? in->mem : in->loaded) + off, n);
		*got = n;
		return 0;
	}
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(in->fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return sk_error_sys(err, SK_EIO, "read");
		}
		if (r == 0)
			break; /* file shrank: the caller sees fewer bytes */
		done += (size_t)r;
	}
	*got = done;
	return 0;
}

int sk_input_load(sk_input *in, const uint8_t **p, size_t *n, sk_error *err)
{
	if (in->mem) {
		*p = in->mem;
		*n = (size_t)in->size;
		return 0;
	}
	if (!in->loaded) {
		if (in->size > SIZE_MAX - 1)
			return sk_error_set(err, SK_ELIMIT, "input too large");
		uint8_t *buf = malloc(in->size ? (size_t)in->size : 1);
		if (!buf)
			return sk_error_set(err, SK_ENOMEM, "load %llu bytes",
					    (unsigned long long)in->size);
		size_t got;
		int rc = sk_input_pread(in, 0, buf, (size_t)in->size, &got, err);
		if (rc) {
			free(buf);
			return rc;
		}
		if (got != in->size) {
			free(buf);
			return sk_error_set(err, SK_EIO, "input changed while read");
		}
		in->loaded = buf;
	}
	*p = in->loaded;
	*n = (size_t)in->size;
	return 0;
}

void sk_input_release(sk_input *in)
{
	free(in->loaded);
	in->loaded = NULL;
}

void sk_output_buf(sk_output *o, sk_buf *b)
{
	o->buf = b;
	o->fd = -1;
	o->written = 0;
	o->max = b->max;
	o->spill_open = NULL;
	o->spill_ctx = NULL;
}

void sk_output_fd(sk_output *o, int fd, uint64_t max)
{
	o->buf = NULL;
	o->fd = fd;
	o->written = 0;
	o->max = max ? max : UINT64_MAX;
	o->spill_open = NULL;
	o->spill_ctx = NULL;
}

void sk_output_spill(sk_output *o, sk_buf *b, int (*open_fd)(void *ctx, sk_error *err), void *ctx,
		     uint64_t max)
{
	sk_output_fd(o, -1, max);
	o->buf = b;
	o->spill_open = open_fd;
	o->spill_ctx = ctx;
}

void sk_output_null(sk_output *o)
{
	o->buf = NULL;
	o->fd = -1;
	o->written = 0;
	o->max = UINT64_MAX;
	o->spill_open = NULL;
	o->spill_ctx = NULL;
}

static int write_all(int fd, const void *p, size_t n, sk_error *err)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, (const uint8_t *)p + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return sk_error_sys(err, SK_EIO, "write");
		}
		done += (size_t)w;
	}
	return 0;
}

int sk_output_write(sk_output *o, const void *p, size_t n, sk_error *err)
{
	if (n > o->max || o->written > o->max - n)
		return sk_error_set(err, SK_ELIMIT, "output larger than %llu bytes",
				    (unsigned long long)o->max);
	if (o->buf && o->spill_open && n > o->buf->max - sk_buf_len(o->buf)) {
		/* the memory part is full: the descriptor, what it holds goes first, then the
		 * rest */
		int fd = o->spill_open(o->spill_ctx, err);
		if (fd < 0)
			return fd;
		o->fd = fd;
		o->spill_open = NULL;
		sk_buf *b = o->buf;
		o->buf = NULL;
		int rc = write_all(o->fd, sk_buf_len(b) ? sk_buf_data(b) : (const uint8_t *)"",
				   sk_buf_len(b), err);
		sk_buf_reset(b);
		if (rc)
			return rc;
	}
	if (o->buf) {
		int rc = sk_buf_add(o->buf, p, n);
		if (rc)
			return sk_error_set(err, rc, "output buffer");
	} else if (o->fd >= 0) {
		int rc = write_all(o->fd, p, n, err);
		if (rc)
			return rc;
	}
	o->written += n;
	return 0;
}

int sk_read_file(const char *path, size_t max, sk_buf *b, sk_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sk_error_sys(err, SK_EIO, "open %s", path);
	sk_buf_reset(b);
	uint8_t chunk[65536];
	int rc = 0;
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = sk_error_sys(err, SK_EIO, "read %s", path);
			break;
		}
		if (r == 0)
			break;
		if ((size_t)r > max || b->len > max - (size_t)r) {
			rc = sk_error_set(err, SK_ELIMIT, "%s is larger than %zu bytes", path, max);
			break;
		}
		if ((rc = sk_buf_add(b, chunk, (size_t)r))) {
			sk_error_set(err, rc, "read %s", path);
			break;
		}
	}
	close(fd);
	return rc;
}

int sk_write_file_atomic(const char *path, const void *data, size_t n, int mode, sk_error *err)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	char *dir = strdup(path);
	if (!tmp || !dir) {
		free(tmp);
		free(dir);
		return sk_error_set(err, SK_ENOMEM, "path");
	}
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	int rc = 0;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = sk_error_sys(err, SK_EIO, "create %s", tmp);
		goto out;
	}
	sk_output o;
	sk_output_fd(&o, fd, 0);
	if ((rc = sk_output_write(&o, data, n, err)) == 0 && fchmod(fd, (mode_t)mode) != 0)
		rc = sk_error_sys(err, SK_EIO, "chmod %s", tmp);
	if (rc == 0 && fsync(fd) != 0)
		rc = sk_error_sys(err, SK_EIO, "fsync %s", tmp);
	if (close(fd) != 0 && rc == 0)
		rc = sk_error_sys(err, SK_EIO, "close %s", tmp);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = sk_error_sys(err, SK_EIO, "rename %s", path);
	if (rc) {
		unlink(tmp);
		goto out;
	}
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) != 0)
			rc = sk_error_sys(err, SK_EIO, "fsync folder of %s", path);
		close(dfd);
	}
out:
	free(tmp);
	free(dir);
	return rc;
}

/* ---- private state and files written under a temporary name ---- */

int sk_dir_private(const char *dir, sk_error *err)
{
	if (!dir || !*dir)
		return sk_error_set(err, SK_EINVAL, "no folder");
	char *p = strdup(dir);
	if (!p)
		return sk_error_set(err, SK_ENOMEM, "path");
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = sk_error_sys(err, SK_EIO, "mkdir %s", p);
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	if (rc)
		return rc;
	struct stat st;
	if (stat(dir, &st) != 0)
		return sk_error_sys(err, SK_EIO, "stat %s", dir);
	if (!S_ISDIR(st.st_mode))
		return sk_error_set(err, SK_EIO, "%s is not a folder", dir);
	if (st.st_mode & S_ISVTX) /* /tmp and its kind: never made private */
		return sk_error_set(err, SK_EIO,
				    "%s is a shared folder (sticky bit): give a folder of its own", dir);
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) != 0)
		return sk_error_sys(err, SK_EIO, "%s is mode %03o and cannot be made 0700", dir,
				    (unsigned)(st.st_mode & 0777));
	return 0;
}

int sk_file_private(const char *path, bool missing_ok, sk_error *err)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return sk_error_sys(err, SK_EIO, "stat %s", path);
	}
	if (!S_ISREG(st.st_mode))
		return sk_error_set(err, SK_EIO, "%s is not a regular file", path);
	if ((st.st_mode & 07777 & ~0600) && chmod(path, st.st_mode & 0600) != 0)
		return sk_error_sys(err, SK_EIO, "%s is mode %03o and cannot be made 0600", path,
				    (unsigned)(st.st_mode & 0777));
	return 0;
}

int sk_umask_mode(void)
{
	/* Linux >= 4.7 shows the umask in /proc/self/status; reading it changes nothing,
	 * unlike umask(), which other threads would race with */
	FILE *f = fopen("/proc/self/status", "re");
	if (f) {
		char line[256];
		unsigned m;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Umask: %o", &m) == 1) {
				fclose(f);
				return (int)(0666 & ~m);
			}
		fclose(f);
	}
	mode_t m = umask(077);
	umask(m);
	return (int)(0666 & ~m);
}

int sk_tmpfile_open(sk_tmpfile *t, const char *final, sk_error *err)
{
	t->fd = -1;
	t->tmp = NULL;
	size_t n = strlen(final) + sizeof(SK_TMPFILE_MARK) + 32;
	char *tmp = malloc(n);
	if (!tmp)
		return sk_error_set(err, SK_ENOMEM, "path");
	snprintf(tmp, n, "%s" SK_TMPFILE_MARK "%ld.XXXXXX", final, (long)getpid());
	int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
	if (fd < 0) {
		int rc = sk_error_sys(err, SK_EIO, "create %s", tmp);
		free(tmp);
		return rc;
	}
	/* the lock says "being written" to a cleaner in another pid namespace; the pid in
	 * the name says it to everyone else, also in the moment before the lock is taken */
	flock(fd, LOCK_EX);
	t->fd = fd;
	t->tmp = tmp;
	return 0;
}

static int fsync_parent(const char *path, sk_error *err)
{
	char *d = strdup(path);
	if (!d)
		return sk_error_set(err, SK_ENOMEM, "path");
	int rc = 0;
	int dfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		rc = sk_error_sys(err, SK_EIO, "fsync folder of %s", path);
	if (dfd >= 0)
		close(dfd);
	free(d);
	return rc;
}

int sk_fsync_dir(const char *dir, sk_error *err)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sk_error_sys(err, SK_EIO, "open folder %s", dir);
	int rc = fsync(dfd) != 0 ? sk_error_sys(err, SK_EIO, "fsync folder %s", dir) : 0;
	close(dfd);
	return rc;
}

int sk_tmpfile_commit(sk_tmpfile *t, const char *final, int mode, bool sync_folder,
		      sk_error *err)
{
	if (t->fd < 0)
		return sk_error_set(err, SK_EINVAL, "no temporary file");
	int rc = 0;
	if (mode < 0)
		mode = sk_umask_mode();
	if (fchmod(t->fd, (mode_t)mode) != 0)
		rc = sk_error_sys(err, SK_EIO, "chmod %s", t->tmp);
	else if (fsync(t->fd) != 0)
		rc = sk_error_sys(err, SK_EIO, "fsync %s", t->tmp);
	else if (rename(t->tmp, final) != 0)
		rc = sk_error_sys(err, SK_EIO, "rename to %s", final);
	if (rc) {
		sk_tmpfile_discard(t);
		return rc;
	}
	int crc = close(t->fd);
	t->fd = -1;
	free(t->tmp);
	t->tmp = NULL;
	if (crc != 0) /* after fsync a close error is not expected; report it all the same */
		return sk_error_sys(err, SK_EIO, "close %s", final);
	return sync_folder ? fsync_parent(final, err) : 0;
}

void sk_tmpfile_discard(sk_tmpfile *t)
{
	if (t->tmp)
		unlink(t->tmp);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->tmp);
	t->tmp = NULL;
}

/* TMP_NOT_OURS when the name is not a temporary file at all; else the pid in
 * NAME.sekisho-tmp.PID.RANDOM, 0 when the name has none (older versions wrote
 * NAME.sekisho-tmp.RANDOM). */
#define TMP_NOT_OURS (-1L)
static long tmp_pid(const char *name)
{
	const char *m = strstr(name, SK_TMPFILE_MARK);
	if (!m)
		return TMP_NOT_OURS;
	const char *s = m + strlen(SK_TMPFILE_MARK), *p = s;
	long pid = 0;
	while (*p >= '0' && *p <= '9' && pid < 100000000)
		pid = pid * 10 + (*p++ - '0');
	if (p == s || *p != '.' || strlen(p + 1) != 6)
		return strlen(s) == 6 ? 0 : TMP_NOT_OURS;
	return pid > 0 ? pid : TMP_NOT_OURS;
}

static bool pid_alive(long pid)
{
	if (pid == (long)getpid())
		return true;
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

#define SK_TMPFILE_LEGACY_AGE (24 * 3600) /* seconds a name without a pid must be idle */

int sk_tmpfile_clean(const char *dir, unsigned *removed, sk_error *err)
{
	if (removed)
		*removed = 0;
	DIR *d = opendir(dir);
	if (!d)
		return sk_error_sys(err, SK_EIO, "open folder %s", dir);
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid = tmp_pid(e->d_name);
		if (pid == TMP_NOT_OURS || (pid > 0 && pid_alive(pid)))
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			continue;
		struct stat st;
		bool stale = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
			     (pid > 0 || time(NULL) - st.st_mtime > SK_TMPFILE_LEGACY_AGE) &&
			     flock(fd, LOCK_EX | LOCK_NB) == 0;
		if (stale && unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
		close(fd);
	}
	closedir(d);
	if (removed)
		*removed = n;
	return 0;
}
