/* Wait until exactly N live processes run `sleep MARKER` (or, with N = 0,
 * until none do), then print CLOCK_MONOTONIC seconds. Scans /proc in C so
 * the measurement costs little next to what it measures.
 *   procwait MARKER N TIMEOUT_S */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int count(const char *marker)
{
	char want[128], path[64], buf[256];
	int len = snprintf(want, sizeof(want), "sleep%c%s", 0, marker) + 1, n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;

	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf));
		close(fd);
		/* a zombie has an empty cmdline, so only live processes count */
		if (r == len && memcmp(buf, want, len) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int want = atoi(argv[2]);
	double deadline = now() + atof(argv[3]);

	for (;;) {
		int n = count(argv[1]);
		if (want ? n >= want : n == 0) {
			printf("%.6f\n", now());
			return 0;
		}
		if (now() > deadline) {
			fprintf(stderr, "procwait: %d of %d after timeout\n", n, want);
			return 1;
		}
		usleep(500);
	}
}
