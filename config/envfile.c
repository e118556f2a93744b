/* Env files: KEY=VALUE lines (SPEC §2.2). Small and self-contained: the
 * loader reads them to expand ${VAR} and report errors, and the supervisor
 * re-reads them at every start. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

#define ENVFILE_MAX_ERRORS 100

struct envp {
	const char *name;
	const char *s, *end;
	const char *line_start;
	unsigned line;
	struct sysg_diags *d;
	struct envfile *out;
	size_t cap;
	int errors;
};

static unsigned ecol(const struct envp *p, const char *at)
{
	return (unsigned)(at - p->line_start) + 1;
}

static void eerr(struct envp *p, const char *at, const char *hint, const char *msg)
{
	diags_add(p->d, DIAG_ERROR, p->name, p->line, ecol(p, at), hint, "%s", msg);
	p->errors++;
}

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *line_end(const char *s, const char *end)
{
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	return nl ? nl : end;
}

static void next_line(struct envp *p, const char *nl)
{
	p->s = nl < p->end ? nl + 1 : p->end;
	p->line_start = p->s;
	p->line++;
}

static bool key_start(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool key_char(char ch)
{
	return key_start(ch) || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

static void push(struct envp *p, const char *k, size_t klen, char *value)
{
	struct envfile *o = p->out;

	if (o->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		o->v = cfg_xrealloc(o->v, p->cap * sizeof(*o->v));
	}
	o->v[o->n].key = cfg_xmalloc(klen + 1);
	memcpy(o->v[o->n].key, k, klen);
	o->v[o->n].key[klen] = '\0';
	o->v[o->n].value = value;
	o->n++;
}

/* A quoted value; may span lines. Returns the position after the closing
 * quote, or NULL (error reported). */
static const char *read_quoted(struct envp *p, const char *s, struct cbuf *v)
{
	char q = *s;
	const char *open = s;
	unsigned open_line = p->line;
	const char *open_line_start = p->line_start;

	for (s++; s < p->end && *s != q; s++) {
		if (*s == '\n') {
			p->line++;
			p->line_start = s + 1;
		}
		if (q == '"' && *s == '\\' && s + 1 < p->end) {
			static const char from[] = "ntr\"\\$`", to[] = "\n\t\r\"\\$`";
			const char *e = strchr(from, s[1]);
			if (e && s[1]) {
				cbuf_addc(v, to[e - from]);
				s++;
				continue;
			}
		}
		cbuf_addc(v, *s);
	}
	if (s >= p->end) {
		p->line = open_line;
		p->line_start = open_line_start;
		eerr(p, open, q == '"' ? "close it with \"" : "close it with '",
		     q == '"' ? "the double quote is not closed" : "the single quote is not closed");
		return NULL;
	}
	return s + 1;
}

/* One KEY=VALUE at p->s (blank lines and comments already skipped). */
static void read_assignment(struct envp *p, const char *s, const char *eol)
{
	struct cbuf v = {0};
	const char *k, *after;
	size_t klen;

	if (eol - s > 7 && !strncmp(s, "export", 6) && (s[6] == ' ' || s[6] == '\t'))
		s = skip_blank(s + 6, eol);
	k = s;
	if (s < eol && key_start(*s))
		while (s < eol && key_char(*s))
			s++;
	klen = (size_t)(s - k);
	if (!klen) {
		eerr(p, k, "variable names start with a letter or _", "expected KEY=VALUE");
		next_line(p, eol);
		return;
	}
	s = skip_blank(s, eol);
	if (s >= eol || *s != '=') {
		eerr(p, s, NULL, "expected '=' after the variable name");
		next_line(p, eol);
		return;
	}
	s = skip_blank(s + 1, eol);
	cbuf_add(&v, "", 0);
	if (s < eol && (*s == '"' || *s == '\'')) {
		after = read_quoted(p, s, &v);
		if (!after) {
			cbuf_free(&v);
			next_line(p, eol);
			return;
		}
		eol = line_end(after, p->end);
		s = skip_blank(after, eol);
		if (s < eol && *s != '#' && !(*s == '\r' && s + 1 == eol)) {
			eerr(p, s, "quote the whole value", "unexpected text after the closing quote");
			cbuf_free(&v);
			next_line(p, eol);
			return;
		}
	} else {
		const char *e = eol;
		/* An inline comment needs a blank before '#': a#b is a value. */
		for (const char *h = s; h < eol; h++) {
			if (*h == '#' && (h == s || h[-1] == ' ' || h[-1] == '\t')) {
				e = h;
				break;
			}
		}
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		cbuf_add(&v, s, (size_t)(e - s));
	}
	push(p, k, klen, v.s);
	next_line(p, eol);
}

int envfile_parse(const char *name, const char *buf, size_t len, struct envfile *out,
		  struct sysg_diags *d)
{
	struct envp p = {.name = name, .s = buf, .end = buf + len, .line_start = buf, .line = 1,
			 .d = d, .out = out};
	const char *nul = memchr(buf, '\0', len);

	*out = (struct envfile){0};
	if (nul) {
		/* Position of the NUL for the message, then refuse the file. */
		const char *ls = buf;
		for (const char *q = buf; q < nul; q++) {
			if (*q == '\n') {
				p.line++;
				ls = q + 1;
			}
		}
		p.line_start = ls;
		eerr(&p, nul, NULL, "the file contains a NUL byte");
		return -1;
	}
	while (p.s < p.end && p.errors < ENVFILE_MAX_ERRORS) {
		const char *eol = line_end(p.s, p.end);
		const char *s = skip_blank(p.s, eol);
		if (s == eol || *s == '#' || (*s == '\r' && s + 1 == eol)) {
			next_line(&p, eol);
			continue;
		}
		read_assignment(&p, s, eol);
	}
	if (p.s < p.end)
		diags_add(d, DIAG_ERROR, name, p.line, 1, NULL,
			  "more than %d errors: the rest of the file was not read", ENVFILE_MAX_ERRORS);
	return p.errors ? -1 : 0;
}

int envfile_read(const char *path, struct envfile *out, struct sysg_diags *d)
{
	char *buf;
	size_t len;
	int r = cfg_read_file(path, SYSG_MAX_ENVFILE_BYTES, &buf, &len);

	*out = (struct envfile){0};
	if (r < 0)
		return r;
	r = envfile_parse(path, buf, len, out, d) < 0 ? -EINVAL : 0;
	free(buf);
	return r;
}

void envfile_free(struct envfile *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].key);
		free(e->v[i].value);
	}
	free(e->v);
	*e = (struct envfile){0};
}
