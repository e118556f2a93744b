/* Secret masking: every occurrence of any secret (and of its base64 and
 * URL-encoded forms) in a byte stream becomes "***".
 *
 * One Aho-Corasick automaton (a complete DFA: one table lookup per byte) per
 * set of secrets; a stream keeps only the bytes that may still turn into a
 * match (the automaton's current depth), so a secret split across two writes
 * or two reads is masked too, and nothing is re-scanned. */
#ifndef SYSG_MASK_H
#define SYSG_MASK_H

#include <stdbool.h>
#include <stddef.h>

#include "supervisor/util.h"

struct mask_dfa;

/* Builds the automaton for these values and their encoded forms. Values
 * shorter than 3 bytes are masked as they are, without derived forms. NULL
 * when there is nothing to mask, or -E2BIG in *err when the secrets are too
 * long in total to mask (the caller refuses to start the service). */
struct mask_dfa *mask_dfa_new(const char *const *values, const size_t *lens, size_t n, int *err);
void mask_dfa_free(struct mask_dfa *d);

struct mask_stream {
	const struct mask_dfa *dfa;
	unsigned state;
	struct sbuf hold;   /* bytes not yet emitted: they may start a match */
	size_t hold_masked; /* the first so many held bytes end a match already found */
	bool masking;       /* the last emitted byte was masked ("***" already written) */
};

void mask_stream_init(struct mask_stream *s, const struct mask_dfa *dfa);
/* Appends the masked form of buf to out, holding back a possible partial match. */
void mask_stream_feed(struct mask_stream *s, const char *buf, size_t len, struct sbuf *out);
/* End of input (the process exited): emits what was held back. */
void mask_stream_flush(struct mask_stream *s, struct sbuf *out);
void mask_stream_free(struct mask_stream *s);

/* Masks a whole string in place (sysg's own messages); keeps it NUL-terminated
 * within cap bytes. */
void mask_string(const struct mask_dfa *dfa, char *buf, size_t cap);

#endif
