#include "supervisor/mask.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MASK "***"
#define MAX_STATES 65535 /* transitions are 16-bit: 128 KiB of table per 256 states */

struct mask_dfa {
	unsigned nstates;
	uint16_t (*next)[256];
	uint16_t *depth;    /* length of the prefix this state stands for */
	uint16_t *match;    /* longest pattern ending in this state (through suffix links), or 0 */
};

struct builder {
	struct mask_dfa *d;
	unsigned cap;
	int err;
};

static unsigned new_state(struct builder *b, unsigned depth)
{
	struct mask_dfa *d = b->d;

	if (d->nstates == MAX_STATES) {
		b->err = -E2BIG;
		return 0;
	}
	if (d->nstates == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		d->next = xreallocarray(d->next, b->cap, sizeof(*d->next));
		d->depth = xreallocarray(d->depth, b->cap, sizeof(*d->depth));
		d->match = xreallocarray(d->match, b->cap, sizeof(*d->match));
	}
	memset(d->next[d->nstates], 0, sizeof(d->next[0]));
	d->depth[d->nstates] = depth;
	d->match[d->nstates] = 0;
	return d->nstates++;
}

/* The trie; 0 in next[][] means "no child" until the automaton is completed. */
static void add_pattern(struct builder *b, const unsigned char *p, size_t len)
{
	unsigned s = 0;

	if (!len || len > 4096) {
		if (len)
			b->err = -E2BIG;
		return;
	}
	for (size_t i = 0; i < len && !b->err; i++) {
		if (!b->d->next[s][p[i]]) {
			unsigned t = new_state(b, i + 1);
			if (b->err)
				return;
			b->d->next[s][p[i]] = t;
		}
		s = b->d->next[s][p[i]];
	}
	if (len > b->d->match[s])
		b->d->match[s] = len;
}

/* Breadth first: suffix links become transitions, so the DFA never backtracks. */
static void complete(struct mask_dfa *d)
{
	unsigned *queue = xcalloc(d->nstates, sizeof(unsigned)), *fail = xcalloc(d->nstates,
										   sizeof(unsigned));
	size_t head = 0, tail = 0;

	for (int c = 0; c < 256; c++)
		if (d->next[0][c])
			queue[tail++] = d->next[0][c];
	while (head < tail) {
		unsigned s = queue[head++];
		if (d->match[fail[s]] > d->match[s])
			d->match[s] = d->match[fail[s]];
		for (int c = 0; c < 256; c++) {
			unsigned t = d->next[s][c];
			if (t) {
				fail[t] = d->next[fail[s]][c];
				queue[tail++] = t;
			} else {
				d->next[s][c] = d->next[fail[s]][c];
			}
		}
	}
	free(queue);
	free(fail);
}

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The base64 characters that depend only on the value when it sits at byte
 * offset k (0..2) of a longer encoded stream: what a log line may contain. */
static void add_base64(struct builder *b, const char *v, size_t n, int k, const char *alpha)
{
	size_t in = k + n, bits_from = 8 * k, bits_to = 8 * (k + n);
	size_t first = (bits_from + 5) / 6, last = bits_to / 6; /* chars [first, last) */
	unsigned char *raw = xcalloc(in + 3, 1);
	char *enc = xmalloc((in + 3) / 3 * 4 + 1);
	size_t o = 0;

	memcpy(raw + k, v, n);
	for (size_t i = 0; i < in; i += 3) {
		uint32_t w = raw[i] << 16 | raw[i + 1] << 8 | raw[i + 2];
		for (int j = 3; j >= 0; j--)
			enc[o++] = alpha[(w >> (6 * j)) & 63];
	}
	if (last > first && last - first >= 4)
		add_pattern(b, (const unsigned char *)enc + first, last - first);
	free(raw);
	free(enc);
}

/* The value encoded on its own, padding included: "c2VjcmV0" and "c2VjcmV0IQ==". */
static void add_base64_alone(struct builder *b, const char *v, size_t n, const char *alpha,
			     bool pad)
{
	size_t o = 0;
	char *enc = xmalloc((n + 2) / 3 * 4 + 1);

	for (size_t i = 0; i < n; i += 3) {
		size_t rem = n - i;
		uint32_t w = (unsigned char)v[i] << 16 | (rem > 1 ? (unsigned char)v[i + 1] << 8 : 0) |
			     (rem > 2 ? (unsigned char)v[i + 2] : 0);
		size_t chars = rem >= 3 ? 4 : rem + 1;
		for (size_t j = 0; j < 4; j++)
			if (j < chars)
				enc[o++] = alpha[(w >> (18 - 6 * j)) & 63];
			else if (pad)
				enc[o++] = '=';
	}
	add_pattern(b, (const unsigned char *)enc, o);
	free(enc);
}

static void add_urlencoded(struct builder *b, const char *v, size_t n, bool lower)
{
	static const char hex_up[] = "0123456789ABCDEF", hex_lo[] = "0123456789abcdef";
	const char *hex = lower ? hex_lo : hex_up;
	char *enc = xmalloc(3 * n + 1);
	size_t o = 0;
	bool changed = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = v[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			enc[o++] = c;
		} else {
			enc[o++] = '%';
			enc[o++] = hex[c >> 4];
			enc[o++] = hex[c & 15];
			changed = true;
		}
	}
	if (changed)
		add_pattern(b, (const unsigned char *)enc, o);
	free(enc);
}

struct mask_dfa *mask_dfa_new(const char *const *values, const size_t *lens, size_t n, int *err)
{
	struct builder b = {.d = xcalloc(1, sizeof(struct mask_dfa))};

	new_state(&b, 0);
	for (size_t i = 0; i < n && !b.err; i++) {
		add_pattern(&b, (const unsigned char *)values[i], lens[i]);
		if (lens[i] < 3)
			continue;
		for (int k = 0; k < 3; k++) {
			add_base64(&b, values[i], lens[i], k, b64std);
			add_base64(&b, values[i], lens[i], k, b64url);
		}
		add_base64_alone(&b, values[i], lens[i], b64std, true);
		add_base64_alone(&b, values[i], lens[i], b64url, false);
		add_urlencoded(&b, values[i], lens[i], false);
		add_urlencoded(&b, values[i], lens[i], true);
	}
	*err = b.err;
	if (b.err || b.d->nstates == 1) {
		mask_dfa_free(b.d);
		return NULL;
	}
	complete(b.d);
	return b.d;
}

void mask_dfa_free(struct mask_dfa *d)
{
	if (!d)
		return;
	free(d->next);
	free(d->depth);
	free(d->match);
	free(d);
}

void mask_stream_init(struct mask_stream *s, const struct mask_dfa *dfa)
{
	*s = (struct mask_stream){.dfa = dfa};
}

/* Emits work[from, to) to out, "***" once per masked run; iv holds the
 * masked intervals [b, e) in increasing order. */
static void emit(struct mask_stream *s, const char *work, size_t from, size_t to,
		 const size_t *iv, size_t niv, struct sbuf *out)
{
	size_t i = from, k = 0;

	while (i < to) {
		while (k < niv && iv[2 * k + 1] <= i)
			k++;
		if (k < niv && iv[2 * k] <= i) {
			size_t end = iv[2 * k + 1] < to ? iv[2 * k + 1] : to;
			if (!s->masking)
				sbuf_add(out, MASK, sizeof(MASK) - 1);
			s->masking = true;
			i = end;
			continue;
		}
		size_t end = k < niv && iv[2 * k] < to ? iv[2 * k] : to;
		sbuf_add(out, work + i, end - i);
		s->masking = false;
		i = end;
	}
}

void mask_stream_feed(struct mask_stream *s, const char *buf, size_t len, struct sbuf *out)
{
	const struct mask_dfa *d = s->dfa;
	size_t *iv = NULL, niv = 0, cap = 0, n, keep;
	const char *work;
	unsigned st = s->state;

	if (!d) {
		sbuf_add(out, buf, len);
		return;
	}
	if (s->hold.len) {
		sbuf_add(&s->hold, buf, len);
		work = s->hold.s;
		n = s->hold.len;
	} else {
		work = buf;
		n = len;
	}
	size_t start = n - len; /* held bytes were already run through the automaton */
	if (s->hold_masked) {
		cap = 8;
		iv = xreallocarray(iv, 2 * cap, sizeof(size_t));
		iv[0] = 0;
		iv[1] = s->hold_masked;
		niv = 1;
	}
	for (size_t i = start; i < n; i++) {
		st = d->next[st][(unsigned char)work[i]];
		if (d->match[st]) {
			size_t e = i + 1, b = e - d->match[st];
			if (niv && iv[2 * niv - 1] >= b) {
				iv[2 * niv - 1] = e; /* overlapping or adjacent: one masked run */
				if (b < iv[2 * niv - 2])
					iv[2 * niv - 2] = b;
			} else {
				if (niv == cap) {
					cap = cap ? cap * 2 : 8;
					iv = xreallocarray(iv, 2 * cap, sizeof(size_t));
				}
				iv[2 * niv] = b;
				iv[2 * niv + 1] = e;
				niv++;
			}
		}
	}
	s->state = st;
	/* The last depth bytes may begin a match that ends later; everything
	 * before them is final. */
	keep = d->depth[st];
	emit(s, work, 0, n - keep, iv, niv, out);
	s->hold_masked = niv && iv[2 * niv - 1] > n - keep ? iv[2 * niv - 1] - (n - keep) : 0;
	if (work == s->hold.s) {
		memmove(s->hold.s, s->hold.s + n - keep, keep);
		s->hold.len = keep;
	} else {
		sbuf_reset(&s->hold);
		sbuf_add(&s->hold, work + n - keep, keep);
	}
	free(iv);
}

void mask_stream_flush(struct mask_stream *s, struct sbuf *out)
{
	if (s->hold_masked) {
		if (!s->masking)
			sbuf_add(out, MASK, sizeof(MASK) - 1);
		sbuf_add(out, s->hold.s + s->hold_masked, s->hold.len - s->hold_masked);
	} else {
		sbuf_add(out, s->hold.s ? s->hold.s : "", s->hold.len);
	}
	sbuf_reset(&s->hold);
	s->hold_masked = 0;
	s->state = 0;
	s->masking = false;
}

void mask_stream_free(struct mask_stream *s)
{
	sbuf_free(&s->hold);
}

void mask_string(const struct mask_dfa *dfa, char *buf, size_t cap)
{
	struct mask_stream s;
	struct sbuf out = {0};

	if (!dfa)
		return;
	mask_stream_init(&s, dfa);
	mask_stream_feed(&s, buf, strlen(buf), &out);
	mask_stream_flush(&s, &out);
	if (out.len >= cap)
		out.len = cap - 1;
	memcpy(buf, out.s, out.len);
	buf[out.len] = '\0';
	sbuf_free(&out);
	mask_stream_free(&s);
}
