/* sekishod's http role: the console's static files (web/, installed under
 * DATADIR/sekisho/web, or `--web DIR`).
 *
 * The URL path names a file below the web root: "/" and a path ending in "/" mean its
 * index.html. A path with a ".." or "." component, a backslash, a NUL or a control
 * character is refused; the file is opened with openat2(RESOLVE_BENEATH) from the root
 * (a symbolic link may point inside the root, never out of it) and served only when it is
 * a regular file. Known extensions get their content type; others are
 * application/octet-stream (and nosniff). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "http.h"

static const struct {
	const char *ext, *type;
} types[] = {
	{".html", "text/html; charset=utf-8"},
	{".js", "text/javascript; charset=utf-8"},
	{".mjs", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},
	{".svg", "image/svg+xml"},
	{".png", "image/png"},
	{".woff2", "font/woff2"},
	{".json", "application/json; charset=utf-8"},
	{".map", "application/json; charset=utf-8"},
	{".ico", "image/x-icon"},
	{".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *path)
{
	const char *dot = strrchr(path, '.');
	const char *sl = strrchr(path, '/');
	if (dot && (!sl || dot > sl))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* The relative path below the root, or NULL when the URL path is refused. */
static bool rel_path(const char *url, char *out, size_t n)
{
	if (url[0] != '/')
		return false;
	const char *p = url + 1;
	size_t len = strlen(p);
	if (len + sizeof("index.html") >= n)
		return false;
	/* every component: not empty (except a final "/"), not "." or ".." */
	const char *s = p;
	for (;;) {
		const char *e = strchr(s, '/');
		size_t cl = e ? (size_t)(e - s) : strlen(s);
		if ((cl == 1 && s[0] == '.') || (cl == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		if (!cl && e)
			return false; /* "//" */
		if (!e)
			break;
		s = e + 1;
	}
	for (const unsigned char *c = (const unsigned char *)p; *c; c++)
		if (*c < 0x20 || *c == 0x7f || *c == '\\')
			return false;
	memcpy(out, p, len + 1);
	if (!len || out[len - 1] == '/')
		memcpy(out + len, "index.html", sizeof("index.html"));
	return true;
}

static int open_beneath(int root, const char *rel)
{
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	return (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
}

void skh_static(skh_req *r)
{
	const skh_server *s = r->l->s;
	char rel[1100];
	if (s->web_fd < 0 || !rel_path(r->url, rel, sizeof(rel))) {
		skh_error(r, MHD_HTTP_NOT_FOUND, "not-found", "見つかりません", "Not found", NULL);
		return;
	}
	int fd = open_beneath(s->web_fd, rel);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		skh_error(r, MHD_HTTP_NOT_FOUND, "not-found", "見つかりません", "Not found", NULL);
		return;
	}
	struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "混み合っています",
			  "The gateway is busy", NULL);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type_of(rel));
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->resp = resp;
	r->status = MHD_HTTP_OK;
}
