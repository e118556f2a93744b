#include "supervisor/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "supervisor/log.h"
#include "supervisor/util.h"

#define LINE_MAX_BYTES (64 * 1024)     /* a longer line is flushed in pieces */
#define PARTIAL_FLUSH_SEC 1.0          /* a line without newline waits at most this long */
#define ECHO_MAX_PENDING (1024 * 1024) /* terminal output held while stdout is slow */
#define READS_PER_WAKEUP 4             /* fairness: one flooding service cannot starve others */
#define PIPE_FLOOD_SIZE (1024 * 1024)  /* a service that fills its pipe gets a bigger one */

struct svc_log {
	ev_io w;
	ev_timer flush;     /* deadline for a pending partial line (echo) */
	char *unit, *name, *path;
	int rd;             /* the FIFO's read end */
	struct logs_def def;
	enum log_sink sink; /* effective */
	int file_fd;
	uint64_t file_size;
	bool at_line_start; /* file sink: the next byte starts a line (gets a stamp) */
	struct sbuf line;   /* echo: the partial line */
	uint64_t dropped;
	bool dropping;
	bool big_pipe;      /* grown after it was seen full */
	unsigned color;
	struct mask_stream mask; /* secrets, masked before any sink sees a byte */
};

static struct {
	struct ev_loop *loop;
	int log_dirfd, fifo_dirfd;
	bool echo, pid1, color;
	size_t name_width;
	struct sbuf out;       /* echo output not yet written to stdout */
	ev_io out_w;
	uint64_t out_dropped;
	char rbuf[256 * 1024];
	struct sbuf masked;    /* a chunk after masking */
	unsigned next_color;
} L = {.log_dirfd = -1, .fifo_dirfd = -1};

int logs_init(struct ev_loop *loop, const struct logs_opts *opts, const char **what)
{
	L.loop = loop;
	L.echo = opts->echo;
	L.pid1 = opts->pid1;
	L.color = opts->color;
	L.log_dirfd = open(opts->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (L.log_dirfd < 0) {
		*what = opts->log_dir;
		return -errno;
	}
	L.fifo_dirfd = open(opts->fifo_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (L.fifo_dirfd < 0) {
		*what = opts->fifo_dir;
		return -errno;
	}
	/* A pipe or socket on stdout is ours alone: never let a slow reader block
	 * the loop. A terminal is shared with the shell, so it stays as it is. */
	if (!isatty(STDOUT_FILENO))
		fd_set_nonblock(STDOUT_FILENO, true);
	return 0;
}

void logs_set_name_width(size_t width) { L.name_width = width; }

static void echo_write(struct ev_loop *loop, ev_io *w, int revents);

static void echo_flush(void)
{
	ssize_t n;

	if (!L.out.len || ev_is_active(&L.out_w))
		return;
	n = write(STDOUT_FILENO, L.out.s, L.out.len);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		L.out_dropped += L.out.len;
		sbuf_reset(&L.out);
		return;
	}
	if (n < 0)
		n = 0;
	memmove(L.out.s, L.out.s + n, L.out.len - n);
	L.out.len -= n;
	if (L.out.len) {
		ev_io_init(&L.out_w, echo_write, STDOUT_FILENO, EV_WRITE);
		ev_io_start(L.loop, &L.out_w);
	}
}

static void echo_write(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	ev_io_stop(loop, w);
	echo_flush();
}

static void echo_line(struct svc_log *l, const char *s, size_t n)
{
	static const char *const colors[] = {"36", "32", "35", "33", "34", "91", "92", "96"};

	if (L.out.len + n + 128 > ECHO_MAX_PENDING) {
		L.out_dropped += n;
		return;
	}
	if (L.color)
		sbuf_addf(&L.out, "\033[%sm%-*s |\033[0m ", colors[l->color % ARRAY_SIZE(colors)],
			  (int)L.name_width, l->name);
	else
		sbuf_addf(&L.out, "%-*s | ", (int)L.name_width, l->name);
	sbuf_add(&L.out, s, n);
	sbuf_add(&L.out, "\n", 1);
}

static bool wants_echo(const struct svc_log *l)
{
	return l->sink == LOG_SINK_STDOUT || (L.echo && l->sink == LOG_SINK_FILE);
}

static void partial_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct svc_log *l = (struct svc_log *)((char *)t - offsetof(struct svc_log, flush));
	(void)loop, (void)revents;
	if (l->line.len) {
		echo_line(l, l->line.s, l->line.len);
		sbuf_reset(&l->line);
		echo_flush();
	}
}

static void echo_feed(struct svc_log *l, const char *buf, size_t len)
{
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t seg = nl ? (size_t)(nl - buf) : len;

		if (seg + l->line.len > LINE_MAX_BYTES)
			seg = LINE_MAX_BYTES - l->line.len;
		if (nl && seg == (size_t)(nl - buf)) {
			if (l->line.len) {
				sbuf_add(&l->line, buf, seg);
				echo_line(l, l->line.s, l->line.len);
				sbuf_reset(&l->line);
			} else {
				echo_line(l, buf, seg);
			}
			seg++; /* the newline */
		} else {
			sbuf_add(&l->line, buf, seg);
			if (l->line.len >= LINE_MAX_BYTES) {
				echo_line(l, l->line.s, l->line.len);
				sbuf_reset(&l->line);
			}
		}
		buf += seg;
		len -= seg;
	}
	if (l->line.len && !ev_is_active(&l->flush)) {
		ev_timer_set(&l->flush, PARTIAL_FLUSH_SEC, 0);
		ev_timer_start(L.loop, &l->flush);
	} else if (!l->line.len && ev_is_active(&l->flush)) {
		ev_timer_stop(L.loop, &l->flush);
	}
}

static int file_open(struct svc_log *l)
{
	struct stat st;

	l->file_fd = openat(L.log_dirfd, l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
				O_NOFOLLOW | O_NOCTTY, 0640);
	if (l->file_fd < 0)
		return -errno;
	if (fstat(l->file_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(l->file_fd);
		l->file_fd = -1;
		return -EINVAL;
	}
	l->file_size = st.st_size;
	l->at_line_start = true;
	return 0;
}

static void file_rotate(struct svc_log *l)
{
	char from[PATH_MAX], to[PATH_MAX];

	close(l->file_fd);
	l->file_fd = -1;
	if (l->def.max_files == 0) {
		unlinkat(L.log_dirfd, l->path, 0);
	} else {
		for (unsigned i = l->def.max_files; i > 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
			snprintf(to, sizeof(to), "%s.%u", l->path, i);
			renameat(L.log_dirfd, from, L.log_dirfd, to);
		}
		snprintf(to, sizeof(to), "%s.1", l->path);
		renameat(L.log_dirfd, l->path, L.log_dirfd, to);
	}
	if (file_open(l) < 0)
		log_warn("service %s: cannot reopen log %s", l->name, l->path);
}

static void file_account(struct svc_log *l, size_t want, ssize_t wrote)
{
	if (wrote < 0)
		wrote = 0;
	l->file_size += wrote;
	if ((size_t)wrote == want) {
		if (l->dropping) {
			log_warnx("service %s: log writable again after dropping %llu bytes", l->name,
				  (unsigned long long)l->dropped);
			l->dropping = false;
		}
		return;
	}
	l->dropped += want - wrote;
	if (!l->dropping) {
		/* Once per episode: a full disk must not turn into a flood of our own. */
		log_warn("service %s: log %s not writable, dropping output", l->name, l->path);
		l->dropping = true;
	}
}

/* Appends bytes to the open file; with timestamps, each line start gets one. */
static void file_emit(struct svc_log *l, const char *buf, size_t len, const char *ts)
{
	struct iovec iov[512];
	size_t tslen = ts ? strlen(ts) : 0;

	if (!ts) {
		file_account(l, len, write(l->file_fd, buf, len));
		l->at_line_start = buf[len - 1] == '\n';
		return;
	}
	while (len) {
		size_t niov = 0, want = 0;
		while (len && niov + 2 <= ARRAY_SIZE(iov)) {
			const char *nl = memchr(buf, '\n', len);
			size_t seg = nl ? (size_t)(nl - buf) + 1 : len;
			if (l->at_line_start) {
				iov[niov++] = (struct iovec){(void *)ts, tslen};
				want += tslen;
			}
			iov[niov++] = (struct iovec){(void *)buf, seg};
			want += seg;
			l->at_line_start = nl != NULL;
			buf += seg;
			len -= seg;
		}
		file_account(l, want, writev(l->file_fd, iov, niov));
	}
}

/* Streams a chunk into the file, rotating at line boundaries so that no file
 * grows past max_bytes (a single longer line is cut). */
static void file_write(struct svc_log *l, const char *buf, size_t len, const char *ts)
{
	while (len) {
		size_t n = len;

		if (l->file_fd < 0 && file_open(l) < 0) {
			file_account(l, len, -1);
			return;
		}
		if (l->def.max_bytes && l->file_size + len > l->def.max_bytes) {
			size_t room = l->file_size < l->def.max_bytes ? l->def.max_bytes - l->file_size : 0;
			const char *nl = room ? memrchr(buf, '\n', room) : NULL;
			if (nl)
				n = nl - buf + 1;
			else if (l->file_size == 0)
				n = room ? room : len;
			else
				n = 0;
		}
		if (n)
			file_emit(l, buf, n, ts);
		buf += n;
		len -= n;
		if (len)
			file_rotate(l);
	}
}

static void log_sinks(struct svc_log *l, const char *buf, size_t len, char *ts, size_t tscap)
{
	if (l->sink == LOG_SINK_FILE) {
		if (l->def.timestamps && !*ts) {
			rfc3339_now(ts, tscap - 1);
			strcat(ts, " ");
		}
		file_write(l, buf, len, l->def.timestamps ? ts : NULL);
	}
	if (wants_echo(l))
		echo_feed(l, buf, len);
}

static void log_chunk(struct svc_log *l, const char *buf, size_t len, char *ts, size_t tscap)
{
	if (!l->mask.dfa) {
		log_sinks(l, buf, len, ts, tscap);
		return;
	}
	sbuf_reset(&L.masked);
	mask_stream_feed(&l->mask, buf, len, &L.masked);
	if (L.masked.len)
		log_sinks(l, L.masked.s, L.masked.len, ts, tscap);
}

/* What the masker held back (a possible start of a secret) is final now. */
static void mask_flush(struct svc_log *l, char *ts, size_t tscap)
{
	if (!l->mask.dfa)
		return;
	sbuf_reset(&L.masked);
	mask_stream_flush(&l->mask, &L.masked);
	if (L.masked.len)
		log_sinks(l, L.masked.s, L.masked.len, ts, tscap);
}

void svc_log_set_mask(struct svc_log *l, const struct mask_dfa *dfa)
{
	char ts[48] = "";

	if (!l || l->mask.dfa == dfa)
		return;
	mask_flush(l, ts, sizeof(ts));
	mask_stream_free(&l->mask);
	mask_stream_init(&l->mask, dfa);
}

static void log_readable(struct ev_loop *loop, ev_io *w, int revents)
{
	struct svc_log *l = (struct svc_log *)w;
	char ts[48] = "";
	(void)loop, (void)revents;

	for (int i = 0; i < READS_PER_WAKEUP; i++) {
		ssize_t n = read(l->rd, L.rbuf, sizeof(L.rbuf));
		if (n == 0) {
			/* No writer left: a FIFO stays readable at EOF, so stop watching
			 * until the next start opens a writer. */
			ev_io_stop(L.loop, &l->w);
			break;
		}
		if (n < 0)
			break;
		/* A full default pipe means the service outpaces the ping-pong of 64
		 * KiB wakeups: give only such a service room to write ahead. */
		if (!l->big_pipe && n >= 64 * 1024) {
			fcntl(l->rd, F_SETPIPE_SZ, PIPE_FLOOD_SIZE);
			l->big_pipe = true;
		}
		log_chunk(l, L.rbuf, n, ts, sizeof(ts));
		if ((size_t)n < sizeof(L.rbuf))
			break;
	}
	echo_flush();
}

static int fifo_open(struct svc_log *l)
{
	char name[PATH_MAX];
	struct stat st;

	snprintf(name, sizeof(name), "%s.log.pipe", l->unit);
	if (mkfifoat(L.fifo_dirfd, name, 0600) < 0 && errno != EEXIST)
		return -errno;
	l->rd = openat(L.fifo_dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (l->rd < 0)
		return -errno;
	if (fstat(l->rd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	return 0;
}

int svc_log_attach(struct svc_log *l)
{
	int r;

	if (l->rd >= 0)
		return 0;
	if ((r = fifo_open(l)) < 0) {
		if (l->rd >= 0)
			close(l->rd);
		l->rd = -1;
		return r;
	}
	ev_io_set(&l->w, l->rd, EV_READ);
	return 0;
}

int svc_log_writer(struct svc_log *l)
{
	char name[PATH_MAX];
	int fd;

	if ((fd = svc_log_attach(l)) < 0)
		return fd;
	/* Blocking for the services (the open file description is theirs); the
	 * open itself cannot block because our read end exists. */
	snprintf(name, sizeof(name), "%s.log.pipe", l->unit);
	fd = openat(L.fifo_dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (!ev_is_active(&l->w))
		ev_io_start(L.loop, &l->w);
	return fd;
}

struct svc_log *svc_log_new(const char *unit, const char *name, const struct logs_def *def)
{
	struct svc_log *l = xcalloc(1, sizeof(*l));

	l->unit = xstrdup(unit);
	l->name = xstrdup(name);
	l->path = xasprintf("%s.log", unit);
	l->rd = l->file_fd = -1;
	l->color = L.next_color++;
	ev_io_init(&l->w, log_readable, -1, EV_READ);
	ev_timer_init(&l->flush, partial_timeout, PARTIAL_FLUSH_SEC, 0);
	svc_log_configure(l, def);
	return l;
}

void svc_log_idle(struct svc_log *l)
{
	svc_log_drain(l);
	if (l && l->file_fd >= 0) {
		close(l->file_fd);
		l->file_fd = -1;
	}
}

uint64_t svc_log_dropped(const struct svc_log *l) { return l ? l->dropped : 0; }
const char *svc_log_path(const struct svc_log *l)
{
	return l && l->sink == LOG_SINK_FILE ? l->path : NULL;
}

void svc_log_configure(struct svc_log *l, const struct logs_def *def)
{
	l->def = *def;
	l->sink = def->sink;
	if (l->sink == LOG_SINK_UNSET)
		l->sink = L.pid1 ? LOG_SINK_STDOUT : LOG_SINK_FILE;
#if !SYSG_HAVE_SYSTEMD
	if (l->sink == LOG_SINK_JOURNAL)
		l->sink = LOG_SINK_FILE;
#endif
	if (l->sink != LOG_SINK_FILE && l->file_fd >= 0) {
		close(l->file_fd);
		l->file_fd = -1;
	}
}

void svc_log_drain(struct svc_log *l)
{
	char ts[48] = "";
	ssize_t n;

	if (!l)
		return;
	while (l->rd >= 0 && (n = read(l->rd, L.rbuf, sizeof(L.rbuf))) > 0)
		log_chunk(l, L.rbuf, n, ts, sizeof(ts));
	mask_flush(l, ts, sizeof(ts));
	if (l->line.len) {
		echo_line(l, l->line.s, l->line.len);
		sbuf_reset(&l->line);
		ev_timer_stop(L.loop, &l->flush);
	}
	if (l->sink == LOG_SINK_FILE && !l->at_line_start && l->file_fd >= 0)
		file_account(l, 1, write(l->file_fd, "\n", 1)); /* the next line gets its own stamp */
	l->at_line_start = true;
	echo_flush();
}

void svc_log_note(struct svc_log *l, const char *fmt, ...)
{
	char msg[1024], line[1100], ts[48] = "";
	va_list ap;
	int n;

	if (!l)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(line, sizeof(line), "sysg: %s\n", msg);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	svc_log_drain(l);
	log_chunk(l, line, n, ts, sizeof(ts));
	echo_flush();
}

void svc_log_close(struct svc_log *l, bool remove)
{
	if (!l)
		return;
	if (L.loop) {
		ev_io_stop(L.loop, &l->w);
		ev_timer_stop(L.loop, &l->flush);
	}
	if (l->rd >= 0)
		close(l->rd);
	if (l->file_fd >= 0)
		close(l->file_fd);
	if (remove) {
		char name[PATH_MAX];
		snprintf(name, sizeof(name), "%s.log.pipe", l->unit);
		unlinkat(L.fifo_dirfd, name, 0);
	}
	sbuf_free(&l->line);
	mask_stream_free(&l->mask);
	free(l->unit);
	free(l->name);
	free(l->path);
	free(l);
}

void logs_shutdown(void)
{
	if (L.out.len) {
		fd_set_nonblock(STDOUT_FILENO, false);
		(void)!write(STDOUT_FILENO, L.out.s, L.out.len);
	}
	sbuf_free(&L.out);
	sbuf_free(&L.masked);
	if (L.log_dirfd >= 0)
		close(L.log_dirfd);
	if (L.fifo_dirfd >= 0)
		close(L.fifo_dirfd);
	L.log_dirfd = L.fifo_dirfd = -1;
}
