/* Diagnostics: collected, then printed or turned into JSON in file order. */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

static const char *const sev_names[] = {
	[DIAG_ERROR] = "error",
	[DIAG_WARNING] = "warning",
	[DIAG_NOTE] = "note",
};
_Static_assert(CFG_ARRAY_SIZE(sev_names) == DIAG_NOTE + 1, "sev_names");

void diags_add(struct sysg_diags *d, enum diag_sev sev, const char *file, unsigned line,
	       unsigned col, const char *hint, const char *fmt, ...)
{
	struct sysg_diag *g;
	struct cbuf msg = {0};
	va_list ap;
	char small[512];
	int n;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->v = cfg_xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(small)) {
		cbuf_add(&msg, small, (size_t)n);
	} else if (n >= 0) {
		char *big = cfg_xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		cbuf_add(&msg, big, (size_t)n);
		free(big);
	} else {
		cbuf_adds(&msg, fmt);
	}
	g = &d->v[d->n++];
	g->sev = sev;
	g->file = cfg_xstrdup(file ? file : "");
	g->line = line;
	g->col = col;
	g->msg = msg.s;
	g->hint = hint ? cfg_xstrdup(hint) : NULL;
	if (sev == DIAG_ERROR)
		d->nerrors++;
}

void diags_free(struct sysg_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
		free(d->v[i].hint);
	}
	free(d->v);
	*d = (struct sysg_diags){0};
}

/* File order: files in the order they were first mentioned, then line,
 * column, then the order the problems were found. */
struct diag_ref {
	const struct sysg_diag *g;
	size_t file_rank, seq;
};

static int diag_cmp(const void *pa, const void *pb)
{
	const struct diag_ref *a = pa, *b = pb;

	if (a->file_rank != b->file_rank)
		return a->file_rank < b->file_rank ? -1 : 1;
	if (a->g->line != b->g->line)
		return a->g->line < b->g->line ? -1 : 1;
	if (a->g->col != b->g->col)
		return a->g->col < b->g->col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static struct diag_ref *diags_sorted(const struct sysg_diags *d)
{
	struct diag_ref *r = cfg_xmalloc((d->n ? d->n : 1) * sizeof(*r));
	struct strmap files = {0};

	for (size_t i = 0; i < d->n; i++) {
		size_t rank;
		if (!strmap_get(&files, d->v[i].file, &rank)) {
			rank = files.n;
			strmap_put(&files, d->v[i].file, rank);
		}
		r[i] = (struct diag_ref){&d->v[i], rank, i};
	}
	strmap_free(&files);
	qsort(r, d->n, sizeof(*r), diag_cmp);
	return r;
}

void diags_print(const struct sysg_diags *d, FILE *out)
{
	struct diag_ref *r = diags_sorted(d);

	for (size_t i = 0; i < d->n; i++) {
		const struct sysg_diag *g = r[i].g;
		if (g->line)
			fprintf(out, "%s:%u:%u: ", g->file, g->line, g->col);
		else
			fprintf(out, "%s: ", g->file);
		fprintf(out, "%s: %s", sev_names[g->sev], g->msg);
		if (g->hint)
			fprintf(out, " (%s)", g->hint);
		fputc('\n', out);
	}
	free(r);
}

char *diags_to_json(const struct sysg_diags *d)
{
	struct diag_ref *r = diags_sorted(d);
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	size_t nwarn = 0;
	char *s;

	for (size_t i = 0; i < d->n; i++) {
		const struct sysg_diag *g = r[i].g;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(g->file));
		json_object_object_add(o, "line", json_object_new_int64(g->line));
		json_object_object_add(o, "column", json_object_new_int64(g->col));
		json_object_object_add(o, "severity", json_object_new_string(sev_names[g->sev]));
		json_object_object_add(o, "message", json_object_new_string(g->msg));
		json_object_object_add(o, "hint", g->hint ? json_object_new_string(g->hint) : NULL);
		json_object_array_add(arr, o);
		nwarn += g->sev == DIAG_WARNING;
	}
	json_object_object_add(root, "valid", json_object_new_boolean(d->nerrors == 0));
	json_object_object_add(root, "errors", json_object_new_int64((int64_t)d->nerrors));
	json_object_object_add(root, "warnings", json_object_new_int64((int64_t)nwarn));
	json_object_object_add(root, "diagnostics", arr);
	s = cfg_xstrdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	free(r);
	return s;
}

/* ---- did you mean ------------------------------------------------------------ */

/* Optimal string alignment distance (a transposition counts as one edit),
 * giving up early once it exceeds max. */
static size_t edit_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *base, *prev2, *prev, *cur, *t, best, d;

	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	base = cfg_xmalloc(3 * (lb + 1) * sizeof(size_t));
	prev2 = base;
	prev = base + lb + 1;
	cur = prev + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = prev2[j] = j;
	d = SIZE_MAX;
	for (size_t i = 1; i <= la && d == SIZE_MAX; i++) {
		cur[0] = best = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + (a[i - 1] != b[j - 1]) < v)
				v = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			best = v < best ? v : best;
		}
		if (best > max)
			d = max + 1;
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	if (d == SIZE_MAX)
		d = prev[lb];
	free(base);
	return d;
}

static bool ieq_prefix(const char *word, const char *cand)
{
	size_t lw = strlen(word), lc = strlen(cand);
	return lw >= 3 && lw < lc && strncasecmp(word, cand, lw) == 0;
}

const char *did_you_mean(const char *word, const char *const *candidates, size_t n)
{
	size_t wl = strlen(word), best_d = SIZE_MAX;
	const char *best = NULL;

	if (wl == 0 || wl > 256)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i])
			continue;
		if (strcasecmp(word, candidates[i]) == 0)
			return candidates[i];
	}
	for (size_t i = 0; i < n; i++) {
		const char *c = candidates[i];
		size_t max, d;
		if (!c)
			continue;
		/* About one edit in three letters: "bakoff" -> "backoff", not "a" -> "b". */
		max = (wl < strlen(c) ? wl : strlen(c)) / 3;
		max = max < 1 ? 1 : max > 4 ? 4 : max;
		d = edit_distance(word, c, max);
		if (d <= max && d < best_d && !(wl <= 2 && d >= wl)) {
			best_d = d;
			best = c;
		}
	}
	if (best)
		return best;
	for (size_t i = 0; i < n; i++)
		if (candidates[i] && ieq_prefix(word, candidates[i]))
			return candidates[i];
	return NULL;
}
