#include "sekisho/io.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
}

void sk_output_fd(sk_output *o, int fd, uint64_t max)
{
	o->buf = NULL;
	o->fd = fd;
	o->written = 0;
	o->max = max ? max : UINT64_MAX;
}

void sk_output_null(sk_output *o)
{
	o->buf = NULL;
	o->fd = -1;
	o->written = 0;
	o->max = UINT64_MAX;
}

int sk_output_write(sk_output *o, const void *p, size_t n, sk_error *err)
{
	if (n > o->max || o->written > o->max - n)
		return sk_error_set(err, SK_ELIMIT, "output larger than %llu bytes",
				    (unsigned long long)o->max);
	if (o->buf) {
		int rc = sk_buf_add(o->buf, p, n);
		if (rc)
			return sk_error_set(err, rc, "output buffer");
	} else if (o->fd >= 0) {
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(o->fd, (const uint8_t *)p + done, n - done);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return sk_error_sys(err, SK_EIO, "write");
			}
			done += (size_t)w;
		}
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
