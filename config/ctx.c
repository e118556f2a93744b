/* The load context: the key path of what is being read, and diagnostics
 * that carry it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static void vdiag(struct lctx *c, enum diag_sev sev, const char *path, unsigned line,
		  unsigned col, const char *hint, const char *fmt, va_list ap)
{
	char small[512], *msg = small;
	va_list aq;
	int n;

	/* A hostile file can hold a million problems; the first ones are enough. */
	if (c->shown >= CFG_MAX_SHOWN_ERRORS) {
		if (sev == DIAG_ERROR)
			c->hidden_errors++;
		else
			c->hidden_other++;
		if (line > c->hidden_line || (line == c->hidden_line && col > c->hidden_col)) {
			c->hidden_line = line;
			c->hidden_col = col;
		}
		return;
	}
	c->shown++;
	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		msg = cfg_xmalloc((size_t)n + 1);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
	}
	if (path && *path)
		diags_add(c->d, sev, c->file, line, col, hint, "%s: %s", path, msg);
	else
		diags_add(c->d, sev, c->file, line, col, hint, "%s", msg);
	if (msg != small)
		free(msg);
}

#define AT(n) (n) ? (n)->line : 0, (n) ? (n)->col : 0

void lerr(struct lctx *c, const struct ynode *at, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, DIAG_ERROR, c->path.s, AT(at), hint, fmt, ap);
	va_end(ap);
}

void lwarn(struct lctx *c, const struct ynode *at, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, DIAG_WARNING, c->path.s, AT(at), hint, fmt, ap);
	va_end(ap);
}

void lnote(struct lctx *c, const struct ynode *at, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, DIAG_NOTE, c->path.s, AT(at), hint, fmt, ap);
	va_end(ap);
}

void lerr_path(struct lctx *c, const char *path, unsigned line, unsigned col, const char *hint,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vdiag(c, DIAG_ERROR, path, line, col, hint, fmt, ap);
	va_end(ap);
}

/* ---- the key path --------------------------------------------------------------- */

/* Keys come from the file: shown shortened and with control characters
 * escaped, so a message stays one line. */
static void add_escaped(struct cbuf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\n')
			cbuf_adds(b, "\\n");
		else if (ch == '\t')
			cbuf_adds(b, "\\t");
		else if (ch < 0x20 || ch == 0x7f)
			cbuf_addf(b, "\\x%02x", ch);
		else
			cbuf_addc(b, (char)ch);
	}
	if (s[i])
		cbuf_adds(b, "...");
}

size_t path_push(struct lctx *c, const char *key)
{
	size_t len = c->path.len;

	if (len)
		cbuf_addc(&c->path, '.');
	add_escaped(&c->path, key, 64);
	return len;
}

size_t path_push_index(struct lctx *c, size_t i)
{
	size_t len = c->path.len;
	cbuf_addf(&c->path, "[%zu]", i);
	return len;
}

void path_pop(struct lctx *c, size_t len)
{
	cbuf_truncate(&c->path, len);
}

const char *path_rel(const struct lctx *c)
{
	if (!c->path.s)
		return "";
	if (c->svc_path && c->path.len >= c->svc_path)
		return c->path.s + c->svc_path;
	return c->svc_path ? "" : c->path.s;
}

const char *quote(struct lctx *c, const char *s)
{
	struct cbuf b = {0};
	char *r;

	cbuf_addc(&b, '\'');
	add_escaped(&b, s, 60);
	cbuf_addc(&b, '\'');
	r = arena_strdup(c->a, b.s);
	cbuf_free(&b);
	return r;
}

const char *quote_node(struct lctx *c, const struct ynode *n)
{
	if (n->kind == Y_SCALAR)
		return quote(c, n->str);
	return y_kind_name(n);
}
