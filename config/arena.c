/* Memory for the loader: the arena a config lives in, a string buffer, a
 * string map, and the one function that reads files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/internal.h"

static void cfg_oom(void)
{
	static const char msg[] = "sysg: out of memory\n";
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	abort();
}

void *cfg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		cfg_oom();
	return p;
}

void *cfg_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		cfg_oom();
	return p;
}

char *cfg_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		cfg_oom();
	return p;
}

/* ---- arena ---------------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
};

#define CHUNK_SIZE (64u << 10)
#define ALIGN 16u

struct arena *arena_new(void)
{
	struct arena *a = cfg_xmalloc(sizeof(*a));
	a->head = NULL;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	for (struct chunk *c = a->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	void *p;

	n = n ? n : 1;
	if (n > SIZE_MAX - ALIGN)
		cfg_oom();
	n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (!c || c->size - c->used < n) {
		/* Big requests get a chunk of their own behind the current one,
		 * so the current chunk's free space is not wasted. */
		size_t size = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
		struct chunk *nc = cfg_xmalloc(sizeof(*nc) + size);
		nc->used = 0;
		nc->size = size;
		if (c && size != CHUNK_SIZE) {
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			a->head = nc;
		}
		c = nc;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

void *arena_array(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		cfg_oom();
	return arena_alloc(a, n * size);
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char small[256], *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		cfg_oom();
	p = arena_alloc(a, (size_t)n + 1);
	if ((size_t)n < sizeof(small)) {
		memcpy(p, small, (size_t)n + 1);
		return p;
	}
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* ---- cbuf ----------------------------------------------------------------- */

void cbuf_add(struct cbuf *b, const char *s, size_t n)
{
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap - b->len <= n) {
			if (cap > SIZE_MAX / 2)
				cfg_oom();
			cap *= 2;
		}
		b->s = cfg_xrealloc(b->s, cap);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void cbuf_adds(struct cbuf *b, const char *s)
{
	cbuf_add(b, s, strlen(s));
}

void cbuf_addc(struct cbuf *b, char ch)
{
	cbuf_add(b, &ch, 1);
}

void cbuf_addf(struct cbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		cbuf_add(b, small, (size_t)n);
		return;
	}
	char *big = cfg_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	cbuf_add(b, big, (size_t)n);
	free(big);
}

void cbuf_truncate(struct cbuf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->s[len] = '\0';
	}
}

void cbuf_free(struct cbuf *b)
{
	free(b->s);
	*b = (struct cbuf){0};
}

/* ---- strmap --------------------------------------------------------------- */

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void strmap_grow(struct strmap *m)
{
	struct strmap old = *m;
	size_t cap = old.cap ? old.cap * 2 : 16;

	m->keys = cfg_xmalloc(cap * sizeof(*m->keys));
	m->vals = cfg_xmalloc(cap * sizeof(*m->vals));
	memset(m->keys, 0, cap * sizeof(*m->keys));
	m->cap = cap;
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.keys[i])
			strmap_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

void strmap_put(struct strmap *m, const char *key, size_t val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		strmap_grow(m);
	for (i = str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (strcmp(m->keys[i], key) == 0) {
			m->vals[i] = val;
			return;
		}
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
}

bool strmap_get(const struct strmap *m, const char *key, size_t *val)
{
	if (!m->cap)
		return false;
	for (size_t i = str_hash(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (strcmp(m->keys[i], key) == 0) {
			if (val)
				*val = m->vals[i];
			return true;
		}
	}
	return false;
}

void strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct strmap){0};
}

/* ---- files ---------------------------------------------------------------- */

int cfg_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	struct stat st;
	size_t n = 0, cap;
	char *p;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto out_close;
	}
	/* A FIFO or device could block or never end. */
	if (!S_ISREG(st.st_mode)) {
		err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out_close;
	}
	if ((uint64_t)st.st_size > max) {
		err = -EFBIG;
		goto out_close;
	}
	cap = (size_t)st.st_size + 1;
	p = cfg_xmalloc(cap + 1);
	for (;;) {
		ssize_t r = read(fd, p + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			free(p);
			goto out_close;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) { /* it grew while we read */
			err = -EFBIG;
			free(p);
			goto out_close;
		}
		if (n == cap) {
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			p = cfg_xrealloc(p, cap + 1);
		}
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
out_close:
	close(fd);
	return err;
}
