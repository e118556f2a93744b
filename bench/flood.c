/* A service that writes 100-byte lines as fast as it can for SECS seconds.
 *   flood SECS [SECRET]   (with SECRET, every 10th line carries it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 3;
	const char *secret = argc > 2 ? argv[2] : NULL;
	static char buf[655 * 100];
	struct timespec a, b;

	for (int i = 0; i < 655; i++) {
		memset(buf + i * 100, 'a' + i % 26, 99);
		if (secret && i % 10 == 0)
			memcpy(buf + i * 100 + 10, secret, strlen(secret));
		buf[i * 100 + 99] = '\n';
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	do {
		if (write(1, buf, sizeof(buf)) < 0)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &b);
	} while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < secs);
	return 0;
}
